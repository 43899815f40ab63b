#!/usr/bin/env bash
# The real collectd with kube_proxy.so (IPv6 true) on a dual-stack node, once
# with iptables-legacy-restore + ip6tables-legacy-restore and once with
# iptables-nft-restore + ip6tables-nft-restore: tests/fixtures/make-ruleset.sh
# (IPv4) and make-ruleset-v6.sh (IPv6) in a throwaway namespace, real IPv6
# connections from a client namespace (fd00:99::2) to the cluster IP
# [fd00:30::20]:80, DNATed and masqueraded to a server on
# [fd00:180::6/7]:8080 (ULA addresses, no route out). Asserts the
# kube_proxy-ipv6 values exist and grow (and the ipv4 ones do not move),
# per-service ipv6 series, dual-stack counts, PodIP fd00:180::6, and an
# IPv6 masquerade break: FAILURE whose meta carries family ipv6, then OKAY.
# Then kube-proxy nftables mode dual-stack (ip and ip6 kube-proxy tables from
# make-nft-ruleset.sh): counts, IPv6 connections, an ip6 masquerade break.
#   test-collectd-ipv6.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
[ -f "$KP_ROOT/tests/fixtures/make-ruleset-v6.sh" ] || kp_skip "tests/fixtures/make-ruleset-v6.sh missing"
[ -e /proc/sys/net/ipv6 ] || kp_skip "no IPv6 in this kernel"
kp_begin it6 iptables-legacy-restore ip6tables-legacy-restore ip6tables-legacy \
  iptables-nft-restore ip6tables-nft-restore ip6tables-nft python3

