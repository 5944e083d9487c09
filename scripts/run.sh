#!/usr/bin/env bash
# The main job: installs what is missing, builds, then records a real traced training run
# (the MLP on Fashion-MNIST, data-parallel on 2 ranks under mpirun), merges the rank traces into
# one trace file and prints what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

BIN=build/release
OUT=${SCALESCOPE_OUT:-runs}
mkdir -p "$OUT"
rm -rf "$OUT/main-job-trace"
MPIRUN=(mpirun -np 2)
if [ "$(id -u)" -eq 0 ]; then MPIRUN+=(--allow-run-as-root); fi
if [ "$(nproc)" -lt 2 ]; then MPIRUN+=(--oversubscribe); fi

echo "== training: MLP on Fashion-MNIST, dp=2 (progress: JSON lines from rank 0) =="
"${MPIRUN[@]}" "$BIN/models/scalescope-worker" examples/mlp-fashion-dp2.json \
  --set name=main-job --set trace.dir="$OUT/main-job-trace"

echo "== merging the rank traces =="
rm -f "$OUT/main-job.sqlite"
"$BIN/cli/scalescope-cli" merge "$OUT"/main-job-trace/rank-*.sqlite -o "$OUT/main-job.sqlite"
"$BIN/cli/scalescope-cli" info "$OUT/main-job.sqlite"
"$BIN/cli/scalescope-cli" stats "$OUT/main-job.sqlite"
"$BIN/cli/scalescope-cli" export "$OUT/main-job.sqlite" --format chrome -o "$OUT/main-job.json"
echo "trace: $OUT/main-job.sqlite (SQLite), $OUT/main-job.json (open in https://ui.perfetto.dev)"
