#!/usr/bin/env bash
# Records the simulator's validation study on this machine and prints the validation table
# (docs/SIMULATOR.md, "Validation"):
#   1. `calibrate` on 2 ranks (network α/β of blocking and non-blocking collectives, overlap,
#      sgemm and linear-kernel rates by rows, memory bandwidth) into OUT-hardware.json, taken
#      again (up to 3 times) while it warns that the ranks slowed each other;
#   2. three models (bench/core/validation/*.json) in the layouts dp1 (where compute rates are
#      fitted), dp2, tp2, pp2 with 4 micro-batches (1F1B), and dp4 (oversubscribed on 2 cores),
#      each point recorded REPEAT times, the repeats interleaved (round-robin over the points) so
#      that a slow drift of the machine's speed touches every point alike;
#   3. `simulate --validate` on the file with that calibration (repeats summarised by their median,
#      then by their best), then a second `calibrate` after the
#      runs and the validation again with it: this machine's network measures up to 2x apart from
#      one calibration to the next, and the two tables show how much the headline depends on it.
# Every run starts only after the machine was >= 95 % idle for two consecutive one-second samples
# of /proc/stat (up to 90 s; "NOT IDLE" is printed when the wait timed out).
#
#   bench/core/validate_sim.sh [OUT.sqlite] [REPEAT]      (default runs/validation.sqlite, 3)
#   SCALESCOPE_CLI=path/to/scalescope-cli to use another build (default build/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${SCALESCOPE_CLI:-$PWD/build/release/cli/scalescope-cli}
OUT=${1:-runs/validation.sqlite}
REPEAT=${2:-3}
DIR=bench/core/validation
[ -x "$CLI" ] || { echo "validate_sim.sh: $CLI not found (build first: cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
[ -e "$OUT" ] && { echo "validate_sim.sh: $OUT exists; remove it or name another file" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
RUNDIR="${OUT%.sqlite}-runs"

. bench/core/idle.sh  # idle_pct, wait_idle

# A calibration whose ranks slowed each other (calibrate's warning: shared cores or other work)
# is taken again, up to 3 times (the last one is kept either way).
calibrate() {
  local hw=$1 try
  for try in 1 2 3; do
    wait_idle
    "$CLI" calibrate -o "$hw" --np 2 --iters 50 > /dev/null 2> "$hw.log" || { cat "$hw.log" >&2; exit 1; }
    grep -q '"warnings"' "$hw" || break
    echo "calibration try $try: $(grep -o 'warning: .*' "$hw.log" | head -1)"
  done
}
echo "== calibrate (2 ranks) =="
calibrate "${OUT%.sqlite}-hardware.json"

# model | layout name | study options
POINTS=()
for m in mlp-small mlp-large gpt-tiny; do
  POINTS+=("$m|dp1|--vary dp=1"
           "$m|dp2|--vary dp=2"
           "$m|tp2|--vary tp=2"
           "$m|pp2-m4|--vary pp=2 --set parallel.micro_batches=4"
           "$m|dp4|--vary dp=4")
done
for r in $(seq 1 "$REPEAT"); do
  for p in "${POINTS[@]}"; do
    IFS='|' read -r model name opts <<< "$p"
    printf '%-28s %s\n' "repeat $r $model $name" "$(wait_idle)"
    # shellcheck disable=SC2086
    "$CLI" study "$DIR/$model.json" $opts --name "val-$model-$name" -o "$OUT" --run-dir "$RUNDIR" \
      --quiet > /dev/null || echo "FAILED: $model $name (repeat $r)"
  done
done

echo "== validation (calibration taken before the runs; repeats: median) =="
"$CLI" simulate --validate "$OUT" --hardware "${OUT%.sqlite}-hardware.json"
echo "== validation (calibration taken before the runs; repeats: best) =="
"$CLI" simulate --validate "$OUT" --hardware "${OUT%.sqlite}-hardware.json" --statistic best

echo "== calibrate again, after the runs =="
calibrate "${OUT%.sqlite}-hardware-after.json"
echo "== validation (calibration taken after the runs; repeats: median, then best) =="
"$CLI" simulate --validate "$OUT" --hardware "${OUT%.sqlite}-hardware-after.json"
"$CLI" simulate --validate "$OUT" --hardware "${OUT%.sqlite}-hardware-after.json" --statistic best
