#!/usr/bin/env bash
# `kube-proxy-check --dir` on the root of a real sos report (Debian 12's
# sosreport 4.0, networking plugin) taken inside a test namespace holding
# kube-proxy-shaped rules (tests/fixtures/make-ruleset.sh), for three nodes:
#  legacy  rules in iptables-legacy, sos's `iptables` is legacy too (a
#          private mount namespace binds xtables-legacy-multi over
#          xtables-nft-multi: Debian's `iptables` alternative, without
#          touching the host's);
#  nft     rules loaded with iptables-nft-restore;
#  behind  rules in iptables-legacy, sos's `iptables` is iptables-nft (what
#          Debian 12 runs): its listings hold nothing but iptables-nft's
#          "# Warning: iptables-legacy tables present".
# Each node has a second namespace (<ns>-pod) with a broken ruleset (no
# hooks, no canary) that sos collects as ip_netns_exec_<ns>-pod_iptables-save:
# it must not be merged into the host. Expectations (checked by hand against
# the ruleset): legacy and nft: mode iptables, no FAIL (the empty IPv6 listing
# must not stand in for the IPv4 filter table); behind: the backends WARN
# naming iptables-legacy-save, and no FAIL saying kube-proxy's chains are
# missing. sos writes only under the --tmp-dir given (checked).
#   test-sos-bundles.sh BUILD_DIR
set -u
BUILD=${1:-build}
. "$(dirname "$0")/lib.sh"
kp_require_root
kp_require_tools sos iptables-legacy-restore iptables-nft-restore unshare timeout
CLI="$KP_ROOT/$BUILD/kube-proxy-check"
[ -x "$CLI" ] || CLI="$BUILD/kube-proxy-check"
[ -x "$CLI" ] || kp_fail "no $BUILD/kube-proxy-check (run make first)"
GEN="$KP_ROOT/tests/fixtures/make-ruleset.sh"
KP_TMP=$(mktemp -d /tmp/kp-sos.XXXXXX)
kp_trap_cleanup
failures=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    failures=$((failures + 1))
  fi
}

# run_sos NS CASE USE_LEGACY: sos report of NS into $KP_TMP/sos-CASE; prints
# the report's root.
run_sos() {
  local ns=$1 kase=$2 legacy=$3 out="$KP_TMP/sos-$2" bind=""
  mkdir -p "$out"
  if [ "$legacy" = 1 ]; then
    bind="mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi &&"
  fi
  # --allow-system-changes: the kernel has no /proc/modules, and sos 4.0
  # skips iptables/nft unless it sees their modules loaded.
  ip netns exec "$ns" unshare -m --propagation private sh -c "$bind exec timeout 120 sos report \
    --batch --quiet --build --tmp-dir '$out' --case-id 'kp$kase' --only-plugins networking \
    --allow-system-changes -k networking.namespace_pattern='$ns-pod' \
    -k networking.ethtool_namespaces=off" >"$KP_TMP/sos-$kase.log" 2>&1 ||
    { cat "$KP_TMP/sos-$kase.log"; kp_fail "sos report in $ns"; }
  ls -d "$out"/sosreport-*/ | head -n 1
}

stray_before=$(ls -d /tmp/sosreport-* /var/tmp/sosreport-* /var/tmp/sos.* 2>/dev/null | wc -l)
for kase in legacy nft behind; do
  ns=kp-sos-$$-$kase
  kp_ns_add "$ns"
  kp_ns_add "$ns-pod"
  if [ "$kase" = nft ]; then
    bash "$GEN" | ip netns exec "$ns" iptables-nft-restore || kp_fail "iptables-nft-restore"
  else
    bash "$GEN" | kp_load "$ns" 4
  fi
  if [ "$kase" = nft ]; then
    bash "$GEN" --mutation no-hooks | ip netns exec "$ns-pod" iptables-nft-restore || kp_fail "restore"
  else
    bash "$GEN" --mutation no-hooks | kp_load "$ns-pod" 4
  fi
  root=$(run_sos "$ns" "$kase" "$([ "$kase" = legacy ] && echo 1 || echo 0)")
  root=${root%/}
  net="$root/sos_commands/networking"
  ls "$net" >"$KP_TMP/files-$kase"
  echo "--- $kase: $(grep -cE 'tables|nft' "$KP_TMP/files-$kase") netfilter file(s) in sos_commands/networking:"
  grep -E 'tables|nft' "$KP_TMP/files-$kase" | sed 's/^/    /'
  # sos 4.0 lists iptables -t <table> only for /proc/net/ip_tables_names
  # (x_tables: legacy); an nft node's nat table is in nft_list_ruleset only.
  if [ "$kase" = nft ]; then
    check "nft: sos wrote nft_list_ruleset" test -s "$net/nft_list_ruleset"
    check "nft: no iptables_-t_nat_-nvL (ip_tables_names is empty)" \
      test ! -e "$net/iptables_-t_nat_-nvL"
  else
    check "$kase: sos wrote iptables_-t_nat_-nvL" test -s "$net/iptables_-t_nat_-nvL"
  fi
  check "$kase: sos wrote ip6tables_-vnxL" test -e "$net/ip6tables_-vnxL"
  check "$kase: sos wrote the other namespace's iptables-save" \
    test -s "$net/ip_netns_exec_$ns-pod_iptables-save"
  "$CLI" --dir "$root" >"$KP_TMP/out-$kase" 2>&1
  rc=$?
  sed 's/^/    /' "$KP_TMP/out-$kase"
  check "$kase: --dir on the report root reads it (exit $rc, not 3)" test "$rc" -ne 3
  case $kase in
  legacy | nft)
    check "$kase: mode iptables" grep -q '^\[OK\] kube-proxy mode: iptables' "$KP_TMP/out-$kase"
    check "$kase: no FAIL on a healthy node" \
      sh -c "! grep -q '^\[FAIL\]' '$KP_TMP/out-$kase'"
    check "$kase: exit status below 2" test "$rc" -lt 2
    ;;
  behind)
    check "behind: backends WARN naming iptables-legacy-save" \
      grep -q '^\[WARN\].*iptables-legacy tables are present.*iptables-legacy-save -c' \
      "$KP_TMP/out-$kase"
    check "behind: it says the rules are probably in iptables-legacy" \
      grep -q 'probably in iptables-legacy and not in this bundle' "$KP_TMP/out-$kase"
    # Needs the `checks` branch (mode/chains read the note).
    check "behind: no FAIL saying kube-proxy's chains are missing" \
      sh -c "! grep -qiE '^\[FAIL\].*chain' '$KP_TMP/out-$kase'"
    ;;
  esac
  # The other namespace's broken ruleset (no hooks) is not the host's.
  check "$kase: the other namespace is not merged (no hooks FAIL)" \
    sh -c "! grep -qE '^\[FAIL\].*(not reachable|nothing jumps|dead)' '$KP_TMP/out-$kase'"
done
stray_after=$(ls -d /tmp/sosreport-* /var/tmp/sosreport-* /var/tmp/sos.* 2>/dev/null | wc -l)
check "sos left nothing outside its --tmp-dir" test "$stray_after" -eq "$stray_before"

[ "$failures" -eq 0 ] || { echo "test-sos-bundles: $failures check(s) failed"; exit 1; }
echo "test-sos-bundles: all checks passed"
