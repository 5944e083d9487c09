#!/usr/bin/env bash
# Fetches, on a Debian 12 machine with network access, what scripts/device-check.sh needs on a GPU
# machine that has nvcc, CMake, ninja and Python but no Open MPI, SQLite headers, nlohmann-json,
# GSL, OpenBLAS or network:
#   - the Debian packages (apt-get download), unpacked with dpkg -x into .devdeps/root and pruned
#     (docs, man pages, static libraries, Fortran/Java/C++ MPI bindings, OpenSHMEM, the Open MPI
#     and PMIx plugins whose libraries (InfiniBand, libfabric, UCX, PSM, munge) are not carried);
#   - the data: the fortune files (GPT) and a Fashion-MNIST subset (MLP), in .devdeps/data;
#   - one xz archive of both, .devdeps/pack/devdeps.tar.xz, the only thing that travels
#     (device-check.sh unpacks it when .devdeps/root is missing). OpenBLAS alone is 36 MB
#     unpacked (one library with every CPU's kernels), so the unpacked tree would not leave room.
# Then it checks that every shared object carried resolves its libraries inside the tree or among
# the base libraries every Ubuntu/Debian image has, and prints the sizes.
#
#   bash scripts/fetch-device-deps.sh [DEST]      (DEST defaults to .devdeps in the checkout)
#
# Relocated Open MPI 4.1 (Debian: prefix /usr, libdir ${prefix}/lib/x86_64-linux-gnu/openmpi/lib,
# external PMIx under /usr/lib/x86_64-linux-gnu/pmix2) runs from the tree with
#   OPAL_PREFIX=$DEST/root/usr  PMIX_INSTALL_PREFIX=$DEST/root/usr/lib/x86_64-linux-gnu/pmix2
#   LD_LIBRARY_PATH=$DEST/root/usr/lib/x86_64-linux-gnu:$DEST/root/usr/lib/x86_64-linux-gnu/openblas-pthread
# (scripts/device-check.sh sets these; `device-check.sh --env` prints them).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$(realpath -m "${1:-$repo/.devdeps}")
multiarch=x86_64-linux-gnu

