#!/usr/bin/env bash
# CTest tst_cluster_multinode (issue 20): ScaleScope on two Open MPI "hosts" made of network
# namespaces (tests/cluster/netns-hosts.sh), TCP transport, a host file, the rsh agent entering the
# other namespace. Prints what it ran and checks:
#   1. a traced dp2 x pp2 study across the two hosts: 4 ranks, 2 on each host by the run's
#      ranks.host column, every rank's clock aligned (corrected, offset and round trip measured);
#   2. cancel (SIGINT to the CLI, as Ctrl-C) of a run spanning both hosts: recorded cancelled;
#   3. a rank killed (SIGKILL) on the second host: the run recorded failed, the reason naming a rank;
#   4. `calibrate --hostfile` across the two hosts: the intra-host links (collectives) apart from the
#      inter-host ones (inter_collectives), every intra group inside one host and every inter group
#      across both (levels.groups), the inter level's bytes really sent over host 1's interface, a
#      topology of 2 nodes x 2, and the simulator reading the file;
#   5. nothing left: no process in the namespaces, no worker or orted of this test, no namespace
#      or interface it made.
# Exit 77 (skipped) with the reason where namespaces cannot be made (not root, no ip netns).
#
#   tests/cluster/test_multinode.sh CLI    (CLI: the scalescope-cli to test)
set -euo pipefail
CLI=${1:?usage: test_multinode.sh SCALESCOPE_CLI}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NET="$HERE/netns-hosts.sh"
bash "$NET" check || exit $?
command -v sqlite3 > /dev/null || { echo "SKIP: sqlite3 (the command) is missing" >&2; exit 77; }

TMP=$(mktemp -d /tmp/scalescope-multinode-test.XXXXXX)
H=$TMP/hosts
. "$HERE/test-lib.sh"  # fail, q, now, since
cleanup() {
  bash "$NET" down "$H" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
bash "$NET" up "$H" 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ARGS=$(awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), $0 } END { printf "]" }' "$H/mpirun.args")
NS1=$(sed -n 1p "$H/hosts" | cut -d' ' -f3)
NS2=$(sed -n 2p "$H/hosts" | cut -d' ' -f3)
HOST1=$(sed -n 1p "$H/hosts" | cut -d' ' -f1)
HOST2=$(sed -n 2p "$H/hosts" | cut -d' ' -f1)
# The CLI runs on host 1; mpirun starts the ranks of host 2 through the agent.
cli() { bash "$NET" exec "$H" 1 "$CLI" "$@"; }
common=(--set parallel.micro_batches=2 --set launch.hostfile="$H/hostfile" --set "launch.mpirun_args=$ARGS")

# 1. A traced dp2 x pp2 study across the two hosts.
S=$TMP/study.sqlite
t0=$(now)
cli study "$ROOT/examples/mlp-fashion-dp2.json" --vary layout=2x1x2 --set training.steps=6 "${common[@]}" \
  -o "$S" --run-dir "$TMP/study" --quiet > "$TMP/study.out" 2>&1 || { cat "$TMP/study.out"; fail "the two-host study"; }
echo "1. dp2 x pp2 study on $HOST1 + $HOST2 in $(since "$t0") s, run $(q "$S" "SELECT status FROM runs"):"
q "$S" "SELECT rank, host, dp_coord, pp_coord, clock_offset_ns, clock_rtt_ns, clock_corrected FROM ranks ORDER BY rank" |
  awk -F'|' '{ printf "   rank %s on %s (dp %s, pp %s): clock offset %s ns, round trip %s ns, corrected %s\n", $1, $2, $3, $4, $5, $6, $7 }'
[ "$(q "$S" "SELECT status FROM runs")" = completed ] || fail "the study's run did not complete"
[ "$(q "$S" "SELECT count(*) FROM ranks")" = 4 ] || fail "expected 4 ranks"
[ "$(q "$S" "SELECT count(DISTINCT host) FROM ranks")" = 2 ] || fail "the ranks did not run on two hosts"
[ "$(q "$S" "SELECT count(*) FROM ranks WHERE host = '$HOST1'")" = 2 ] || fail "host 1 does not hold 2 ranks"
[ "$(q "$S" "SELECT count(*) FROM ranks WHERE host = '$HOST2'")" = 2 ] || fail "host 2 does not hold 2 ranks"
[ "$(q "$S" "SELECT count(*) FROM ranks WHERE clock_corrected = 1")" = 4 ] || fail "not every clock was aligned"
# The hosts share one kernel clock, so the true offset is 0 and an estimate from a round trip is off by
# at most half of it (more on a loaded machine, where round trips are long): the bound checked.
[ "$(q "$S" "SELECT count(*) FROM ranks WHERE rank > 0 AND clock_rtt_ns > 0 AND abs(clock_offset_ns) <= clock_rtt_ns / 2 + 100000")" = 3 ] ||
  fail "the clock alignment measured no round trip, or an offset beyond half its round trip on one kernel clock"
