#!/usr/bin/env bash
# Prometheus end to end (issue #11, parts 1 and 2):
#  - packaging/prometheus: generate.py reproduces the committed files,
#    `promtool check rules`, `promtool test rules` (unit tests of every
#    alert), an advice branch for every check id of docs/metrics.md, a
#    runbook section in docs/checks.md for every runbook_url;
#  - packaging/grafana/kube-proxy.json: parses, panels well formed;
#  - live: collectd (kube_proxy + write_prometheus) and a real Prometheus
#    (Debian's prometheus), both inside a kp- namespace whose KUBE-POSTROUTING
#    MASQUERADE rule is gone; Prometheus scrapes write_prometheus on the
#    namespace's 127.0.0.1 and loads the rules. Through its HTTP API:
#    kube_proxy_check_state{check="masquerade"} is 2, KubeProxyCheckFailing
#    {check="masquerade"} is pending or firing with its runbook_url, the
#    other recorded series have the values of the ruleset, every dashboard
#    query returns data; `promtool check metrics` on the scraped page says
#    nothing; after the rule is restored the state is 0 and the alert gone.
# Root (namespaces, netfilter). Usage: test-prometheus.sh [BUILD_DIR]
set -uo pipefail
KP_BUILD=${1:-build}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$(dirname "$0")/collectd-lib.sh"
PROM_DIR="$KP_ROOT/packaging/prometheus"
DASH="$KP_ROOT/packaging/grafana/kube-proxy.json"

kp_require iptables-legacy-restore iptables-legacy promtool prometheus curl python3
[ -f /usr/lib/collectd/write_prometheus.so ] || kp_skip "write_prometheus.so missing (collectd-core)"
if ldd /usr/lib/collectd/write_prometheus.so | grep -q 'not found'; then
  kp_skip "write_prometheus.so cannot load: $(ldd /usr/lib/collectd/write_prometheus.so | awk '/not found/ { printf "%s ", $1 }')missing (tests/install-deps.sh installs libmicrohttpd12 and libprotobuf-c1)"
fi
python3 -c 'import yaml' 2>/dev/null || kp_skip "python3-yaml not installed"

