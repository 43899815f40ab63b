#!/usr/bin/env bash
# The leftover guard: checks that a test run left nothing of its own behind.
# "Its own" is what the run recorded in RUN_DIR/created (lib.sh's kp_tmp,
# kp_ns_add, kp_spawn, kp_track append to it), so namespaces and processes
# of other runs on the same machine are never counted. Fails when any of
# these is still there:
#  - a recorded namespace (ip netns list) or its mount /run/netns/NAME;
#  - a process still inside a recorded namespace's network namespace (it
#    keeps the namespace, its veths and addresses alive after ip netns del);
#  - a recorded process (same pid and start time: a reused pid is not it);
#  - a recorded temp dir, a mount under it, or a process whose working
#    directory is under it or whose command line names it.
# Prints one line per leftover, naming it and the test that created it.
#   leftovers.sh RUN_DIR    (exit 0: nothing left, 1: leftovers, 2: usage)
set -u
run=${1:-}
[ -n "$run" ] && [ -d "$run" ] || {
  echo "usage: leftovers.sh RUN_DIR (the run's KP_RUN_DIR)" >&2
  exit 2
}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

created="$run/created"
left=()
n_ns=0 n_pid=0 n_tmp=0
declare -A seen_pid=()
mounts=$(findmnt -rn -o TARGET 2>/dev/null)
listed=" $(ip netns list 2>/dev/null | awk '{ print $1 }' | tr '\n' ' ') "
# inode -> the name a namespace is bound to now (ours, or a later one that
# got the inode number of a deleted one of ours)
declare -A bound=()
for f in /run/netns/*; do
  [ -e "$f" ] && bound[$(stat -L -c %i "$f" 2>/dev/null)]=$(basename "$f")
done
netns_of=$(find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -printf '%h %l\n' 2>/dev/null)
cmd_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-160; }

tmps=()
if [ -f "$created" ]; then
  while read -r kind a b c rest; do
    case $kind in
    ns)
      n_ns=$((n_ns + 1))
      if [[ "$listed" == *" $a "* ]]; then
        left+=("namespace $a (from $c) still exists")
      elif grep -qxF "/run/netns/$a" <<<"$mounts"; then
        left+=("mount /run/netns/$a (from $c) still mounted")
      fi
      if [ "$b" != 0 ] && { [ -z "${bound[$b]:-}" ] || [ "${bound[$b]}" = "$a" ]; }; then
        while read -r dir _; do
          p=${dir#/proc/}
          p=${p%/ns}
          [ -n "$p" ] && kp_pid_running "$p" || continue
          seen_pid[$p]=1
          left+=("process $p still in the network namespace of $a (from $c): $(cmd_of "$p")")
        done < <(grep -F " net:[$b]" <<<"$netns_of")
      fi
      ;;
    pid)
      n_pid=$((n_pid + 1))
      if [ -z "${seen_pid[$a]:-}" ] && kp_pid_running "$a" && [ "$(kp_pid_start "$a")" = "$b" ]; then
        seen_pid[$a]=1
        left+=("process $a (from $c) still running: $(cmd_of "$a")")
      fi
      ;;
    tmp)
      n_tmp=$((n_tmp + 1))
      tmps+=("$a")
      [ -e "$a" ] && left+=("temp dir $a (from $b) still there")
      while read -r m; do
        [ -n "$m" ] && left+=("mount $m (under $a, from $b) still mounted")
      done < <(awk -v d="$a" '$0 == d || index($0, d "/") == 1' <<<"$mounts")
      ;;
    esac
  done <"$created"
fi
while read -r p line; do
  [ -n "$p" ] && [ -z "${seen_pid[$p]:-}" ] || continue
  seen_pid[$p]=1
  left+=("process $p works in or names a temp dir of the run: $line")
done < <(kp_procs_under "${tmps[@]}")

if [ ${#left[@]} -gt 0 ]; then
  echo "leftovers: FAIL: the run left ${#left[@]} thing(s) of its own behind:"
  printf '  %s\n' "${left[@]}"
  exit 1
fi
echo "leftovers: none ($n_ns namespaces, $n_pid processes, $n_tmp temp dirs recorded by the run, all gone)"
