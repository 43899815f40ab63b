#!/usr/bin/env bash
# make bench: the live reads' cost on kube-proxy-shaped rulesets, as ratios
# against named baselines measured in the same run, on the same namespace,
# for each size in SERVICES (make bench SERVICES="1000 10000" RUNS=3).
#   whole process (bench_run: alternated runs, median wall time, peak RSS):
#     legacy: kube-proxy-check --backend legacy (read + evaluate) against the
#             raw kernel copy (IPT_SO_GET_INFO + GET_ENTRIES), a bare libiptc
#             walk, iptables-legacy-save -c
#     nft:    kube-proxy-check --backend nft against iptables-nft-save -c and
#             a chain-by-chain libnftnl dump
#   in process (one kp_live_source, as the plugin keeps it): first read,
#     unchanged ruleset, after a one-rule change; legacy against a bare
#     libiptc walk in the same process
#   in collectd (collectd -T, one read, minus an empty collectd): our plugin
#     against collectd's iptables plugin on the same 6 chains
# Needs root (kp-bench-* namespaces, deleted on exit). Also prints the dump
# parser's cost on the largest size's iptables-save -c text.
set -euo pipefail
BUILD=${1:-build}
SERVICES=${SERVICES:-1000 5000 10000 20000}
RUNS=${RUNS:-5}
ENDPOINTS=${ENDPOINTS:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
B=$BUILD/bench
work=$(mktemp -d /tmp/kp-bench.XXXXXX)
nsl=kp-bench-$$-leg nsn=kp-bench-$$-nft
cleanup() {
  ip netns del "$nsl" 2>/dev/null || true
  ip netns del "$nsn" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: needs root (network namespaces, kernel tables)" >&2
  exit 1
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { printf '%-46s %9s %9s %8s %s\n' "$@"; }
cli="$here/$BUILD/kube-proxy-check --kube-proxy-metrics none --kube-proxy-healthz none"

# collectd configurations (one read each with collectd -T)
cdir=$work/collectd
mkdir -p "$cdir/plugins"
cp "$BUILD/kube_proxy.so" "$cdir/plugins/"
conf() { # NAME PLUGIN-LINES...
  local f=$cdir/$1.conf
  shift
  printf 'Hostname "bench"\nFQDNLookup false\nBaseDir "%s"\nPluginDir "/usr/lib/collectd"\nAutoLoadPlugin false\nInterval 10\n' \
    "$cdir" >"$f"
  printf "%s\n" "LoadPlugin logfile" "<Plugin logfile>" "  File \"${LOGFILE:-/dev/null}\"" "</Plugin>" "$@" >>"$f"
  echo "$f"
}
c_empty=$(conf empty)
c_ipt=$(conf ipt 'LoadPlugin iptables' '<Plugin iptables>' '  Chain nat PREROUTING' '  Chain nat OUTPUT' \
  '  Chain nat POSTROUTING' '  Chain nat KUBE-SERVICES' '  Chain nat KUBE-NODEPORTS' '  Chain nat KUBE-POSTROUTING' '</Plugin>')
c_kp=$(conf kp 'PluginDir "'"$cdir/plugins"'"' 'LoadPlugin kube_proxy' '<Plugin kube_proxy>' '  Backend "legacy"' \
  '  KubeProxyMetrics "none"' '  KubeProxyHealthz "none"' '</Plugin>')
echo "bench: $(nproc) CPU, $(uname -r), RUNS=$RUNS, $ENDPOINTS endpoints per service"
for s in $SERVICES; do
  ip netns del "$nsl" 2>/dev/null || true
  ip netns del "$nsn" 2>/dev/null || true
  ip netns add "$nsl"
  ip netns add "$nsn"
  "$here/tests/fixtures/make-ruleset.sh" --services "$s" --endpoints-per-service "$ENDPOINTS" >"$work/restore.txt"
  ip netns exec "$nsl" iptables-legacy-restore <"$work/restore.txt"
  ip netns exec "$nsn" iptables-nft-restore <"$work/restore.txt"
  rules=$(grep -c '^-A' "$work/restore.txt")
  echo
  row "$s services, $rules rules" "ms" "peak MiB" "ratio" "(ratio = ours / baseline; target)"

  # legacy, whole process
  mapfile -t r < <("$B/bench_run" --netns "/run/netns/$nsl" "$RUNS" -- "$B/bench_live" raw -- "$B/bench_live" walk \
    -- $cli --backend legacy -- iptables-legacy-save -c)
  read -r raw_ms raw_kib <<<"${r[0]}"
  read -r walk_ms walk_kib <<<"${r[1]}"
  read -r ours_ms ours_kib <<<"${r[2]}"
  read -r save_ms save_kib <<<"${r[3]}"
  row "legacy: kube-proxy-check (read + evaluate)" "$ours_ms" "$(mib "$ours_kib")" "1.00"
  row "  raw kernel copy (GET_INFO + GET_ENTRIES)" "$raw_ms" "$(mib "$raw_kib")" "$(ratio "$ours_ms" "$raw_ms")" "<= 1.6"
  row "  bare libiptc walk (iptc_init + rules)" "$walk_ms" "$(mib "$walk_kib")" "$(ratio "$ours_ms" "$walk_ms")" \
    "RSS $(ratio "$ours_kib" "$walk_kib") <= 1.2"
  row "  iptables-legacy-save -c" "$save_ms" "$(mib "$save_kib")" "$(ratio "$ours_ms" "$save_ms")"

  # legacy, in process (the plugin's reads)
  read -r first unchanged changed walk_in n eval _ <<<"$(ip netns exec "$nsl" "$B/bench_live" reads legacy "$RUNS")"
  row "legacy in process: first read" "$first" "" "$(ratio "$first" "$walk_in")" "vs walk in process"
  row "  unchanged rules (counters only)" "$unchanged" "" "$(ratio "$unchanged" "$walk_in")" "<= 1.15"
  row "  ... plus finalize and every check" "$eval" "" "$(ratio "$eval" "$walk_in")"
  row "  after a one-rule change" "$changed" "" "$(ratio "$changed" "$walk_in")"
  row "  bare libiptc walk, same process" "$walk_in" "" "1.00"

  # legacy, inside collectd (collectd -T exits early, and fast, when the
  # configuration is refused: make that an error)
  if ip netns exec "$nsl" collectd -T -C "$c_kp" 2>&1 | grep -q 'config file failed'; then
    echo "bench: collectd refuses $c_kp" >&2
    exit 1
  fi
  mapfile -t r < <("$B/bench_run" --netns "/run/netns/$nsl" "$RUNS" -- collectd -T -C "$c_empty" \
    -- collectd -T -C "$c_ipt" -- collectd -T -C "$c_kp")
  read -r ce _ <<<"${r[0]}"
  read -r ci ci_kib <<<"${r[1]}"
  read -r ck ck_kib <<<"${r[2]}"
  in_ipt=$(awk -v a="$ci" -v b="$ce" 'BEGIN {printf "%.3f", a - b}')
  in_kp=$(awk -v a="$ck" -v b="$ce" 'BEGIN {printf "%.3f", a - b}')
  row "collectd -T: our plugin (one read, legacy)" "$in_kp" "$(mib "$ck_kib")" "1.00"
  row "  collectd iptables plugin, same 6 chains" "$in_ipt" "$(mib "$ci_kib")" "$(ratio "$in_kp" "$in_ipt")"

  # nft, whole process
  mapfile -t r < <("$B/bench_run" --netns "/run/netns/$nsn" "$RUNS" -- "$B/bench_live" nftdump \
    -- $cli --backend nft -- iptables-nft-save -c)
  read -r dump_ms dump_kib <<<"${r[0]}"
  read -r nours_ms nours_kib <<<"${r[1]}"
  read -r nsave_ms nsave_kib <<<"${r[2]}"
  row "nft: kube-proxy-check (read + evaluate)" "$nours_ms" "$(mib "$nours_kib")" "1.00"
  row "  iptables-nft-save -c" "$nsave_ms" "$(mib "$nsave_kib")" "$(ratio "$nours_ms" "$nsave_ms")" \
    "<= 0.7, RSS $(ratio "$nours_kib" "$nsave_kib") <= 0.6"
  row "  chain-by-chain libnftnl dump" "$dump_ms" "$(mib "$dump_kib")" "$(ratio "$nours_ms" "$dump_ms")"

  # nft, in process; a kube-proxy partial sync: nat KUBE-SERVICES and
  # KUBE-NODEPORTS rewritten whole and 10 services' KUBE-SVC/KUBE-SEP chains
  # rewritten, through iptables-nft-restore --noflush (the same rules again)
  awk -f "$here/tests/bench/partial-sync.awk" "$work/restore.txt" "$work/restore.txt" >"$work/partial.txt"
  read -r first unchanged changed _ n eval synced \
    <<<"$(ip netns exec "$nsn" "$B/bench_live" reads nft "$RUNS" "$work/partial.txt")"
  row "nft in process: first read" "$first" "" "1.00"
  row "  generation unchanged" "$unchanged" "" "$(ratio "$unchanged" "$first")" "<= 5 ms"
  # Its floor: the kernel's dumps of the chains whose counters it refreshes
  # (nf_tables has no counters-only dump; counter changes are not notified).
  read -r floor _ <<<"$(ip netns exec "$nsn" "$B/bench_live" refreshfloor "$RUNS")"
  row "  floor: kernel dump of those chains' rules" "$floor" "" "$(ratio "$floor" "$first")" \
    "unchanged / floor $(ratio "$unchanged" "$floor")"
  row "  ... plus finalize and every check" "$eval" "" "$(ratio "$eval" "$first")"
  row "  after a one-rule change" "$changed" "" "$(ratio "$changed" "$first")"
  row "  first read after a partial sync ($(grep -c '^-A' "$work/partial.txt") rules)" "$synced" "" \
    "$(ratio "$synced" "$first")" "<= 0.25 (item 4)"
  last=$s
done

# The dump parser on the largest size's iptables-save -c text.
ip netns exec "$nsl" iptables-legacy-save -c >"$work/save.txt"
out=$("$B/bench_core" "$work/save.txt" "$RUNS" 10.180.0.2)
echo
echo "dump parser, $last services (iptables-save -c, $(wc -c <"$work/save.txt") bytes): $(awk '/_ms/ {printf "%s %s  ", $1, $2}' <<<"$out")"
