#!/usr/bin/env bash
# The activity check in the real collectd, default settings apart from
# Interval 1 and ActivityIntervals 3, collectd running inside the "node"
# namespace (so no NetNS key: the plugin reads and probes that namespace as
# it would on a node). The node (kp-...) holds a kube-proxy-shaped ruleset:
# cluster IP 172.30.0.20:80 DNATs to 10.180.0.6/.7:8080, endpoint addresses
# in a second namespace (kp-...-c) over a veth, where a small listener
# accepts real TCP connections.
#  A. The plugin's own probes of kube-proxy's /metrics, /proxyMode, /livez
#     (127.0.0.1:10249, :10256) are connections through nat OUTPUT: with the
#     defaults they reach a listener there; with Check "sync" false there is
#     none, the nat OUTPUT jump into KUBE-SERVICES counts nothing, and a node
#     without traffic gets the WARNING after ActivityIntervals.
#  B. Defaults: the probes plus non-service connections the node makes (to
#     10.99.0.2:8080, not a service) must NOT count as service traffic: the
#     WARNING comes after ActivityIntervals; then connections to the cluster
#     IP, which the rules DNAT to the endpoints, turn it OKAY.
# Part B needs the activity check that counts kube-proxy's service rules
# only (branch `checks`); before it, the built-in chains' jump counters
# (which count every connection the node makes) keep it OK and B fails.
# Needs root (network namespaces, iptables-legacy), python3.
#   test-collectd-activity.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_require iptables-legacy-restore iptables-legacy python3

NS=kp-act-$$
KP_TMP=$(mktemp -d /tmp/kp-it.XXXXXX)
BG_PIDS=()
cleanup() {
  kp_stop_collectd
  local p
  for p in "${BG_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kp_make_node "$NS" || { echo "FAIL cannot build the test namespaces"; exit 1; }
# The node's own connections to the cluster IP are routed before nat OUTPUT
# DNATs them: like a node's default route, the service range goes over the
# veth (without it connect() fails with "Network is unreachable").
ip -n "$NS" route add 172.30.0.0/16 via 10.99.0.2 || { echo "FAIL cannot add the service route"; exit 1; }

# listener NS ADDR PORT NAME: accepts TCP connections, counts them in $KP_TMP/NAME.count.
cat >"$KP_TMP/listener.py" <<'EOF'
import socket, sys
addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
n = 0
open(path, "w").write("0\n")
while True:
    c, _ = s.accept()
    n += 1
    c.close()
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % n)
    __import__("os").replace(path + ".tmp", path)
EOF
listener() {
  ip netns exec "$1" python3 "$KP_TMP/listener.py" "$2" "$3" "$KP_TMP/$4.count" &
  BG_PIDS+=($!)
}
count_of() { cat "$KP_TMP/$1.count" 2>/dev/null || echo 0; }
listening() { [ -f "$KP_TMP/$1.count" ]; }
listener "$NS" 127.0.0.1 10249 probes-metrics
listener "$NS" 127.0.0.1 10256 probes-healthz
listener "$NS-c" 0.0.0.0 8080 endpoint
kp_wait 5 listening probes-metrics && kp_wait 5 listening probes-healthz && kp_wait 5 listening endpoint ||
  { echo "FAIL the listeners did not start"; exit 1; }

# Packets of the nat OUTPUT rule jumping to KUBE-SERVICES in the node.
output_jump_packets() {
  ip netns exec "$NS" iptables-legacy -t nat -L OUTPUT -n -v -x | awk '$3 == "KUBE-SERVICES" { print $1; exit }'
}
probes() { echo $(($(count_of probes-metrics) + $(count_of probes-healthz))); }

