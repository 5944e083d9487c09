#!/usr/bin/env bash
# The main job: installs what is missing, builds, records the default scaling study (the MLP on
# Fashion-MNIST, data-parallel on 1, 2 and 4 ranks under mpirun, every rank traced), prints its
# speedup and efficiency with the fitted scaling laws, then opens the application on the file.
# Without a display (CI, ssh) it writes a screenshot of every page instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release
# Only what the main job runs: the CLI (it pulls in the rank programs it launches: the worker and
# the calibrate rank) and the application, not the test suite (`cmake --build --preset release`
# then `ctest --preset release` build and run that).
targets=(scalescope-cli scalescope-worker)
if cmake --build --preset release --target help | grep '^scalescope:' >/dev/null; then targets+=(scalescope); fi
cmake --build --preset release -j "$(nproc)" --target "${targets[@]}"

BIN=$PWD/build/release
OUT=${SCALESCOPE_OUT:-$PWD/runs}
STUDY="$OUT/default-study.sqlite"
mkdir -p "$OUT"
rm -f "$STUDY"

echo "== recording the default study: examples/study-mlp-dp.json, dp = 1, 2, 4 =="
"$BIN/cli/scalescope-cli" study examples/study-mlp-dp.json --vary dp=1,2,4 -o "$STUDY" \
  --run-dir "$OUT/default-study-runs"

echo "== how it scales =="
"$BIN/cli/scalescope-cli" scaling "$STUDY"

if [ ! -x "$BIN/gui/scalescope" ]; then
  echo "study: $STUDY   (the application was not built: Qt 6 Charts missing?)"
  exit 0
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${CI:-}" ]; then
  exec "$BIN/gui/scalescope" "$STUDY"
fi
echo "== no display: screenshots of every page =="
mkdir -p "$OUT/screenshots"
for page in experiment timeline summary scaling whatif compare learn-amdahl; do
  "$BIN/gui/scalescope" --screenshot "$page" "$OUT/screenshots/$page.png" "$STUDY"
done
echo "study: $STUDY   screenshots: $OUT/screenshots/"
