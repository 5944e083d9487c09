#!/usr/bin/env bash
# Held-out validation of the simulator on this machine (docs/SIMULATOR.md, "Validation"; issue 17):
#   1. records a study: two models (gpt-tiny at global batch 48, mlp-large at 384, from
#      bench/core/validation/*.json) in the layouts dp1, dp2, tp2, pp2 1F1B with 3 micro-batches,
#      and dp2 x pp2 with 3 micro-batches (4 ranks on 2 cores: oversubscribed, reported apart),
#      each point REPEAT times, the repeats interleaved (round-robin over the points);
#   2. calibrates at ANOTHER time: once, after all the runs (CALIBRATE=before: once, before them),
#      never interleaved with the runs, so the network figures are not those of the runs'
#      minutes;
#   3. `simulate --validate` with that calibration. The MEDIAN of the repeats is the one headline;
#      the best (fastest) repeat is printed after it as a secondary table. Compute rates: from
#      the calibration (`calibrate --spec` measures the kernel classes at the two models' shapes),
#      so every point, dp1 included, is predicted from the hardware file alone; then, labelled,
#      the same with rates fitted on the dp1 run of each model (--fit-on-study: dp1 is the fit),
#      and the measured vs predicted step breakdown of every point (--parts).
#   4. with STORE=1, writes the median validation into the hardware file's "validation" block
#      (`simulate --validate ... --store-band`), which every later `simulate` prints as its band.
# Every run starts after the machine was >= 95 % idle for two consecutive one-second samples of
# /proc/stat (waiting up to WAIT_S seconds, default 30; "NOT IDLE" is printed when it timed out).
# /proc/loadavg is printed before each run and with the tables. On a machine shared with other work
# (builds), the runs and the calibration run at a raised priority: NICE=-19 by default when root
# (`nice -n NICE`; NICE=0 turns it off), so that other runnable threads take less of their cores.
#
#   bench/core/validate_heldout.sh [OUT.sqlite] [REPEAT]   (default runs/heldout.sqlite, 3)
#   env: SCALESCOPE_CLI (default build/release/cli/scalescope-cli), CALIBRATE=after|before,
#        WAIT_S=30, STORE=0|1, NICE (default -19 as root, else 0)
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${SCALESCOPE_CLI:-$PWD/build/release/cli/scalescope-cli}
OUT=${1:-runs/heldout.sqlite}
REPEAT=${2:-3}
CALIBRATE=${CALIBRATE:-after}
WAIT_S=${WAIT_S:-30}
if [ "$(id -u)" = 0 ]; then NICE=${NICE:--19}; else NICE=${NICE:-0}; fi
RUN=(nice -n "$NICE")
DIR=bench/core/validation
HW="${OUT%.sqlite}-hardware.json"
[ -x "$CLI" ] || { echo "validate_heldout.sh: $CLI not found (build first: cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
[ -e "$OUT" ] && { echo "validate_heldout.sh: $OUT exists; remove it or name another file" >&2; exit 2; }
case "$CALIBRATE" in before|after) ;; *) echo "validate_heldout.sh: CALIBRATE=before or after" >&2; exit 2 ;; esac
mkdir -p "$(dirname "$OUT")"
RUNDIR="${OUT%.sqlite}-runs"

. bench/core/idle.sh  # idle_pct, wait_idle

# The specs calibrate measures at (`calibrate --spec`): the two models at the study's global batches,
# so that the kernel shapes measured are the ones the points run (other layouts' shapes come with them).
SPECS="${OUT%.sqlite}-specs"
mkdir -p "$SPECS"
sed 's/"global_batch": [0-9]*/"global_batch": 48/' "$DIR/gpt-tiny.json" > "$SPECS/gpt-tiny.json"
sed 's/"global_batch": [0-9]*/"global_batch": 384/' "$DIR/mlp-large.json" > "$SPECS/mlp-large.json"

# A calibration whose ranks slowed each other (calibrate's warning) is taken again, up to 3 times.
calibrate() {
  local try
  echo "== calibrate (2 ranks, $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)) =="
  for try in 1 2 3; do
    wait_idle
    "${RUN[@]}" "$CLI" calibrate -o "$HW" --np 2 --iters 50 --spec "$SPECS/gpt-tiny.json" --spec "$SPECS/mlp-large.json" \
      > /dev/null 2> "$HW.log" || { cat "$HW.log" >&2; exit 1; }
    grep -q '"warnings"' "$HW" || break
    echo "calibration try $try: $(grep -o 'warning: .*' "$HW.log" | head -1)"
  done
}

[ "$CALIBRATE" = before ] && calibrate

# model | layout name | study options (one model's points share its global batch: the fit key)
POINTS=()
for mb in gpt-tiny:48 mlp-large:384; do
  m=${mb%%:*} b=${mb##*:}
  POINTS+=("$m|dp1|--vary dp=1 --set training.global_batch=$b"
           "$m|dp2|--vary dp=2 --set training.global_batch=$b"
           "$m|tp2|--vary tp=2 --set training.global_batch=$b"
           "$m|pp2-m3|--vary pp=2 --set parallel.micro_batches=3 --set training.global_batch=$b"
           "$m|dp2xpp2-m3|--vary layout=2x1x2 --set parallel.micro_batches=3 --set training.global_batch=$b")
done
echo "== study: ${#POINTS[@]} points x $REPEAT repeats, interleaved, nice $NICE ($(date -u +%H:%M:%S) UTC) =="
for r in $(seq 1 "$REPEAT"); do
  for p in "${POINTS[@]}"; do
    IFS='|' read -r model name opts <<< "$p"
    printf '%-30s %-22s load %s\n' "repeat $r $model $name" "$(wait_idle)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    # shellcheck disable=SC2086
    "${RUN[@]}" "$CLI" study "$DIR/$model.json" $opts --name "heldout-$model-$name" -o "$OUT" --run-dir "$RUNDIR" \
      --quiet > /dev/null || echo "FAILED: $model $name (repeat $r)"
  done
done
echo "== study done ($(date -u +%H:%M:%S) UTC) =="

[ "$CALIBRATE" = after ] && calibrate

echo "== held-out validation, HEADLINE: median of repeats (calibration $CALIBRATE the runs; load $(cut -d' ' -f1-3 /proc/loadavg)) =="
STOREFLAG=()
[ "${STORE:-0}" = 1 ] && STOREFLAG=(--store-band)
"$CLI" simulate --validate "$OUT" --hardware "$HW" "${STOREFLAG[@]}"
echo "== secondary: best (fastest) repeat =="
"$CLI" simulate --validate "$OUT" --hardware "$HW" --statistic best
echo "== secondary: compute rates FITTED on the dp1 run of each model (--fit-on-study; dp1 is then the fit), median =="
"$CLI" simulate --validate "$OUT" --hardware "$HW" --fit-on-study
echo "== which part of the step is mispredicted (median; measured vs analytic breakdown per point) =="
"$CLI" simulate --validate "$OUT" --hardware "$HW" --parts --format csv | sed -n '/^name,layout,part/,$p'
