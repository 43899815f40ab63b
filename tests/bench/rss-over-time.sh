#!/usr/bin/env bash
# make bench-memory: collectd's resident memory over many reads with
# kube_proxy.so (performance issue #10, item 6: at most +1 MiB from read 100
# to read 10,000). One kp- namespace holding a kube-proxy-shaped ruleset of
# SERVICES services (tests/fixtures/make-ruleset.sh, ENDPOINTS endpoints
# each; its IPv6 twin made by rewriting the addresses: 172.30.a.b ->
# fd00:30::a:b, 10.180.a.b -> fd00:180::a:b, /16 -> /64, without the
# 127.0.0.0/8 rule) in iptables-legacy AND iptables-nft, IPv4 AND IPv6, so
# that every read runs the libiptc and the libnftnl source for both
# families. The real collectd (collectd -f) with `IPv6 true`,
# `CollectServices true`, `MaxServices 100000` (a series per
# service port and family) and `Interval INTERVAL`.
#
# Reads are counted, not estimated: a PostCache filter chain
# (match_regex) writes only kube_proxy/duration-read to the csv plugin, one
# row per read; collectd's VmRSS (/proc/PID/status) is taken when the row
# count first reaches FROM and TO (polled every 0.2 s, so the count printed
# beside each sample is the count at that moment), as the lowest of 20
# samples over a second (the floor between reads; the highest is printed). Prints the read rate and
# the read durations (csv), and fails (exit 1) when RSS grew by more than
# LIMIT_KIB. Needs root; everything is removed on exit (lib.sh).
#   tests/bench/rss-over-time.sh BUILD_DIR
#   make bench-memory READS=10000 SERVICES=1000 INTERVAL=0.05
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/../integration/collectd-lib.sh"
kp_begin mem iptables-legacy-restore ip6tables-legacy-restore iptables-nft-restore ip6tables-nft-restore

SERVICES=${SERVICES:-1000}
ENDPOINTS=${ENDPOINTS:-3}
FROM=${FROM:-100}
TO=${READS:-10000}
INTERVAL=${INTERVAL:-0.05}
LIMIT_KIB=${LIMIT_KIB:-1024}
[ -f /usr/lib/collectd/match_regex.so ] || kp_skip "collectd's match_regex plugin missing"

v4=$KP_TMP/rules-v4.txt v6=$KP_TMP/rules-v6.txt
bash "$KP_ROOT/tests/fixtures/make-ruleset.sh" --services "$SERVICES" --endpoints-per-service "$ENDPOINTS" >"$v4" ||
  kp_die "make-ruleset.sh"
sed -e '/127\.0\.0\.0\/8/d' \
  -e 's/--to-destination 10\.180\.\([0-9]*\)\.\([0-9]*\):/--to-destination [fd00:180::\1:\2]:/g' \
  -e 's|10\.180\.0\.0/16|fd00:180::/64|g; s|172\.30\.0\.0/16|fd00:30::/64|g' \
  -e 's/10\.180\.\([0-9]*\)\.\([0-9]*\)/fd00:180::\1:\2/g; s/172\.30\.\([0-9]*\)\.\([0-9]*\)/fd00:30::\1:\2/g' \
  -e 's/icmp-port-unreachable/icmp6-port-unreachable/g' "$v4" >"$v6"
kp_ns_add "$NS" || kp_die "ip netns add $NS"
for b in legacy nft; do
  ip netns exec "$NS" "iptables-$b-restore" <"$v4" || kp_die "iptables-$b-restore"
  ip netns exec "$NS" "ip6tables-$b-restore" <"$v6" || kp_die "ip6tables-$b-restore"
done
rules=$(grep -c '^-A' "$v4")
for t in iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save; do
  n=$(ip netns exec "$NS" "$t" 2>/dev/null | grep -c '^-A')
  kp_check "$t: $n rules loaded (of $rules)" test "$n" -ge $((rules - 2))
done

conf=$KP_TMP/collectd.conf
kp_write_conf "$conf" <<EOF
  NetNS "/run/netns/$NS"
  IPv6 true
  CollectServices true
  MaxServices 100000
EOF
sed -i "s/^Interval 1\$/Interval $INTERVAL/; s/^MaxReadInterval 2\$/MaxReadInterval 1/" "$conf"
cat >>"$conf" <<'EOF'
# One csv row per read (kube_proxy/duration-read), nothing else written.
PluginDir "/usr/lib/collectd"
LoadPlugin match_regex
PostCacheChain "kp_reads"
<Chain "kp_reads">
  <Rule "duration_read">
    <Match "regex">
      Plugin "^kube_proxy$"
      Type "^duration$"
      TypeInstance "^read$"
    </Match>
    <Target "write">
      Plugin "csv"
    </Target>
  </Rule>
  Target "stop"
</Chain>
EOF
kp_check "config has Interval $INTERVAL" grep -q "^Interval $INTERVAL\$" "$conf"
kp_start_collectd "$conf"