[ "$(q "$S" "SELECT count(*) FROM events WHERE kind = 1")" -gt 0 ] || fail "no communication events were traced"

# A long run across both hosts, started in the background; waits for every rank's trace file.
start_long() {
  cli run "$ROOT/examples/mlp-fashion-dp2.json" --set parallel.pp=2 --set training.steps=100000 "${common[@]}" \
    -o "$1" --run-dir "$2" --quiet > "$2.out" 2>&1 &
  LONG=$!
  for _ in $(seq 160); do
    if [ "$(ls "$2"/rank-*.sqlite 2> /dev/null | wc -l)" = 4 ]; then
      # The CLI itself (the background job is the shell that entered host 1): the one to signal.
      CLIPID=$(pgrep -f -- "run .*-o $1 " | head -1)
      [ -n "$CLIPID" ] || fail "the CLI of the long run was not found"
      return 0
    fi
    sleep 0.25
  done
  cat "$2.out"
  fail "the long run did not start its 4 ranks"
}

# 2. Cancel.
start_long "$TMP/cancel.sqlite" "$TMP/cancel"
tc=$(now)
kill -INT "$CLIPID"
wait "$LONG" || true
echo "2. cancelled a run on both hosts in $(since "$tc") s: run $(q "$TMP/cancel.sqlite" "SELECT status FROM runs")"
[ "$(q "$TMP/cancel.sqlite" "SELECT status FROM runs")" = cancelled ] || fail "the cancelled run is not recorded cancelled"

# 3. A rank killed on the second host.
start_long "$TMP/kill.sqlite" "$TMP/kill"
victim=""
for pid in $(ip netns pids "$NS2"); do
  grep -q scalescope-worker "/proc/$pid/cmdline" 2> /dev/null && { victim=$pid; break; }
done
[ -n "$victim" ] || fail "no worker found in $NS2"
tk=$(now)
kill -9 "$victim"
wait "$LONG" || true
reason=$(q "$TMP/kill.sqlite" "SELECT failure_reason FROM runs")
echo "3. killed worker pid $victim on $HOST2: run $(q "$TMP/kill.sqlite" "SELECT status FROM runs") after $(since "$tk") s; reason: ${reason:0:200}"
[ "$(q "$TMP/kill.sqlite" "SELECT status FROM runs")" = failed ] || fail "the run with a killed rank is not recorded failed"
grep -qi "rank" <<< "$reason" || fail "the reason does not name a rank: $reason"

# 4. Calibrate across the two hosts.
HW=$TMP/cluster-hw.json
MA=()
while read -r arg; do MA+=(--mpirun-arg "$arg"); done < "$H/mpirun.args"
tx() { ip netns exec "$NS1" cat /sys/class/net/eth0/statistics/tx_bytes; }
tx0=$(tx)
tcal=$(now)
cli calibrate -o "$HW" --hostfile "$H/hostfile" "${MA[@]}" --sizes 4K,64K,1M --iters 10 --repeats 3 --no-classes \
  --run-dir "$TMP/calibrate" > "$TMP/calibrate.out" 2>&1 || { cat "$TMP/calibrate.out"; fail "calibrate --hostfile"; }
sent=$(( $(tx) - tx0 ))
j() { sqlite3 :memory: "SELECT $1 FROM (SELECT CAST(readfile('$HW') AS TEXT) AS doc)"; }
echo "4. calibrate --hostfile on $HOST1 + $HOST2 in $(since "$tcal") s: $(j "json_extract(doc, '\$.name')")"
for lvl in collectives inter_collectives; do
  j "(SELECT group_concat(key || ' alpha ' || printf('%.1f', json_extract(value, '\$.alpha_s') * 1e6) || ' us, ' ||
      printf('%.2f', json_extract(value, '\$.bus_bandwidth_bytes_per_s') / 1e9) || ' GB/s', '; ')
      FROM json_each(json_extract(doc, '\$.$lvl')))" | sed "s/^/   $lvl: /"
