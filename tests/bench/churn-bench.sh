#!/usr/bin/env bash
# Reads of one kept nf_tables source under ruleset churn (not part of make
# bench: it takes minutes). A namespace kp-churn-PID with SERVICES services
# in iptables-nft, a writer, and bench_live churn N INTERVAL_MS in it:
#   kube-proxy  a partial sync every 1 s (iptables-nft-restore --noflush of
#               nat KUBE-SERVICES, KUBE-NODEPORTS and 10 services' chains,
#               built as bench.sh builds partial.txt)
#   unrelated   a commit to another table every 100 ms (nft add / delete
#               table ip kp-writer, alternately)
#   nonstop     the same two commits without pause
#   none        no writer
# Prints "PATTERN SERVICES failed F N median_ms max_ms". Needs root.
#   churn-bench.sh BUILD_DIR SERVICES PATTERN N INTERVAL_MS
set -euo pipefail
B=$1 services=$2 pattern=$3 n=$4 interval=$5
root=$(cd "$(dirname "$0")/../.." && pwd)
ns=kp-churn-$$
work=$(mktemp -d /tmp/kp-churn.XXXXXX)
writer=
cleanup() {
  set +e # every step, whatever the one before did
  if [ -n "$writer" ]; then # its own session (setsid): the whole loop
    kill -- -"$writer" 2>/dev/null || kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
bash "$root/tests/fixtures/make-ruleset.sh" --services "$services" >"$work/restore.txt"
ip netns exec "$ns" iptables-nft-restore <"$work/restore.txt"
awk -f "$root/tests/bench/partial-sync.awk" "$work/restore.txt" "$work/restore.txt" >"$work/partial.txt"
case "$pattern" in
kube-proxy) loop="while :; do iptables-nft-restore --noflush <'$work/partial.txt'; sleep 1; done" ;;
unrelated) loop='while :; do nft add table ip kp-writer; sleep 0.1; nft delete table ip kp-writer; sleep 0.1; done' ;;
nonstop) loop='while :; do nft add table ip kp-writer; nft delete table ip kp-writer; done' ;;
none) loop= ;;
*) echo "churn-bench.sh: unknown pattern $pattern" >&2; exit 64 ;;
esac
if [ -n "$loop" ]; then
  ip netns exec "$ns" setsid bash -c "$loop" >/dev/null 2>&1 &
  writer=$!
  sleep 1
fi
out=$(ip netns exec "$ns" "$B/bench/bench_live" churn "$n" "$interval" 2>"$work/err")
if [ -n "$writer" ]; then
  kill -- -"$writer" 2>/dev/null || kill "$writer"
  wait "$writer" 2>/dev/null || true
  writer=
fi
sort "$work/err" | uniq -c | sed 's/^/  /' >&2
echo "$pattern $services $out"
