# Helpers for the tests that run the real collectd with kube_proxy.so.
# Sourced by tests/integration/test-collectd-*.sh and tests/demo.sh; the
# caller sets KP_BUILD (the build dir holding kube_proxy.so) and KP_TMP
# (a private temp dir) first. Namespaces are named kp-*, and every test
# deletes its own on every exit path (trap).

KP_ROOT=${KP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KP_HOST=kp-it

# Prints "SKIP: reason" and exits 77 (counted as skipped by run-all.sh).
kp_skip() {
  echo "SKIP: $*"
  exit 77
}

kp_require() {
  [ "$(id -u)" -eq 0 ] || kp_skip "needs root (network namespaces, netfilter tables)"
  local t
  for t in collectd collectdctl iptables-legacy-restore iptables-legacy ip flock; do
    command -v "$t" >/dev/null 2>&1 || kp_skip "$t not installed"
  done
  [ -f "$KP_BUILD/kube_proxy.so" ] || kp_skip "$KP_BUILD/kube_proxy.so not built"
  [ -f /usr/lib/collectd/csv.so ] || kp_skip "collectd-core plugins not in /usr/lib/collectd"
}

# The kube-proxy ruleset: the fixtures generator when present, else a small
# inline one (same shape: service web/frontend:http 172.30.0.20:80 -> pods
# 10.180.0.6/7:8080, mark 0x4000, jump rules in the built-in chains).
kp_ruleset() {
  local gen="$KP_ROOT/tests/fixtures/make-ruleset.sh"
  if [ -x "$gen" ] || [ -f "$gen" ]; then
    bash "$gen" "$@"
    return
  fi
  cat <<'EOF'
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-IPTABLES-HINT - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
:KUBE-PROXY-CANARY - [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-XQW6G4JP7X6Y57U2 - [0:0]
:KUBE-SEP-RZ2KD3TK23H7PAWD - [0:0]
:KUBE-SEP-SRSMOXY3QZRUMHVS - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "web/frontend:http cluster IP" -m tcp -p tcp -d 172.30.0.20 --dport 80 -j KUBE-SVC-XQW6G4JP7X6Y57U2
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-XQW6G4JP7X6Y57U2 -m comment --comment "web/frontend:http cluster IP" -m tcp -p tcp -d 172.30.0.20 --dport 80 ! -s 10.180.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-SVC-XQW6G4JP7X6Y57U2 -m comment --comment "web/frontend:http -> 10.180.0.6:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-RZ2KD3TK23H7PAWD
-A KUBE-SVC-XQW6G4JP7X6Y57U2 -m comment --comment "web/frontend:http -> 10.180.0.7:8080" -j KUBE-SEP-SRSMOXY3QZRUMHVS
-A KUBE-SEP-RZ2KD3TK23H7PAWD -m comment --comment web/frontend:http -s 10.180.0.6 -j KUBE-MARK-MASQ
-A KUBE-SEP-RZ2KD3TK23H7PAWD -m comment --comment web/frontend:http -m tcp -p tcp -j DNAT --to-destination 10.180.0.6:8080
-A KUBE-SEP-SRSMOXY3QZRUMHVS -m comment --comment web/frontend:http -s 10.180.0.7 -j KUBE-MARK-MASQ
-A KUBE-SEP-SRSMOXY3QZRUMHVS -m comment --comment web/frontend:http -m tcp -p tcp -j DNAT --to-destination 10.180.0.7:8080
COMMIT
EOF
}

# kp_make_node NS: namespace NS (the "node", holding kube-proxy's rules) and
# NS-c (a client), joined by a veth pair: node 10.99.0.1/24, client
# 10.99.0.2/24 which also holds the pod addresses 10.180.0.6 and .7, so
# DNATed connections really cross KUBE-SERVICES, KUBE-SEP-* and
# KUBE-POSTROUTING (masqueraded) and get an answer. No route leaves them.
kp_make_node() {
  local ns=$1 c="$1-c"
  ip netns add "$ns"
  ip netns add "$c"
  ip link add kpn0 netns "$ns" type veth peer name kpc0 netns "$c"
  ip -n "$ns" link set lo up
  ip -n "$c" link set lo up
  ip -n "$ns" addr add 10.99.0.1/24 dev kpn0
  ip -n "$c" addr add 10.99.0.2/24 dev kpc0
  ip -n "$c" addr add 10.180.0.6/32 dev kpc0
  ip -n "$c" addr add 10.180.0.7/32 dev kpc0
  ip -n "$ns" link set kpn0 up
  ip -n "$c" link set kpc0 up
  ip -n "$c" route add 172.30.0.0/16 via 10.99.0.1
  ip -n "$ns" route add 10.180.0.0/16 via 10.99.0.2
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  kp_ruleset | ip netns exec "$ns" iptables-legacy-restore
}

kp_delete_node() {
  ip netns del "$1" 2>/dev/null || true
  ip netns del "$1-c" 2>/dev/null || true
}

# N connection attempts from the client to the service's cluster IP
# (each one is a new conntrack entry, so one more packet through the nat
# chains). The pods do not listen: the answer is a reset, which is enough.
kp_traffic() {
  local ns=$1 n=${2:-5} i
  for ((i = 0; i < n; i++)); do
    ip netns exec "$ns-c" timeout 1 bash -c 'echo > /dev/tcp/172.30.0.20/80' 2>/dev/null || true
  done
}

# kp_write_conf FILE — collectd.conf with csv, unixsock, exec (notifications
# as nobody, one file each) and logfile, then kube_proxy with the <Plugin>
# body read from stdin. Everything lives under KP_TMP.
kp_write_conf() {
  local conf=$1 body
  body=$(cat)
  mkdir -p "$KP_TMP/base" "$KP_TMP/csv" "$KP_TMP/plugins" "$KP_TMP/notifications"
  chmod 755 "$KP_TMP"
  chmod 1777 "$KP_TMP/notifications"
  cp "$KP_BUILD/kube_proxy.so" "$KP_TMP/plugins/kube_proxy.so" # a regular file, not a link
  cat >"$KP_TMP/notify.sh" <<'EOF'
#!/bin/sh
# collectd exec plugin: one notification (header lines, blank line, message) per file
f=$(mktemp "$(dirname "$0")/notifications/n.XXXXXXXX") || exit 1
cat >"$f"
EOF
  chmod 755 "$KP_TMP/notify.sh"
  cat >"$conf" <<EOF
Hostname "$KP_HOST"
FQDNLookup false
BaseDir "$KP_TMP/base"
PIDFile "$KP_TMP/base/collectd.pid"
AutoLoadPlugin false
Interval 1
MaxReadInterval 2
Timeout 2
ReadThreads 2
WriteThreads 1

PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File "$KP_TMP/collectd.log"
  Timestamp true
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$KP_TMP/csv"
  StoreRates false
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "$KP_TMP/sock"
  SocketGroup "root"
  SocketPerms "0660"
  DeleteSocket true
</Plugin>
LoadPlugin exec
<Plugin exec>
  NotificationExec "nobody" "$KP_TMP/notify.sh"
</Plugin>

PluginDir "$KP_TMP/plugins"
LoadPlugin kube_proxy
<Plugin kube_proxy>
$body
</Plugin>
EOF
}

KP_COLLECTD_PID=
kp_start_collectd() {
  collectd -f -C "$1" >"$KP_TMP/collectd.out" 2>&1 &
  KP_COLLECTD_PID=$!
}

kp_stop_collectd() {
  if [ -n "$KP_COLLECTD_PID" ]; then
    kill -TERM "$KP_COLLECTD_PID" 2>/dev/null || true
    wait "$KP_COLLECTD_PID" 2>/dev/null || true
    KP_COLLECTD_PID=
  fi
}

kp_collectd_alive() {
  [ -n "$KP_COLLECTD_PID" ] && kill -0 "$KP_COLLECTD_PID" 2>/dev/null
}

# kp_wait SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
kp_wait() {
  local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
  shift
  while :; do
    "$@" && return 0
    [ $(($(date +%s%N) / 1000000)) -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# Last value in a csv series: kp_csv_last PLUGIN_DIR TYPE-INSTANCE
# e.g. kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES
kp_csv_last() {
  local f
  f=$(ls -1 "$KP_TMP/csv/$KP_HOST/$1/$2"-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] || return 1
  tail -n 1 "$f" | awk -F, '$1 ~ /^[0-9.]+$/ { v = $2; sub(/\.0+$/, "", v); print v; ok = 1 } END { exit !ok }'
}

# kp_csv_is PLUGIN_DIR TYPE-INSTANCE VALUE: the last value equals VALUE
# (a function, so kp_wait re-reads the file on every poll).
kp_csv_is() {
  [ "$(kp_csv_last "$1" "$2")" = "$3" ]
}

# Rows written so far in a csv series (0 when none).
kp_csv_rows() {
  cat "$KP_TMP/csv/$KP_HOST/$1/$2"-* 2>/dev/null | grep -c '^[0-9]' || true
}

# Notification files (from the exec plugin) matching every given regex.
kp_notifs_matching() {
  local f pat ok n=0
  for f in "$KP_TMP"/notifications/n.*; do
    [ -f "$f" ] || continue
    ok=1
    for pat in "$@"; do grep -Eq -- "$pat" "$f" || { ok=0; break; }; done
    [ "$ok" -eq 1 ] && n=$((n + 1))
  done
  echo "$n"
}

kp_has_notif() {
  [ "$(kp_notifs_matching "$@")" -gt 0 ]
}

# Test bookkeeping: kp_ok/kp_fail print one line each; kp_finish exits 1 on any failure.
KP_PASSED=0 KP_FAILED=0
kp_ok() {
  echo "ok   $*"
  KP_PASSED=$((KP_PASSED + 1))
}
kp_fail() {
  echo "FAIL $*"
  KP_FAILED=$((KP_FAILED + 1))
}
kp_check() {
  local what=$1
  shift
  if "$@" >/dev/null; then kp_ok "$what"; else kp_fail "$what"; fi
}
kp_finish() {
  echo "$(basename "$0"): $KP_PASSED passed, $KP_FAILED failed"
  if [ "$KP_FAILED" -ne 0 ]; then
    echo "--- collectd log ---"
    tail -n 40 "$KP_TMP/collectd.log" 2>/dev/null || true
    exit 1
  fi
  exit 0
}

# Sends one command line to collectd's unixsock and prints the answer
# (collectdctl has no PUTNOTIF; bash cannot speak AF_UNIX).
kp_unixsock() {
  local py
  py=$(command -v python3) || return 1
  "$py" - "$KP_TMP/sock" "$1" <<'EOF_PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().readline().strip())
EOF_PY
}

# kp_putnotif SEVERITY MESSAGE: a notification about the kube-proxy process,
# as the processes plugin + threshold would send it.
kp_putnotif() {
  kp_unixsock "PUTNOTIF severity=$1 time=$(date +%s) host=$KP_HOST plugin=processes plugin_instance=kube-proxy type=ps_count message=\"$2\""
}
