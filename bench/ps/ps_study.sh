#!/usr/bin/env bash
# All-reduce vs parameter server (BSP) vs asynchronous parameter server, at dp = 2 and dp = 4, with
# one worker (rank 1) slowed x2 (training.slow_rank), measured on this machine (issue 18).
#
#   bench/ps/ps_study.sh [BUILD_DIR]        (default build/release; needs scalescope-worker)
#
# Every configuration trains the same MLP on Fashion-MNIST (global batch 1024, lr 0.002, STEPS
# steps, untraced) with scalescope-worker under mpirun, waiting for an idle machine first
# (bench/core/idle.sh). From the worker's progress lines it prints, per configuration:
#   step_ms      the median step time (rank 0; a step ends once its parameters are pulled/updated)
#   ttl_s        time-to-loss: wall time from the first step's start until the mean training loss
#                of the last 5 steps first reaches TARGET ("-" if never); BSP and all-reduce
#                report the global batch's loss, async worker 0's samples (its local loss)
#   final_loss, eval_loss   the last step's training loss and the test loss after training
# The servers are extra ranks (parallel.servers = 1): dp=4 with a server runs 5 processes.
# Environment: STEPS (default 60), TARGET (default 0.75), WAIT_S (idle wait per run, default 90),
# MPIRUN (default mpirun), DATA (default /usr/share/datasets/fashion-mnist).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build/release}
worker=$build/worker/scalescope-worker
[ -x "$worker" ] || { echo "no $worker: build the target scalescope-worker first" >&2; exit 2; }
. "$root/bench/core/idle.sh"
steps=${STEPS:-60}
target=${TARGET:-0.75}
data=${DATA:-/usr/share/datasets/fashion-mnist}
mpirun=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d /tmp/ps_study.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/spec.json" <<JSON
{
  "name": "ps-study",
  "model": { "kind": "mlp", "preset": "default" },
  "data": { "path": "$data" },
  "training": { "steps": $steps, "global_batch": 1024, "lr": 0.002, "seed": 7, "grad_clip": 1.0,
                "slow_rank": { "rank": 1, "factor": 2 } },
  "parallel": { "dp": 1 },
  "backend": { "device": "cpu", "blas_threads": 1 },
  "trace": { "enabled": false }
}
JSON

echo "# ps_study: MLP, global batch 1024, $steps steps, rank 1 slowed x2, target loss $target (5-step mean)"
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, host $(hostname)"
printf '%-4s %-18s %3s %9s %8s %11s %10s  %s\n' dp sync np step_ms ttl_s final_loss eval_loss "idle/loadavg"
for dp in 2 4; do
  for mode in allreduce ps-bsp ps-async; do
    sets=(--set "parallel.dp=$dp")
    np=$dp
    case $mode in
      ps-bsp) sets+=(--set parallel.dp_sync=parameter_server --set parallel.staleness=0); np=$((dp + 1)) ;;
      ps-async) sets+=(--set parallel.dp_sync=parameter_server --set parallel.staleness=async); np=$((dp + 1)) ;;
    esac
    idle=$(wait_idle)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    out="$work/$mode-$dp.out"
    if ! "$mpirun" --oversubscribe -np "$np" "$worker" "$work/spec.json" "${sets[@]}" > "$out" 2> "$work/err"; then
      echo "dp=$dp $mode failed:" >&2; cat "$work/err" >&2; exit 1
    fi
    python3 - "$out" "$target" "$dp" "$mode" "$np" "$idle / $load" <<'PY'
import json, statistics, sys
path, target, dp, mode, np_, note = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
steps, summary = [], {}
for line in open(path):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("event") == "step": steps.append(o)
    if o.get("event") == "summary": summary = o
t0 = steps[0]["elapsed_s"] - steps[0]["step_time_s"]
ttl = "-"
for i in range(len(steps)):
    window = [s["loss"] for s in steps[max(0, i - 4):i + 1]]
    if len(window) == 5 and statistics.mean(window) <= target:
        ttl = "%.2f" % (steps[i]["elapsed_s"] - t0)
        break
med = statistics.median(s["step_time_s"] for s in steps) * 1e3
print("%-4s %-18s %3s %9.1f %8s %11.4f %10.4f  %s" % (dp, mode, np_, med, ttl, steps[-1]["loss"], summary.get("eval_loss", float("nan")), note))
PY
  done
done
