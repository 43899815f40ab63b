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
#  - a ruleset changing nonstop (3000 services, a writer committing to
#    another table without pause): every run reads, and reports what a run
#    after the writer stopped reports.
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
# dumps of a large chain (3000 services: KUBE-SERVICES spans many netlink
# batches). The reader reads such a dump to its end and checks through the
# change notifications that the commits were to another table: every run
# reads, and reports what a run reports once the writer has stopped.
# (Before, 20 of 20 runs gave up after 3 attempts.)
BIG=kp-clilive-$$-big
kp_ns_add "$BIG"
bash "$KP_ROOT/tests/fixtures/make-ruleset.sh" --services 3000 |
  ip netns exec "$BIG" iptables-nft-restore || kp_die "iptables-nft-restore in $BIG"
big_run() { # big_run OUT: one run on $BIG; status in $rc, stderr in $KP_TMP/err
  "$CLI" --netns "/run/netns/$BIG" --backend nft --kube-proxy-metrics none \
    --kube-proxy-healthz none >"$1" 2>"$KP_TMP/err"
  rc=$?
}
kp_spawn /dev/null ip netns exec "$BIG" bash -c \
  'while :; do nft add table ip kp-writer; nft delete table ip kp-writer; done'
WRITER=$KP_SPAWNED
read_ok=0 runs=0 errors=0
for ((i = 0; i < 10; i++)); do
  big_run "$KP_TMP/out.$i"
  runs=$((runs + 1))
  if [ "$rc" -eq 1 ] && [ ! -s "$KP_TMP/err" ]; then
    read_ok=$((read_ok + 1))
  else
    errors=$((errors + 1))
    echo "run $i: exit $rc"
    cat "$KP_TMP/err"
  fi
done
writer_alive=0
kp_pid_running "$WRITER" && writer_alive=1
kp_stop "$WRITER"
echo "nonstop writer: $read_ok of $runs run(s) read"
check "nonstop writer: still committing after the runs" test "$writer_alive" -eq 1
check "nonstop writer: every run reads (exit 1, nothing on stderr)" test "$read_ok" -eq "$runs"
big_run "$KP_TMP/out.after"
check "writer stopped: the next run reads (exit 1, nothing on stderr)" \
  eval 'test "$rc" -eq 1 && test ! -s "$KP_TMP/err"'
same=0
for ((i = 0; i < runs; i++)); do cmp -s "$KP_TMP/out.$i" "$KP_TMP/out.after" && same=$((same + 1)); done
check "... each run under the writer reported what this one reports" test "$same" -eq "$runs"

echo "test-cli-live.sh: $failures failure(s)"
[ "$failures" -eq 0 ]
