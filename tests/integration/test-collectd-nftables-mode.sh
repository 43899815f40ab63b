#!/usr/bin/env bash
# The real collectd with kube_proxy.so reading kube-proxy's nftables mode:
# table ip kube-proxy (tests/fixtures/make-nft-ruleset.sh) loaded with
# `nft -f` in a throwaway namespace, real connections to the cluster IP
# 172.30.0.20:80 DNATed to a server on 10.180.0.6/.7:8080 in a second
# namespace. Asserts the counts, mode nftables / backend nft in the meta,
# the activity check never warning (kube-proxy adds no counters: INFO, shown
# by kube-proxy-check on the same namespace), no traffic series, the
# endpoints WARNING for web/orphan, a masquerade break (the `masquerade`
# rule deleted with nft) giving FAILURE and its repair OKAY, PodIP, and
# Backend "nft" forced.
#   test-collectd-nftables-mode.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
GEN="$KP_ROOT/tests/fixtures/make-nft-ruleset.sh"
[ -f "$GEN" ] || kp_skip "tests/fixtures/make-nft-ruleset.sh missing"
kp_begin itm nft python3

kp_make_net "$NS" || kp_die "cannot build the test namespaces"
bash "$GEN" | ip netns exec "$NS" nft -f - || kp_die "nft -f of the generated ruleset"
PODLOG=$KP_TMP/pod-connections
kp_start_listener "$NS-c" "$PODLOG" 10.180.0.6 10.180.0.7 || kp_die "the pod server did not start"

kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.6"
  ActivityIntervals 1
  CollectServices true
EOF

# --- inventory and check states of the healthy ruleset ---------------------------
kp_check "first values written (csv kube_proxy/objects-services)" \
  kp_wait 15 kp_csv_last kube_proxy objects-services
# make-nft-ruleset.sh: 4 service chains + web/orphan (a no-endpoint-services
# element only) = 5 service ports; 2 endpoint chains for each of the 4
kp_check "objects-services is 5" kp_csv_is kube_proxy objects-services 5
kp_check "objects-endpoints is 8" kp_csv_is kube_proxy objects-endpoints 8
kp_check "objects-services_without_endpoints is 1 (web/orphan, from no-endpoint-services)" \
  kp_csv_is kube_proxy objects-services_without_endpoints 1
for c in mode chains hooks masquerade backends activity; do
  kp_check "health-check-$c 0" kp_csv_is kube_proxy health-check-$c 0
done
kp_check "PodIP 10.180.0.6 found in an endpoint chain: health-check-pod-rules 0" \
  kp_wait 5 kp_csv_is kube_proxy health-check-pod-rules 0
kp_check "health-check-endpoints 1 (web/orphan has none)" kp_csv_is kube_proxy health-check-endpoints 1
kp_check "WARNING notification for check-endpoints naming web/orphan:http, mode nftables, backend nft" \
  kp_wait 4 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-endpoints' 'web/orphan:http' \
  '^mode: nftables$' '^backend: nft$' '^services: 5$' '^endpoints: 8$' '^services_without_endpoints: 1$'
no_traffic_series() { ! ls "$KP_TMP/csv/$KP_HOST" | grep -q '^kube_proxy-ipv4'; }
kp_check "no ipt_packets series (kube-proxy puts no counters in nftables mode)" no_traffic_series

# --- real connections through the nftables-mode rules ------------------------------
kp_traffic "$NS" 6
kp_check "6 connections to 172.30.0.20:80 reached the pods (DNAT by table ip kube-proxy)" \
  kp_wait 4 kp_lines_at_least "$PODLOG" '^10\.180\.0\.[67] ' 6
kp_check "... all masqueraded to the node address 10.99.0.1" \
  test "$(kp_lines_matching "$PODLOG" '^10\.180\.0\.[67] 10\.99\.0\.1$')" -eq "$(kp_lines_matching "$PODLOG" '^10\.180')"
