#!/usr/bin/env bash
# `make demo`: kube_proxy.so inside the real collectd, in under a minute.
# On a fresh Debian 12 machine, as root: installs what it needs, builds,
# creates a demo namespace kp-demo holding a kube-proxy ruleset (iptables-
# legacy) with a client namespace sending real connections to a service,
# runs collectd with the plugin (Interval 1) printing its values, breaks
# masquerading (FAILURE notification) and repairs it (OKAY). Everything it
# creates is removed on every exit path, Ctrl-C included.
#   tests/demo.sh [BUILD_DIR]      (KP_DEMO_NO_INSTALL=1 skips apt-get)
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

if [ -t 1 ]; then
  B=$'\e[1m' D=$'\e[2m' R=$'\e[31m' G=$'\e[32m' Y=$'\e[33m' C=$'\e[36m' N=$'\e[0m'
else
  B= D= R= G= Y= C= N=
fi
say() { printf '%s==>%s %s%s%s\n' "$C" "$N" "$B" "$*" "$N"; }
die() {
  printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, netfilter tables, collectd): sudo make demo"

# --- 1. packages (only when something is missing) -------------------------------------
if [ "${KP_DEMO_NO_INSTALL:-0}" != 1 ]; then
  "$(dirname "$0")/install-deps.sh" demo || die "could not install the packages the demo needs"
fi

# --- 2. build --------------------------------------------------------------------------------
say "Building $BUILD/kube_proxy.so"
if ! make -s -j"$(nproc)" BUILD="$BUILD" plugin >"/tmp/kp-demo-build.$$.log" 2>&1; then
  tail -n 30 "/tmp/kp-demo-build.$$.log"
  rm -f "/tmp/kp-demo-build.$$.log"
  die "build failed"
fi
rm -f "/tmp/kp-demo-build.$$.log"
printf '    %s\n' "$(ls -l "$BUILD/kube_proxy.so" | awk '{print $5 " bytes, exports: "}')$(nm -D --defined-only "$BUILD/kube_proxy.so" | awk '{print $3}' | xargs)"

# --- 3. the demo node -------------------------------------------------------------------------
KP_BUILD=$BUILD
. "$ROOT/tests/integration/collectd-lib.sh"
KP_HOST=kp-demo
NS=kp-demo
KP_TMP=$(mktemp -d /tmp/kp-demo.XXXXXX)
TRAFFIC_PID=
cleanup() {
  trap - EXIT INT TERM
  [ -n "$TRAFFIC_PID" ] && kill "$TRAFFIC_PID" 2>/dev/null && wait "$TRAFFIC_PID" 2>/dev/null
  kp_stop_collectd
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
  printf '%s==>%s cleaned up: namespaces %s and %s-c deleted, %s removed\n' "$C" "$N" "$NS" "$NS" "$KP_TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

kp_delete_node "$NS" # a leftover from a killed run
say "Creating namespace $NS (the node) and $NS-c (a client), joined by a veth pair"
kp_make_node "$NS" || die "cannot create the demo namespaces"
echo "    loaded a kube-proxy ruleset with iptables-legacy-restore: $(ip netns exec "$NS" iptables-legacy-save | grep -c '^-A') rules," \
  "service web/frontend:http = 172.30.0.20:80 -> pods 10.180.0.6/7:8080"

kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
  PodIP "10.180.0.6"
  CollectServices true
  ServiceFilter "^web/"
EOF
echo "    collectd.conf: csv + exec (notifications) + logfile, and:"
sed -n '/<Plugin kube_proxy>/,/<\/Plugin>/p' "$KP_TMP/collectd.conf" | sed "s/^/      $D/;s/\$/$N/"

# Connections from the client, a few per second, until the demo ends.
(while :; do
  ip netns exec "$NS-c" timeout 1 bash -c 'echo > /dev/tcp/172.30.0.20/80' 2>/dev/null
  sleep 0.25
done) &
TRAFFIC_PID=$!

# --- 4. collectd ------------------------------------------------------------------------------
say "Starting collectd -f (Interval 1) with kube_proxy.so"
kp_start_collectd "$KP_TMP/collectd.conf"
kp_wait 10 kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES >/dev/null ||
  { tail -n 20 "$KP_TMP/collectd.log"; die "collectd wrote no values"; }

SEEN=" "
show_notifications() {
  local f sev ti msg col plugin
  for f in $(ls -1tr "$KP_TMP"/notifications/n.* 2>/dev/null); do # oldest first
    [ -f "$f" ] || continue
    case "$SEEN" in *" $f "*) continue ;; esac
    SEEN="$SEEN$f "
    sev=$(sed -n 's/^Severity: //p' "$f")
    ti=$(sed -n 's/^TypeInstance: //p' "$f")
    plugin=$(sed -n 's/^Plugin: //p' "$f")
    [ "$plugin" = kube_proxy ] || ti="(from $plugin/$(sed -n 's/^PluginInstance: //p' "$f"))"
    msg=$(awk 'body { print } /^$/ { body = 1 }' "$f" | head -n 1)
    case $sev in FAILURE) col=$R ;; WARNING) col=$Y ;; *) col=$G ;; esac
    printf '    %s%-8s%s %-22s %s\n' "$col$B" "$sev" "$N" "${ti#check-}" "$msg"
    if [ "$sev" = FAILURE ] && [ "$plugin" = kube_proxy ]; then
      grep -E '^(check|mode|backend|table|chain|mark|services|endpoints): ' "$f" | xargs printf "${D}%s ${N}" | sed 's/^/             meta: /'
      echo
    fi
  done
}

