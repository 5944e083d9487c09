#!/usr/bin/env bash
# DP overlap on CPU ranks (issue 16): how the bucketed gradient all-reduce progresses during
# backward, per progress mechanism (models/comm.h CommProgress, chosen by SCALESCOPE_COMM_PROGRESS):
#   thread  a communication thread per group runs each bucket's blocking MPI_Allreduce; the training
#           thread yields its core to it where backward finishes a tensor (default)
#   poll    MPI_Iallreduce, advanced by MPI_Test where backward finishes a parameter tensor
# Cases: tiny-dp2 GPT tiny with the default 4 MiB bucket (its 527 KiB in one bucket, reduced
# after backward: nothing to overlap), tiny-dp2-b01 and tiny-dp4 with 0.1 MiB buckets (6), 100 and
# 60 steps; small-dp2 GPT small on the CPU, global batch 8, 5 steps (19 buckets of 4 MiB); dp4 is
# 4 ranks oversubscribing 2 cores. For each case and mechanism, REPEAT interleaved runs of
# `scalescope-cli run`, then `scalescope-cli stats --per-step`: per run the medians over the
# measured steps of the step time, exposed communication, communication (union of the calls) and
# the overlap ratio (overlapped / communication, docs/ANALYSIS.md), with /proc/loadavg.
#
#   bench/models/bench_overlap.sh [OUT_DIR] [REPEAT] [CASES]   (default /tmp/bench-overlap, 3,
#                                                               "tiny-dp2 tiny-dp2-b01 small-dp2 tiny-dp4")
#   SCALESCOPE_CLI=path/to/scalescope-cli to use another build (default build/release);
#   MODES="thread poll" (default) — add "before" with BEFORE_WORKER=path/to/an/older/scalescope-worker
#   to measure another build's worker (its own mechanism and buckets) in the same sitting;
#   On a machine shared with other work (root only): RT=1 runs the jobs SCHED_RR (chrt -r 5): the
#   figures of dp2 come near an idle machine's (not dp4: 4 ranks on 2 cores take 100 ms turns;
#   nor a communication thread's progress when a time slice ends, which SCHED_RR lacks);
#   NICE=-15 runs them at that niceness instead (helps less: a yielding rank still waits).
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${SCALESCOPE_CLI:-$PWD/build/release/cli/scalescope-cli}
OUT=${1:-/tmp/bench-overlap}
REPEAT=${2:-3}
CASES=${3:-"tiny-dp2 tiny-dp2-b01 small-dp2 tiny-dp4"}
MODES=${MODES:-"thread poll"}
NICE=${NICE:-0}
RUN=(nice -n "$NICE")
[ "${RT:-0}" = 1 ] && RUN=(chrt -r 5)
[ -x "$CLI" ] || { echo "bench_overlap.sh: $CLI not found (build first)" >&2; exit 2; }
mkdir -p "$OUT"

case_args() {  # spec and --set list of a case
    case "$1" in
        tiny-dp2) echo "examples/gpt-tiny-tp2pp2.json 100 parallel.dp=2" ;;
        tiny-dp2-b01) echo "examples/gpt-tiny-tp2pp2.json 100 parallel.dp=2 parallel.bucket_mb=0.1" ;;
        tiny-dp4) echo "examples/gpt-tiny-tp2pp2.json 60 parallel.dp=4 parallel.bucket_mb=0.1" ;;
        small-dp2) echo "examples/gpt-small.json 5 parallel.dp=2 backend.device=cpu training.global_batch=8 training.warmup_steps=0" ;;
        *) echo "bench_overlap.sh: unknown case $1" >&2; exit 2 ;;
    esac
}

summarise() {  # medians over the measured steps of `stats --per-step`
    "$CLI" stats "$1" --per-step --format csv | awk -F, '
        $1 == "run" && $2 == "step" && $3 == "warmup" { for (i = 1; i <= NF; ++i) c[$i] = i; on = 1; next }
        on && NF <= 1 { on = 0 }
        on && $c["warmup"] == "no" {
            n++; st[n] = $c["step_ms"]; ex[n] = $c["exposed_comm_ms"]; cm[n] = $c["communication_ms"]
            ov[n] = $c["communication_ms"] > 0 ? $c["overlapped_ms"] / $c["communication_ms"] : 0 }
        function med(a,   k, i, j, t, b) { for (i = 1; i <= n; ++i) b[i] = a[i] + 0
            for (i = 2; i <= n; ++i) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; --j) b[j + 1] = b[j]; b[j + 1] = t }
            return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2 }
        END { if (n == 0) { print "no measured steps"; exit }
              printf "steps %3d  median step %8.3f ms  exposed comm %7.3f ms  comm %7.3f ms  overlap ratio %.2f\n",
                     n, med(st), med(ex), med(cm), med(ov) }'
}

for c in $CASES; do
    read -r spec steps sets <<<"$(case_args "$c")"
    for ((r = 1; r <= REPEAT; ++r)); do
        for m in $MODES; do
            f="$OUT/$c-$m-$r.sqlite"
            rm -rf "$f" "${f%.sqlite}-runs"
            args=(run "$spec" -o "$f" --quiet --set parallel.tp=1 --set parallel.pp=1
                  --set training.steps="$steps" --set training.eval_every=0)
            for s in $sets; do args+=(--set "$s"); done
            if [ "$m" = before ]; then
                SCALESCOPE_WORKER=${BEFORE_WORKER:?BEFORE_WORKER must name the older worker} "${RUN[@]}" "$CLI" "${args[@]}" >/dev/null
            else
                "${RUN[@]}" "$CLI" "${args[@]}" --set launch.env.SCALESCOPE_COMM_PROGRESS="$m" >/dev/null
            fi
            printf '%-10s %-7s #%d  %s  load %s\n' "$c" "$m" "$r" "$(summarise "$f")" "$(cut -d' ' -f1-3 /proc/loadavg)"
        done
    done
done