reads() { kp_csv_rows kube_proxy duration-read; }
at_least() { [ "$(reads)" -ge "$1" ] || ! kp_collectd_alive; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$KP_COLLECTD_PID/status" 2>/dev/null; }
# What stays resident between reads: the lowest VmRSS of 20 samples over
# about a second (several reads). A read holds the legacy table's kernel
# copy (mmap'ed, 7.5 MiB at 1k services) while it runs, so one sample
# lands inside a read or not; growth is what the floor does. "floor max".
rss_floor_kib() {
  local i v lo='' hi=''
  for i in $(seq 20); do
    v=$(rss_kib)
    [ -n "$v" ] || continue
    if [ -z "$lo" ] || [ "$v" -lt "$lo" ]; then lo=$v; fi
    if [ -z "$hi" ] || [ "$v" -gt "$hi" ]; then hi=$v; fi
    sleep 0.05
  done
  echo "$lo $hi"
}
# Rss of each mapping ("start name Rss-KiB"; a heap that grows keeps its
# start): where the growth sits (glibc gives each thread that mallocs its
# own heap, 64 MiB-aligned).
maps_rss() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, a, "-"); m = a[1] " " ($6 == "" ? "[anon]" : $6) }
    /^Rss:/ { print m, $2 }' \
    "/proc/$KP_COLLECTD_PID/smaps" 2>/dev/null >"$1"
}

kp_check "read $FROM reached" kp_wait 300 at_least "$FROM"
n_from=$(reads) t_from=$(date +%s.%N)
read -r rss_from max_from <<<"$(rss_floor_kib)"
[ -n "$rss_from" ] || kp_die "collectd is not running at read $n_from (see $KP_TMP/collectd.log)"
maps_rss "$KP_TMP/maps.from"
echo "read $n_from: VmRSS $rss_from KiB (highest sample $max_from)"
# Expected time at INTERVAL, plus half, plus a minute.
budget=$(awk -v n="$TO" -v i="$INTERVAL" 'BEGIN { printf "%d", n * i * 1.5 + 60 }')
step=$(((TO - FROM) / 4))
for q in 1 2 3; do
  kp_wait "$budget" at_least $((FROM + q * step)) || break
  echo "read $(reads): VmRSS $(rss_floor_kib | awk '{ print $1 " KiB (highest sample " $2 ")" }')"
done
kp_check "read $TO reached within ${budget}s" kp_wait "$budget" at_least "$TO"
n_to=$(reads) t_to=$(date +%s.%N)
read -r rss_to max_to <<<"$(rss_floor_kib)"
[ -n "$rss_to" ] || kp_die "collectd is not running at read $n_to"
maps_rss "$KP_TMP/maps.to"
echo "read $n_to: VmRSS $rss_to KiB (highest sample $max_to)"
kp_check "collectd still running" kp_collectd_alive
kp_check "no read error in the log" bash -c "! grep -q 'cannot read the netfilter' '$KP_TMP/collectd.log'"
# collectd's cache holds every series dispatched (LISTVAL), written or not.
collectdctl -s "$KP_TMP/sock" listval >"$KP_TMP/listval.txt"
for fam in ipv4 ipv6; do
  n=$(grep -c "/kube_proxy-$fam-services/ipt_packets-" "$KP_TMP/listval.txt")
  kp_check "per-service series in the cache: $n kube_proxy-$fam-services packet series (>= $((SERVICES - 1)): web/orphan has no endpoints)" \
    test "$n" -ge $((SERVICES - 1))
done
kp_stop_collectd

rate=$(awk -v a="$n_from" -v b="$n_to" -v s="$t_from" -v e="$t_to" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
growth=$((rss_to - rss_from))
echo "services $SERVICES ($rules rules per family and backend), Interval $INTERVAL: $((n_to - n_from)) reads" \
  "in $(awk -v s="$t_from" -v e="$t_to" 'BEGIN { printf "%.0f", e - s }') s ($rate reads/s)"
cat "$KP_TMP/csv/$KP_HOST/kube_proxy/duration-read-"* 2>/dev/null | awk -F, '$1 ~ /^[0-9.]+$/ { print $2 }' |
  sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "read duration: median %.4f p95 %.4f max %.4f s (%d reads)\n", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR], NR }'
echo "mappings whose Rss changed by 64 KiB or more (KiB at read $n_from -> $n_to):"
awk 'NR == FNR { was[$1] = $3; next } { d = $3 - was[$1]; if (d >= 64 || d <= -64) printf "  %s %s %d -> %d\n", $1, $2, was[$1], $3 }' \
  "$KP_TMP/maps.from" "$KP_TMP/maps.to"
echo "VmRSS read $n_from -> read $n_to: $rss_from -> $rss_to KiB ($growth KiB, limit $LIMIT_KIB)"
kp_check "VmRSS grew by $growth KiB <= $LIMIT_KIB KiB" test "$growth" -le "$LIMIT_KIB"
kp_finish
