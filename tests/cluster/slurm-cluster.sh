#!/usr/bin/env bash
# A private single-host Slurm cluster, run as this script's own processes (issue 20): its own munge
# key and socket, a slurm.conf in DIR with this host's CPUs, slurmctld and slurmd on free local
# ports; nothing outside DIR is written and nothing is left running after `stop`.
#
#   tests/cluster/slurm-cluster.sh start DIR     start the daemons; prints `export SLURM_CONF=DIR/slurm.conf`
#                                                (eval it to use sbatch/squeue/scancel against this cluster)
#   tests/cluster/slurm-cluster.sh stop DIR      stop them (by their pid files) and wait until they are gone
#   tests/cluster/slurm-cluster.sh run DIR CMD…  start, run CMD with SLURM_CONF set, stop (also on failure)
#   tests/cluster/slurm-cluster.sh check         exit 0 when a cluster can be started here, else 77 with the reason
#
# Exit status 77 (CTest's SKIP_RETURN_CODE in tests/cluster/CMakeLists.txt) means "cannot run here":
# not root, or the Debian packages slurm-wlm / munge missing; the reason is printed on stderr.
# Facts this rests on: ../shared/notes/slurm-on-one-machine.md (Debian 12, slurm-wlm 22.05).
set -euo pipefail

skip() { echo "slurm-cluster: SKIP: $*" >&2; exit 77; }
die() { echo "slurm-cluster: $*" >&2; exit 1; }

check() {
  [ "$(id -u)" = 0 ] || skip "needs root (slurmd runs jobs as their user; SlurmUser=root here)"
  local p
  for p in slurmctld slurmd munged sbatch squeue scontrol scancel sinfo; do
    command -v "$p" > /dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || skip "$p not found (apt-get install slurm-wlm munge)"
  done
}

# A TCP port nobody listens on (ss -ltn), from a range away from the usual services.
free_port() {
  local used p
  used=$(ss -Hltn 2> /dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    grep -qx "$p" <<< "$used" || { echo "$p"; return; }
  done
  die "no free TCP port found in 20000..40000"
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

start() {
  local dir=$1
  check
  mkdir -p "$dir"/{munge,spool/ctld,spool/d,log,run}
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir/munge"
  [ -e "$dir/slurm.conf" ] && [ -n "$(pid_of "$dir/run/slurmctld.pid")" ] && die "a cluster already runs in $dir (stop it first)"
  # munge: its own key, socket, pid, log and seed files.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  /usr/sbin/munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    --force 2> "$dir/log/munged.stderr" || die "munged did not start: $(cat "$dir/log/munged.stderr")"
  local host cpus ctld_port d_port
  host=$(hostname -s)
  cpus=$(nproc)
  ctld_port=$(free_port)
  d_port=$(free_port)
  [ "$ctld_port" != "$d_port" ] || d_port=$((ctld_port + 1))
  cat > "$dir/slurm.conf" << CONF
# written by tests/cluster/slurm-cluster.sh: a private one-node cluster on $host
ClusterName=scalescope-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=300
KillWait=5
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  /usr/sbin/slurmctld -f "$SLURM_CONF" 2> "$dir/log/slurmctld.stderr" || { stop "$dir"; die "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log" 2> /dev/null)"; }
  /usr/sbin/slurmd -f "$SLURM_CONF" 2> "$dir/log/slurmd.stderr" || { stop "$dir"; die "slurmd did not start: $(tail -5 "$dir/log/slurmd.log" 2> /dev/null)"; }
  # Ready when the node is idle (at most 30 s).
  local state=""
  for _ in $(seq 60); do
    state=$(sinfo -h -N -o '%T' 2> /dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  [ "$state" = idle ] || { stop "$dir"; die "the node did not become idle (state '$state'); logs in $dir/log"; }
  echo "export SLURM_CONF=$SLURM_CONF"
}

# slurmstepd processes of this cluster (their environment names its slurm.conf).
steps_of() {
  local p
  for p in $(pgrep -x slurmstepd 2> /dev/null || true); do
    { tr '\0' '\n' < "/proc/$p/environ"; } 2> /dev/null | grep -qx "SLURM_CONF=$1/slurm.conf" && echo "$p"
  done
  return 0
}

stop() {
  local dir=$1 f pid
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  # Jobs first: cancelled, and their steps given a few seconds to end while slurmd still runs.
  if [ -n "$(pid_of "$dir/run/slurmctld.pid")" ]; then
    SLURM_CONF=$dir/slurm.conf scancel --quiet --full --user=root 2> /dev/null || true
    for _ in $(seq 40); do
      [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h 2> /dev/null)" ] && [ -z "$(steps_of "$dir")" ] && break
      sleep 0.25
    done
  fi
  for f in run/slurmd.pid run/slurmctld.pid munge/munged.pid; do
    pid=$(pid_of "$dir/$f")
    [ -n "$pid" ] && kill "$pid" 2> /dev/null || true
  done
  # Wait for them to go (slurmd ends its job steps first), then force.
  for _ in $(seq 40); do
    local alive=0
    for f in run/slurmd.pid run/slurmctld.pid munge/munged.pid; do
      pid=$(pid_of "$dir/$f")
      [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.25
  done
  for f in run/slurmd.pid run/slurmctld.pid munge/munged.pid; do
    pid=$(pid_of "$dir/$f")
    [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null || true
    rm -f "$dir/$f"
  done
  for pid in $(steps_of "$dir"); do kill -9 "$pid" 2> /dev/null || true; done
}

case "${1:-}" in
  check) check ;;
  start) [ $# = 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# = 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  run)
    [ $# -ge 3 ] || die "usage: $0 run DIR CMD..."
    dir=$2; shift 2
    trap 'stop "$dir"' EXIT
    eval "$(start "$dir")"
    "$@"
    ;;
  *) die "usage: $0 check | start DIR | stop DIR | run DIR CMD..." ;;
esac
