#!/usr/bin/env bash
# Least privilege (docs/privileges.md): the CLI (live) and collectd with
# kube_proxy.so run as nobody:nogroup, no supplementary groups, holding only
# the capabilities given with setpriv (inheritable + ambient, so they
# survive the exec of the non-root program).
#  - legacy tables: CAP_NET_ADMIN + CAP_NET_RAW (libiptc opens a raw socket,
#    then getsockopt IPT_SO_GET_INFO/ENTRIES) -> reads work;
#  - nf_tables only (--backend nft): CAP_NET_ADMIN alone -> reads work;
#  - another namespace (--netns / NetNS): + CAP_SYS_ADMIN for setns(2), or
#    run the program inside the namespace (ip netns exec) without it;
#  - a missing capability: the CLI exits 3 with a message naming it,
#    collectd logs it once and keeps running;
#  - a non-root reader in auto mode must not create legacy tables in an
#    nft-only namespace (the monitor must not change the node).
#   test-least-privilege.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_require_tools setpriv
id nobody >/dev/null 2>&1 || kp_skip "no user nobody"
getent group nogroup >/dev/null 2>&1 || kp_skip "no group nogroup"
CLI="$KP_BUILD/kube-proxy-check"
[ -x "$CLI" ] || kp_skip "$CLI not built"
kp_begin lp iptables-legacy-restore iptables-nft-restore # NS: the legacy node (and NS-c, its client)
NSN=kp-lpn-$$                                            # the nft-only node

kp_node legacy
kp_ns_add "$NSN"
kp_ruleset | ip netns exec "$NSN" iptables-nft-restore || kp_die "iptables-nft-restore"
cp "$CLI" "$KP_TMP/kube-proxy-check"
chmod 755 "$KP_TMP" "$KP_TMP/kube-proxy-check"
CLI="$KP_TMP/kube-proxy-check" # readable and executable by nobody