# run_collectd BODY: collectd inside the node namespace, defaults unless BODY says.
run_collectd() {
  rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
  KP_PROXY_ENDPOINTS="# kube-proxy's endpoints: the defaults" kp_write_conf "$KP_TMP/collectd.conf" <<<"$1"
  : >"$KP_TMP/collectd.log"
  ip netns exec "$NS" iptables-legacy -t nat -Z
  ip netns exec "$NS" collectd -f -C "$KP_TMP/collectd.conf" >"$KP_TMP/collectd.out" 2>&1 &
  KP_COLLECTD_PID=$! # ip netns exec execs collectd
}
activity_is() { kp_csv_is kube_proxy health-check-activity "$1"; }
activity_notif() { kp_has_notif "^Severity: $1" '^TypeInstance: check-activity'; }

# ---- A0: the defaults probe kube-proxy's endpoints, through nat OUTPUT ------------
before=$(probes)
run_collectd "  ActivityIntervals 3"
probed() { [ "$(probes)" -gt "$before" ]; }
kp_check "defaults: the plugin probes 127.0.0.1:10249 and :10256 in the namespace" kp_wait 6 probed
kp_check "... and they count in nat OUTPUT -> KUBE-SERVICES ($(output_jump_packets) packets)" \
  test "$(output_jump_packets)" -gt 0
kp_stop_collectd

# ---- A: Check "sync" false stops the probes; no traffic -> WARNING -----------------
sleep 1
before=$(probes)
run_collectd '  ActivityIntervals 3
  Check "sync" false'
kp_check 'Check "sync" false, no traffic: WARNING after ActivityIntervals' kp_wait 10 activity_notif WARNING
kp_check "... health-check-activity 1" kp_wait 2 activity_is 1
sleep 2
kp_check "... no probe reached kube-proxy's endpoints ($(($(probes) - before)) connections)" \
  test "$(probes)" -eq "$before"
kp_check "... nat OUTPUT -> KUBE-SERVICES counted nothing ($(output_jump_packets) packets)" \
  test "$(output_jump_packets)" -eq 0
kp_stop_collectd

# ---- B: defaults; probes + non-service connections -> still WARNING; service -> OKAY --
node_connects() { # node_connects ADDR PORT: one connection every 0.3 s from the node
  ip netns exec "$NS" bash -c "while :; do timeout 1 bash -c 'echo > /dev/tcp/$1/$2' 2>/dev/null; sleep 0.3; done" &
  BG_PIDS+=($!)
}
sleep 1
run_collectd "  ActivityIntervals 3"
node_connects 10.99.0.2 8080 # the endpoints' namespace, not a service
ep_before=$(count_of endpoint)
kp_check "B: the node's non-service connections are real (the listener saw them)" \
  kp_wait 5 bash -c "[ \$(cat '$KP_TMP/endpoint.count') -gt $ep_before ]"
kp_check "... nat OUTPUT -> KUBE-SERVICES counts them and the probes" \
  kp_wait 5 bash -c "[ \"\$(ip netns exec $NS iptables-legacy -t nat -L OUTPUT -n -v -x | awk '\$3 == \"KUBE-SERVICES\" { print \$1; exit }')\" -gt 0 ]"
kp_check "B: probes and non-service connections are no service traffic: WARNING (needs branch checks)" \
  kp_wait 12 activity_notif WARNING
kp_check "... health-check-activity 1 (needs branch checks)" kp_wait 2 activity_is 1
node_connects 172.30.0.20 80 # the cluster IP: DNAT to 10.180.0.6/.7:8080
kp_check "connections to the cluster IP turn it OKAY" kp_wait 10 activity_notif OKAY
kp_check "... health-check-activity 0" kp_wait 3 activity_is 0
# packets of the endpoint DNAT rules (the listener also counts the
# non-service connections to 10.99.0.2:8080, so it proves nothing here)
dnat_packets() {
  ip netns exec "$NS" iptables-legacy-save -c -t nat |
    awk '/-j DNAT --to-destination 10\.180\.0\.[67]:8080/ { x = $1; gsub(/[^0-9:]/, "", x); split(x, c, ":"); n += c[1] } END { print n + 0 }'
}
kp_check "... they reached the endpoints through the DNAT ($(dnat_packets) packets on the DNAT rules)" \
  test "$(dnat_packets)" -gt 0
kp_stop_collectd
kp_finish
