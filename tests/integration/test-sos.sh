#!/usr/bin/env bash
# The sos report plugin packaging/sos/kube_proxy.py with the real
# `sos report` (Debian's sosreport), run inside kp- namespaces:
#   legacy  kube-proxy's rules in iptables-legacy, `iptables` = legacy, a
#           stand-in kube-proxy answering /metrics, /proxyMode, /livez;
#   nft     rules in iptables-nft, `iptables` = nft, kube-proxy not running;
#   split   rules in iptables-legacy while `iptables` is nft.
# `iptables` is chosen per case by a copy of /etc/alternatives bind-mounted
# in the run's private mount namespace (the host's are not touched). The plugin file is copied into sos's plugin
# package for the run and removed on exit (sos-lib.sh). Asserted: the
# report holds kube-proxy-check's findings (JSON and text) for the right
# backend, the iptables dumps of the backend holding the rules (with
# counters, every rule) and not of the empty one, nft list ruleset, the
# kube-proxy endpoints' answers with their HTTP status line, and the
# networking plugin's output; no legacy dump where no legacy table exists.
# Root. Usage: test-sos.sh [BUILD_DIR]
set -uo pipefail
KP_BUILD=${1:-build}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$(dirname "$0")/collectd-lib.sh"
. "$(dirname "$0")/sos-lib.sh"

[ "$(id -u)" -eq 0 ] || kp_skip "needs root (network namespaces, netfilter tables, sos's plugin dir)"
for t in sos ip iptables-legacy-restore iptables-nft-restore iptables-legacy-save iptables-nft-save nft curl python3; do
  command -v "$t" >/dev/null 2>&1 || kp_skip "$t not installed"
done
[ -x "$KP_BUILD/kube-proxy-check" ] || kp_skip "$KP_BUILD/kube-proxy-check not built"

