#!/usr/bin/env bash
# Self-test of the leftover guard (leftovers.sh) and of lib.sh's cleanup,
# run by run-all.sh before the suite. Small child scripts that use lib.sh's
# helpers, each with its own run dir:
#  - clean end, failure (exit 1), SIGTERM and SIGINT while running: the
#    cleanup removes everything, the guard passes;
#  - a deliberate leak (the child drops its cleanup trap and leaves a
#    namespace, a temp dir, a tracked process, a process started inside
#    the namespace, a process working in the temp dir, and a deleted
#    namespace kept alive by a process in it): the guard fails and names
#    each; after removing them by hand it passes;
#  - other runs' things (a kp- namespace, a process under another kp- temp
#    dir, a recorded pid whose start time differs: a reused pid) are not
#    counted;
#  - processes the child started without tracking, still in its temp dir
#    or its namespace at exit: the cleanup kills them and fails the child.
#   leftovers-selftest.sh   (root; exit 0 pass, 1 fail, 77 skip)
set -u
. "$(dirname "$0")/lib.sh"
kp_require_root
kp_require_tools ip python3 findmnt
kp_trap_cleanup
kp_tmp guard-selftest
GUARD="$KP_LIB_DIR/leftovers.sh"
failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

# child NAME BODY: a script sourcing lib.sh, then BODY; its run dir is
# $KP_TMP/NAME.run.
child() {
  mkdir -p "$KP_TMP/$1.run"
  cat >"$KP_TMP/$1.sh" <<EOF
set -u
. "$KP_LIB_DIR/lib.sh"
$2
EOF
}
# run_child NAME: runs it in the foreground with its run dir; sets crc.
run_child() {
  KP_RUN_DIR="$KP_TMP/$1.run" bash "$KP_TMP/$1.sh" >"$KP_TMP/$1.out" 2>&1
  crc=$?
}
guard() { # guard NAME: runs the guard on NAME's run dir; sets grc, output in NAME.guard
  bash "$GUARD" "$KP_TMP/$1.run" >"$KP_TMP/$1.guard" 2>&1
  grc=$?
}
said() { grep -qE -- "$2" "$KP_TMP/$1.guard"; }

# What each child creates with the helpers: namespace, temp dir, a program,
# a subshell loop, a program inside the namespace.
CREATE='kp_trap_cleanup
kp_tmp guard-child
kp_ns_add kp-gc-$$
kp_spawn /dev/null sleep 600
(while :; do sleep 0.2; done) &
kp_track $!
kp_spawn /dev/null ip netns exec kp-gc-$$ sleep 600
touch "$KP_TMP/ready"; echo "tmp $KP_TMP"'

# --- clean exit, failure exit ------------------------------------------------------
child clean "$CREATE
exit 0"
run_child clean
guard clean
check "clean child exits 0 (rc=$crc)" test "$crc" -eq 0
check "clean child recorded 1 namespace, 3 processes, 1 temp dir" \
  test "$(grep -c '^ns ' "$KP_TMP/clean.run/created")/$(grep -c '^pid ' "$KP_TMP/clean.run/created")/$(grep -c '^tmp ' "$KP_TMP/clean.run/created")" = 1/3/1
check "clean child: guard passes (rc=$grc)" test "$grc" -eq 0
child failing "$CREATE
kp_die 'a setup step failed'"
run_child failing
guard failing
check "failing child exits 1 (rc=$crc)" test "$crc" -eq 1
check "failing child: guard passes (rc=$grc)" test "$grc" -eq 0

# --- SIGTERM and SIGINT while it waits ---------------------------------------------
# SIGINT: started through python with SIGINT back to default (bash makes
# background jobs of a script ignore it, and an ignored signal cannot be
# trapped).
for sig in TERM INT; do
  name=sig$sig
  child "$name" "$CREATE
sleep 600 & wait \$!"
  KP_RUN_DIR="$KP_TMP/$name.run" python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp("bash", ["bash", sys.argv[1]])' "$KP_TMP/$name.sh" >"$KP_TMP/$name.out" 2>&1 &
  pid=$!
  kp_track "$pid"
  for _ in $(seq 50); do
    grep -q '^tmp ' "$KP_TMP/$name.out" && [ -e "$(sed -n 's/^tmp //p' "$KP_TMP/$name.out")/ready" ] && break
    sleep 0.1
  done
  kill -"$sig" "$pid"
  kp_stop "$pid" 15
  crc=$?
  guard "$name"
  want=$([ "$sig" = TERM ] && echo 143 || echo 130)
  check "SIG$sig: child exits $want (rc=$crc)" test "$crc" -eq "$want"
  check "SIG$sig: guard passes (rc=$grc)" test "$grc" -eq 0
done