KP_TMP=$(mktemp -d /tmp/kp-prom.XXXXXX)
NS=kp-prom-$$
PROM_PID=
cleanup() {
  if [ -n "$PROM_PID" ]; then
    kill -TERM "$PROM_PID" 2>/dev/null
    wait "$PROM_PID" 2>/dev/null
  fi
  kp_stop_collectd
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the rule files ------------------------------------------------------------
mkdir -p "$KP_TMP/gen"
python3 "$PROM_DIR/generate.py" "$KP_TMP/gen"
kp_check "generate.py reproduces kube-proxy.rules.yml and its tests" \
  bash -c "cmp '$KP_TMP/gen/kube-proxy.rules.yml' '$PROM_DIR/kube-proxy.rules.yml' && cmp '$KP_TMP/gen/kube-proxy.rules.test.yml' '$PROM_DIR/kube-proxy.rules.test.yml'"
kp_check "promtool check rules" promtool check rules "$PROM_DIR/kube-proxy.rules.yml"
promtool test rules "$PROM_DIR/kube-proxy.rules.test.yml" >"$KP_TMP/unit.out" 2>&1
kp_check "promtool test rules (unit tests of every alert)" grep -q SUCCESS "$KP_TMP/unit.out"
grep -q SUCCESS "$KP_TMP/unit.out" || cat "$KP_TMP/unit.out"
kp_check "the unit tests name every alert, firing and not firing" python3 - "$PROM_DIR" <<'PY'
import sys, yaml
d = sys.argv[1]
alerts = [r['alert'] for g in yaml.safe_load(open(d + '/kube-proxy.rules.yml'))['groups'] for r in g['rules'] if 'alert' in r]
fire, quiet = set(), set()
for t in yaml.safe_load(open(d + '/kube-proxy.rules.test.yml'))['tests']:
    for a in t.get('alert_rule_test', []):
        (fire if a['exp_alerts'] else quiet).add(a['alertname'])
missing = [a for a in alerts if a not in fire or a not in quiet]
if len(alerts) < 6 or missing:
    sys.exit('alerts without a firing and a not-firing case: %s' % missing)
PY
kp_check "every check id of docs/metrics.md has its own advice in the alert descriptions" python3 - "$PROM_DIR" "$KP_ROOT/docs/metrics.md" <<'PY'
import re, sys, yaml
d, metrics = sys.argv[1:]
ids = re.findall(r'`([a-z-]+)`', re.search(r'Ids: (.*?)\(', open(metrics).read(), re.S).group(1))
rules = {r['alert']: r for g in yaml.safe_load(open(d + '/kube-proxy.rules.yml'))['groups'] for r in g['rules'] if 'alert' in r}
desc = rules['KubeProxyCheckFailing']['annotations']['description']
missing = [i for i in ids if 'eq $labels.check "%s" }}' % i not in desc]
if len(ids) < 12 or missing:
    sys.exit('ids %s, no branch for %s' % (ids, missing))
PY
kp_check "every runbook_url points at a section of docs/checks.md" python3 - "$PROM_DIR" "$KP_ROOT/docs/checks.md" <<'PY'
import re, sys, yaml
d, checks = sys.argv[1:]
# GitHub anchors of the ## and ### headings: lower case, punctuation dropped, spaces to -
anchors = set()
for h in re.findall(r'^#{2,3} (.*)$', open(checks).read(), re.M):
    anchors.add(re.sub(r'[^a-z0-9 _-]', '', h.lower()).replace(' ', '-'))
ids = set(re.findall(r'eq \$labels\.check "([a-z-]+)"', open(d + '/kube-proxy.rules.yml').read()))
bad = []
for g in yaml.safe_load(open(d + '/kube-proxy.rules.yml'))['groups']:
    for r in g['rules']:
        if 'alert' not in r:
            continue
        url = r['annotations']['runbook_url']
        frag = url.split('#', 1)[1]
        targets = ids if frag == '{{ $labels.check }}' else {frag}
        bad += ['%s#%s' % (r['alert'], t) for t in targets if t not in anchors]
        if 'check' not in r.get('labels', {}) and 'kube_proxy_check_state' not in r['expr']:
            bad.append('%s: no check label' % r['alert'])
if bad:
    sys.exit('no section for %s' % bad)
PY
kp_check "dashboard: JSON, unique panel ids, a datasource and a query on every panel" python3 - "$DASH" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = [p['id'] for p in d['panels']]
assert len(ids) == len(set(ids)) and len(ids) >= 10, ids
for p in d['panels']:
    assert p['datasource']['uid'] == '${datasource}', p['title']
    assert p['targets'] and all(t['expr'] for t in p['targets']), p['title']
    assert set(p['gridPos']) == {'x', 'y', 'w', 'h'}, p['title']
names = [v['name'] for v in d['templating']['list']]
assert names == ['datasource', 'node'], names
text = json.dumps(d)
for m in ['kube_proxy_check_state', 'kube_proxy_check_chain_packets:rate5m', 'kube_proxy_check_services',
          'kube_proxy_check_endpoints', 'kube_proxy_check_services_without_endpoints',
          'kube_proxy_check_read_duration_seconds', 'kube_proxy_check_read_failed']:
    assert m in text, m
PY

# ---- collectd + write_prometheus + Prometheus in the node namespace ---------------
kp_make_node "$NS" legacy || kp_fail "node namespace"
MASQ_RULE=(-t nat -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully)
ip netns exec "$NS" iptables-legacy -D KUBE-POSTROUTING "${MASQ_RULE[@]}"
kp_check "the masquerade rule is gone from the test namespace" \
  bash -c "! ip netns exec $NS iptables-legacy-save -t nat | grep -q -- '-j MASQUERADE'"

kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  CollectServices true
EOF
# write_prometheus on the namespace's loopback (the veth address is there
# too, so its AI_ADDRCONFIG bind works); the plugin reads its own namespace.
sed -i 's|^LoadPlugin csv$|LoadPlugin write_prometheus\n<Plugin write_prometheus>\n  Host "127.0.0.1"\n  Port "9103"\n</Plugin>\nLoadPlugin csv|' "$KP_TMP/collectd.conf"
ip netns exec "$NS" collectd -f -C "$KP_TMP/collectd.conf" >"$KP_TMP/collectd.out" 2>&1 &
KP_COLLECTD_PID=$!

mkdir -p "$KP_TMP/prom-data"
cat >"$KP_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PROM_DIR/kube-proxy.rules.yml
scrape_configs:
  - job_name: collectd
    static_configs:
      - targets: ["127.0.0.1:9103"]
EOF
ip netns exec "$NS" prometheus --config.file="$KP_TMP/prometheus.yml" \
  --storage.tsdb.path="$KP_TMP/prom-data" --web.listen-address=127.0.0.1:9090 \
  --log.level=warn >"$KP_TMP/prometheus.log" 2>&1 &
PROM_PID=$!

nsx() { ip netns exec "$NS" "$@"; }
# q EXPR: the instant query's result vector as JSON lines (one per series)
q() {
  nsx curl -sf --max-time 5 http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1" |
    python3 -c 'import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(json.dumps(r, sort_keys=True))'
}
# q_value EXPR: the value of the single series EXPR selects
q_value() {
  q "$1" | python3 -c 'import json, sys
rows = [json.loads(l) for l in sys.stdin]
if len(rows) == 1:
    v = rows[0]["value"][1]
    print(v[:-2] if v.endswith(".0") else v)'
}
q_is() { [ "$(q_value "$1")" = "$2" ]; }
# alerts: name, check label and state of every pending or firing alert
alerts() {
  nsx curl -sf --max-time 5 http://127.0.0.1:9090/api/v1/alerts | python3 -c 'import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    print(a["labels"]["alertname"], a["labels"].get("check", "-"), a["state"], a["annotations"].get("runbook_url", "-"))'
}
masq_alert() { alerts | grep -Eq '^KubeProxyCheckFailing masquerade (pending|firing) https://[^ ]*/docs/checks\.md#masquerade$'; }
no_masq_alert() { out=$(alerts) && ! grep -q ' masquerade ' <<<"$out"; }

kp_check "write_prometheus serves kube_proxy values in the namespace" \
  kp_wait 20 bash -c "ip netns exec $NS curl -sf http://127.0.0.1:9103/metrics | grep -q 'collectd_kube_proxy_.*check-masquerade'"
kp_check "Prometheus is ready" kp_wait 30 nsx curl -sf -o /dev/null http://127.0.0.1:9090/-/ready
kp_check "the collectd target is up" kp_wait 15 q_is 'up{job="collectd"}' 1
kp_check 'kube_proxy_check_state{check="masquerade"} is 2 (FAIL)' \
  kp_wait 20 q_is 'kube_proxy_check_state{check="masquerade",node="kp-it"}' 2
kp_check "KubeProxyCheckFailing{check=masquerade} pending or firing, runbook_url ...#masquerade" kp_wait 10 masq_alert
kp_check 'kube_proxy_check_state{check="hooks"} is 0 (only masquerading broken)' \
  q_is 'kube_proxy_check_state{check="hooks"}' 0
# make-ruleset.sh (tests/fixtures/README.md): 4 services with 2 endpoints
# each, web/orphan without endpoints (5 service ports, 8 endpoint chains).
kp_check "kube_proxy_check_services is 5" q_is kube_proxy_check_services 5
kp_check "kube_proxy_check_endpoints is 8" q_is kube_proxy_check_endpoints 8
kp_check "kube_proxy_check_services_without_endpoints is 1" q_is kube_proxy_check_services_without_endpoints 1
kp_check "kube_proxy_check_rules equals iptables-legacy-save's rule count" \
  q_is kube_proxy_check_rules "$(ip netns exec "$NS" iptables-legacy-save | grep -c '^-A')"
dur_ok() { python3 -c 'import sys; sys.exit(not 0 < float(sys.argv[1]) < 1)' "$(q_value kube_proxy_check_read_duration_seconds)" 2>/dev/null; }
kp_check "kube_proxy_check_read_duration_seconds is there, between 0 and 1 s" dur_ok
# Waits on the C side: the read-failed value (kube_proxy/bool-read-failed).
kp_check 'kube_proxy_check_read_failed is 0 (the plugin dispatches bool-read-failed)' \
  q_is kube_proxy_check_read_failed 0

# traffic: 6 connections to the service, so the rates have something to show
kp_traffic "$NS" 6
rate_up() { [ "$(q 'kube_proxy_check_chain_packets:rate5m{chain="KUBE-SERVICES",family="ipv4"} > 0' | wc -l)" -eq 1 ]; }
kp_check "kube_proxy_check_chain_packets:rate5m{chain=KUBE-SERVICES} > 0 after real connections" kp_wait 20 rate_up
svc_up() { [ "$(q 'kube_proxy_check_service_packets:rate5m{service="web_frontend_http"} > 0' | wc -l)" -eq 1 ]; }
kp_check "kube_proxy_check_service_packets:rate5m{service=web_frontend_http} > 0" kp_wait 10 svc_up

# every dashboard query returns data ($node = all nodes)
python3 - "$DASH" >"$KP_TMP/dash-queries" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))['panels']:
    for t in p['targets']:
        print('%s\t%s' % (p['title'], t['expr'].replace('$node', '.*')))
