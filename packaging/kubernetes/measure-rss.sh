#!/usr/bin/env bash
# Measures collectd's memory with kube_proxy.so on a node with N services
# (tests/fixtures/make-ruleset.sh), rules in iptables-legacy and in
# iptables-nft, for the DaemonSet's memory request and limit
# (packaging/kubernetes/README.md). Root; a kp- namespace per backend.
#   measure-rss.sh [BUILD_DIR] [SERVICES]      (default build, 10000)
# Prints per backend: VmRSS after 5 reads, VmHWM (peak), read duration.
set -uo pipefail
KP_BUILD=${1:-build}
N=${2:-10000}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$KP_ROOT/tests/integration/collectd-lib.sh"
KP_TMP=$(mktemp -d /tmp/kp-rss.XXXXXX)
NS=
trap 'kp_stop_collectd; [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null; rm -rf "$KP_TMP"' EXIT
bash "$KP_ROOT/tests/fixtures/make-ruleset.sh" --services "$N" >"$KP_TMP/rules.v4"
for b in legacy nft; do
  NS=kp-rss-$b-$$
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip netns exec "$NS" "iptables-$b-restore" <"$KP_TMP/rules.v4" || { echo "restore failed ($b)"; exit 1; }
  rm -rf "$KP_TMP/csv"
  kp_write_conf "$KP_TMP/collectd.conf" <<EOT
  NetNS "/run/netns/$NS"
  Backend "$b"
EOT
  sed -i 's/^Interval 1$/Interval 2/' "$KP_TMP/collectd.conf"
  kp_start_collectd "$KP_TMP/collectd.conf"
  kp_wait 120 bash -c "[ \$(cat $KP_TMP/csv/$KP_HOST/kube_proxy/duration-read-* 2>/dev/null | grep -c '^[0-9]') -ge 5 ]" ||
    echo "($b: fewer than 5 reads)"
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$KP_COLLECTD_PID/status")
  hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$KP_COLLECTD_PID/status")
  dur=$(kp_csv_last kube_proxy duration-read)
  svc=$(kp_csv_last kube_proxy objects-services)
  echo "$b: services=$svc VmRSS=${rss} kB VmHWM=${hwm} kB read=${dur} s"
  kp_stop_collectd
  ip netns del "$NS"
  NS=
done