done
echo "   topology: $(j "json_extract(doc, '\$.topology')")"
echo "   $(grep -o 'algorithm [a-z]* (the world[^)]*)' "$TMP/calibrate.out" || true)"
[ "$(j "json_extract(doc, '\$.topology.devices_per_node') || 'x' || json_extract(doc, '\$.topology.nodes')")" = 2x2 ] ||
  fail "the topology is not 2 nodes of 2 ranks"
[ "$(j "json_extract(doc, '\$.hosts')")" = "[\"$HOST1\",\"$HOST2\"]" ] || fail "the file's hosts are not $HOST1, $HOST2"
for c in all_reduce reduce_scatter all_gather broadcast send_recv iall_reduce ireduce_scatter; do
  for lvl in collectives inter_collectives; do
    [ "$(j "json_extract(doc, '\$.$lvl.$c.beta_s_per_byte') > 0")" = 1 ] || fail "$lvl.$c has no fitted bandwidth"
  done
done
# Every intra group inside one host, every inter group across two distinct hosts, the span group on both.
groups="json_each(json_extract(doc, '\$.levels.groups')) AS l, json_each(l.value, '\$.hosts') AS g"
hosts_in="(SELECT count(DISTINCT value) FROM json_each(g.value))"
[ "$(j "(SELECT count(*) FROM $groups WHERE json_extract(l.value, '\$.level') = 'intra' AND $hosts_in = 1)")" = 2 ] ||
  fail "the intra level did not measure one group inside each host: $(j "json_extract(doc, '\$.levels.groups')")"
[ "$(j "(SELECT count(*) FROM $groups WHERE json_extract(l.value, '\$.level') = 'inter' AND $hosts_in = 2 AND
        json_array_length(g.value) = 2)")" = 1 ] ||
  fail "the inter level did not measure one group of one rank per host: $(j "json_extract(doc, '\$.levels.groups')")"
[ "$(j "(SELECT count(*) FROM $groups WHERE json_extract(l.value, '\$.level') = 'span' AND $hosts_in = 2)")" = 1 ] ||
  fail "the world group was not measured across both hosts"
# The inter level's ping-pong crossed the bridge: host 1 sent at least its bytes (every call sends them once).
need=$(j "(SELECT sum(json_extract(value, '\$.bytes') * json_extract(value, '\$.iterations')) FROM
          json_each(json_extract(doc, '\$.measurements')) WHERE json_extract(value, '\$.level') = 'inter' AND
          json_extract(value, '\$.collective') = 'send_recv')")
echo "   host 1's interface sent $sent bytes; the inter-host ping-pong alone sends $need"
[ "$sent" -ge "$need" ] || fail "host 1 sent $sent bytes, less than the inter-host ping-pong's $need: not measured across hosts"
# The simulator reads the two levels: dp2 x tp2 on this file (tp inside a host, dp across).
cli simulate "$ROOT/examples/mlp-fashion-dp2.json" --hardware "$HW" --set parallel.tp=2 > "$TMP/simulate.out" 2>&1 ||
  { cat "$TMP/simulate.out"; fail "simulate on the cluster's hardware file"; }
grep -q "this cluster (calibrated, 4 ranks on 2 hosts" "$TMP/simulate.out" || { cat "$TMP/simulate.out"; fail "simulate did not read the file"; }

# 5. Nothing left.
for ns in "$NS1" "$NS2"; do
  [ -z "$(ip netns pids "$ns")" ] || fail "processes left in $ns: $(ip netns pids "$ns" | tr '\n' ' ')"
done
bash "$NET" down "$H"
id=${NS1%-h1}
[ -z "$(ip netns list | grep "^$id-" || true)" ] || fail "namespaces left: $(ip netns list | grep "^$id-")"
[ -z "$(ip -o link show | grep "$id-" || true)" ] || fail "interfaces left: $(ip -o link show | grep "$id-")"
left=$(pgrep -af "$TMP" | grep -E "scalescope-worker|orted|mpirun" || true)
[ -z "$left" ] || fail "left running: $left"
echo "5. nothing left: no process in the namespaces, no namespace $id-*, no interface, no worker"
echo "PASS"
