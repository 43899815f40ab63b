#!/usr/bin/env bash
# Rule churn while the real collectd reads: kube_proxy.so reads every 0.1 s
# while a writer rewrites kube-proxy's filter and nat tables every 0.1 s the
# way kube-proxy's full sync does (`iptables-restore -w 5 --noflush
# --counters`: its KUBE-* chains declared, which flushes them, refilled,
# chains of deleted services and endpoints declared and removed with -X;
# the jump rules in the built-in chains and the mangle canary are left
# alone). Between writes services and endpoints come and go (6 variants of
# tests/fixtures/make-ruleset.sh, N services x K endpoints). Two phases of
# 30 s, each in its own kp- namespace: iptables-legacy, then iptables-nft.
#
# Asserted in each phase:
#  - no crash: collectd alive at the end and exit 0 on SIGTERM;
#  - no read error: the plugin logs "cannot read the netfilter tables" on
#    the first failed read of an episode. It exposes no retry counter; the
#    only retries are inside the readers (the nft reader re-dumps, at most
#    three times, when the ruleset generation changed mid-read, see
#    plugin/sources/live/live_nft.c kp_nft_read; libiptc copies a table in one
#    getsockopt). Those are invisible and allowed; any logged error fails;
#  - no finding flips without a real change: every read's masquerade,
#    hooks, chains, canary (and mode, pod-rules, backends, stale) gauge is
#    0, and no notification at all arrives during the churn (the variants
#    differ only in services and endpoints, which change no check state);
#  - no torn read: every read's (services, endpoints) pair is one the
#    writer really wrote, and at least 3 different pairs were seen;
#  - the writer never waits on us: every restore succeeds, its wall time
#    (ip netns exec + iptables-restore) stays under 1 s (the -w 5 budget is
#    5 s), and no "Another app is currently holding the xtables lock".
# Prints restore wall times and read durations.
#   test-churn.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin churn iptables-legacy-restore iptables-legacy iptables-nft-restore

PHASE_SECONDS=${KP_CHURN_SECONDS:-30}
MAX_RESTORE_MS=1000
VARIANTS=("5 2" "6 2" "7 3" "6 1" "8 2" "5 3") # services, endpoints per service
NS_BASE=$NS

# churn_node NS BACKEND: the node namespace NS and its client NS-c
# (kp_make_net: veth, node 10.99.0.1, client 10.99.0.2 + pod addresses
# 10.180.0.6/.7), the variant-0 ruleset loaded whole with
# iptables-BACKEND-restore.
churn_node() {
  kp_make_net "$1" && ip netns exec "$1" "iptables-$2-restore" <"$KP_TMP/full.0"
}

# payload OLD NEW: what kube-proxy's sync writes to go from ruleset OLD to
# NEW with --noflush: per table (filter, nat) NEW's KUBE-* chain lines, the
# chains only OLD has (declared, so flushed, then -X), NEW's rules; no
# built-in chain lines or rules (those would be appended again, not replaced).
payload() {
  awk '
    # built-in chains and the chains of kubelet are not for kube-proxy to write
    function builtin(c) { return c ~ /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING|KUBE-FIREWALL|KUBE-KUBELET-CANARY)$/ }
    FNR == 1 { file++ }
    /^\*/ { table = substr($0, 2); if (!(table in seen_table)) { seen_table[table] = 1; order[++nt] = table } next }
    table != "filter" && table != "nat" { next }
    /^:/ { c = substr($1, 2); if (builtin(c)) next
           if (file == 1) old[table, c] = 1
           else { new[table, c] = 1; decl[table] = decl[table] $1 " - [0:0]\n" }
           next }
    /^-A / { if (file == 2 && !builtin($2)) rules[table] = rules[table] $0 "\n"; next }
    END {
      for (k in old) { split(k, p, SUBSEP)
        if (!((p[1], p[2]) in new)) { gone_decl[p[1]] = gone_decl[p[1]] ":" p[2] " - [0:0]\n"
                                      gone_x[p[1]] = gone_x[p[1]] "-X " p[2] "\n" } }
      for (i = 1; i <= nt; i++) { t = order[i]; if (t != "filter" && t != "nat") continue
        printf "*%s\n%s%s%s%sCOMMIT\n", t, decl[t], gone_decl[t], rules[t], gone_x[t] }
    }' "$1" "$2"
}

