#!/usr/bin/env bash
# The Ansible role packaging/ansible/roles/collectd_kube_proxy run for real
# by ansible-playbook (Debian's ansible), local connection, into a throwaway
# directory: conf path overridden with -e, package install and service
# management off, the restart observed by a play handler listening to the
# role's "Restart collectd" notification (the role's own handler is off).
#  1. every variable set: the play succeeds, the drop-in has one line per
#     key of collectd-kube_proxy(5) with the inventory's values, validated
#     by `kube-proxy-check --check-config`, the restart runs once; a second
#     run changes nothing and restarts nothing;
#  2. a bad PodIP, 3. a bad ServiceFilter regex: the play fails at the
#     validation, naming key, value and line; the drop-in is unchanged; no
#     restart.
# `kube-proxy-check --check-config FILE` is being added to the CLI; until it
# exists this test FAILS (it does not skip).
# Root is not needed (no namespace); ansible must be installed.
# Usage: test-ansible.sh [BUILD_DIR]
set -uo pipefail
KP_BUILD=${1:-build}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$(dirname "$0")/collectd-lib.sh"
for t in ansible-playbook python3; do
  command -v "$t" >/dev/null 2>&1 || kp_skip "$t not installed"
done
[ -x "$KP_BUILD/kube-proxy-check" ] || kp_skip "$KP_BUILD/kube-proxy-check not built"
KP_TMP=$(mktemp -d /tmp/kp-ansible.XXXXXX)
trap 'rm -rf "$KP_TMP"' EXIT
ROLE_DIR="$KP_ROOT/packaging/ansible/roles"
CONF="$KP_TMP/root/etc/collectd/collectd.conf.d/kube_proxy.conf"
mkdir -p "$(dirname "$CONF")" "$KP_TMP/bin"
cp "$KP_BUILD/kube-proxy-check" "$KP_TMP/bin/"
export PATH="$KP_TMP/bin:$PATH"

# --- the option the role validates with ------------------------------------------------
cat >"$KP_TMP/probe.conf" <<'P'
LoadPlugin kube_proxy
<Plugin kube_proxy>
  Backend "auto"
</Plugin>
P
kube-proxy-check --check-config "$KP_TMP/probe.conf" >"$KP_TMP/probe.out" 2>&1
probe_rc=$?
if [ "$probe_rc" -ne 0 ]; then
  echo "FAIL kube-proxy-check --check-config FILE does not accept a valid drop-in (rc=$probe_rc):"
  sed 's/^/     /' "$KP_TMP/probe.out"
  echo "     The role validates with 'kube-proxy-check --check-config %s'; this option is"
  echo "     not in this build of the CLI yet. This test fails until it is."
  KP_FAILED=$((KP_FAILED + 1))
fi
printf 'LoadPlugin kube_proxy\n<Plugin kube_proxy>\n  PodIP "10.0.0.256"\n</Plugin>\n' >"$KP_TMP/probe-bad.conf"
kp_check "kube-proxy-check --check-config rejects PodIP \"10.0.0.256\" (exit non-zero)" \
  bash -c "! kube-proxy-check --check-config '$KP_TMP/probe-bad.conf' >/dev/null 2>&1"

# --- the play ---------------------------------------------------------------------------
cat >"$KP_TMP/play.yml" <<P
- hosts: localhost
  connection: local
  gather_facts: true
  roles:
    - role: collectd_kube_proxy
  handlers:
    - name: record the restart
      listen: Restart collectd
      ansible.builtin.shell: echo restarted >> "$KP_TMP/restarts"
