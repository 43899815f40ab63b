#!/usr/bin/env bash
# kube-proxy-check in live mode (--netns of a kp- namespace holding
# kube-proxy's rules in iptables-nft): exit status and one clear line on
# stderr for each way a run can go wrong, and nothing on stderr when it
# does not.
#  - a report that cannot be written (stdout on /dev/full): exit 3 and a
#    line saying so (not a silent 3, which reads as "input not readable");
#  - a kube-proxy address that is not IP:PORT (localhost:10249, a port out
#    of range, [::1] without port): exit 64 naming the option, before any
#    read (not a WARN "kube-proxy does not answer" about a healthy one);
#  - no CAP_NET_ADMIN: exit 3, "needs CAP_NET_ADMIN";
#  - a --netns path that does not exist: exit 3 naming it;
#  - not root and no CAP_SYS_ADMIN for --netns: exit 3 naming the capability;
#  - a ruleset changing nonstop (3000 services, a writer committing without
#    pause): the run that gives up says the ruleset kept changing.
# Needs root (network namespaces, iptables-nft); capsh and setpriv.
#   test-cli-live.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$KP_ROOT/$BUILD" ;; esac
CLI="$BUILD/kube-proxy-check"

kp_require_root
kp_require_tools ip iptables-nft-restore capsh setpriv
[ -x "$CLI" ] || kp_skip "$CLI not built"
kp_trap_cleanup
kp_tmp cli-live
NS=kp-clilive-$$
kp_ns_add "$NS"
bash "$KP_ROOT/tests/fixtures/make-ruleset.sh" | ip netns exec "$NS" iptables-nft-restore ||
  kp_die "iptables-nft-restore in $NS"

failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}
# run [CLI ARGS...]: the CLI on the namespace; status in $rc, stderr in $KP_TMP/err.
run() {
  "$CLI" --netns "/run/netns/$NS" --kube-proxy-healthz none "$@" >"$KP_TMP/out" 2>"$KP_TMP/err"
  rc=$?
}
err_has() { grep -qF -- "$1" "$KP_TMP/err"; }
one_err_line() { [ "$(wc -l <"$KP_TMP/err")" -eq 1 ]; }

run --kube-proxy-metrics none
check "healthy read: exit 1 (the fixture's service without endpoints is a WARN)" test "$rc" -eq 1
check "... nothing on stderr" test ! -s "$KP_TMP/err"

"$CLI" --netns "/run/netns/$NS" --kube-proxy-metrics none --kube-proxy-healthz none \
  >/dev/full 2>"$KP_TMP/err"
rc=$?
check "report to /dev/full: exit 3" test "$rc" -eq 3
check "... one line saying the report could not be written" \
  grep -q "cannot write the report to standard output: No space left on device" "$KP_TMP/err"
"$CLI" --netns "/run/netns/$NS" --json --kube-proxy-metrics none --kube-proxy-healthz none \
  >/dev/full 2>"$KP_TMP/err"
rc=$?
check "--json to /dev/full: exit 3 and the same line" \
  eval 'test "$rc" -eq 3 && grep -q "cannot write the report" "$KP_TMP/err"'

for addr in localhost:10249 127.0.0.1:99999 '[::1]' kube-proxy.local:10249; do
  run --kube-proxy-metrics "$addr"
  check "--kube-proxy-metrics $addr: exit 64" test "$rc" -eq 64
  check "... one line naming the option and the value" \
    eval 'one_err_line && err_has "--kube-proxy-metrics $addr: expected IP:PORT"'
  check "... no report" test ! -s "$KP_TMP/out"
done
"$CLI" --netns "/run/netns/$NS" --kube-proxy-healthz localhost:10256 >"$KP_TMP/out" 2>"$KP_TMP/err"
rc=$?
check "--kube-proxy-healthz localhost:10256: exit 64 naming the option" \
  eval 'test "$rc" -eq 64 && err_has "--kube-proxy-healthz localhost:10256: expected IP:PORT"'
for addr in '127.0.0.1:10249' '[::1]:10249' '0.0.0.0:10249' none; do
  run --kube-proxy-metrics "$addr"
  check "--kube-proxy-metrics $addr accepted (a report, exit 1)" \
    eval 'test "$rc" -eq 1 && test -s "$KP_TMP/out"'
done

ip netns exec "$NS" capsh --drop=cap_net_admin -- -c \
  "exec '$CLI' --kube-proxy-metrics none --kube-proxy-healthz none" >"$KP_TMP/out" 2>"$KP_TMP/err"
rc=$?
check "no CAP_NET_ADMIN: exit 3" test "$rc" -eq 3
check "... one line: needs CAP_NET_ADMIN" eval 'one_err_line && err_has "needs CAP_NET_ADMIN"'

"$CLI" --netns "/run/netns/$NS-missing" >"$KP_TMP/out" 2>"$KP_TMP/err"
rc=$?
check "--netns of a missing path: exit 3" test "$rc" -eq 3
check "... one line naming the path" \
  eval 'one_err_line && err_has "network namespace /run/netns/$NS-missing: No such file"'

setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" --netns "/run/netns/$NS" \
  >"$KP_TMP/out" 2>"$KP_TMP/err"
rc=$?
check "not root, --netns: exit 3" test "$rc" -eq 3
check "... one line naming CAP_SYS_ADMIN" eval 'one_err_line && err_has "needs CAP_SYS_ADMIN"'

# A ruleset that never stops changing: every nf_tables commit (here an
# unrelated table added and deleted, nonstop) interrupts the multi-part
# dumps of a large chain. A read that gives up after its 3 attempts says
# why, not "Interrupted system call"; once the writer stops, the next run
# reads. 3000 services: the KUBE-SERVICES dump spans many netlink batches.
BIG=kp-clilive-$$-big
kp_ns_add "$BIG"
bash "$KP_ROOT/tests/fixtures/make-ruleset.sh" --services 3000 |
  ip netns exec "$BIG" iptables-nft-restore || kp_die "iptables-nft-restore in $BIG"
kp_spawn /dev/null ip netns exec "$BIG" bash -c \
  'while :; do nft add table ip kp-writer; nft delete table ip kp-writer; done'
WRITER=$KP_SPAWNED
gave_up=0 runs=0 others=0
for ((i = 0; i < 20 && gave_up == 0; i++)); do
  "$CLI" --netns "/run/netns/$BIG" --backend nft --kube-proxy-metrics none \
    --kube-proxy-healthz none >/dev/null 2>"$KP_TMP/err"
  rc=$?
  runs=$((runs + 1))
  if [ "$rc" -eq 3 ]; then
    if err_has "nf_tables ruleset changed during each of 3 reads (Interrupted system call)"; then
      gave_up=1
    else
      others=$((others + 1))
      cat "$KP_TMP/err"
    fi
  fi
done
kp_stop "$WRITER"
echo "nonstop writer: $runs run(s) until one gave up"
check "nonstop writer: a run gives up, saying the ruleset kept changing" test "$gave_up" -eq 1
check "... no other read error" test "$others" -eq 0
check "... one stderr line" one_err_line
"$CLI" --netns "/run/netns/$BIG" --backend nft --kube-proxy-metrics none \
  --kube-proxy-healthz none >/dev/null 2>"$KP_TMP/err"
rc=$?
check "writer stopped: the next run reads (exit 1, nothing on stderr)" \
  eval 'test "$rc" -eq 1 && test ! -s "$KP_TMP/err"'

echo "test-cli-live.sh: $failures failure(s)"
[ "$failures" -eq 0 ]
