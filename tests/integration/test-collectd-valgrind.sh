#!/usr/bin/env bash
# The real collectd with kube_proxy.so under valgrind memcheck for at least
# 200 reads (Interval 0.05): a kube-proxy ruleset loaded into BOTH
# iptables-legacy and iptables-nft in one kp- namespace, so the libiptc and
# the libnftnl sources both run on every read, with connections crossing
# the nat chains meanwhile. Then SIGTERM: valgrind's exit status must be 0
# (--error-exitcode=99 turns any memory error or definite leak into 99).
# Suppressions (tests/valgrind/collectd.supp) cover only collectd's own
# allocations. Prints the number of reads and the read durations.
#   test-collectd-valgrind.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin vg iptables-legacy-restore iptables-legacy iptables-nft-restore valgrind

MIN_READS=200
SUPP="$KP_ROOT/tests/valgrind/collectd.supp"
kp_node
kp_ruleset | ip netns exec "$NS" iptables-nft-restore || kp_die "iptables-nft-restore"
kp_check "legacy nat table loaded" bash -c "ip netns exec $NS iptables-legacy-save -t nat | grep -q KUBE-SERVICES"
kp_check "nft nat table loaded" bash -c "ip netns exec $NS iptables-nft-save -t nat 2>/dev/null | grep -q KUBE-SERVICES"

kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.6"
  CollectServices true
EOF
# 20 reads a second; collectd accepts sub-second intervals (cdtime).
sed -i 's/^Interval 1$/Interval 0.05/; s/^MaxReadInterval 2$/MaxReadInterval 0.2/' \
  "$KP_TMP/collectd.conf"
kp_check "config has Interval 0.05" grep -q '^Interval 0.05$' "$KP_TMP/collectd.conf"

kp_start_collectd_by "$KP_TMP/collectd.out" \
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite --suppressions="$SUPP" --num-callers=30 \
  --log-file="$KP_TMP/valgrind.log" collectd -f -C "$KP_TMP/collectd.conf"

# Connections through the nat chains all along (a few per second).
(while :; do kp_traffic "$NS" 2; sleep 0.3; done) >/dev/null 2>&1 &
TRAFFIC_PID=$!
kp_track "$TRAFFIC_PID"
# A chain added and removed in both backends every 0.5 s: new nft
# generations (full decode instead of the cached copy) and new legacy
# table contents keep both readers' whole code paths running.
(while :; do
  for t in legacy nft; do ip netns exec "$NS" "iptables-$t" -N KUBE-VG-CHURN; done
  sleep 0.25
  for t in legacy nft; do ip netns exec "$NS" "iptables-$t" -X KUBE-VG-CHURN; done
  sleep 0.25
done) >/dev/null 2>&1 &
CHANGER_PID=$!
kp_track "$CHANGER_PID"

start=$(date +%s)
reads() { kp_csv_rows kube_proxy duration-read; }
enough() { [ "$(reads)" -ge $((MIN_READS + 10)) ]; }
kp_check "first read under valgrind" kp_wait 60 kp_csv_last kube_proxy duration-read
kp_check "$MIN_READS+ reads within 150 s" kp_wait 150 enough
kp_stop "$TRAFFIC_PID"
kp_stop "$CHANGER_PID"
n_reads=$(reads)
secs=$(($(date +%s) - start))
echo "reads under valgrind: $n_reads in ${secs}s"

kp_check "collectd still running under valgrind" kp_collectd_alive
kp_check "legacy tables were read (ipv4 KUBE-SERVICES series)" kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES
counted() { [ "$(kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES)" -gt 0 ]; }
kp_check "traffic was counted (KUBE-SERVICES packets > 0)" counted
kp_check "both backends were read (backends check FAILs: rules in both)" \
  kp_csv_is kube_proxy health-check-backends 2
kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' '$KP_TMP/collectd.log'"

# SIGTERM; valgrind exits with collectd's status, or 99 on any error.
kill -TERM "$KP_COLLECTD_PID"
for _ in $(seq 1 600); do kill -0 "$KP_COLLECTD_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$KP_COLLECTD_PID" 2>/dev/null; then
  kp_fail "collectd did not exit within 60 s of SIGTERM"
  kill -KILL "$KP_COLLECTD_PID" 2>/dev/null
fi
wait "$KP_COLLECTD_PID"
rc=$?
KP_COLLECTD_PID=
kp_check "exit status 0 after SIGTERM (99 = valgrind found errors; got $rc)" test "$rc" -eq 0
kp_check "reads counted: $n_reads >= $MIN_READS" test "$n_reads" -ge "$MIN_READS"
kp_check "valgrind really ran: ERROR SUMMARY: 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$KP_TMP/valgrind.log"
kp_check "valgrind: definitely lost 0 (or no leaks at all)" \
  grep -Eq 'definitely lost: 0 bytes|All heap blocks were freed' "$KP_TMP/valgrind.log"
kp_check "collectd exited normally" grep -q 'Exiting normally' "$KP_TMP/collectd.log"

# Read durations under valgrind (seconds), from the csv series.
cat "$KP_TMP/csv/$KP_HOST/kube_proxy/duration-read-"* 2>/dev/null | awk -F, '$1 ~ /^[0-9.]+$/ { print $2 }' |
  sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "read duration under valgrind: min %.4f median %.4f p95 %.4f max %.4f s (%d reads)\n", v[1], v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR], NR }'
if [ "$KP_FAILED" -ne 0 ]; then
  echo "--- valgrind log (tail) ---"
  tail -n 60 "$KP_TMP/valgrind.log"
fi
kp_finish