P
cat >"$KP_TMP/good.yml" <<'P'
collectd_kube_proxy_backend: nft
collectd_kube_proxy_netns: /proc/1/ns/net
collectd_kube_proxy_kube_proxy_metrics: "127.0.0.1:10249"
collectd_kube_proxy_kube_proxy_healthz: none
collectd_kube_proxy_ipv6: true
collectd_kube_proxy_pod_ips: ["10.180.0.6", "fd00:10:180::6"]
collectd_kube_proxy_activity_intervals: 7
collectd_kube_proxy_checks: {sync: false, process: false}
collectd_kube_proxy_collect_services: true
collectd_kube_proxy_service_filter: '^(web|kube-system)/'
collectd_kube_proxy_max_services: 20
collectd_kube_proxy_repeat_notification: 3
P
# play VARS_FILE: runs the role, output in $KP_TMP/play.out
play() {
  ANSIBLE_ROLES_PATH="$ROLE_DIR" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
    ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
    ansible-playbook -i localhost, "$KP_TMP/play.yml" -e "@$1" \
    -e collectd_kube_proxy_conf_path="$CONF" -e collectd_kube_proxy_install_collectd=false \
    -e collectd_kube_proxy_install_package=false -e collectd_kube_proxy_manage_service=false \
    -e collectd_kube_proxy_restart=false >"$KP_TMP/play.out" 2>&1
}
restarts() { [ -f "$KP_TMP/restarts" ] && wc -l <"$KP_TMP/restarts" || echo 0; }

play "$KP_TMP/good.yml"
rc=$?
kp_check "good inventory: the play succeeds (rc=$rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 25 "$KP_TMP/play.out"
kp_check "... the drop-in has every key with the inventory's values" python3 - "$CONF" <<'PY'
import sys
lines = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.lstrip().startswith('#')]
want = ['LoadPlugin kube_proxy', '<Plugin kube_proxy>', 'Backend "nft"', 'NetNS "/proc/1/ns/net"',
        'KubeProxyMetrics "127.0.0.1:10249"', 'KubeProxyHealthz "none"', 'IPv6 true',
        'PodIP "10.180.0.6"', 'PodIP "fd00:10:180::6"', 'ActivityIntervals 7',
        'Check "process" false', 'Check "sync" false', 'CollectServices true',
        'ServiceFilter "^(web|kube-system)/"', 'MaxServices 20', 'RepeatNotification 3', '</Plugin>']
if lines != want:
    sys.exit('got %r' % lines)
PY
kp_check "... the drop-in task ran (it validates with kube-proxy-check --check-config)" \
  grep -q 'Write the kube_proxy drop-in' "$KP_TMP/play.out"
kp_check "... collectd restarted once (handler)" test "$(restarts)" -eq 1
cp "$CONF" "$KP_TMP/good.conf"
play "$KP_TMP/good.yml"
kp_check "second run: succeeds, nothing changed (changed=0)" \
  bash -c "grep -Eq 'localhost +: ok=[0-9]+ +changed=0 .*failed=0' '$KP_TMP/play.out'"
kp_check "... no second restart" test "$(restarts)" -eq 1

# bad_case NAME KEY VALUE VARS-LINE: the play fails at validation, naming the
# key, the value and the line of the rendered drop-in; nothing changes.
bad_case() {
  local name=$1 key=$2 value=$3 line
  { cat "$KP_TMP/good.yml"; echo "$4"; } >"$KP_TMP/$name.yml"
  play "$KP_TMP/$name.yml"
  local rc=$?
  kp_check "$name: the play fails (rc=$rc)" test "$rc" -ne 0
  kp_check "$name: ... in the drop-in's validation" \
    bash -c "grep -q 'Write the kube_proxy drop-in' '$KP_TMP/play.out' && grep -qi 'failed to validate' '$KP_TMP/play.out'"
  # the line the bad value has in the rendered file (good drop-in, same order)
  line=$(grep -n "^  $key " "$KP_TMP/good.conf" | head -n 1 | cut -d: -f1)
  kp_check "$name: ... the error names $key, $value and line $line" \
    bash -c "grep -F -- '$key' '$KP_TMP/play.out' | grep -F -- '$value' | grep -Eq '(^|[^0-9])$line([^0-9]|\$)'"
  kp_check "$name: ... the drop-in is unchanged" cmp -s "$CONF" "$KP_TMP/good.conf"
  kp_check "$name: ... collectd was not restarted" test "$(restarts)" -eq 1
}
bad_case bad-podip PodIP 10.180.0.300 'collectd_kube_proxy_pod_ips: ["10.180.0.300"]'
bad_case bad-regex ServiceFilter '^web/(' "collectd_kube_proxy_service_filter: '^web/('"
[ "$KP_FAILED" -eq 0 ] || { echo "--- last play ---"; tail -n 15 "$KP_TMP/play.out"; }
kp_finish
