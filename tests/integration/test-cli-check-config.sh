#!/usr/bin/env bash
# kube-proxy-check --check-config against collectd itself: the same set of
# drop-in files goes through `collectd -T -C` (with kube_proxy.so loaded)
# and through the CLI; each file must be accepted by both or refused by
# both. The CLI must also name line, key and value of each error, and exit
# 0 / 1 / 3 (clean / errors / unreadable). collectd runs inside a kp-
# namespace the test creates (its one read sees only that namespace; the
# files point NetNS at a path that does not exist and turn the HTTP probes
# off, so nothing is read or sent anywhere).
# Needs root (network namespace), collectd.
#   test-cli-check-config.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_require collectd
CLI="$KP_BUILD/kube-proxy-check"
[ -x "$CLI" ] || kp_skip "$CLI not built"

NS=kp-cc-$$
KP_TMP=$(mktemp -d /tmp/kp-it.XXXXXX)
cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || { echo "FAIL cannot create $NS"; exit 1; }
mkdir -p "$KP_TMP/plugins" "$KP_TMP/base" "$KP_TMP/files"
cp "$KP_BUILD/kube_proxy.so" "$KP_TMP/plugins/kube_proxy.so"

# drop_in NAME < BODY: a drop-in with LoadPlugin and the block body given.
drop_in() {
  {
    echo "LoadPlugin kube_proxy"
    echo "<Plugin kube_proxy>"
    echo '  KubeProxyMetrics "none"'
    echo '  KubeProxyHealthz "none"'
    echo "  NetNS \"/run/netns/$NS-absent\""
    cat
    echo "</Plugin>"
  } >"$KP_TMP/files/$1.conf"
}
raw() { cat >"$KP_TMP/files/$1.conf"; }

# ---- files collectd accepts ----------------------------------------------------
drop_in good-empty </dev/null
drop_in good-every-key <<'EOF'
  Backend "legacy"
  IPv6 true
  PodIP "10.180.0.5" "fd00::5"
  PodIP 10.180.0.6
  ActivityIntervals 5
  Check "sync" false
  Check "stale" off
  CollectServices yes
  ServiceFilter "^kube-system/"
  MaxServices 100
  RepeatNotification 0
EOF
drop_in good-syntax <<'EOF'
  # a comment line
  Backend "auto"   # a trailing comment
  PodIP "10.180.0.5" \
        "10.180.0.6"
  ServiceFilter "^kube-\
      system/\"x\\.y"
  MaxServices 0x10
EOF
raw good-two-blocks <<EOF
LoadPlugin kube_proxy
<Plugin kube_proxy>
  KubeProxyMetrics "none"
  KubeProxyHealthz "none"
  NetNS "/run/netns/$NS-absent"
</Plugin>
<Plugin "kube_proxy">
  PodIP "10.180.0.9"
</Plugin>
EOF
sed -e 's|^<Plugin kube_proxy>|&\n  KubeProxyMetrics "none"\n  KubeProxyHealthz "none"|' \
  "$KP_ROOT/conf/kube_proxy.conf" >"$KP_TMP/files/good-shipped.conf"

# ---- files collectd refuses ----------------------------------------------------
drop_in bad-pod-ip <<<'  PodIP "10.0.0.300"'
drop_in bad-pod-ip-network <<<'  PodIP "10.180.0.0/24"'
drop_in bad-regex <<<'  ServiceFilter "("'
drop_in bad-duplicate <<<'  Backend "legacy"
  Backend "nft"'
drop_in bad-duplicate-metrics <<<'  KubeProxyMetrics "127.0.0.1:10249"'
drop_in bad-unknown-key <<<'  Intervall 10'
drop_in bad-number-string <<<'  MaxServices "100"'
drop_in bad-number-range <<<'  ActivityIntervals 0'
drop_in bad-number-fraction <<<'  RepeatNotification 2.5'
drop_in bad-check-id <<<'  Check "nope" false'
drop_in bad-boolean <<<'  IPv6 "maybe"'
drop_in bad-many <<<'  Backend "iptables"
  MaxServices 0
  Bogus "x"'
# the probe resolves no name: an endpoint that is not IP:PORT could never be asked
raw bad-endpoint-name <<EOF
LoadPlugin kube_proxy
<Plugin kube_proxy>
  KubeProxyMetrics "localhost:10249"
  KubeProxyHealthz "::1:10256"
  NetNS "/run/netns/$NS-absent"
</Plugin>
EOF
raw bad-syntax-unclosed <<'EOF'
LoadPlugin kube_proxy
<Plugin kube_proxy>
  Backend "nft"
EOF
raw bad-syntax-no-value <<'EOF'
LoadPlugin kube_proxy
<Plugin kube_proxy>
  Backend
</Plugin>
EOF
raw bad-syntax-close <<'EOF'
LoadPlugin kube_proxy
<Plugin kube_proxy>
  Backend "nft"