# as_nobody CAPS CMD...: CAPS like "+net_admin,+net_raw" or "" (none).
as_nobody() {
  local caps=$1
  shift
  if [ -n "$caps" ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="$caps" \
      --ambient-caps="$caps" -- "$@"
  else
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"
  fi
}

# cli WHERE CAPS ARGS...: WHERE is a namespace to run in, or "-" for ours.
# Sets rc and out.
cli() {
  local where=$1 caps=$2
  shift 2
  if [ "$where" = - ]; then
    out=$(as_nobody "$caps" "$CLI" "$@" 2>&1)
  else
    out=$(ip netns exec "$where" setpriv --reuid=nobody --regid=nogroup --clear-groups \
      --inh-caps="${caps:--all}" ${caps:+--ambient-caps="$caps"} -- "$CLI" "$@" 2>&1)
  fi
  rc=$?
}
works() { [ "$rc" -le 2 ] && grep -q 'kube-proxy mode: iptables' <<<"$out"; }
refused_naming() { [ "$rc" -eq 3 ] && grep -q "$1" <<<"$out"; }
show() { echo "     -> rc=$rc: $(head -n 1 <<<"$out")"; }

echo "--- the CLI as nobody"
cli - "+net_admin" --version
kp_check "nobody really runs it (--version, rc=$rc)" test "$rc" -eq 0
cli "$NS" "+net_admin,+net_raw"
kp_check "legacy tables, CAP_NET_ADMIN+CAP_NET_RAW, inside the namespace: works" works
show
cli "$NSN" "+net_admin" --backend nft
kp_check "nft tables (--backend nft), CAP_NET_ADMIN only: works" works
show
cli "$NS" "+net_admin"
kp_check "legacy tables, CAP_NET_ADMIN only: exit 3 naming CAP_NET_RAW (the raw socket libiptc opens)" \
  refused_naming CAP_NET_RAW
show
cli "$NS" "+net_raw"
kp_check "legacy tables, no CAP_NET_ADMIN: exit 3 naming CAP_NET_ADMIN" refused_naming CAP_NET_ADMIN
show
cli "$NS" ""
kp_check "no capability at all: exit 3 naming CAP_NET_ADMIN" refused_naming CAP_NET_ADMIN
show
cli "$NSN" "" --backend nft
kp_check "nft tables, no capability: exit 3 naming CAP_NET_ADMIN" refused_naming CAP_NET_ADMIN
show
cli - "+net_admin,+net_raw" --netns "/run/netns/$NS"
kp_check "--netns without CAP_SYS_ADMIN: exit 3 naming CAP_SYS_ADMIN" refused_naming CAP_SYS_ADMIN
show
cli - "+net_admin,+net_raw,+sys_admin" --netns "/run/netns/$NS"
kp_check "--netns with CAP_NET_ADMIN+CAP_NET_RAW+CAP_SYS_ADMIN: works" works
show

# auto in an nft-only namespace as a non-root user: /proc/net/ip_tables_names
# is root-only (0440), so the reader cannot tell which legacy tables exist.
legacy_tables() { ip netns exec "$NSN" cat /proc/net/ip_tables_names | tr '\n' ' '; }
before=$(legacy_tables)
cli "$NSN" "+net_admin"
kp_check "auto, nft-only namespace, CAP_NET_ADMIN only: works (nothing legacy to read)" works
show
cli "$NSN" "+net_admin,+net_raw"
after=$(legacy_tables)
kp_check "auto, nft-only namespace, non-root: no legacy table created (before [$before] after [$after])" \
  test "$before" = "$after"

# --- collectd as nobody ----------------------------------------------------------------
mkdir -p "$KP_TMP/plugins"
cp "$KP_BUILD/kube_proxy.so" "$KP_TMP/plugins/kube_proxy.so"
# lp_conf NAME [NetNS path]: logfile + csv + kube_proxy, all under KP_TMP/NAME.
lp_conf() {
  local d="$KP_TMP/$1"
  mkdir -p "$d/base" "$d/csv"
  cat >"$d/collectd.conf" <<EOF
Hostname "$KP_HOST"
FQDNLookup false
BaseDir "$d/base"
AutoLoadPlugin false
Interval 0.5
MaxReadInterval 1
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File "$d/collectd.log"
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$d/csv"
</Plugin>
PluginDir "$KP_TMP/plugins"
LoadPlugin kube_proxy
<Plugin kube_proxy>
  KubeProxyMetrics "none"
  KubeProxyHealthz "none"
${2:+  NetNS \"$2\"}
</Plugin>
EOF
  chown -R nobody:nogroup "$d"
}
# lp_start NAME WHERE CAPS: collectd -f as nobody (WHERE: namespace or "-"),
# started by setpriv itself, not through a shell function (whose subshell
# would be $!: stopping it left collectd running as nobody), so
# KP_COLLECTD_PID is collectd (setpriv and ip netns exec exec it).
lp_start() {
  local d="$KP_TMP/$1" caps=$3 run=()
  [ "$2" = - ] || run=(ip netns exec "$2")
  kp_start_collectd_by "$d/out" "${run[@]}" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    --inh-caps="${caps:--all}" ${caps:+--ambient-caps="$caps"} -- collectd -f -C "$d/collectd.conf"
}
lp_value() { KP_TMP=$KP_TMP/$1 kp_csv_last kube_proxy "$2"; } # lp_value NAME SERIES -> last value
lp_errors() { kp_log_count 'cannot read the netfilter tables' "$KP_TMP/$1/collectd.log"; }
lp_user() { ps -o user= -p "$KP_COLLECTD_PID" 2>/dev/null | tr -d ' '; }

echo "--- collectd as nobody"
lp_conf inside
lp_start inside "$NS" "+net_admin,+net_raw"
kp_check "inside the namespace, CAP_NET_ADMIN+CAP_NET_RAW: values dispatched" \
  kp_wait 15 lp_value inside objects-services
kp_check "... collectd runs as nobody ($(lp_user))" test "$(lp_user)" = nobody
kp_check "... 5 services, check-mode gauge 0 (iptables)" \
  bash -c "[ \"\$1\" = 5 ] && [ \"\$2\" = 0 ]" _ "$(lp_value inside objects-services)" \
  "$(lp_value inside health-check-mode)"
kp_check "... no read error" test "$(lp_errors inside)" -eq 0
kp_stop_collectd

lp_conf netns "/run/netns/$NS"
lp_start netns - "+net_admin,+net_raw,+sys_admin"
kp_check "NetNS, CAP_NET_ADMIN+CAP_NET_RAW+CAP_SYS_ADMIN: values dispatched" \
  kp_wait 15 lp_value netns objects-services
kp_check "... no read error" test "$(lp_errors netns)" -eq 0
kp_stop_collectd

lp_conf nosys "/run/netns/$NS"
lp_start nosys - "+net_admin,+net_raw"
first() { [ "$(lp_errors nosys)" -ge 1 ]; }
kp_check "NetNS without CAP_SYS_ADMIN: an error in the log" kp_wait 10 first
sleep 3
kp_check "... exactly one ($(lp_errors nosys)), naming CAP_SYS_ADMIN" \
  bash -c "[ $(lp_errors nosys) -eq 1 ] && grep -q 'CAP_SYS_ADMIN' '$KP_TMP/nosys/collectd.log'"
kp_check "... collectd keeps running" kp_collectd_alive
kp_stop_collectd

lp_conf noadmin
lp_start noadmin "$NS" "+net_raw"
first() { [ "$(lp_errors noadmin)" -ge 1 ]; }
kp_check "no CAP_NET_ADMIN: an error in the log" kp_wait 10 first
sleep 3
kp_check "... exactly one ($(lp_errors noadmin)), naming CAP_NET_ADMIN" \
  bash -c "[ $(lp_errors noadmin) -eq 1 ] && grep -q 'CAP_NET_ADMIN' '$KP_TMP/noadmin/collectd.log'"
kp_check "... collectd keeps running" kp_collectd_alive
grep -h 'kube_proxy plugin: cannot' "$KP_TMP"/{nosys,noadmin}/collectd.log | sed 's/^/     /'
kp_stop_collectd

kp_finish
