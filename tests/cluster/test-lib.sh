# Shared by the cluster tests (tests/cluster/test_*.sh; sourced, not run).
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { sqlite3 "$1" "$2"; }                 # one query on a trace file
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }  # seconds since a now()
