#!/usr/bin/env bash
# The real collectd with kube_proxy.so (Backend auto) on a node whose
# kube-proxy rules sit in both iptables backends at once:
#  1. the full ruleset in iptables-legacy plus a stale partial copy in
#     iptables-nft (nat KUBE-SERVICES -> one KUBE-SVC- chain): the `backends`
#     check sends FAILURE naming both backends (message and meta), the
#     chosen backend is legacy (kubelet's hint is in its mangle table);
#     deleting the stale nft chains -> OKAY;
#  2. the full ruleset loaded with iptables-nft-restore as well: FAILURE
#     again, now with backend nft (hinted in both: nft first, as
#     iptables-wrapper); flushing the legacy copy -> OKAY, backend nft.
#   test-collectd-split.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin its iptables-legacy-restore iptables-legacy iptables-nft-restore iptables-nft
kp_node legacy
# What an earlier kube-proxy (other backend) left behind.
ip netns exec "$NS" iptables-nft-restore <<'EOF' || kp_die "iptables-nft-restore of the stale copy"
*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-STALE7X6Y57U2AAAA - [0:0]
-A KUBE-SERVICES -d 172.30.0.20/32 -p tcp -m comment --comment "web/frontend:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-STALE7X6Y57U2AAAA
-A KUBE-SVC-STALE7X6Y57U2AAAA -p tcp -m comment --comment "web/frontend:http -> 10.180.0.6:8080" -j DNAT --to-destination 10.180.0.6:8080
COMMIT
EOF

kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF

backends_notifs() { kp_notifs_matching 'TypeInstance: check-backends' "$@"; }
both='kube-proxy rules in both backends: iptables-legacy \([^)]+\) and nft \([^)]+\)'

# --- 1. full legacy + stale partial nft ----------------------------------------------------
kp_check "first values written" kp_wait 15 kp_csv_last kube_proxy health-check-backends
kp_check "health-check-backends 2" kp_csv_is kube_proxy health-check-backends 2
kp_check "FAILURE notification for check-backends naming iptables-legacy and nft" \
  kp_wait 4 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-backends' "$both"
kp_check "its meta: legacy_tables and nft_tables both list nat, rule counts of both" \
  kp_has_notif '^Severity: FAILURE' '^check: backends$' '^legacy_tables: .*nat' '^nft_tables: (.*,)?nat' \
  '^legacy_rules: [1-9]' '^nft_rules: [1-9]'
kp_check "... backend legacy (kubelet's hint is in legacy mangle), mode iptables" \
  kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-backends' '^backend: legacy$' '^mode: iptables$'
kp_check "objects-endpoints 8 (from legacy, the stale copy does not count)" \
  kp_csv_is kube_proxy objects-endpoints 8
ip netns exec "$NS" iptables-nft -t nat -F
ip netns exec "$NS" iptables-nft -t nat -X
kp_check "stale nft copy deleted: OKAY notification for check-backends" \
  kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-backends' 'rules in one backend: iptables-legacy|one backend: legacy'
kp_check "health-check-backends 0" kp_wait 4 kp_csv_is kube_proxy health-check-backends 0
kp_check "exactly one FAILURE so far" test "$(backends_notifs '^Severity: FAILURE')" -eq 1

# --- 2. the full ruleset in both backends ------------------------------------------------------
kp_ruleset | ip netns exec "$NS" iptables-nft-restore || kp_fail "iptables-nft-restore of the full copy"
kp_check "full copy in nft too: a second FAILURE for check-backends naming both" \
  kp_wait 8 kp_notifs_at_least 2 'TypeInstance: check-backends' '^Severity: FAILURE' "$both"
kp_check "... with backend nft (hint in both mangle tables: nft first, as iptables-wrapper)" \
  test "$(backends_notifs '^Severity: FAILURE' '^backend: nft$')" -eq 1
kp_check "health-check-backends 2" kp_wait 4 kp_csv_is kube_proxy health-check-backends 2
for t in nat filter mangle; do
  ip netns exec "$NS" iptables-legacy -t $t -F
  ip netns exec "$NS" iptables-legacy -t $t -X
done
kp_check "legacy copy flushed: OKAY for check-backends, backend nft" \
  kp_wait 8 kp_notifs_at_least 1 'TypeInstance: check-backends' '^Severity: OKAY' '^backend: nft$' 'one backend: nft'
kp_check "... and no other FAILURE (two in all)" test "$(backends_notifs '^Severity: FAILURE')" -eq 2
kp_check "health-check-backends 0" kp_wait 4 kp_csv_is kube_proxy health-check-backends 0
kp_check "objects-endpoints 8 (now from nft)" kp_csv_is kube_proxy objects-endpoints 8

kp_check "collectd still running" kp_collectd_alive
kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
kp_stop_collectd
kp_finish