KP_TMP=$(mktemp -d /tmp/kp-sos.XXXXXX)
chmod 755 "$KP_TMP"
NODES=()
STANDIN_PID=
cleanup() {
  [ -n "$STANDIN_PID" ] && { kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null; }
  kp_sos_plugin_remove
  local n
  for n in "${NODES[@]}"; do kp_delete_node "$n"; done
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kp_check "plugin installed into sos's plugin dir ($(kp_sos_plugin_dir))" kp_sos_plugin_install
kp_check "sos lists the kube_proxy plugin" bash -c "sos report --list-plugins 2>/dev/null | grep -Eq '^ *kube_proxy +'"

# sos finds the built kube-proxy-check in KP_SOS_BIN; `iptables` of the
# run comes from a copy of /etc/alternatives (sos-lib.sh: both bind-mounted
# in the run's own mount namespace)
mkdir -p "$KP_TMP/sbin"
cp "$KP_BUILD/kube-proxy-check" "$KP_TMP/sbin/"
KP_SOS_BIN="$KP_TMP/sbin"
kp_sos_alternatives "$KP_TMP/alt-legacy" legacy
kp_sos_alternatives "$KP_TMP/alt-nft" nft
check_links() {
  ip netns exec "$1" unshare -m --propagation private bash -c "mount --bind '$KP_TMP/alt-$2' /etc/alternatives && iptables --version" | grep -q "$3"
}

# A stand-in kube-proxy on the namespace's loopback (10249 /metrics,
# /proxyMode; 10256 /livez), as in test-collectd-sync.sh.
start_standin() {
  local ns=$1 now
  now=$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)
  mkdir -p "$KP_TMP/www"
  printf '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\nkubeproxy_sync_proxy_rules_last_timestamp_seconds %s\n' "$(date +%s)" >"$KP_TMP/www/metrics"
  printf 'iptables' >"$KP_TMP/www/proxyMode"
  printf '{"lastUpdated": "%s","currentTime": "%s", "nodeEligible": true}' "$now" "$now" >"$KP_TMP/www/livez"
  ip netns exec "$ns" python3 - "$KP_TMP/www" <<'PY' >"$KP_TMP/standin.log" 2>&1 &
import http.server, os, sys, threading
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        p = os.path.join(root, self.path.strip('/'))
        if not os.path.isfile(p):
            self.send_error(404)
            return
        body = open(p, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
servers = [http.server.HTTPServer(('127.0.0.1', port), H) for port in (10249, 10256)]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print('listening', flush=True)
servers[0].serve_forever()
PY
  STANDIN_PID=$!
  kp_wait 5 grep -q listening "$KP_TMP/standin.log"
}
stop_standin() {
  [ -n "$STANDIN_PID" ] && { kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null; }
  STANDIN_PID=
}

# json_is FILE PYTHON-EXPR: the JSON in FILE, as `d`, makes EXPR true
json_is() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# rules_of FILE: the -A lines of an iptables-save dump (counters stripped)
rules_of() { sed -n 's/^\(\[[0-9]*:[0-9]*\] \)\{0,1\}\(-A .*\)/\2/p' "$1" | sort; }

# run_case NAME BACKEND_OF_RULES IPTABLES_OF_PATH
run_case() {
  local name=$1 rules=$2 path_b=$3 ns="kp-sos-$1-$$" t0 secs root k
  NODES+=("$ns")
  echo "--- $name: rules in iptables-$rules, iptables = $path_b"
  kp_make_node "$ns" "$rules" || { kp_fail "$name: node namespace"; return; }
  kp_traffic "$ns" 3
  [ "$name" = legacy ] && start_standin "$ns"
  t0=$(date +%s)
  case $path_b in legacy) want='(legacy)' ;; *) want='(nf_tables)' ;; esac
  kp_check "$name: iptables in the run's mount namespace is $want" check_links "$ns" "$path_b" "$want"
  root=$(KP_SOS_ALTERNATIVES="$KP_TMP/alt-$path_b" kp_sos_report "$ns" "$KP_TMP/$name" --only-plugins kube_proxy,networking \
    -k networking.namespace_pattern="$ns")
  secs=$(($(date +%s) - t0))
  kp_check "$name: sos report --batch --only-plugins kube_proxy,networking made a report (${secs}s)" test -n "$root" -a -d "$root"
  [ -n "$root" ] || { tail -n 20 "$KP_TMP/$name/sos.out"; stop_standin; return; }
  k="$root/sos_commands/kube_proxy"
  kp_check "$name: the report has sos_commands/kube_proxy" test -d "$k"
  kp_check "$name: ... and the networking plugin's output" test -d "$root/sos_commands/networking"
  kp_check "$name: kube_proxy listed among the plugins that ran (sos_reports/manifest.json)" \
    json_is "$root/sos_reports/manifest.json" "'kube_proxy' in d['components']['report']['plugins'] and 'networking' in d['components']['report']['plugins']"

  # the findings: the ruleset of kp_make_node has 5 service ports, 8
  # endpoint chains, web/orphan without endpoints (tests/fixtures/README.md)
  local j="$k/kube-proxy-check.json"
  kp_check "$name: kube-proxy-check.json: mode iptables, backend $rules" json_is "$j" "d['mode'] == 'iptables' and d['backend'] == '$rules'"
  kp_check "$name: ... services 5, endpoints 8, 1 without endpoints" \
    json_is "$j" "d['inventory']['services'] == 5 and d['inventory']['endpoints'] == 8 and d['inventory']['services_without_endpoints'] == 1"
  kp_check "$name: ... endpoints WARN naming web/orphan:http, masquerade OK" \
    json_is "$j" "any(r['check'] == 'endpoints' and r['severity'] == 'WARN' and 'web/orphan:http' in r['message'] for r in d['results']) and any(r['check'] == 'masquerade' and r['severity'] == 'OK' for r in d['results'])"
  kp_check "$name: kube-proxy-check.txt has the same WARN" grep -q '^\[WARN\] 1 service(s) without endpoints.*web/orphan:http' "$k/kube-proxy-check.txt"

  # the report judged as a support bundle, from its root (what an SRE given
  # only the tarball runs): no FAIL on a healthy node, the same findings
  local dj="$KP_TMP/$name/dir.json"
  "$KP_BUILD/kube-proxy-check" --dir "$root" --json >"$dj" 2>"$KP_TMP/$name/dir.err"
  echo "$name: --dir exit $?"
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]: print("     [%s] %s" % (r["severity"], r["message"]))' "$dj"
  kp_check "$name: kube-proxy-check --dir on the report's root: mode iptables, no FAIL" \
    json_is "$dj" "d['mode'] == 'iptables' and not any(r['severity'] == 'FAIL' for r in d['results'])"
  kp_check "$name: ... 5 services, 8 endpoints, the endpoints WARN naming web/orphan:http" \
    json_is "$dj" "d['inventory']['services'] == 5 and d['inventory']['endpoints'] == 8 and any(r['check'] == 'endpoints' and r['severity'] == 'WARN' and 'web/orphan:http' in r['message'] for r in d['results'])"
  kp_check "$name: ... no backends FAIL or WARN (the report holds the backend with the rules)" \
    json_is "$dj" "not any(r['check'] == 'backends' and r['severity'] in ('WARN', 'FAIL') for r in d['results'])"
  kp_check "$name: ... and no line says the report does not show the legacy tables" \
    json_is "$dj" "not any('does not show' in r['message'] and 'legacy' in r['message'] for r in d['results'])"

  # the dumps: the backend holding the rules, every rule, with counters
  local full="$k/iptables-${rules}-save_-c" other
  [ "$rules" = legacy ] && other=nft || other=legacy
  kp_check "$name: iptables-$rules-save -c in the report" test -s "$full"
  kp_check "$name: ... with counters on every rule" bash -c "! grep '^-A' '$full' | grep -q . && grep -q '^\[[0-9]*:[0-9]*\] -A KUBE-SERVICES' '$full'"
  kp_check "$name: ... the namespace's rules, all of them" \
    diff <(rules_of "$full") <(ip netns exec "$ns" "iptables-$rules-save" | grep '^-A' | sort)
  if [ "$other" = legacy ]; then
    kp_check "$name: no iptables-legacy-save (no legacy table in the namespace: none was created)" \
      bash -c "[ ! -e '$k/iptables-legacy-save_-c' ] && [ -z \"\$(ip netns exec $ns cat /proc/net/ip_tables_names 2>/dev/null)\" ]"
  else
    kp_check "$name: iptables-nft-save -c in the report, without kube-proxy chains" \
      bash -c "[ -e '$k/iptables-nft-save_-c' ] && ! grep -q 'KUBE-SERVICES' '$k/iptables-nft-save_-c'"
  fi
  kp_check "$name: ip6tables-nft-save -c in the report" test -e "$k/ip6tables-nft-save_-c"
  kp_check "$name: nft list ruleset in the report" test -e "$k/nft_list_ruleset"
  if [ "$rules" = nft ]; then
    kp_check "$name: ... holding kube-proxy's nat chains" grep -q 'chain KUBE-SERVICES' "$k/nft_list_ruleset"
  fi

  # kube-proxy's own endpoints, asked with curl -i (short timeout)
  if [ "$name" = legacy ]; then
    kp_check "$name: kube-proxy /metrics with its status line" \
      bash -c "grep -q '^HTTP/1.[01] 200' '$k/kube-proxy-metrics' && grep -q '^kubeproxy_sync_proxy_rules_last_timestamp_seconds ' '$k/kube-proxy-metrics'"
    kp_check "$name: kube-proxy /livez with its status line and body" \
      bash -c "grep -q '^HTTP/1.[01] 200' '$k/kube-proxy-livez' && grep -q '\"lastUpdated\"' '$k/kube-proxy-livez'"
    kp_check "$name: kube-proxy /proxyMode" grep -q '^iptables$' "$k/kube-proxy-proxyMode"
    stop_standin
  else
    kp_check "$name: no kube-proxy: the endpoint files are there and empty of HTTP" \
      bash -c "[ -e '$k/kube-proxy-livez' ] && ! grep -q '^HTTP/' '$k/kube-proxy-livez'"
  fi
  # what the networking plugin saw through `iptables` (the run's
  # alternative; -k networking.namespace_pattern: only this namespace)
  local netsave="$root/sos_commands/networking/ip_netns_exec_${ns}_iptables-save"
  if [ "$path_b" = "$rules" ]; then
    kp_check "$name: networking's iptables-save ($path_b) shows KUBE-SERVICES" grep -q -- '-A KUBE-SERVICES' "$netsave"
  else
    kp_check "$name: networking's iptables-save (nft) has no KUBE-SERVICES: only our legacy dump has the rules" \
      bash -c "[ -e '$netsave' ] && ! grep -q -- '-A KUBE-SERVICES' '$netsave' && grep -q -- '-A KUBE-SERVICES' '$k/iptables-legacy-save_-c'"
  fi
  kp_check "$name: networking collected no other namespace" \
    bash -c "! ls '$root/sos_commands/networking/' | grep '^ip_netns_exec_' | grep -v '^ip_netns_exec_${ns}_' | grep -q ."
  kp_check "$name: no ipvsadm output (ip_vs not loaded in the test)" \
    bash -c "[ -e /proc/net/ip_vs ] || [ ! -e '$k/ipvsadm_-Ln' ]"
  kp_delete_node "$ns"
}

run_case legacy legacy legacy
run_case nft nft nft
run_case split legacy nft
split_warn() { grep -rqs 'iptables-legacy tables present' "$KP_TMP"/split/tmp/sosreport-*/sos_commands/; }
kp_check "split: the report shows iptables-nft's warning that legacy tables are present" split_warn

kp_sos_plugin_remove
kp_check "plugin file removed from sos's plugin dir again" test ! -e "$(kp_sos_plugin_dir)/kube_proxy.py"
kp_finish