</Plugins>
EOF
raw bad-syntax-path <<'EOF'
LoadPlugin kube_proxy
<Plugin kube_proxy>
  NetNS /run/netns/x
</Plugin>
EOF

main_conf() {
  cat <<EOF
Hostname "$KP_HOST"
FQDNLookup false
BaseDir "$KP_TMP/base"
AutoLoadPlugin false
Interval 1
PluginDir "$KP_TMP/plugins"
Include "$1"
EOF
}

for f in "$KP_TMP"/files/*.conf; do
  name=$(basename "$f" .conf)
  main_conf "$f" >"$KP_TMP/main.conf"
  ip netns exec "$NS" timeout 20 collectd -T -C "$KP_TMP/main.conf" >"$KP_TMP/$name.collectd" 2>&1
  crc=$?
  "$CLI" --check-config "$f" >"$KP_TMP/$name.out" 2>"$KP_TMP/$name.err"
  rc=$?
  case $name in good-*) want=0 ;; *) want=1 ;; esac
  kp_check "$name: collectd $([ "$crc" -eq 0 ] && echo accepts || echo refuses) (rc=$crc)" \
    test "$([ "$crc" -eq 0 ] && echo 0 || echo 1)" -eq "$want"
  kp_check "$name: the CLI agrees (rc=$rc)" test "$rc" -eq "$want"
  if [ "$rc" -ne "$want" ] || [ "$want" -ne "$([ "$crc" -eq 0 ] && echo 0 || echo 1)" ]; then
    sed 's/^/    collectd: /' "$KP_TMP/$name.collectd" | grep -v 'successfully loaded' | head -n 5
    sed 's/^/    cli: /' "$KP_TMP/$name.err" | head -n 5
  fi
done

# ---- what the CLI says ----------------------------------------------------------
f="$KP_TMP/files"
kp_check "bad PodIP: FILE:LINE: KEY \"VALUE\": why" \
  grep -qx "$f/bad-pod-ip.conf:6: PodIP \"10.0.0.300\": \"10.0.0.300\" is not an IPv4 or IPv6 address" \
  "$KP_TMP/bad-pod-ip.err"
kp_check "bad regex names line, key and value" \
  grep -q "^$f/bad-regex.conf:6: ServiceFilter \"(\": not a regular expression" "$KP_TMP/bad-regex.err"
kp_check "duplicate names the second line" \
  grep -q "^$f/bad-duplicate.conf:7: Backend \"nft\": given twice" "$KP_TMP/bad-duplicate.err"
kp_check "duplicate KubeProxyMetrics" \
  grep -q "^$f/bad-duplicate-metrics.conf:6: KubeProxyMetrics \"127.0.0.1:10249\": given twice" \
  "$KP_TMP/bad-duplicate-metrics.err"
kp_check "unknown key" grep -q "^$f/bad-unknown-key.conf:6: Intervall 10: unknown key" \
  "$KP_TMP/bad-unknown-key.err"
kp_check "bad number" grep -q "^$f/bad-number-string.conf:6: MaxServices \"100\": expected one whole number" \
  "$KP_TMP/bad-number-string.err"
kp_check "every error of a file, not only the first (3 lines)" \
  test "$(wc -l <"$KP_TMP/bad-many.err")" -eq 3
kp_check "... and collectd logs the same three" \
  test "$(grep -c 'kube_proxy plugin: .*\("Backend"\|"MaxServices"\|"Bogus"\)' "$KP_TMP/bad-many.collectd")" -eq 3
kp_check "endpoint name: FILE:LINE: KEY \"VALUE\": IP:PORT needed" \
  grep -q "^$f/bad-endpoint-name.conf:3: KubeProxyMetrics \"localhost:10249\": expected IP:PORT" \
  "$KP_TMP/bad-endpoint-name.err"
kp_check "... and IPv6 without brackets, on its line" \
  grep -q "^$f/bad-endpoint-name.conf:4: KubeProxyHealthz \"::1:10256\": expected IP:PORT" \
  "$KP_TMP/bad-endpoint-name.err"
kp_check "... collectd logs both" \
  test "$(grep -c 'kube_proxy plugin: invalid value .*for option "KubeProxy\(Metrics\|Healthz\)": expected IP:PORT' "$KP_TMP/bad-endpoint-name.collectd")" -eq 2
kp_check "syntax error names the line" grep -q "^$f/bad-syntax-no-value.conf:3: Backend: an option needs a value" \
  "$KP_TMP/bad-syntax-no-value.err"
kp_check "a clean file says so on stdout" grep -q "1 <Plugin kube_proxy> block(s), no errors" \
  "$KP_TMP/good-every-key.out"
"$CLI" --check-config "$KP_TMP/no-such-file.conf" >/dev/null 2>"$KP_TMP/missing.err"
kp_check "unreadable file: exit 3" test $? -eq 3
kp_check "... saying why" grep -q "cannot read: No such file or directory" "$KP_TMP/missing.err"
kp_finish
