#!/usr/bin/env bash
# make bench: the core's cost on a large node, as ratios against named
# baselines measured in the same run on the same data.
#   dump:  parse+index+checks of `iptables-save -c` and `iptables -L -n -v`
#          text, against reading the file (cat: the I/O floor), a grep scan
#          (what a shell toolkit does) and iptables' own parser
#          (iptables-legacy-restore --test).
#   live:  see bench_live (kernel copy floor, libiptc walk, iptables-save).
# Needs root for the live part and for capturing real dumps (a kp-bench-*
# namespace, deleted on exit); without root it benches the generated text.
set -euo pipefail
BUILD=${1:-build}
SERVICES=${SERVICES:-20000}
RUNS=${RUNS:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kp-bench.XXXXXX)
ns=kp-bench-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

ms() { # median wall ms of RUNS runs of "$@"
  local t=() i s e
  for ((i = 0; i < RUNS; i++)); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "bench: generating $SERVICES services"
"$here/tests/fixtures/make-ruleset.sh" --services "$SERVICES" >"$work/restore.txt"
save=$work/restore.txt list=""
if [ "$(id -u)" -eq 0 ] && command -v iptables-legacy-restore >/dev/null; then
  ip netns add "$ns"
  ip netns exec "$ns" iptables-legacy-restore <"$work/restore.txt"
  ip netns exec "$ns" iptables-legacy-save -c >"$work/save.txt"
  ip netns exec "$ns" iptables-legacy -t nat -L -n -v >"$work/list.txt"
  save=$work/save.txt list=$work/list.txt
else
  echo "bench: not root: benching the generated restore text only (no live part)"
fi
rules=$(grep -c '^\(\[[0-9:]*\] \)\?-A' "$save")
echo "bench: $rules rules in $(basename "$save"), $(wc -c <"$save") bytes"
echo
printf '%-34s %10s %10s\n' "dump ($SERVICES services)" "ms" "ratio"
read_ms=$(ms cat "$save")
grep_ms=$(ms grep -c -- '-j KUBE-' "$save")
restore_ms=n/a
if [ "$(id -u)" -eq 0 ] && command -v iptables-legacy-restore >/dev/null; then
  restore_ms=$(ms ip netns exec "$ns" iptables-legacy-restore --test "$save")
fi
out=$("$BUILD/bench/bench_core" "$save" "$RUNS" 10.180.0.2)
ours=$(awk '/_ms/ {s += $2} END {printf "%.3f", s}' <<<"$out")
printf '%-34s %10s %10s\n' "kube-proxy-check core (save -c)" "$ours" "1.00"
printf '%-34s %10s %10s\n' "  parse / index / checks" \
  "$(awk '/parse_ms/{p=$2} /finalize_ms/{f=$2} /checks_ms/{c=$2} END{printf "%s/%s/%s", p, f, c}' <<<"$out")" ""
printf '%-34s %10s %10s\n' "baseline cat (I/O floor)" "$read_ms" "$(ratio "$ours" "$read_ms")"
printf '%-34s %10s %10s\n' "baseline grep -c (shell toolkit)" "$grep_ms" "$(ratio "$ours" "$grep_ms")"
printf '%-34s %10s %10s\n' "baseline iptables-restore --test" "$restore_ms" "$(ratio "$ours" "$restore_ms")"
echo "  (ratio = ours / baseline; memory: $(awk '/arena_bytes/ {printf "%.1f MiB", $2/1048576}' <<<"$out") arena)"
if [ -n "$list" ]; then
  out=$("$BUILD/bench/bench_core" "$list" "$RUNS")
  lo=$(awk '/_ms/ {s += $2} END {printf "%.3f", s}' <<<"$out")
  printf '%-34s %10s %10s\n' "kube-proxy-check core (nat -L -n -v)" "$lo" "$(ratio "$lo" "$ours")"
fi
[ -n "$list" ] || exit 0

# ---- live: iptables-legacy ---------------------------------------------------
# One plugin read against its parts and against the other ways to read the
# same tables: `iptables-legacy-save -c` (a fork per interval) and collectd's
# own iptables plugin watching the same six chains, each run inside a real
# collectd (collectd -T: one read, timed as a whole minus an empty collectd).
echo
out=$("$BUILD/bench/bench_live" "/run/netns/$ns" "$RUNS")
floor=$(awk '/floor_ms/ {print $2}' <<<"$out")
walk=$(awk '/walk_ms/ {print $2}' <<<"$out")
ours=$(awk '/ours_ms/ {print $2}' <<<"$out")
save_ms=$(ms ip netns exec "$ns" iptables-legacy-save -c)
cdir=$work/collectd
mkdir -p "$cdir/plugins"
cp "$BUILD/kube_proxy.so" "$cdir/plugins/"
conf() { # NAME PLUGIN-LINES...
  local f=$cdir/$1.conf
  shift
  printf 'Hostname "bench"\nFQDNLookup false\nBaseDir "%s"\nPluginDir "/usr/lib/collectd"\nAutoLoadPlugin false\nInterval 10\n' \
    "$cdir" >"$f"
  printf '%s\n' "$@" >>"$f"
  echo "$f"
}
empty=$(conf empty 'LoadPlugin logfile' '<Plugin logfile>' '  File "/dev/null"' '</Plugin>')
ipt=$(conf ipt 'LoadPlugin logfile' '<Plugin logfile>' '  File "/dev/null"' '</Plugin>' 'LoadPlugin iptables' '<Plugin iptables>' \
  '  Chain nat PREROUTING' '  Chain nat OUTPUT' '  Chain nat POSTROUTING' '  Chain nat KUBE-SERVICES' \
  '  Chain nat KUBE-NODEPORTS' '  Chain nat KUBE-POSTROUTING' '</Plugin>')
kp=$(conf kp 'LoadPlugin logfile' '<Plugin logfile>' '  File "/dev/null"' '</Plugin>' 'PluginDir "'"$cdir/plugins"'"' 'LoadPlugin kube_proxy' \
  '<Plugin kube_proxy>' '  Backend "legacy"' '</Plugin>')
c_empty=$(ms ip netns exec "$ns" collectd -T -C "$empty")
c_ipt=$(ms ip netns exec "$ns" collectd -T -C "$ipt")
c_kp=$(ms ip netns exec "$ns" collectd -T -C "$kp")
in_ipt=$(awk -v a="$c_ipt" -v b="$c_empty" 'BEGIN {printf "%.3f", a - b}')
in_kp=$(awk -v a="$c_kp" -v b="$c_empty" 'BEGIN {printf "%.3f", a - b}')
printf '%-44s %10s %14s\n' "live legacy ($(awk '/^rules/ {print $2}' <<<"$out") rules)" "ms" "ours / it"
printf '%-44s %10s %14s\n' "ours: kp_live_read + index + checks" "$ours" "1.00"
printf '%-44s %10s %14s\n' "floor: iptc_init of filter, nat, mangle" "$floor" "$(ratio "$ours" "$floor")"
printf '%-44s %10s %14s\n' "libiptc walk of every rule (no decoding)" "$walk" "$(ratio "$ours" "$walk")"
printf '%-44s %10s %14s\n' "iptables-legacy-save -c (fork+exec)" "$save_ms" "$(ratio "$ours" "$save_ms")"
printf '%-44s %10s %14s\n' "in collectd: our plugin (one read)" "$in_kp" ""
printf '%-44s %10s %14s\n' "in collectd: iptables plugin, same 6 chains" "$in_ipt" "$(ratio "$in_kp" "$in_ipt")"
echo "  (collectd -T wall time minus an empty collectd's $c_empty ms; ratio = ours / baseline)"

# ---- live: iptables-nft --------------------------------------------------------
if [ -x "$BUILD/bench/bench_nft" ] && command -v iptables-nft-restore >/dev/null; then
  nsn=$ns-nft
  ip netns add "$nsn"
  trap 'ip netns del "$nsn" 2>/dev/null || true; cleanup' EXIT INT TERM
  ip netns exec "$nsn" iptables-nft-restore <"$work/restore.txt"
  out=$("$BUILD/bench/bench_nft" "/run/netns/$nsn" "$RUNS")
  full=$(sed -E 's/.* full ([0-9.]+) ms.*/\1/' <<<"$out")
  cached=$(sed -E 's/.* cached ([0-9.]+) ms.*/\1/' <<<"$out")
  nsave=$(ms ip netns exec "$nsn" iptables-nft-save -c)
  echo
  printf '%-44s %10s %14s\n' "live iptables-nft ($(awk '{print $2}' <<<"$out") rules)" "ms" "ours / it"
  printf '%-44s %10s %14s\n' "ours: full read (new generation)" "$full" "$(ratio "$full" "$nsave")"
  printf '%-44s %10s %14s\n' "ours: unchanged generation (cache)" "$cached" "$(ratio "$cached" "$nsave")"
  printf '%-44s %10s %14s\n' "iptables-nft-save -c (fork+exec)" "$nsave" "1.00"
  echo "  ($(sed -E 's/.*\((.*)\)$/\1/' <<<"$out"); ratio = ours / iptables-nft-save)"
fi
