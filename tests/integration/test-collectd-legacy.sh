#!/usr/bin/env bash
# The real collectd with kube_proxy.so reading an iptables-legacy kube-proxy
# ruleset in a throwaway namespace (NetNS), with real connections through
# the nat chains: values and their growth (csv), FAILURE/OKAY notifications
# with meta when masquerading breaks and is repaired (exec), PodIP results,
# a PUTNOTIF about kube-proxy reaching the `process` check (unixsock), and
# reads that keep working while /run/xtables.lock is held.
#   test-collectd-legacy.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_require

NS=kp-it-$$
KP_TMP=$(mktemp -d /tmp/kp-it.XXXXXX)
LOCK_PID=
cleanup() {
  kp_stop_collectd
  [ -n "$LOCK_PID" ] && kill "$LOCK_PID" 2>/dev/null
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kp_make_node "$NS" || { echo "FAIL cannot build the test namespace"; exit 1; }
MASQ_RULE=(-t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully)

kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.6"
  CollectServices true
  ServiceFilter "^web/"
EOF
kp_start_collectd "$KP_TMP/collectd.conf"

# --- values exist ------------------------------------------------------------
P=kube_proxy-ipv4
kp_check "first values written (csv $P/ipt_packets-KUBE-SERVICES)" \
  kp_wait 15 kp_csv_last $P ipt_packets-KUBE-SERVICES
for v in ipt_bytes-KUBE-SERVICES ipt_packets-KUBE-NODEPORTS ipt_packets-KUBE-POSTROUTING; do
  kp_check "value $P/$v" kp_csv_last $P $v
done
for v in count-services count-endpoints count-rules count-chains count-services_without_endpoints \
  gauge-check-masquerade gauge-check-hooks gauge-check-process duration-read; do
  kp_check "value kube_proxy/$v" kp_csv_last kube_proxy $v
done
# make-ruleset.sh: 2 endpoints for each of 4 services, web/orphan has none
kp_check "count-endpoints is 8" kp_csv_is kube_proxy count-endpoints 8
kp_check "count-services_without_endpoints is 1" \
  kp_csv_is kube_proxy count-services_without_endpoints 1
kp_check "check-masquerade gauge 0 on the healthy ruleset" \
  kp_csv_is kube_proxy gauge-check-masquerade 0
kp_check "PodIP 10.180.0.6 (a web/frontend endpoint): check-pod-rules gauge 0" \
  kp_wait 5 kp_csv_is kube_proxy gauge-check-pod-rules 0
filtered() {
  kp_csv_last $P-services ipt_packets-web_frontend_http >/dev/null &&
    ! ls "$KP_TMP/csv/$KP_HOST/$P-services/" | grep -q kube-dns
}
kp_check "ServiceFilter ^web/: web_frontend_http series, no kube-dns series" filtered

# --- values grow with real traffic --------------------------------------------
p0=$(kp_csv_last $P ipt_packets-KUBE-SERVICES)
m0=$(kp_csv_last $P ipt_packets-KUBE-POSTROUTING)
s0=$(kp_csv_last $P-services ipt_packets-web_frontend_http || echo 0)
kp_traffic "$NS" 6
grown() { [ "$(kp_csv_last $P ipt_packets-KUBE-SERVICES)" -ge $((p0 + 6)) ]; }
kp_check "ipt_packets-KUBE-SERVICES grows by the 6 connections (from $p0)" kp_wait 8 grown
masq_grown() { [ "$(kp_csv_last $P ipt_packets-KUBE-POSTROUTING)" -gt "$m0" ]; }
kp_check "ipt_packets-KUBE-POSTROUTING grows" kp_wait 5 masq_grown
svc_grown() { [ "$(kp_csv_last $P-services ipt_packets-web_frontend_http)" -ge $((s0 + 6)) ]; }
kp_check "per-service web_frontend_http packets grow by 6" kp_wait 5 svc_grown

# --- masquerading broken, then repaired ---------------------------------------------
kp_check "no masquerade notification while healthy" \
  test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 0
ip netns exec "$NS" iptables-legacy -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
kp_check "FAILURE notification for check-masquerade" \
  kp_wait 8 kp_has_notif '^Severity: FAILURE' '^Plugin: kube_proxy' 'TypeInstance: check-masquerade'
kp_check "its meta: check, mode, backend, table, counts" \
  kp_has_notif '^Severity: FAILURE' '^check: masquerade' '^mode: iptables' '^backend: legacy' \
  '^table: ' '^services: [0-9]+' '^endpoints: 8'
kp_check "check-masquerade gauge 2" kp_wait 4 kp_csv_is kube_proxy gauge-check-masquerade 2
sleep 2
kp_check "one notification per state change (not per interval)" \
  test "$(kp_notifs_matching 'TypeInstance: check-masquerade')" -eq 1
ip netns exec "$NS" iptables-legacy -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
kp_check "OKAY notification for check-masquerade after the repair" \
  kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-masquerade' '^check: masquerade'

# --- a notification about the kube-proxy process (PUTNOTIF) ---------------------------
if command -v python3 >/dev/null 2>&1; then
  putnotif_failure() { kp_putnotif failure "kube-proxy is not running" | grep -q '^0 '; }
  kp_check "unixsock accepts PUTNOTIF" putnotif_failure
  kp_check "check-process gauge 2 after the PUTNOTIF" \
    kp_wait 6 kp_csv_is kube_proxy gauge-check-process 2
  kp_check "FAILURE notification for check-process" \
    kp_wait 4 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-process' '^check: process'
  ip netns exec "$NS" iptables-legacy -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
  kp_check "masquerade FAILURE names the kube-proxy process as likely cause" \
    kp_wait 8 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-masquerade' 'likely cause: kube-proxy process'
  ip netns exec "$NS" iptables-legacy -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
  kp_putnotif okay "kube-proxy is running again" >/dev/null
  kp_check "OKAY notification for check-process after the okay PUTNOTIF" \
    kp_wait 6 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-process'
else
  echo "SKIP: python3 missing: no PUTNOTIF (unixsock) part"
fi

# --- reads while /run/xtables.lock is held -----------------------------------------------
r0=$(kp_csv_rows kube_proxy duration-read)
flock /run/xtables.lock sleep 5 &
LOCK_PID=$!
kp_check "the lock is really held" kp_wait 2 bash -c '! flock -n /run/xtables.lock true'
more_reads() { [ "$(kp_csv_rows kube_proxy duration-read)" -ge $((r0 + 3)) ]; }
kp_check "3 reads complete while another process holds /run/xtables.lock" kp_wait 4 more_reads
kp_check "... and the lock was still held then" kill -0 "$LOCK_PID"
wait "$LOCK_PID" 2>/dev/null
LOCK_PID=

kp_check "collectd still running" kp_collectd_alive
kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' $KP_TMP/collectd.log"
kp_check "no 'Dataset not found' (built-in types only)" \
  bash -c "! grep -q 'not found' $KP_TMP/collectd.log"
kp_stop_collectd

# --- a PodIP that has no rules ---------------------------------------------------------------
rm -rf "$KP_TMP/csv" "$KP_TMP/notifications"
kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.60"
EOF
kp_start_collectd "$KP_TMP/collectd.conf"
kp_check "PodIP 10.180.0.60 (no rules; 10.180.0.6 does not count): check-pod-rules gauge 1" \
  kp_wait 15 kp_csv_is kube_proxy gauge-check-pod-rules 1
kp_check "WARNING notification naming 10.180.0.60" \
  kp_wait 5 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-pod-rules' '10\.180\.0\.60'
kp_stop_collectd

kp_finish