# IPv6 addresses and routes on top of kp_make_net's IPv4 ones (nodad: usable
# at once, no duplicate address detection wait).
make_v6_net() {
  local ns=$1 c="$1-c"
  ip -n "$ns" addr add fd00:99::1/64 dev kpn0 nodad &&
    ip -n "$c" addr add fd00:99::2/64 dev kpc0 nodad &&
    ip -n "$c" addr add fd00:180::6/128 dev kpc0 nodad &&
    ip -n "$c" addr add fd00:180::7/128 dev kpc0 nodad &&
    ip -n "$c" route add fd00:30::/64 via fd00:99::1 &&
    ip -n "$ns" route add fd00:180::/64 via fd00:99::2 &&
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# N IPv6 connections from the client to the service's cluster IP.
traffic6() {
  local i
  for ((i = 0; i < $2; i++)); do
    ip netns exec "$1-c" timeout 1 bash -c 'echo > /dev/tcp/fd00:30::20/80' 2>/dev/null || true
  done
}

V6=kube_proxy-ipv6
V4=kube_proxy-ipv4
v6_grown() { [ "$(kp_csv_last $V6 ipt_packets-KUBE-SERVICES)" -ge $((p0 + 6)) ]; }
v6_svc_grown() { [ "$(kp_csv_last $V6-services ipt_packets-web_frontend_http)" -ge $((s0 + 6)) ]; }
v6_masq_grown() { [ "$(kp_csv_last $V6 ipt_packets-KUBE-POSTROUTING)" -gt "$m0" ]; }
# A count of service ports that agrees with objects-endpoints' per-family sum
# (4+2 service chains + 1+1 without endpoints = 8) or counts each dual-stack
# service port once (5); anything else mixes the two.
services_consistent() {
  local n
  n=$(kp_csv_last kube_proxy objects-services) || return 1
  [ "$n" = 8 ] || [ "$n" = 5 ]
}

# run_backend legacy|nft: one node, one collectd run, every assertion.
run_backend() {
  local b=$1 p0 s0 m0 q0
  NS=kp-it6$b-$$
  echo "--- $b: iptables-$b-restore + ip6tables-$b-restore in $NS"
  rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
  if ! kp_make_net "$NS" || ! make_v6_net "$NS" ||
    ! kp_ruleset | ip netns exec "$NS" "iptables-$b-restore" ||
    ! bash "$KP_ROOT/tests/fixtures/make-ruleset-v6.sh" | ip netns exec "$NS" "ip6tables-$b-restore"; then
    kp_fail "$b: cannot build the dual-stack node"
    return
  fi
  kp_start_listener "$NS-c" "$KP_TMP/pod-$b" fd00:180::6 fd00:180::7 || kp_fail "$b: pod server"

  kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  IPv6 true
  PodIP "fd00:180::6"
  CollectServices true
  ServiceFilter "^web/"
EOF

  kp_check "$b: first values written ($V6/ipt_packets-KUBE-SERVICES)" \
    kp_wait 15 kp_csv_last $V6 ipt_packets-KUBE-SERVICES
  local v
  for v in ipt_bytes-KUBE-SERVICES ipt_packets-KUBE-NODEPORTS ipt_packets-KUBE-POSTROUTING; do
    kp_check "$b: value $V6/$v" kp_csv_last $V6 $v
  done
  kp_check "$b: IPv4 values next to them ($V4/ipt_packets-KUBE-SERVICES)" \
    kp_csv_last $V4 ipt_packets-KUBE-SERVICES
  # endpoint chains: 8 IPv4 (make-ruleset.sh) + 4 IPv6 (make-ruleset-v6.sh)
  kp_check "$b: objects-endpoints 12 (8 IPv4 + 4 IPv6)" kp_csv_is kube_proxy objects-endpoints 12
  kp_check "$b: objects-services 8 (per family, as objects-endpoints) or 5 (per dual-stack port), got $(kp_csv_last kube_proxy objects-services)" \
    services_consistent
  kp_check "$b: PodIP fd00:180::6 (IPv6 endpoint): health-check-pod-rules 0" \
    kp_csv_is kube_proxy health-check-pod-rules 0
  kp_check "$b: health-check-masquerade 0" kp_csv_is kube_proxy health-check-masquerade 0

  p0=$(kp_csv_last $V6 ipt_packets-KUBE-SERVICES)
  m0=$(kp_csv_last $V6 ipt_packets-KUBE-POSTROUTING)
  s0=$(kp_csv_last $V6-services ipt_packets-web_frontend_http || echo 0)
  q0=$(kp_csv_last $V4 ipt_packets-KUBE-SERVICES)
  traffic6 "$NS" 6
  kp_check "$b: 6 IPv6 connections reached the pods, masqueraded to fd00:99::1" \
    kp_wait 4 kp_lines_at_least "$KP_TMP/pod-$b" '^fd00:180::[67] fd00:99::1$' 6
  kp_check "$b: $V6/ipt_packets-KUBE-SERVICES grows by 6 (from $p0)" kp_wait 8 v6_grown
  kp_check "$b: $V6/ipt_packets-KUBE-POSTROUTING grows" kp_wait 5 v6_masq_grown
  kp_check "$b: $V6-services/ipt_packets-web_frontend_http grows by 6" kp_wait 5 v6_svc_grown
  kp_check "$b: $V4/ipt_packets-KUBE-SERVICES did not move ($q0)" \
    kp_csv_is $V4 ipt_packets-KUBE-SERVICES "$q0"

  local masq=(-t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully)
  ip netns exec "$NS" "ip6tables-$b" -D KUBE-POSTROUTING "${masq[@]}"
  kp_check "$b: IPv6 masquerade deleted: FAILURE for check-masquerade" \
    kp_wait 8 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade'
  kp_check "$b: its meta carries family ipv6, backend $b, table nat" \
    kp_has_notif '^Severity: FAILURE' '^check: masquerade$' '^family: ipv6$' "^backend: $b\$" '^table: (ip6 )?nat$'
  kp_check "$b: its message names the ip6 table" \
    kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade' 'ip6 nat'
  ip netns exec "$NS" "ip6tables-$b" -A KUBE-POSTROUTING "${masq[@]}"
  kp_check "$b: repaired: OKAY for check-masquerade" \
    kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-masquerade'

  kp_check "$b: collectd still running" kp_collectd_alive
  kp_check "$b: no read error in the log" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
  kp_stop_collectd
  kp_stop_listener
}

# Dual-stack nftables mode: tables ip kube-proxy and ip6 kube-proxy.
nft_services_consistent() {
  local n
  n=$(kp_csv_last kube_proxy objects-services) || return 1
  [ "$n" = 10 ] || [ "$n" = 5 ]
}
run_nftables_mode() {
  NS=kp-it6m-$$
  echo "--- nftables mode: nft -f of table ip kube-proxy and ip6 kube-proxy in $NS"
  rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
  local gen="$KP_ROOT/tests/fixtures/make-nft-ruleset.sh" handle
  if ! kp_make_net "$NS" || ! make_v6_net "$NS" ||
    ! { bash "$gen" --family ip && bash "$gen" --family ip6; } | ip netns exec "$NS" nft -f -; then
    kp_fail "nftables mode: cannot build the dual-stack node"
    return
  fi
  kp_start_listener "$NS-c" "$KP_TMP/pod-nftables" fd00:180::6 fd00:180::7 || kp_fail "nftables mode: pod server"
  kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  IPv6 true
  PodIP "fd00:180::7"
EOF
  kp_check "nftables mode: first values written" kp_wait 15 kp_csv_last kube_proxy objects-endpoints
  # make-nft-ruleset.sh: 8 endpoint chains per family
  kp_check "nftables mode: objects-endpoints 16 (8 ip + 8 ip6)" kp_csv_is kube_proxy objects-endpoints 16
  kp_check "nftables mode: objects-services 10 (per family) or 5 (per dual-stack port), got $(kp_csv_last kube_proxy objects-services)" \
    nft_services_consistent
  kp_check "nftables mode: PodIP fd00:180::7 found in ip6 kube-proxy: health-check-pod-rules 0" \
    kp_csv_is kube_proxy health-check-pod-rules 0
  traffic6 "$NS" 4
  kp_check "nftables mode: 4 IPv6 connections DNATed by ip6 kube-proxy, masqueraded to fd00:99::1" \
    kp_wait 4 kp_lines_at_least "$KP_TMP/pod-nftables" '^fd00:180::[67] fd00:99::1$' 4
  handle=$(ip netns exec "$NS" nft -a list chain ip6 kube-proxy masquerading |
    awk '/masquerade fully-random/ { print $NF }')
  ip netns exec "$NS" nft delete rule ip6 kube-proxy masquerading handle "${handle:-0}"
  kp_check "nftables mode: ip6 masquerade deleted: FAILURE, meta family ipv6, table kube-proxy, mode nftables" \
    kp_wait 8 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade' '^family: ipv6$' \
    '^table: kube-proxy$' '^mode: nftables$' '^backend: nft$'
  kp_check "nftables mode: its message names ip6 kube-proxy" \
    kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade' 'ip6 kube-proxy'
  ip netns exec "$NS" nft add rule ip6 kube-proxy masquerading masquerade fully-random
  kp_check "nftables mode: repaired: OKAY for check-masquerade" \
    kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-masquerade'
  kp_check "nftables mode: no read error in the log" \
    bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
  kp_stop_collectd
  kp_stop_listener
}

run_backend legacy
run_backend nft
if command -v nft >/dev/null 2>&1 && [ -f "$KP_ROOT/tests/fixtures/make-nft-ruleset.sh" ]; then
  run_nftables_mode
else
  echo "SKIP: nft or make-nft-ruleset.sh missing: no dual-stack nftables-mode part"
fi
kp_finish