PY
n_queries=$(wc -l <"$KP_TMP/dash-queries")
empty=()
while IFS=$'\t' read -r title expr; do
  [ "$(q "$expr" | wc -l)" -gt 0 ] || empty+=("$title: $expr")
done <"$KP_TMP/dash-queries"
kp_check "all $n_queries dashboard queries return data" test "${#empty[@]}" -eq 0
for e in "${empty[@]}"; do echo "     no data: $e"; done

# promtool check metrics on the page Prometheus scrapes
nsx curl -sf http://127.0.0.1:9103/metrics >"$KP_TMP/page.txt"
promtool check metrics <"$KP_TMP/page.txt" >"$KP_TMP/lint.txt" 2>&1
kp_check "promtool check metrics on the scraped page reports nothing" \
  test ! -s "$KP_TMP/lint.txt"
sed 's/^/     promtool: /' "$KP_TMP/lint.txt"

# the rule is restored: state 0, alert gone
ip netns exec "$NS" iptables-legacy -A KUBE-POSTROUTING "${MASQ_RULE[@]}"
kp_check 'after the repair kube_proxy_check_state{check="masquerade"} is 0' \
  kp_wait 20 q_is 'kube_proxy_check_state{check="masquerade"}' 0
kp_check "... and no masquerade alert is pending or firing" kp_wait 10 no_masq_alert
kp_check "collectd still running" kp_collectd_alive
kp_check "Prometheus still running, no rule evaluation error in its log" \
  bash -c "kill -0 $PROM_PID && ! grep -qi 'error evaluating rule\|Failed to evaluate' '$KP_TMP/prometheus.log'"
[ "$KP_FAILED" -eq 0 ] || { echo "--- prometheus log ---"; tail -n 20 "$KP_TMP/prometheus.log"; }
kp_finish