gen="$KP_ROOT/tests/fixtures/make-ruleset.sh"
[ -f "$gen" ] || kp_skip "tests/fixtures/make-ruleset.sh missing"
nv=${#VARIANTS[@]}
# "services/endpoints" of each variant, as the plugin must count them:
# make-ruleset.sh has N service ports, all but web/orphan (index 4) with K
# endpoints each, so (N-1)*K endpoints (5 2 -> 8, checked by hand against
# the generated rules).
allowed=" "
for i in $(seq 0 $((nv - 1))); do
  set -- ${VARIANTS[$i]}
  bash "$gen" --services "$1" --endpoints-per-service "$2" >"$KP_TMP/full.$i" ||
    kp_skip "make-ruleset.sh failed"
  allowed+="$1/$((($1 - 1) * $2)) "
done
for i in $(seq 0 $((nv - 1))); do
  payload "$KP_TMP/full.$i" "$KP_TMP/full.$(((i + 1) % nv))" >"$KP_TMP/payload.$i"
done
kp_check "payloads generated (no built-in chain lines, -X for removed chains)" \
  bash -c "! grep -Eq '^(:|-A )(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ' $KP_TMP/payload.* &&
           grep -q '^-X KUBE-SEP-' $KP_TMP/payload.2"

# writer NS BACKEND SECONDS: one restore every 0.1 s; wall times (ms) to
# KP_TMP/times.BACKEND, stderr to KP_TMP/restore-err.BACKEND, failures counted.
writer() {
  local ns=$1 tool="iptables-$2-restore" end=$(($(date +%s%N) + $3 * 1000000000)) i=0 t0 t1 rc
  : >"$KP_TMP/times.$2"
  : >"$KP_TMP/restore-err.$2"
  echo 0 >"$KP_TMP/restore-fail.$2"
  local fails=0
  while [ "$(date +%s%N)" -lt "$end" ]; do
    t0=$(date +%s%N)
    ip netns exec "$ns" "$tool" -w 5 --noflush --counters <"$KP_TMP/payload.$((i % nv))" \
      2>>"$KP_TMP/restore-err.$2"
    rc=$?
    t1=$(date +%s%N)
    [ "$rc" -eq 0 ] || fails=$((fails + 1))
    echo $(((t1 - t0) / 1000000)) >>"$KP_TMP/times.$2"
    i=$((i + 1))
    local left=$((100000000 - (t1 - t0)))
    [ "$left" -gt 0 ] && sleep "0.$(printf '%09d' "$left")"
  done
  echo "$fails" >"$KP_TMP/restore-fail.$2"
}

# Every csv row of a series: "time value".
series() {
  cat "$KP_TMP/csv/$KP_HOST/kube_proxy/$1-"* 2>/dev/null | awk -F, '$1 ~ /^[0-9.]+$/ { v = $2; sub(/\.0+$/, "", v); print $1, v }'
}

phase() {
  local backend=$1 ns="$NS_BASE-${1:0:1}"
  echo "--- phase $backend: $PHASE_SECONDS s of churn in $ns"
  churn_node "$ns" "$backend" || { kp_fail "$backend: cannot build the namespace"; return; }
  rm -rf "$KP_TMP/csv" "$KP_TMP/notifications" "$KP_TMP/collectd.log"
  # ActivityIntervals 50: 5 s at Interval 0.1. With 20 (2 s), one make check
  # under load saw the activity WARNING once ("no new packets for 20 reads"
  # in the legacy phase, the connection loop below running; cause not known).
  # What this test judges is torn reads, not the activity window.
  kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$ns"
  PodIP "10.180.0.2"
  ActivityIntervals 50
EOF
  sed -i 's/^Interval 1$/Interval 0.1/; s/^MaxReadInterval 2$/MaxReadInterval 0.4/' "$KP_TMP/collectd.conf"
  kp_start_collectd "$KP_TMP/collectd.conf"
  (while :; do ip netns exec "$ns-c" timeout 0.2 bash -c 'echo > /dev/tcp/172.30.0.20/80'; done) \
    >/dev/null 2>&1 &
  TRAFFIC_PID=$!
  kp_track "$TRAFFIC_PID"
  kp_check "$backend: first read" kp_wait 15 kp_csv_last kube_proxy duration-read
  sleep 2 # start-up notifications (web/orphan has no endpoints: endpoints WARNING)
  local notifs0 rows0
  notifs0=$(kp_notifs_matching '^Plugin: kube_proxy')
  rows0=$(kp_csv_rows kube_proxy duration-read)

  writer "$ns" "$backend" "$PHASE_SECONDS"

  local rows1 notifs1
  sleep 0.5
  rows1=$(kp_csv_rows kube_proxy duration-read)
  notifs1=$(kp_notifs_matching '^Plugin: kube_proxy')
  kp_check "$backend: collectd still running after the churn" kp_collectd_alive
  kp_stop "$TRAFFIC_PID"
  kp_stop_collectd
  local rc=$KP_COLLECTD_RC
  kp_check "$backend: collectd exits 0 on SIGTERM (rc=$rc)" test "$rc" -eq 0

  # --- the writer
  local n_writes max_ms fails
  n_writes=$(wc -l <"$KP_TMP/times.$backend")
  max_ms=$(sort -n "$KP_TMP/times.$backend" | tail -n 1)
  fails=$(cat "$KP_TMP/restore-fail.$backend")
  sort -n "$KP_TMP/times.$backend" | awk -v b="$backend" '{ v[NR] = $1; s += $1 } END {
    printf "%s restores: %d, wall ms: min %d median %d p99 %d max %d mean %.1f\n", b, NR, v[1],
      v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.5)], v[NR], s / NR }'
  kp_check "$backend: >= $((PHASE_SECONDS * 5)) restores written ($n_writes)" \
    test "$n_writes" -ge $((PHASE_SECONDS * 5))
  kp_check "$backend: every restore succeeded ($fails failed)" test "$fails" -eq 0
  [ "$fails" -eq 0 ] || head -n 5 "$KP_TMP/restore-err.$backend"
  kp_check "$backend: max restore wall time ${max_ms} ms < $MAX_RESTORE_MS ms (-w 5 never waits on us)" \
    test "$max_ms" -lt "$MAX_RESTORE_MS"
  kp_check "$backend: no 'Another app is currently holding the xtables lock'" \
    bash -c "! grep -q 'Another app is currently holding the xtables lock' '$KP_TMP/restore-err.$backend'"

  # --- the reader
  local reads=$((rows1 - rows0))
  echo "$backend reads during the churn: $reads"
  kp_check "$backend: >= $((PHASE_SECONDS * 5)) reads during the churn ($reads)" \
    test "$reads" -ge $((PHASE_SECONDS * 5))
  kp_check "$backend: no read error logged" \
    bash -c "! grep -E 'kube_proxy plugin: .*(cannot read|out of memory|failed)' '$KP_TMP/collectd.log'"
  local c bad
  for c in masquerade hooks chains canary mode pod-rules backends stale; do
    bad=$(series "health-check-$c" | awk '$2 != 0' | wc -l)
    kp_check "$backend: check-$c gauge 0 in all $(series "health-check-$c" | wc -l) reads ($bad not)" \
      test "$bad" -eq 0 -a "$(series "health-check-$c" | wc -l)" -gt 0
  done
  kp_check "$backend: no notification during the churn ($((notifs1 - notifs0)) new)" \
    test "$notifs1" -eq "$notifs0"
  if [ "$notifs1" -ne "$notifs0" ]; then
    grep -h -E '^(Severity|TypeInstance):|^$' -A1 "$KP_TMP"/notifications/n.* | head -n 20
  fi

  # --- no torn reads: (services, endpoints) of each read is a written pair
  join <(series objects-services | sort) <(series objects-endpoints | sort) |
    awk '{ print $2 "/" $3 }' >"$KP_TMP/pairs.$backend"
  local torn distinct
  torn=$(while read -r p; do case "$allowed" in *" $p "*) ;; *) echo "$p" ;; esac; done \
    <"$KP_TMP/pairs.$backend" | sort | uniq -c)
  distinct=$(sort -u "$KP_TMP/pairs.$backend" | wc -l)
  echo "$backend (services/endpoints) pairs seen: $(sort "$KP_TMP/pairs.$backend" | uniq -c | awk '{ printf "%s x%d, ", $2, $1 }')"
  kp_check "$backend: every read saw a ruleset the writer wrote (torn: ${torn:-none})" test -z "$torn"
  kp_check "$backend: the reads followed the churn ($distinct different rulesets seen)" \
    test "$distinct" -ge 3

  series duration-read | awk '{ print $2 }' | sort -g | awk -v b="$backend" '{ v[NR] = $1 } END {
    if (NR) printf "%s read duration: min %.4f median %.4f p99 %.4f max %.4f s (%d reads)\n", b, v[1],
      v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.5)], v[NR], NR }'
  if [ "$KP_FAILED" -ne 0 ]; then
    grep 'kube_proxy' "$KP_TMP/collectd.log" | tail -n 10
  fi
  kp_delete_node "$ns"
}

phase legacy
phase nft
kp_finish
