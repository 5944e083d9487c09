# Sourced by the validation scripts of bench/core: waiting for an idle machine before each run.
# idle_pct: the idle share of all CPUs over one second of /proc/stat (percent).
# wait_idle: waits up to WAIT_S seconds (default 90) for two consecutive >= 95 %-idle seconds and
# prints "idle A% B%", or "NOT IDLE (A% B%)" when the time ran out (the run then starts anyway).
idle_pct() {
  local u n s i w x y z i1 t1
  read -r _ u n s i w x y z _ < /proc/stat; t1=$((u+n+s+i+w+x+y+z)); i1=$i; sleep 1
  read -r _ u n s i w x y z _ < /proc/stat; echo $(( 100 * (i - i1) / ((u+n+s+i+w+x+y+z) - t1) ))
}
wait_idle() {
  local a=0 b=0 t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "${WAIT_S:-90}" ]; do
    a=$(idle_pct); b=$(idle_pct)
    if [ "$a" -ge 95 ] && [ "$b" -ge 95 ]; then echo "idle $a% $b%"; return; fi
  done
  echo "NOT IDLE ($a% $b%)"
}
