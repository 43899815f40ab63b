#!/usr/bin/env bash
# The NetNS namespace deleted under the running collectd (a pod or node
# namespace removed with `ip netns del`), later created again.
# Asserted:
#  - the deleted namespace really goes away: the plugin keeps nothing open
#    in it (its nf_tables sockets would keep it alive, with its interfaces,
#    tables and conntrack, for as long as collectd runs). Seen from outside:
#    the client end of the node's veth pair disappears, and collectd holds
#    no more sockets than before its first read;
#  - while it is gone: bool-read-failed 1, one error line naming the path;
#  - created again: values come back by themselves, recovery logged once.
# Needs root (network namespaces, iptables-nft).
#   test-collectd-netns-deleted.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin netnsdel iptables-nft-restore
kp_node nft

# Sockets collectd holds (its own: unixsock, and the plugin's readers).
sockets() { ls -l "/proc/$KP_COLLECTD_PID/fd" 2>/dev/null | grep -c 'socket:'; }

kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
kp_check "values from the namespace" kp_wait 10 kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES
kp_check "read-failed 0" kp_wait 5 kp_csv_is kube_proxy bool-read-failed 0
reading=$(sockets)
echo "collectd sockets while reading the namespace: $reading"

ip netns del "$NS" || kp_die "ip netns del $NS"
veth_gone() { ! ip -n "$NS-c" link show kpc0 >/dev/null 2>&1; }
# The kernel destroys a namespace without references within milliseconds
# (its cleanup work queue); 5 s is generous.
kp_check "deleted namespace destroyed (its veth peer is gone)" kp_wait 5 veth_gone
kp_check "read-failed 1 while it is gone" kp_wait 5 kp_csv_is kube_proxy bool-read-failed 1
sleep 2 # more failing reads
gone=$(sockets)
echo "collectd sockets while the namespace is gone: $gone"
kp_check "no socket kept in the deleted namespace" test "$gone" -lt "$reading"
kp_check "one error line naming the path" \
  test "$(kp_log_count "cannot read the netfilter tables: network namespace /run/netns/$NS")" -eq 1
kp_check "collectd keeps running" kp_collectd_alive

# Created again under the same name, with the rules.
kp_ns_add "$NS"
kp_ruleset | ip netns exec "$NS" iptables-nft-restore || kp_die "iptables-nft-restore in $NS"
kp_check "created again: read-failed 0 by itself" kp_wait 10 kp_csv_is kube_proxy bool-read-failed 0
kp_check "... recovery logged once" \
  test "$(kp_log_count 'reading the netfilter tables works again')" -eq 1
back() { [ "$(kp_csv_rows kube_proxy-ipv4 ipt_packets-KUBE-SERVICES)" -ge "$1" ]; }
rows=$(kp_csv_rows kube_proxy-ipv4 ipt_packets-KUBE-SERVICES)
kp_check "... values flow again" kp_wait 5 back $((rows + 2))
kp_check "... sockets as before the deletion" test "$(sockets)" -eq "$reading"

kp_stop_collectd
kp_check "collectd exits 0 on SIGTERM" test "$KP_COLLECTD_RC" -eq 0
kp_finish
