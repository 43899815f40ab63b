#!/usr/bin/env bash
# A failing read keeps collectd's schedule: 40 s of failures at Interval 1
# (the NetNS path does not exist), then the namespace appears with
# kube-proxy's rules. The real collectd with the default MaxReadInterval
# (a day: collectd doubles the wait of a read callback after every error,
# so a plugin returning errors would be called ~6 times in 40 s and come
# back up to ~20 s late). Asserts:
#  - kube_proxy/bool-read-failed is 1 every interval while failing, and
#    no other kube_proxy value is written;
#  - the log says so once (and "will retry every interval" is the truth:
#    one read-failed row per interval);
#  - values are back within 3 s of the namespace appearing, read-failed 0,
#    recovery logged once.
# Needs root (network namespaces, iptables-legacy).
#   test-collectd-read-failure.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_require

NS=kp-rf-$$
KP_TMP=$(mktemp -d /tmp/kp-it.XXXXXX)
cleanup() {
  kp_stop_collectd
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAIL_SECONDS=${KP_FAIL_SECONDS:-40}
log_count() {
  local n
  n=$(grep -c -- "$1" "$KP_TMP/collectd.log" 2>/dev/null)
  echo "${n:-0}"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
EOF
# collectd's default MaxReadInterval (86400 s), not the short one of the
# shared preamble: the backoff must show when the plugin reports errors.
sed -i '/^MaxReadInterval/d' "$KP_TMP/collectd.conf"
kp_start_collectd "$KP_TMP/collectd.conf"
start=$(now_ms)

failed_is_1() { kp_csv_is kube_proxy bool-read-failed 1; }
kp_check "missing NetNS: bool-read-failed is 1" kp_wait 8 failed_is_1
rest=$((FAIL_SECONDS - ($(now_ms) - start) / 1000))
[ "$rest" -gt 0 ] && sleep "$rest"
rows=$(kp_csv_rows kube_proxy bool-read-failed)
echo "  read-failed rows after ${FAIL_SECONDS}s of failures: $rows"
kp_check "... dispatched every interval ($rows rows in ${FAIL_SECONDS}s, want >= $((FAIL_SECONDS - 6)))" \
  test "$rows" -ge $((FAIL_SECONDS - 6))
kp_check "... still 1" failed_is_1
others=$(find "$KP_TMP/csv/$KP_HOST" -path '*kube_proxy*' -type f ! -name 'bool-read-failed-*' | wc -l)
kp_check "... and no other kube_proxy value while failing ($others files)" test "$others" -eq 0
kp_check "the cause logged once" \
  test "$(log_count 'kube_proxy plugin: cannot read the netfilter tables')" -eq 1
kp_check "... naming the path" grep -q "cannot read the netfilter tables.*$NS" "$KP_TMP/collectd.log"
kp_check "collectd keeps running" kp_collectd_alive

kp_make_node "$NS" || { echo "FAIL cannot build the test namespace"; exit 1; }
appeared=$(now_ms)
values_back() { kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES >/dev/null; }
kp_wait 30 values_back
back=$(($(now_ms) - appeared))
echo "  values back ${back} ms after the namespace appeared"
kp_check "values within 3 s of the namespace appearing (${back} ms)" test "$back" -le 3000
failed_is_0() { kp_csv_is kube_proxy bool-read-failed 0; }
kp_check "bool-read-failed 0 after it" kp_wait 3 failed_is_0
sleep 2
kp_check "recovery logged once" \
  test "$(log_count 'kube_proxy plugin: reading the netfilter tables works again')" -eq 1
kp_check "the cause still logged only once" \
  test "$(log_count 'kube_proxy plugin: cannot read the netfilter tables')" -eq 1
kp_check "collectd did not back off the read (no 'read-function ... failed' line)" \
  bash -c "! grep -q 'read-function of plugin .kube_proxy. failed' '$KP_TMP/collectd.log'"
grep 'kube_proxy' "$KP_TMP/collectd.log" | tail -n 4
kp_stop_collectd
kp_finish
