# Helpers for the tests that run the real collectd with kube_proxy.so.
# Sourced by tests/integration/test-collectd-*.sh and tests/demo.sh, after
# lib.sh (sourced here: temp dirs, namespaces and processes are registered
# and removed on every exit path, see lib.sh). The caller sets KP_BUILD (the
# build dir holding kube_proxy.so). A test starts with
#   KP_BUILD=${1:-build}
#   . "$(dirname "$0")/collectd-lib.sh"
#   kp_begin NAME [TOOL...]   # root, tools, cleanup trap, KP_TMP, NS=kp-NAME-PID
#   kp_node legacy            # namespace NS (+ NS-c) with kube-proxy's rules
#   kp_collectd <<EOF         # collectd.conf with this <Plugin kube_proxy> body, started
#     NetNS "/run/netns/$NS"
#   EOF
# and ends in kp_finish.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KP_HOST=kp-it

# kp_require [TOOL...]: root, collectd, the built plugin, and the tools
# (default: the iptables-legacy ones).
kp_require() {
  kp_require_root
  local tools=("$@")
  [ ${#tools[@]} -gt 0 ] || tools=(iptables-legacy-restore iptables-legacy)
  kp_require_tools collectd collectdctl ip flock "${tools[@]}"
  [ -f "$KP_BUILD/kube_proxy.so" ] || kp_skip "$KP_BUILD/kube_proxy.so not built"
  [ -f /usr/lib/collectd/csv.so ] || kp_skip "collectd-core plugins not in /usr/lib/collectd"
}

# kp_begin NAME [TOOL...]: the common start of a collectd test: kp_require
# TOOLs, cleanup on every exit path, a private KP_TMP (/tmp/kp-NAME.*) and
# the name of its node namespace, NS=kp-NAME-PID.
kp_begin() {
  local name=$1
  shift
  kp_require "$@"
  kp_trap_cleanup
  kp_tmp "$name"
  NS=kp-$name-$$
}

# kp_node [legacy|nft]: kp_make_node "$NS" BACKEND, or the test ends (exit 1).
kp_node() {
  kp_make_node "$NS" "${1:-legacy}" || kp_die "cannot build the test namespace $NS (${1:-legacy})"
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

# kp_make_node NS [legacy|nft]: namespace NS (the "node", holding
# kube-proxy's rules, loaded with iptables-legacy-restore or
# iptables-nft-restore) and NS-c (a client), joined by a veth pair: node
# 10.99.0.1/24, client 10.99.0.2/24 which also holds the pod addresses
# 10.180.0.6 and .7, so DNATed connections really cross KUBE-SERVICES,
# KUBE-SEP-* and KUBE-POSTROUTING (masqueraded) and get an answer. No route
# leaves them.
kp_make_node() {
  kp_make_net "$1" || return 1
  kp_ruleset | ip netns exec "$1" "iptables-${2:-legacy}-restore"
}

# kp_make_net NS: the two namespaces and their addresses and routes, no rules.
kp_make_net() {
  local ns=$1 c="$1-c"
  kp_ns_add "$ns"
  kp_ns_add "$c"
  ip link add kpn0 netns "$ns" type veth peer name kpc0 netns "$c" || return 1
  ip -n "$ns" addr add 10.99.0.1/24 dev kpn0
  ip -n "$c" addr add 10.99.0.2/24 dev kpc0
  ip -n "$c" addr add 10.180.0.6/32 dev kpc0
  ip -n "$c" addr add 10.180.0.7/32 dev kpc0
  ip -n "$ns" link set kpn0 up
  ip -n "$c" link set kpc0 up
  ip -n "$c" route add 172.30.0.0/16 via 10.99.0.1
  ip -n "$ns" route add 10.180.0.0/16 via 10.99.0.2
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
}

kp_delete_node() {
  kp_ns_del "$1" "$1-c"
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
  kp_adopt_tmp
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
  # no kube-proxy runs in the test namespaces: do not ask its endpoints
  # (test-collectd-sync.sh does, against a stand-in)
  ${KP_PROXY_ENDPOINTS:-KubeProxyMetrics "none"
  KubeProxyHealthz "none"}
$body
</Plugin>
EOF
}

# kp_start_collectd CONF: collectd -f -C CONF, output in KP_TMP/collectd.out;
# KP_COLLECTD_PID is the daemon itself (tracked: stopped at exit).
KP_COLLECTD_PID=
kp_start_collectd() {
  kp_start_collectd_by "$KP_TMP/collectd.out" collectd -f -C "$1"
}

# kp_start_collectd_by OUT CMD...: the daemon started by a command that
# execs it in the end (setpriv, capsh -c "exec ...", valgrind, ip netns
# exec), so that KP_COLLECTD_PID is collectd, not a wrapper. It alone may
# dump core (collectd works in its BaseDir, KP_TMP/base): a crash is
# reported with its backtrace by kp_stop_collectd.
kp_start_collectd_by() {
  local soft
  soft=$(ulimit -c)
  ulimit -c unlimited 2>/dev/null
  kp_spawn "$@"
  ulimit -c "$soft" 2>/dev/null
  KP_COLLECTD_PID=$KP_SPAWNED
}

# kp_collectd_crash_report: after collectd died of a signal, the newest
# core file in KP_TMP/base, or why there is none, and gdb's backtrace of
# every thread, into KP_TMP/collectd.crash and stdout (a crash in CI is
# then diagnosed from its log). The core goes with KP_TMP.
kp_collectd_crash_report() {
  local core bin report=$KP_TMP/collectd.crash
  core=$(ls -t "$KP_TMP"/base/core* 2>/dev/null | head -n 1)
  bin=$(command -v collectd)
  {
    echo "--- collectd died of signal $((KP_COLLECTD_RC - 128)) ---"
    if [ -z "$core" ]; then
      echo "no core file in $KP_TMP/base (kernel.core_pattern: $(cat /proc/sys/kernel/core_pattern))"
    elif ! command -v gdb >/dev/null; then
      echo "core file $core; no gdb to read it (tests/install-deps.sh installs it)"
    else
      gdb -batch -nx -iex 'set debuginfod enabled off' -ex 'info sharedlibrary kube_proxy' -ex 'thread apply all bt' \
        "$bin" "$core" 2>&1 | grep -v '^\[New LWP\|^warning: .*separate debug' | head -n 300
    fi
  } >"$report"
  cat "$report"
}

# kp_collectd [CONF] <<EOF: kp_write_conf CONF (default KP_TMP/collectd.conf)
# with the <Plugin kube_proxy> body from stdin, then kp_start_collectd.
kp_collectd() {
  local conf=${1:-$KP_TMP/collectd.conf}
  kp_write_conf "$conf"
  kp_start_collectd "$conf"
}

# kp_stop_collectd [SECONDS]: SIGTERM, wait (SIGKILL after SECONDS, default
# 30); collectd's exit status in KP_COLLECTD_RC (returns 0, as it always did).
KP_COLLECTD_RC=
kp_stop_collectd() {
  if [ -n "$KP_COLLECTD_PID" ]; then
    KP_COLLECTD_RC=0
    kp_stop "$KP_COLLECTD_PID" "${1:-30}" || KP_COLLECTD_RC=$?
    KP_COLLECTD_PID=
    case $KP_COLLECTD_RC in # SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV
      132 | 134 | 135 | 136 | 139) kp_collectd_crash_report ;;
    esac
  fi
  return 0
}

# kp_log_count REGEX [FILE]: lines of the collectd log (default
# KP_TMP/collectd.log) matching REGEX (0 when none or no log yet).
kp_log_count() {
  local n
  n=$(grep -c -- "$1" "${2:-$KP_TMP/collectd.log}" 2>/dev/null)
  echo "${n:-0}"
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

# kp_notifs_at_least N REGEX...: at least N notification files match (a
# function, so kp_wait counts again on every poll).
kp_notifs_at_least() {
  local n=$1
  shift
  [ "$(kp_notifs_matching "$@")" -ge "$n" ]
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
    echo "--- notifications (exec) of the last run ---"
    local f
    for f in "$KP_TMP"/notifications/n.*; do
      [ -f "$f" ] && { cat "$f"; echo; }
    done
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

# kp_iptables_suite legacy|nft: the assertions of an iptables-mode node,
# run against namespace $NS built with kp_node BACKEND after kp_begin (the
# lock holder is tracked: stopped at exit): values exist and grow with real traffic (csv),
# FAILURE/OKAY notifications with meta when masquerading breaks and is
# repaired (exec), PodIP results, a PUTNOTIF about kube-proxy reaching the
# `process` check (unixsock), reads while /run/xtables.lock is held, and
# then the same node with `Backend BACKEND` forced. Ends in kp_finish.
kp_iptables_suite() {
  local backend=$1 ipt="iptables-$1"
  local MASQ_RULE=(-t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully)

  kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.6"
  CollectServices true
  ServiceFilter "^web/"
EOF

  # --- values exist ------------------------------------------------------------
  KP_V4=kube_proxy-ipv4
  kp_check "first values written (csv $KP_V4/ipt_packets-KUBE-SERVICES)" \
    kp_wait 15 kp_csv_last $KP_V4 ipt_packets-KUBE-SERVICES
  local v
  for v in ipt_bytes-KUBE-SERVICES ipt_packets-KUBE-NODEPORTS ipt_packets-KUBE-POSTROUTING; do
    kp_check "value $KP_V4/$v" kp_csv_last $KP_V4 $v
  done
  for v in objects-services objects-endpoints objects-rules objects-chains objects-services_without_endpoints \
    health-check-masquerade health-check-hooks health-check-process duration-read; do
    kp_check "value kube_proxy/$v" kp_csv_last kube_proxy $v
  done
  # make-ruleset.sh: 2 endpoints for each of 4 services, web/orphan has none
  kp_check "objects-endpoints is 8" kp_csv_is kube_proxy objects-endpoints 8
  kp_check "objects-services_without_endpoints is 1" \
    kp_csv_is kube_proxy objects-services_without_endpoints 1
  kp_check "check-masquerade gauge 0 on the healthy ruleset" \
    kp_csv_is kube_proxy health-check-masquerade 0
  kp_check "PodIP 10.180.0.6 (a web/frontend endpoint): check-pod-rules gauge 0" \
    kp_wait 5 kp_csv_is kube_proxy health-check-pod-rules 0
  kp_check "ServiceFilter ^web/: web_frontend_http series, no kube-dns series" kp_suite_filtered

  # --- values grow with real traffic --------------------------------------------
  KP_P0=$(kp_csv_last $KP_V4 ipt_packets-KUBE-SERVICES)
  KP_M0=$(kp_csv_last $KP_V4 ipt_packets-KUBE-POSTROUTING)
  KP_S0=$(kp_csv_last $KP_V4-services ipt_packets-web_frontend_http || echo 0)
  kp_traffic "$NS" 6
  kp_check "ipt_packets-KUBE-SERVICES grows by the 6 connections (from $KP_P0)" kp_wait 8 kp_suite_grown
  kp_check "ipt_packets-KUBE-POSTROUTING grows" kp_wait 5 kp_suite_masq_grown
  kp_check "per-service web_frontend_http packets grow by 6" kp_wait 5 kp_suite_svc_grown

  # --- masquerading broken, then repaired ---------------------------------------------
  kp_check "no masquerade notification while healthy" \
    test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 0
  ip netns exec "$NS" "$ipt" -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
  kp_check "FAILURE notification for check-masquerade" \
    kp_wait 8 kp_has_notif '^Severity: FAILURE' '^Plugin: kube_proxy' 'TypeInstance: check-masquerade'
  kp_check "its meta: check, mode, backend $backend, table, counts" \
    kp_has_notif '^Severity: FAILURE' '^check: masquerade' '^mode: iptables' "^backend: $backend\$" \
    '^table: ' '^services: [0-9]+' '^endpoints: 8'
  kp_check "check-masquerade gauge 2" kp_wait 4 kp_csv_is kube_proxy health-check-masquerade 2
  sleep 2
  kp_check "one notification per state change (not per interval)" \
    test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 1
  ip netns exec "$NS" "$ipt" -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
  kp_check "OKAY notification for check-masquerade after the repair" \
    kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-masquerade' '^check: masquerade'

  # --- a notification about the kube-proxy process (PUTNOTIF) ---------------------------
  if command -v python3 >/dev/null 2>&1; then
    kp_check "unixsock accepts PUTNOTIF" kp_suite_putnotif_failure
    kp_check "check-process gauge 2 after the PUTNOTIF" \
      kp_wait 6 kp_csv_is kube_proxy health-check-process 2
    kp_check "FAILURE notification for check-process" \
      kp_wait 4 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-process' '^check: process'
    ip netns exec "$NS" "$ipt" -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
    kp_check "masquerade FAILURE names the kube-proxy process as likely cause" \
      kp_wait 8 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade' 'likely cause: kube-proxy process'
    ip netns exec "$NS" "$ipt" -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
    kp_putnotif okay "kube-proxy is running again" >/dev/null
    kp_check "OKAY notification for check-process after the okay PUTNOTIF" \
      kp_wait 6 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-process'
  else
    echo "SKIP: python3 missing: no PUTNOTIF (unixsock) part"
  fi

  # --- reads while /run/xtables.lock is held -----------------------------------------------
  KP_R0=$(kp_csv_rows kube_proxy duration-read)
  kp_spawn /dev/null flock /run/xtables.lock sleep 5
  LOCK_PID=$KP_SPAWNED
  kp_check "the lock is really held" kp_wait 2 bash -c '! flock -n /run/xtables.lock true'
  kp_check "3 reads complete while another process holds /run/xtables.lock" kp_wait 4 kp_suite_more_reads
  kp_check "... and the lock was still held then" kill -0 "$LOCK_PID"
  wait "$LOCK_PID" 2>/dev/null
  LOCK_PID=

  kp_check "collectd still running" kp_collectd_alive
  kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
  kp_check "no 'Dataset not found' (built-in types only)" \
    bash -c "! grep -q 'not found' $KP_TMP/collectd.log"
  kp_stop_collectd

  # --- Backend forced; a PodIP that has no rules --------------------------------------------
  rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
  kp_collectd <<EOF
  NetNS "/run/netns/$NS"
  Backend "$backend"
  PodIP "10.180.0.60"
EOF
  kp_check "PodIP 10.180.0.60 (no rules; 10.180.0.6 does not count): check-pod-rules gauge 1" \
    kp_wait 15 kp_csv_is kube_proxy health-check-pod-rules 1
  kp_check "WARNING notification naming 10.180.0.60" \
    kp_wait 5 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-pod-rules' '10\.180\.0\.60'
  kp_check "Backend \"$backend\" forced: objects-endpoints still 8" kp_csv_is kube_proxy objects-endpoints 8
  kp_check "... and no read error" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
  kp_stop_collectd
  if [ "$backend" = nft ]; then
    # Reading must not change the node: asking libiptc for a table creates it.
    kp_check "no iptables-legacy table appeared in $NS (ip_tables_names empty)" \
      test -z "$(ip netns exec "$NS" cat /proc/net/ip_tables_names 2>/dev/null)"
  fi

  kp_finish
}

# Conditions kp_wait polls (functions, so each poll re-reads the csv files).
kp_suite_filtered() {
  kp_csv_last $KP_V4-services ipt_packets-web_frontend_http >/dev/null &&
    ! ls "$KP_TMP/csv/$KP_HOST/$KP_V4-services/" | grep -q kube-dns
}
kp_suite_grown() { [ "$(kp_csv_last $KP_V4 ipt_packets-KUBE-SERVICES)" -ge $((KP_P0 + 6)) ]; }
kp_suite_masq_grown() { [ "$(kp_csv_last $KP_V4 ipt_packets-KUBE-POSTROUTING)" -gt "$KP_M0" ]; }
kp_suite_svc_grown() { [ "$(kp_csv_last $KP_V4-services ipt_packets-web_frontend_http)" -ge $((KP_S0 + 6)) ]; }
kp_suite_more_reads() { [ "$(kp_csv_rows kube_proxy duration-read)" -ge $((KP_R0 + 3)) ]; }
kp_suite_putnotif_failure() { kp_putnotif failure "kube-proxy is not running" | grep -q '^0 '; }

# kp_start_listener NS LOG ADDR...: a TCP server in namespace NS on port
# 8080 of each pod address ADDR (IPv4 or IPv6, already assigned there) that
# accepts and closes every connection, appending "local-addr peer-addr" to
# LOG: what a DNATed, masqueraded connection really looked like at the pod.
# Sets KP_LISTENER_PID; kp_stop_listener ends it (call it from the trap).
KP_LISTENER_PID=
kp_start_listener() {
  local ns=$1 log=$2
  shift 2
  : >"$log"
  ip netns exec "$ns" python3 - "$log" "$@" <<'EOF_PY' &
import selectors, socket, sys
log = open(sys.argv[1], "a", buffering=1)
sel = selectors.DefaultSelector()
for addr in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ)
print("listening", file=log)
while True:
    for key, _ in sel.select():
        c, peer = key.fileobj.accept()
        log.write("%s %s\n" % (c.getsockname()[0], peer[0]))
        c.close()
EOF_PY
  KP_LISTENER_PID=$!
  kp_track "$KP_LISTENER_PID"
  kp_wait 5 grep -q '^listening' "$log"
}

kp_stop_listener() {
  if [ -n "$KP_LISTENER_PID" ]; then
    kp_stop "$KP_LISTENER_PID" 10
    KP_LISTENER_PID=
  fi
}

# kp_lines_matching FILE REGEX: how many lines of FILE match (0 when none).
kp_lines_matching() {
  grep -Ec -- "$2" "$1" 2>/dev/null || true
}

# kp_lines_at_least FILE REGEX N (polled by kp_wait).
kp_lines_at_least() {
  [ "$(kp_lines_matching "$1" "$2")" -ge "$3" ]
}