r0=$(kp_csv_rows kube_proxy health-check-activity)
more_reads() { [ "$(kp_csv_rows kube_proxy health-check-activity)" -ge $((r0 + 3)) ]; }
kp_wait 6 more_reads
kp_check "activity never warns (ActivityIntervals 1, 3 more reads): gauge 0" \
  kp_csv_is kube_proxy health-check-activity 0
kp_check "... and no check-activity notification" \
  test "$(kp_notifs_matching 'TypeInstance: check-activity')" -eq 0
cli_info() {
  "$KP_BUILD/kube-proxy-check" --netns "/run/netns/$NS" >"$KP_TMP/cli.txt" 2>&1
  grep -Eq '^\[INFO\] .*no counters' "$KP_TMP/cli.txt" && grep -q 'mode nftables' "$KP_TMP/cli.txt"
}
if [ -x "$KP_BUILD/kube-proxy-check" ]; then
  kp_check "kube-proxy-check on the same namespace: activity INFO (no counters), mode nftables" cli_info
else
  echo "SKIP: $KP_BUILD/kube-proxy-check not built: no CLI cross-check"
fi

# --- masquerading broken (nft delete rule), then repaired ------------------------------
kp_check "no masquerade notification while healthy" \
  test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 0
handle=$(ip netns exec "$NS" nft -a list chain ip kube-proxy masquerading |
  awk '/masquerade fully-random/ { print $NF }')
kp_check "the masquerade rule has a handle ($handle)" test -n "$handle"
ip netns exec "$NS" nft delete rule ip kube-proxy masquerading handle "$handle"
kp_check "FAILURE notification for check-masquerade" \
  kp_wait 8 kp_has_notif '^Severity: FAILURE' '^Plugin: kube_proxy' 'TypeInstance: check-masquerade'
kp_check "its meta: mode nftables, backend nft, table kube-proxy, chain masquerading, family ipv4, counts" \
  kp_has_notif '^Severity: FAILURE' '^check: masquerade' '^mode: nftables$' '^backend: nft$' \
  '^table: kube-proxy$' '^chain: masquerading$' '^family: ipv4$' '^services: 5$' '^endpoints: 8$'
kp_check "check-masquerade gauge 2" kp_wait 4 kp_csv_is kube_proxy health-check-masquerade 2
sleep 2
kp_check "one notification per state change (not per interval)" \
  test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 1
ip netns exec "$NS" nft add rule ip kube-proxy masquerading masquerade fully-random
kp_check "OKAY notification for check-masquerade after the repair" \
  kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-masquerade' '^check: masquerade' '^mode: nftables$'
kp_check "check-masquerade gauge back to 0" kp_wait 4 kp_csv_is kube_proxy health-check-masquerade 0
n0=$(kp_lines_matching "$PODLOG" ' 10\.99\.0\.1$')
kp_traffic "$NS" 3
kp_check "after the repair, connections arrive masqueraded again" \
  kp_wait 4 kp_lines_at_least "$PODLOG" ' 10\.99\.0\.1$' $((n0 + 3))

kp_check "collectd still running" kp_collectd_alive
kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
kp_check "no 'Dataset not found' (built-in types only)" \
  bash -c "! grep -q 'not found' $KP_TMP/collectd.log"
kp_stop_collectd

# --- Backend "nft" forced; a PodIP that has no rules -------------------------------------
rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  Backend "nft"
  PodIP "10.180.0.60"
EOF
kp_check "Backend \"nft\", PodIP 10.180.0.60 (no rules; 10.180.0.6 does not count): pod-rules gauge 1" \
  kp_wait 15 kp_csv_is kube_proxy health-check-pod-rules 1
kp_check "WARNING notification naming 10.180.0.60, mode nftables" \
  kp_wait 5 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-pod-rules' '10\.180\.0\.60' '^mode: nftables$'
kp_check "Backend \"nft\": objects-endpoints still 8" kp_csv_is kube_proxy objects-endpoints 8
kp_stop_collectd
kp_check "no iptables-legacy table appeared in $NS (ip_tables_names empty)" \
  test -z "$(ip netns exec "$NS" cat /proc/net/ip_tables_names 2>/dev/null)"

kp_finish
