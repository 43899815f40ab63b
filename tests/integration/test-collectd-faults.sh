#!/usr/bin/env bash
# Faults inside the real collectd: a NetNS that does not exist yet, and no
# CAP_NET_ADMIN. Each gives ONE clear error in the log (not one per
# interval), collectd keeps running, and the missing namespace, once
# created, is picked up by itself with one "works again" line.
#   test-collectd-faults.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin it

# --- NetNS path missing at start, created later -----------------------------------
kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
first_error() { [ "$(kp_log_count 'kube_proxy plugin: cannot read the netfilter tables')" -ge 1 ]; }
kp_check "missing NetNS: an error in the log" kp_wait 8 first_error
sleep 5 # several more (failing) intervals
kp_check "... exactly one, not one per interval" \
  test "$(kp_log_count 'kube_proxy plugin: cannot read the netfilter tables')" -eq 1
kp_check "... naming the path" grep -q "cannot read the netfilter tables.*$NS" "$KP_TMP/collectd.log"
kp_check "collectd keeps running" kp_collectd_alive
kp_check "no values but bool-read-failed while failing" bash -c \
  "! ls '$KP_TMP/csv/$KP_HOST/kube_proxy-ipv4' >/dev/null 2>&1 &&
   ! ls '$KP_TMP/csv/$KP_HOST/kube_proxy' | grep -qv '^bool-read-failed-'"

kp_node
recovered() { [ "$(kp_log_count 'kube_proxy plugin: reading the netfilter tables works again')" -ge 1 ]; }
kp_check "namespace created: recovery logged by itself" kp_wait 10 recovered
kp_check "values flow again" kp_wait 5 kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES
sleep 2
grep 'kube_proxy plugin' "$KP_TMP/collectd.log" | tail -n 3
kp_check "recovery logged once" \
  test "$(kp_log_count 'reading the netfilter tables works again')" -eq 1
kp_stop_collectd

# --- no CAP_NET_ADMIN ----------------------------------------------------------------
if command -v capsh >/dev/null 2>&1; then
  : >"$KP_TMP/collectd.log"
  kp_start_collectd_by "$KP_TMP/collectd.out" \
    capsh --drop=cap_net_admin -- -c "exec collectd -f -C '$KP_TMP/collectd.conf'"
  kp_check "without CAP_NET_ADMIN: an error in the log" kp_wait 8 first_error
  sleep 4
  kp_check "... exactly one" \
    test "$(kp_log_count 'kube_proxy plugin: cannot read the netfilter tables')" -eq 1
  kp_check "... saying CAP_NET_ADMIN is needed" grep -q "CAP_NET_ADMIN" "$KP_TMP/collectd.log"
  kp_check "collectd keeps running" kp_collectd_alive
  grep 'kube_proxy plugin' "$KP_TMP/collectd.log" | tail -n 2
  kp_stop_collectd
else
  echo "SKIP: capsh missing: no CAP_NET_ADMIN part"
fi

# --- a bad value stops collectd at start, naming key and value ---------------------
kp_write_conf "$KP_TMP/bad.conf" <<EOF
  Backend "iptables"
EOF
: >"$KP_TMP/collectd.log"
timeout 10 collectd -f -C "$KP_TMP/bad.conf" >"$KP_TMP/bad.out" 2>&1
rc=$?
kp_check "bad config: collectd refuses to start (rc=$rc)" test "$rc" -ne 0 -a "$rc" -ne 124
kp_check "... the error names the key and the value" \
  grep -qh 'invalid value "iptables" for option "Backend"' "$KP_TMP/collectd.log" "$KP_TMP/bad.out"
kp_check "... and how to get its file and line (collectd gives none)" \
  grep -qh 'kube-proxy-check --check-config FILE' "$KP_TMP/collectd.log" "$KP_TMP/bad.out"

kp_finish