prev=
tick() {
  local pk mq svc eps rules checks d rate="" name v
  pk=$(kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES)
  mq=$(kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-POSTROUTING)
  svc=$(kp_csv_last kube_proxy objects-services)
  eps=$(kp_csv_last kube_proxy objects-endpoints)
  d=$(kp_csv_last kube_proxy duration-read)
  [ -n "$prev" ] && rate="(+$((pk - prev)))"
  prev=$pk
  checks=
  for name in masquerade hooks chains activity endpoints pod-rules process; do
    v=$(kp_csv_last kube_proxy "health-check-$name")
    case $v in 0) checks="$checks $G$name$N" ;; 1) checks="$checks $Y$name!$N" ;; 2) checks="$checks $R$B$name!!$N" ;; esac
  done
  printf '  %s%s%s KUBE-SERVICES %5s pkts %-6s POSTROUTING %5s | %s svc %s ep | read %5.2f ms |%s\n' \
    "$D" "$(date +%T)" "$N" "$pk" "$rate" "$mq" "$svc" "$eps" "$(awk -v s="$d" 'BEGIN{print s*1000}')" "$checks"
}

watch_for() { # SECONDS: print a line per interval and any new notification
  local i
  for ((i = 0; i < $1; i++)); do
    sleep 1
    tick
    show_notifications
  done
}

say "Values every interval (csv), notifications as the exec plugin receives them"
show_notifications
watch_for 5

say "Breaking masquerading: deleting the MASQUERADE rule from nat KUBE-POSTROUTING"
MASQ_RULE=(-t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully)
ip netns exec "$NS" iptables-legacy -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
echo "    ${D}(connections now hang: the pods' replies bypass the node without SNAT)${N}"
watch_for 4

say "Repairing it (what kube-proxy's next sync would do)"
ip netns exec "$NS" iptables-legacy -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
watch_for 3

say "Other plugins' word on the kube-proxy process: a PUTNOTIF through unixsock"
if kp_putnotif failure "kube-proxy is not running (processes plugin + threshold)" >/dev/null 2>&1; then
  watch_for 2
  kp_putnotif okay "kube-proxy is running" >/dev/null 2>&1
  watch_for 2
else
  echo "    (python3 not found: skipped)"
fi

kp_stop_collectd
say "Done: $(ls "$KP_TMP"/notifications | wc -l) notifications, $(grep -c 'error' "$KP_TMP/collectd.log") errors in collectd's log"
echo "    install it: cp $BUILD/kube_proxy.so /usr/lib/collectd/ && cp conf/kube_proxy.conf /etc/collectd/collectd.conf.d/"
echo "    reference: man docs/collectd-kube_proxy.5, docs/metrics.md"
