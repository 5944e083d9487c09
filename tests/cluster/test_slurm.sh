#!/usr/bin/env bash
# CTest tst_cluster_slurm (issue 20): ScaleScope's Slurm engine against a real, private Slurm cluster
# started by tests/cluster/slurm-cluster.sh on this machine. Prints what it ran (job ids, node,
# timings) and checks:
#   1. a study through Slurm: one job per point (`study --launcher slurm`), every run completed and
#      recorded with its own job id, the node and the final state; the job script kept in the run folder;
#   2. a failing job: mpirun refuses an option inside the job; the run is recorded failed with the
#      job's state, exit code and reason;
#   3. a job cancelled while it runs (SIGINT to `scalescope-cli run`, as Ctrl-C): scancel, the run
#      recorded cancelled, the job CANCELLED;
#   4. nothing is left running afterwards: no slurmctld, slurmd, munged, slurmstepd, orted or worker.
# Exit 77 (skipped) with the reason when the cluster cannot start here (not root, packages missing).
#
#   tests/cluster/test_slurm.sh CLI    (CLI: the scalescope-cli to test)
set -euo pipefail
CLI=${1:?usage: test_slurm.sh SCALESCOPE_CLI}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$HERE/slurm-cluster.sh" check || exit $?
command -v sqlite3 > /dev/null || { echo "SKIP: sqlite3 (the command) is missing" >&2; exit 77; }

