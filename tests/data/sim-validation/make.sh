#!/usr/bin/env bash
# Regenerates the simulator's stored validation data (tests/core/tst_core_sim_validation.cpp) with
# the project's own tools, on this machine:
#   study.sqlite   a small recorded study (`scalescope-cli study`): mlp-large (784-1024-1024-10,
#                  global batch 384, 12 steps) in dp1, dp2, tp2 and pp2 1F1B with 3 micro-batches,
#                  2 repeats interleaved; gpt-tiny (global batch 48, 8 steps) in the same layouts,
#                  1 repeat (bench/core/validation/*.json with --set)
#   hardware.json  a calibration (`scalescope-cli calibrate --np 2 --iters 20 --spec` both models:
#                  collectives, and the compute classes at the models' shapes) taken AFTER the runs;
#                  the validation takes every compute rate from it (no run fitted: dp1 is predicted)
#   bounds.json    per point (model | layout), the largest |error| the test accepts for either
#                  engine: the error `simulate --validate` measured here (median of repeats) plus
#                  MARGIN (default 0.01 = 1 point: the data are fixed, so predictions move only when
#                  the model does); the mean |error| over the points likewise.
# A model change that makes any point (or the mean) worse than its bound fails the test; one that
# improves them may rerun only the bounds step: `make.sh --bounds-only`.
#
#   tests/data/sim-validation/make.sh [--bounds-only]
#   env: SCALESCOPE_CLI (default build/release/cli/scalescope-cli), MARGIN=0.01
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CLI=${SCALESCOPE_CLI:-$ROOT/build/release/cli/scalescope-cli}
MARGIN=${MARGIN:-0.01}
[ -x "$CLI" ] || { echo "make.sh: $CLI not found (build scalescope-cli first)" >&2; exit 2; }

if [ "${1:-}" != "--bounds-only" ]; then
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  rm -f "$HERE/study.sqlite" "$HERE/hardware.json"
  POINTS=()
  for r in 1 2; do
    for l in "dp1|--vary dp=1" "dp2|--vary dp=2" "tp2|--vary tp=2" "pp2-m3|--vary pp=2 --set parallel.micro_batches=3"; do
      POINTS+=("$r|mlp-large|${l%%|*}|${l#*|} --set training.global_batch=384 --set training.steps=12")
      [ "$r" = 1 ] && POINTS+=("$r|gpt-tiny|${l%%|*}|${l#*|} --set training.global_batch=48 --set training.steps=8")
    done
  done
  for p in "${POINTS[@]}"; do
    IFS='|' read -r r model name opts <<< "$p"
    echo "repeat $r $model $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
    # shellcheck disable=SC2086
    "$CLI" study "$ROOT/bench/core/validation/$model.json" $opts --name "$model-$name" -o "$TMP/study.sqlite" \
      --run-dir "$TMP/runs" --quiet > /dev/null
  done
  "$CLI" calibrate -o "$TMP/hardware.json" --np 2 --iters 20 --spec "$ROOT/bench/core/validation/mlp-large.json" \
    --spec "$ROOT/bench/core/validation/gpt-tiny.json" > /dev/null
  cp "$TMP/hardware.json" "$HERE/hardware.json"
  # The timeline's level of detail (lane_lod, ~300 KB a run whatever its length) is a cache the GUI
  # rebuilds when absent (traces/lod.h); the validation never reads it: dropped to keep the file small.
  sqlite3 "$TMP/study.sqlite" "DELETE FROM lane_lod; VACUUM;"
  cp "$TMP/study.sqlite" "$HERE/study.sqlite"
fi

"$CLI" simulate --validate "$HERE/study.sqlite" --hardware "$HERE/hardware.json" --format json > "$HERE/validation.json.tmp"
python3 - "$HERE/validation.json.tmp" "$HERE/bounds.json" "$MARGIN" <<'PY'
import json, math, sys
src, dst, margin = sys.argv[1], sys.argv[2], float(sys.argv[3])
doc = json.load(open(src))
tables = {t["name"]: t["rows"] for t in doc} if isinstance(doc, list) else {k: v for k, v in doc.items()}
rows = tables["validation"]
up = lambda x: math.ceil(x * 1000) / 1000
points = {}
errs = []
for r in rows:
    if r["role"] != "predicted" or r["oversubscribed"] == "yes":
        continue
    e = max(abs(r["analytic_err_pct"]), abs(r["replay_err_pct"])) / 100
    errs.append(e)
    points[r["name"] + " | " + r["layout"]] = {"measured_abs_err": round(e, 4), "bound": up(e + margin)}
out = {"about": "bounds of tst_core_sim_validation: |relative error| of each predicted point (larger of the "
                "analytic and replay engines) and their mean; made by make.sh from simulate --validate, median "
                "of repeats, plus a margin",
       "margin": margin, "statistic": "median", "points": points,
       "mean_abs_err": round(sum(errs) / len(errs), 4), "mean_bound": up(sum(errs) / len(errs) + margin)}
json.dump(out, open(dst, "w"), indent=2)
print(json.dumps(out, indent=2))
PY
rm -f "$HERE/validation.json.tmp"
du -sh "$HERE"