step() { printf '\n== fetch-device-deps: %s\n' "$*"; }
die() { printf 'fetch-device-deps: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(dpkg --print-architecture)" = amd64 ] || die "needs an amd64 Debian machine (the GPU machine is x86-64)"
grep -q 'VERSION_ID="12"' /etc/os-release || echo "warning: not Debian 12; the packages will be this release's"

# Runtime and development packages. Base libraries of every Ubuntu 24.04 / Debian 12 image (libc,
# libstdc++, libgcc-s) are not fetched; zlib, libudev, libgfortran and libquadmath are, to be safe.
packages=(
  openmpi-bin openmpi-common libopenmpi3 libopenmpi-dev
  libpmix2 libmunge2 libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7 libudev1
  libsqlite3-0 libsqlite3-dev
  nlohmann-json3-dev
  libgsl27 libgslcblas0 libgsl-dev
  libopenblas0 libopenblas0-pthread libopenblas-dev libopenblas-pthread-dev libgfortran5 libquadmath0
  zlib1g zlib1g-dev
)

step "download ${#packages[@]} packages into $dest/debs"
rm -rf "$dest/debs" "$dest/root" "$dest/pack"
mkdir -p "$dest/debs" "$dest/root" "$dest/pack"
(cd "$dest/debs" && apt-get download "${packages[@]}" 2>&1 | grep -v -e '^W: Download is performed unsandboxed' -e '^Get:' || true)
n=$(find "$dest/debs" -name '*.deb' | wc -l)
[ "$n" -eq "${#packages[@]}" ] || die "downloaded $n of ${#packages[@]} packages"

step "unpack with dpkg -x into $dest/root"
for deb in "$dest"/debs/*.deb; do dpkg -x "$deb" "$dest/root"; done
du -sh "$dest/root" | sed 's/^/unpacked: /'

root=$dest/root
lib=$root/usr/lib/$multiarch
# One library directory (zlib and libudev install into /lib); absolute links made relative.
if [ -d "$root/lib/$multiarch" ]; then
    cp -a "$root/lib/$multiarch/." "$lib/"
    rm -rf "${root:?}/lib"
fi
while IFS= read -r -d '' l; do
    target=$(readlink "$l")
    ln -sfn "$(basename "$target")" "$l"
    [ -e "$l" ] || die "absolute link ${l#$root/} -> $target has no target in the tree"
done < <(find "$root" -type l -lname '/*' -print0)

step "recreate the links that update-alternatives would make"
for t in mpirun mpiexec mpicc mpicxx mpic++; do ln -sfn "$t.openmpi" "$root/usr/bin/$t"; done
mkdir -p "$root/usr/include/$multiarch"
ln -sfn ../../lib/$multiarch/openmpi/include "$root/usr/include/$multiarch/mpi"
ln -sfn libmpi.so.40 "$lib/libmpi.so"
# FindBLAS (BLA_VENDOR OpenBLAS) looks for libopenblas.so in the library directory.
ln -sfn openblas-pthread/libopenblas.so.0 "$lib/libopenblas.so.0"
ln -sfn openblas-pthread/libopenblas.so "$lib/libopenblas.so"

step "prune"
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" \
       "$root/usr/share/bug" "$root/usr/share/aclocal" "$root/usr/lib/$multiarch/fortran" \
       "$root/lib/systemd" "$root/usr/lib/$multiarch/openmpi/lib/pkgconfig"
find "$root" -name '*.a' -delete
find "$root" -name '*.mod' -delete
# MPI bindings, tools and libraries nothing here uses: Fortran, Java, C++, OpenSHMEM, tracing;
# LAPACK and the reference-BLAS shims of OpenBLAS (the build links libopenblas itself).
find "$root" \( -name 'libmpi_mpifh*' -o -name 'libmpi_usempi*' -o -name 'libmpi_java*' \
    -o -name 'libmpi_cxx*' -o -name 'liboshmem*' -o -name 'libompitrace*' -o -name 'liblapack*' \
    -o -name 'libblas.so*' -o -name 'mpijavac*' -o -name 'mpi.jar' -o -name 'ompi_monitoring_prof.so' \
    -o -name 'oshmem_info' -o -name 'libmca_common_monitoring*' \) -print0 | xargs -0 rm -f
find "$root/usr/bin" -xtype l -delete  # links to what was removed

# Shared objects resolve their DT_NEEDED libraries in the tree or in the base system.
base_libs='^(libc|libm|libdl|libpthread|librt|libutil|libresolv|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so'
missing_needed() {  # prints the needed libraries of $1 found neither in the tree nor in the base
    local f=$1 n
    for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [[ $n =~ $base_libs ]] && continue
        [ -e "$lib/$n" ] || [ -e "$lib/openblas-pthread/$n" ] || [ -e "$lib/pmix2/lib/$n" ] || echo "$n"
    done
}
# Open MPI and PMIx plugins that need what is not carried (verbs, libfabric, UCX, PSM, munge,
# ...) are removed, with the common libraries only they use: Open MPI runs without them on one
# node (shared memory and TCP). The core libraries must resolve (checked below).
removed=()
for _ in 1 2 3; do  # a plugin may need a common library removed in the previous pass
    while IFS= read -r -d '' so; do
        m=$(missing_needed "$so")
        if [ -n "$m" ]; then
            removed+=("$(basename "$so") ($(echo $m | tr ' ' ','))")
            rm -f "$so"
        fi
    done < <(find "$lib/openmpi/lib/openmpi3" "$lib/pmix2/lib/pmix" -maxdepth 1 -name '*.so' -type f -print0
             find "$lib" -maxdepth 1 -name 'libmca_common_*.so*' -type f -print0)
done
printf 'removed (needs what is not carried): %s\n' "${removed[@]}"
find "$root" -xtype l -delete  # dangling links to removed libraries

step "check that every carried binary and library resolves"
bad=0
while IFS= read -r -d '' f; do
    head -c4 "$f" | grep -q $'\x7fELF' || continue
    m=$(missing_needed "$f")
    if [ -n "$m" ]; then echo "unresolved: ${f#$root/} needs $m"; bad=1; fi
done < <(find "$root" -type f -print0)
[ "$bad" -eq 0 ] || die "some carried files need libraries that are not carried"
echo "all resolve"

step "data: fortune files (GPT) and a Fashion-MNIST subset (MLP)"
rm -rf "$dest/data"
mkdir -p "$dest/data/fortunes" "$dest/data/fashion-mnist"
fortunes=/usr/share/games/fortunes
[ -d "$fortunes" ] || die "$fortunes missing (apt-get install fortunes)"
# The files the worker's loader reads (models/data.h load_text): regular, not *.dat / *.u8.
find "$fortunes" -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' ! -name '.*' -exec cp {} "$dest/data/fortunes/" \;
fmnist=/usr/share/datasets/fashion-mnist
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || die "$fmnist missing (apt-get install dataset-fashion-mnist)"
# The first 10000 training and 2000 test images, as valid IDX files (the device check trains a
# few steps; the full training split is 26 MB).
python3 - "$fmnist" "$dest/data/fashion-mnist" <<'EOF'
import gzip, struct, sys
src, dst = sys.argv[1], sys.argv[2]
for split, keep in (("train", 10000), ("t10k", 2000)):
    for kind, rank in (("images-idx3", 3), ("labels-idx1", 1)):
        name = f"{split}-{kind}-ubyte.gz"
        data = gzip.open(f"{src}/{name}").read()
        dims = list(struct.unpack(f">{rank}I", data[4:4 + 4 * rank]))
        per = 1
        for d in dims[1:]:
            per *= d
        body = data[4 + 4 * rank: 4 + 4 * rank + keep * per]
        assert len(body) == keep * per, name
        dims[0] = keep
        with open(f"{dst}/{name}", "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as out:
            out.write(data[:4] + struct.pack(f">{rank}I", *dims) + body)
EOF

step "pack"
XZ_OPT=-6 tar -C "$dest" -cJf "$dest/pack/devdeps.tar.xz" root data
printf 'unpacked tree: %s   data: %s   packed (what travels): %s\n' \
    "$(du -sh "$root" | cut -f1)" "$(du -sh "$dest/data" | cut -f1)" \
    "$(du -sh "$dest/pack/devdeps.tar.xz" | cut -f1)"
tree=$(git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cat 2>/dev/null) | wc -c)
pack=$(stat -c %s "$dest/pack/devdeps.tar.xz")
awk -v t="$tree" -v p="$pack" 'BEGIN { m = 1048576;
    printf "travels: tracked tree %.1f MiB + pack %.1f MiB = %.1f MiB of the 64 MiB\n", t / m, p / m, (t + p) / m }'
echo "carry: .devdeps/pack (device-check.sh unpacks it into .devdeps/root and .devdeps/data)"