TMP=$(mktemp -d /tmp/scalescope-slurm-test.XXXXXX)
CLUSTER=$TMP/cluster
. "$HERE/test-lib.sh"  # fail, q, now, since
cleanup() {
  bash "$HERE/slurm-cluster.sh" stop "$CLUSTER" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
eval "$(bash "$HERE/slurm-cluster.sh" start "$CLUSTER")"
echo "private cluster: $(sinfo -h -o '%P %D node(s) %N %c CPUs %T') (SLURM_CONF=$SLURM_CONF)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# 1. A study, one job per point.
S=$TMP/study.sqlite
t0=$(now)
"$CLI" study "$ROOT/examples/study-mlp-dp.json" --vary dp=1,2 --set training.steps=4 -o "$S" --run-dir "$TMP/study" \
  --launcher slurm --partition test --time 5 --quiet > "$TMP/study.out" 2>&1 || { cat "$TMP/study.out"; fail "study --launcher slurm"; }
echo "1. study through Slurm in $(since "$t0") s:"
q "$S" "SELECT r.id, r.name, r.world_size, r.status,
        (SELECT value FROM run_summaries s WHERE s.run_id=r.id AND s.key='slurm/job_id'),
        (SELECT value FROM run_summaries s WHERE s.run_id=r.id AND s.key='slurm/nodes'),
        (SELECT value FROM run_summaries s WHERE s.run_id=r.id AND s.key='slurm/state'),
        printf('%.1f s', (r.end_ns - r.start_ns) / 1e9)
      FROM runs r ORDER BY r.id" | sed 's/^/   run /'
[ "$(q "$S" "SELECT count(*) FROM runs WHERE status = 'completed'")" = 2 ] || fail "the study's two runs did not both complete"
[ "$(q "$S" "SELECT count(DISTINCT value) FROM run_summaries WHERE key='slurm/job_id'")" = 2 ] || fail "the runs do not carry two job ids"
[ "$(q "$S" "SELECT count(*) FROM run_summaries WHERE key='slurm/state' AND value='COMPLETED'")" = 2 ] || fail "job states not COMPLETED"
[ "$(q "$S" "SELECT count(*) FROM run_summaries WHERE key='slurm/nodes' AND value='$(hostname -s)'")" = 2 ] || fail "node list not recorded"
[ "$(q "$S" "SELECT count(*) FROM ranks WHERE host <> ''")" -ge 3 ] || fail "ranks without a host"
n=$(find "$TMP/study" -name job.sbatch | wc -l)
[ "$n" = 2 ] || fail "expected a job script per point, found $n"
grep -q '^#SBATCH --partition=test$' "$(find "$TMP/study" -name job.sbatch | head -1)" || fail "job script lacks --partition"
grep -q '^#SBATCH --time=5$' "$(find "$TMP/study" -name job.sbatch | head -1)" || fail "job script lacks --time"

# 2. A failing job: mpirun inside the job refuses an unknown option.
F=$TMP/fail.sqlite
if "$CLI" run "$ROOT/examples/mlp-fashion-dp2.json" --set training.steps=2 --set 'launch.mpirun_args=["--no-such-option"]' \
  -o "$F" --run-dir "$TMP/fail" --launcher slurm --quiet > "$TMP/fail.out" 2>&1; then
  cat "$TMP/fail.out"; fail "a job whose mpirun fails reported success"
fi
reason=$(q "$F" "SELECT failure_reason FROM runs")
echo "2. failing job: job $(q "$F" "SELECT value FROM run_summaries WHERE key='slurm/job_id'") $(q "$F" "SELECT value FROM run_summaries WHERE key='slurm/state'"), exit $(q "$F" "SELECT value FROM run_summaries WHERE key='slurm/exit_code'"); reason: ${reason:0:160}"
[ "$(q "$F" "SELECT status FROM runs")" = failed ] || fail "the failing run is not recorded failed"
[ "$(q "$F" "SELECT value FROM run_summaries WHERE key='slurm/state'")" = FAILED ] || fail "the job's state is not FAILED"
grep -q "slurm job [0-9]* FAILED" <<< "$reason" || fail "the failure reason does not name the job: $reason"

# 3. Cancel while running: Ctrl-C to the CLI; scancel; the run recorded cancelled.
C=$TMP/cancel.sqlite
"$CLI" run "$ROOT/examples/mlp-fashion-dp2.json" --set training.steps=100000 -o "$C" --run-dir "$TMP/cancel" \
  --launcher slurm --quiet > "$TMP/cancel.out" 2>&1 &
pid=$!
for _ in $(seq 120); do
  [ "$(squeue -h -o %T 2> /dev/null | head -1)" = RUNNING ] && [ -n "$(ls "$TMP"/cancel/rank-*.sqlite 2> /dev/null)" ] && break
  sleep 0.25
done
[ "$(squeue -h -o %T | head -1)" = RUNNING ] || fail "the long job never ran"
job=$(squeue -h -o %i | head -1)
tc=$(now)
kill -INT "$pid"
wait "$pid" || true
echo "3. cancelled job $job in $(since "$tc") s: run $(q "$C" "SELECT status FROM runs"), job $(q "$C" "SELECT value FROM run_summaries WHERE key='slurm/state'")"
[ "$(q "$C" "SELECT status FROM runs")" = cancelled ] || fail "the cancelled run is not recorded cancelled"
[ "$(q "$C" "SELECT value FROM run_summaries WHERE key='slurm/state'")" = CANCELLED ] || fail "the job is not CANCELLED"
[ -z "$(squeue -h)" ] || fail "jobs still queued: $(squeue -h)"

# 4. Nothing left running (zombies waiting for init to reap them do not count).
bash "$HERE/slurm-cluster.sh" stop "$CLUSTER"
# This test's processes: their arguments name its folder, or their environment its cluster (job
# steps, orted and ranks started inside the jobs). Other work on the machine is not looked at.
left=""
for pid in $(ps -eo pid=,stat= | awk '$2 !~ /^Z/ {print $1}'); do
  [ "$pid" = $$ ] && continue
  args=$({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2> /dev/null || true)
  grep -qE "slurmctld|slurmd|munged|slurmstepd|orted|scalescope-worker|mpirun" <<< "$args" || continue
  if grep -q "$TMP" <<< "$args" || { tr '\0' '\n' < "/proc/$pid/environ"; } 2> /dev/null | grep -qx "SLURM_CONF=$SLURM_CONF"; then
    left+="$pid $args"$'\n'
  fi
done
[ -z "$left" ] || fail "left running: $left"
echo "4. nothing left running (slurmctld, slurmd, munged, slurmstepd, orted, scalescope-worker)"
echo "PASS"
