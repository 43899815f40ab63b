#!/usr/bin/env bash
# The libiptc live source through the real CLI, in a throwaway namespace:
#  - every rule iptables-legacy-save shows is read (count compared);
#  - no fork/exec and no /run/xtables.lock (strace, when installed);
#  - a missing namespace and missing privileges give exit 3 and a message
#    naming the cause (run as nobody with setpriv).
# Usage: test-live-iptc.sh [BUILD_DIR]   (exit 0 pass, 1 fail, 77 skip)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${1:-${KP_BUILD:-build}}
case "$BUILD" in /*) ;; *) BUILD="$KP_ROOT/$BUILD" ;; esac
CLI="$BUILD/kube-proxy-check"

kp_require_root
kp_require_tools ip iptables-legacy-restore iptables-legacy-save setpriv
[ -x "$CLI" ] || kp_skip "$CLI not built"
kp_trap_cleanup
kp_tmp live-iptc
NS=kp-liptc-$$
kp_ns_add "$NS"
kp_services_ruleset 20 | kp_load "$NS" 4
failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

# 1. The whole ruleset is read: rule count equals iptables-legacy-save's.
want=$(kp_count_rules "$NS" 4)
"$CLI" --netns "/run/netns/$NS" --backend legacy >"$KP_TMP/out" 2>"$KP_TMP/err"
rc=$?
got=$(sed -nE 's/.* ([0-9]+) rule\(s\).*/\1/p' "$KP_TMP/out" | tail -n 1)
check "live read finishes (exit $rc is 0..2)" test "$rc" -le 2
check "mode iptables found" grep -q '^\[OK\] kube-proxy mode: iptables' "$KP_TMP/out"
check "all $want rules read (got ${got:-none})" test "${got:-x}" = "$want"

# 2. Nothing forked, /run/xtables.lock never opened.
if command -v strace >/dev/null 2>&1; then
  strace -f -qq -e trace=execve,execveat,open,openat,vfork,clone3 -o "$KP_TMP/trace" \
    "$CLI" --netns "/run/netns/$NS" >/dev/null 2>&1
  execs=$(grep -c 'execve' "$KP_TMP/trace")
  check "one execve only (the CLI itself): $execs" test "$execs" -eq 1
  check "xtables.lock not touched" bash -c "! grep -q xtables.lock '$KP_TMP/trace'"
else
  echo "SKIP: strace not installed (fork/lock part)"
fi

# 3. Errors name their cause.
"$CLI" --netns /run/netns/kp-liptc-missing-$$ >/dev/null 2>"$KP_TMP/err"
rc=$?
check "missing namespace: exit 3 (got $rc)" test "$rc" -eq 3
check "missing namespace: message" \
  grep -q "network namespace /run/netns/kp-liptc-missing-$$: No such file or directory" "$KP_TMP/err"

nobody=(setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all)
"${nobody[@]}" "$CLI" --netns "/run/netns/$NS" >/dev/null 2>"$KP_TMP/err"
rc=$?
check "unprivileged setns: exit 3 (got $rc)" test "$rc" -eq 3
check "unprivileged setns: message" grep -q "needs CAP_SYS_ADMIN (Operation not permitted)" \
  "$KP_TMP/err"
ip netns exec "$NS" "${nobody[@]}" "$CLI" --backend legacy >/dev/null 2>"$KP_TMP/err"
rc=$?
check "unprivileged read: exit 3 (got $rc)" test "$rc" -eq 3
check "unprivileged read: message" \
  grep -q "reading table filter needs CAP_NET_ADMIN and CAP_NET_RAW (Operation not permitted)" "$KP_TMP/err"

[ "$failures" -eq 0 ] || kp_fail "$failures check(s) failed"
echo "PASS test-live-iptc"
