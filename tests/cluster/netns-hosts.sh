#!/usr/bin/env bash
# Two or more "hosts" on one machine for multi-node Open MPI (issue 20): network namespaces joined by
# a bridge that lives in a namespace of its own, each host with its own address on a private test
# subnet and its own host name; Open MPI reaches the other hosts through a small agent (in place of
# ssh) that enters the host's namespace. Traffic stays inside the namespaces this script makes.
#
#   tests/cluster/netns-hosts.sh up DIR [N]   make N hosts (default 2): namespaces ss<id>-h1..hN and
#                                             ss<id>-br, writes DIR/hostfile, DIR/agent, DIR/mpirun.args
#                                             (one MCA option per line), DIR/hosts (name address ns)
#   tests/cluster/netns-hosts.sh exec DIR I CMD…   run CMD as host I (its namespace and host name)
#   tests/cluster/netns-hosts.sh down DIR          delete every namespace (their interfaces go with them)
#   tests/cluster/netns-hosts.sh check             exit 0 when namespaces can be made here, else 77
#
# Exit status 77 means "cannot run here" (not root, no `ip netns`, no unshare); the reason is on
# stderr. Facts this rests on: ../shared/notes/multinode-on-one-machine.md.
set -euo pipefail

skip() { echo "netns-hosts: SKIP: $*" >&2; exit 77; }
die() { echo "netns-hosts: $*" >&2; exit 1; }

check() {
  [ "$(id -u)" = 0 ] || skip "needs root (ip netns)"
  command -v ip > /dev/null || skip "ip (iproute2) not found"
  command -v unshare > /dev/null || skip "unshare (util-linux) not found"
  local probe="ss-probe-$$"
  ip netns add "$probe" 2> /dev/null || skip "cannot create a network namespace here (ip netns add failed)"
  ip netns del "$probe"
}

# A /24 of 10.x.y.0 that no interface of this machine uses.
free_subnet() {
  local used n
  used=$(ip -o -4 addr show 2> /dev/null | awk '{print $4}')
  for _ in $(seq 100); do
    n="10.$((200 + RANDOM % 50)).$((RANDOM % 250))"
    grep -q "^$n\." <<< "$used" || { echo "$n"; return; }
  done
  die "no free 10.x.y.0/24 subnet"
}

up() {
  local dir=$1 n=${2:-2} id sub i
  check
  [ "$n" -ge 2 ] || die "at least 2 hosts"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/hosts" ] && die "$dir already describes hosts (run down first)"
  id=$(printf '%04x' $((RANDOM % 65536)))
  sub=$(free_subnet)
  local br="ss$id-br"
  ip netns add "$br"
  echo "$br" > "$dir/namespaces"
  ip -n "$br" link add name br0 type bridge
  ip -n "$br" link set br0 up
  ip -n "$br" link set lo up
  : > "$dir/hosts"
  : > "$dir/hostfile"
  for i in $(seq "$n"); do
    local ns="ss$id-h$i" addr="$sub.$i" name="ss$id-host$i"
    ip netns add "$ns"
    echo "$ns" >> "$dir/namespaces"
    # veth: "eth0" inside the host, "p<i>" on the bridge.
    ip link add "ss$id-e$i" type veth peer name "ss$id-p$i"
    ip link set "ss$id-e$i" netns "$ns"
    ip link set "ss$id-p$i" netns "$br"
    ip -n "$ns" link set "ss$id-e$i" name eth0
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$br" link set "ss$id-p$i" master br0
    ip -n "$br" link set "ss$id-p$i" up
    echo "$name $addr $ns" >> "$dir/hosts"
    echo "$addr slots=2" >> "$dir/hostfile"
  done
  # The agent Open MPI calls instead of ssh: `agent [options] HOST command…`.
  cat > "$dir/agent" << AGENT
#!/usr/bin/env bash
# Open MPI's plm_rsh_agent for the hosts of $dir: enters HOST's namespace (and host name).
while [ \$# -gt 0 ] && [ "\${1#-}" != "\$1" ]; do shift; done
host=\${1:?agent: no host}; shift
line=\$(awk -v h="\$host" '\$1 == h || \$2 == h' "$dir/hosts")
[ -n "\$line" ] || { echo "agent: unknown host \$host" >&2; exit 255; }
set -- \$(echo "\$line" | awk '{print \$3, \$1}') "\$@"
ns=\$1 name=\$2; shift 2
exec ip netns exec "\$ns" unshare --uts /bin/sh -c 'hostname "\$0" && exec /bin/sh -c "\$*"' "\$name" "\$@"
AGENT
  chmod +x "$dir/agent"
  # Between hosts TCP over the bridge; inside a host shared memory (vader), as on a real node: the
  # two levels `calibrate --hostfile` measures apart.
  printf '%s\n' --mca plm_rsh_agent "$dir/agent" --mca btl tcp,vader,self --mca btl_tcp_if_include "$sub.0/24" \
    --mca oob_tcp_if_include "$sub.0/24" > "$dir/mpirun.args"
  echo "netns-hosts: $n hosts on $sub.0/24: $(awk '{printf "%s=%s ", $1, $2}' "$dir/hosts")" >&2
}

host_exec() {
  local dir=$1 i=$2 line
  shift 2
  line=$(sed -n "${i}p" "$dir/hosts")
  [ -n "$line" ] || die "no host $i in $dir/hosts"
  set -- $(echo "$line" | awk '{print $3, $1}') "$@"
  local ns=$1 name=$2
  shift 2
  exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$0" && exec "$@"' "$name" "$@"
}

down() {
  local dir=$1 ns
  [ -f "$dir/namespaces" ] || return 0
  while read -r ns; do
    # Processes still inside (a test that failed half-way): ended first.
    for pid in $(ip netns pids "$ns" 2> /dev/null || true); do kill -9 "$pid" 2> /dev/null || true; done
    ip netns del "$ns" 2> /dev/null || true
  done < "$dir/namespaces"
  rm -f "$dir/namespaces" "$dir/hosts"
}

case "${1:-}" in
  check) check ;;
  up) [ $# -ge 2 ] || die "usage: $0 up DIR [N]"; up "$2" "${3:-2}" ;;
  exec) [ $# -ge 4 ] || die "usage: $0 exec DIR I CMD..."; host_exec "${@:2}" ;;
  down) [ $# = 2 ] || die "usage: $0 down DIR"; down "$2" ;;
  *) die "usage: $0 check | up DIR [N] | exec DIR I CMD... | down DIR" ;;
esac