# --- a deliberate leak -------------------------------------------------------------
child leak "$CREATE
kp_ns_add kp-gcd-\$\$
ip netns exec kp-gcd-\$\$ sleep 600 >/dev/null 2>&1 &   # keeps the namespace alive, untracked
(cd \"\$KP_TMP\" && exec sleep 600) >/dev/null 2>&1 &   # works in the temp dir, untracked
ip netns exec kp-gc-\$\$ sleep 600 >/dev/null 2>&1 &    # inside the namespace, untracked
sleep 0.5
ip netns del kp-gcd-\$\$
trap - EXIT
exit 0"
run_child leak
guard leak
check "leaking child exits 0 (rc=$crc)" test "$crc" -eq 0
check "leak: guard fails (rc=$grc)" test "$grc" -eq 1
check "leak: names the namespace" said leak '^  namespace kp-gc-[0-9]+ \(from leak\.sh\) still exists$'
check "leak: names the temp dir" said leak '^  temp dir /tmp/kp-guard-child\.[^ ]+ \(from leak\.sh\) still there$'
check "leak: names the tracked sleep" said leak '^  process [0-9]+ \(from leak\.sh\) still running: sleep 600'
check "leak: names the process inside the namespace" \
  said leak '^  process [0-9]+ still in the network namespace of kp-gc-[0-9]+ \(from leak\.sh\): sleep 600'
check "leak: names the process keeping the deleted namespace alive" \
  said leak '^  process [0-9]+ still in the network namespace of kp-gcd-[0-9]+ \(from leak\.sh\): sleep 600'
check "leak: names the process in the temp dir" said leak '^  process [0-9]+ works in or names a temp dir of the run: sleep 600'
check "leak: the summary line counts them" said leak '^leftovers: FAIL: the run left [0-9]+ thing\(s\) of its own behind:$'
sed 's/^/     /' "$KP_TMP/leak.guard"

# remove it all by hand (every pid the guard named, the namespace, the dir)
for p in $(grep -oE '^  process [0-9]+' "$KP_TMP/leak.guard" | awk '{ print $2 }'); do
  kill -KILL "$p" 2>/dev/null
done
sleep 0.5
for ns in $(awk '$1 == "ns" { print $2 }' "$KP_TMP/leak.run/created"); do ip netns del "$ns" 2>/dev/null; done
rm -rf $(awk '$1 == "tmp" { print $2 }' "$KP_TMP/leak.run/created")
guard leak
check "leak removed: guard passes (rc=$grc)" test "$grc" -eq 0

# --- other runs' things are not counted ----------------------------------------------
FOREIGN_NS=kp-gforeign-$$
kp_ns_add "$FOREIGN_NS" # recorded in this self-test's run, not in the child's
kp_tmp guard-foreign FOREIGN_TMP
kp_spawn /dev/null bash -c "cd '$FOREIGN_TMP' && exec sleep 600"
mkdir -p "$KP_TMP/other.run"
start=$(kp_pid_start "$KP_SPAWNED")
printf 'pid %s %s other.sh sleep 600\n' "$KP_SPAWNED" "$((start + 1))" >"$KP_TMP/other.run/created"
guard other
check "a recorded pid with another start time (a reused pid) is not counted (rc=$grc)" test "$grc" -eq 0
check "another run's namespace $FOREIGN_NS and temp dir are not named" \
  bash -c "! grep -q -e '$FOREIGN_NS' -e '$FOREIGN_TMP' '$KP_TMP/other.guard'"
guard leak
check "... nor in the leak run's check" bash -c "! grep -q -e '$FOREIGN_NS' -e '$FOREIGN_TMP' '$KP_TMP/leak.guard'"

# --- the cleanup catches what a test started without tracking ----------------------
child untracked 'kp_trap_cleanup
kp_tmp guard-untracked
kp_ns_add kp-gu-$$
(cd "$KP_TMP" && exec sleep 600) >/dev/null 2>&1 &
ip netns exec kp-gu-$$ sleep 601 >/dev/null 2>&1 &
sleep 0.3
exit 0'
run_child untracked
guard untracked
check "untracked processes in the temp dir and the namespace: the child fails (rc=$crc)" test "$crc" -eq 1
check "... naming the one in the temp dir" \
  grep -q '^FAIL: cleanup: pid [0-9]* (not stopped by the test) still uses its temp dir, killed: sleep 600' "$KP_TMP/untracked.out"
check "... naming the one in the namespace" \
  grep -Eq '^FAIL: cleanup: pid [0-9]+ \(not stopped by the test\) still in namespace kp-gu-[0-9]+, killed: sleep 601' "$KP_TMP/untracked.out"
check "... and nothing is left (rc=$grc)" test "$grc" -eq 0

check "the guard refuses a missing run dir (exit 2)" bash -c "bash '$GUARD' '$KP_TMP/none' >/dev/null 2>&1; [ \$? -eq 2 ]"

[ "$failures" -eq 0 ] || kp_die "leftovers-selftest: $failures check(s) failed"
echo "leftovers-selftest: all checks passed"
