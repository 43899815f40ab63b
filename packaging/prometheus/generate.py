#!/usr/bin/env python3
"""Writes kube-proxy.rules.yml and kube-proxy.rules.test.yml (promtool).

The rules are generated so that the per-check advice in the alert
descriptions lives in one place (CHECKS below, a digest of docs/checks.md)
and the promtool unit tests expect exactly the text each check should get.
Edit this file, run it (python3 packaging/prometheus/generate.py), commit
both outputs; tests/integration/test-prometheus.sh fails when they differ
from what this script writes.
"""
import os
import sys
import textwrap

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RUNBOOK = 'https://example.invalid/collectd-kube-proxy/blob/main/docs/checks.md#'

# What to do, per check id (docs/checks.md, "What to do").
CHECKS = {
    'mode': "No kube-proxy mode recognised: is a kube-proxy pod running on this node "
            "(kubectl -n kube-system get pods -o wide | grep kube-proxy)? Read its logs, restart it "
            "(kubectl -n kube-system rollout restart ds/kube-proxy). With a kube-proxy replacement "
            "(Cilium, kube-router) turn the plugin's checks off.",
    'chains': "kube-proxy's chains are missing. kube-proxy recreates them on its next full sync; if they "
              "stay missing read its logs for restore errors, find what flushes the tables (firewalld, a "
              "CNI, a security agent) and restart the kube-proxy pod on this node.",
    'hooks': "A jump from a built-in chain into kube-proxy's chains is missing: another tool rewrote the "
             "built-in chain (iptables-restore without --noflush, firewalld, an old CNI). Find it, then "
             "restart kube-proxy on the node; check with iptables-save -t nat | grep -e '-A PREROUTING' "
             "-e '-A OUTPUT' -e '-A POSTROUTING'.",
    'activity': "No new connection entered KUBE-SERVICES for several reads. An idle node is legitimately "
                "quiet; otherwise read kube-proxy's logs, kubectl get endpointslices -A, and watch "
                "iptables -t nat -L KUBE-SERVICES -n -v -x -w 1.",
    'masquerade': "Service traffic that needs SNAT is not masqueraded (KUBE-POSTROUTING lost its "
                  "MASQUERADE rule, or kube-proxy and kubelet disagree on the mark bit): compare "
                  "kube-proxy's iptables.masqueradeBit with kubelet's, read kube-proxy's logs for "
                  "restore failures, check lsmod for nf_nat / xt_MASQUERADE, then restart kube-proxy.",
    'pod-rules': "A configured pod IP has no service rules: is the pod Ready and selected by a service "
                 "(kubectl get endpointslices -A -o wide | grep <pod-ip>)? If it is an endpoint, "
                 "kube-proxy has not synced: see the sync check.",
    'endpoints': "Services have no (local) endpoints: kubectl -n <ns> get endpointslices -l "
                 "kubernetes.io/service-name=<svc>; check the selector matches Ready pods and their "
                 "readiness probes pass.",
    'stale': "Chains of deleted services or endpoints remain: kube-proxy removes them on its next full "
             "sync (at most 1 h). Persistent stale chains mean failing syncs: read kube-proxy's logs and "
             "kubeproxy_sync_proxy_rules_iptables_restore_failures_total.",
    'backends': "kube-proxy rules are in both iptables-legacy and nf_tables: packets traverse both, stale "
                "copies answer for old endpoints. Find the backend kube-proxy uses (iptables --version "
                "in its pod), then remove the other copy (kube-proxy --cleanup with the other backend). "
                "Do not flush the backend kube-proxy uses.",
    'canary': "KUBE-PROXY-CANARY is missing: something flushed the tables since kube-proxy's last sync "
              "(firewalld reload, iptables -F, configuration management, a CNI). Find it; if the canary "
              "stays missing kube-proxy is not syncing: see the sync check.",
    'process': "The kube-proxy process is reported down or unhealthy on this node: kubectl -n "
               "kube-system get pods -o wide | grep kube-proxy, then kubectl describe pod for restarts "
               "and OOM kills.",
    'sync': "kube-proxy itself reports a problem (/livez unhealthy, a queued sync never applied, restore "
            "failures, or a mode mismatch): curl -s localhost:10249/metrics | grep kubeproxy_sync, curl "
            "-s localhost:10256/livez; read its logs for 'Failed to execute iptables-restore' and xtables "
            "lock contention; restart kube-proxy after a mode change.",
}
OTHER = "Run kube-proxy-check on the node and follow the check reference."
FINDING = " kube-proxy-check on the node, or the collectd notification, gives the finding."


def node(expr):
    """collectd's Hostname as label `node`: exported_instance (honor_labels
    false, the scrape target took `instance`) or else instance."""
    return ('label_replace(label_replace(%s, "node", "$1", "instance", "(.*)"), '
            '"node", "$1", "exported_instance", "(.+)")' % expr)


def branches():
    out = []
    for i, (cid, text) in enumerate(CHECKS.items()):
        out.append('{{ %s eq $labels.check "%s" }}%s' % ('if' if i == 0 else 'else if', cid, text))
    out.append('{{ else }}%s{{ end }}' % OTHER)
    return ''.join(out)


RECORDS = [
    ('State of each check: 0 OK (or INFO), 1 WARN, 2 FAIL; labels check, node.',
     'kube_proxy_check_state',
     'max without (kube_proxy) (\n  label_replace(\n    %s,\n    "check", "$1", "kube_proxy", "check-(.+)"))'
     % node('{__name__=~"collectd_kube_proxy_(gauge|health)", kube_proxy=~"check-.+"}')),
]
for _n, _what in [('services', 'service ports with rules'), ('endpoints', 'endpoint chains'),
                  ('services_without_endpoints', 'services with a "has no endpoints" rule'),
                  ('rules', 'rules in every table read'), ('chains', 'chains in every table read')]:
    RECORDS.append(('Inventory: %s.' % _what, 'kube_proxy_check_' + _n,
                    'max without (kube_proxy) (\n  %s)'
                    % node('{__name__=~"collectd_kube_proxy_(count|objects)", kube_proxy="%s"}' % _n)))
RECORDS.append(('Seconds the last read took (tables, snapshot, checks).',
                'kube_proxy_check_read_duration_seconds',
                'max without (kube_proxy) (\n  %s)'
                % node('collectd_kube_proxy_duration_seconds{kube_proxy="read"}')))
RECORDS.append(('1 when the last read failed (the other values are then not sent and go stale), 0 when it worked.',
                'kube_proxy_check_read_failed',
                'max without (kube_proxy) (\n  %s)'
                % node('{__name__=~"collectd_kube_proxy_(gauge|bool)", kube_proxy="read-failed"}')))
for _u in ['packets', 'bytes']:
    RECORDS.append(('Per second, %s entering nat KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING; labels family, chain.' % _u,
                    'kube_proxy_check_chain_%s:rate5m' % _u,
                    'sum without (kube_proxy, type) (\n  label_replace(label_replace(\n    %s,\n'
                    '    "family", "$1", "kube_proxy", "(ipv4|ipv6)"),\n    "chain", "$1", "type", "(.+)"))'
                    % node('rate(collectd_kube_proxy_ipt_%s_total{kube_proxy=~"ipv4|ipv6"}[5m])' % _u)))
for _u in ['packets', 'bytes']:
    RECORDS.append(('Per second, %s per service port (CollectServices true); labels family, service (ns_name_port).' % _u,
                    'kube_proxy_check_service_%s:rate5m' % _u,
                    'sum without (kube_proxy, type) (\n  label_replace(label_replace(\n    %s,\n'
                    '    "family", "$1", "kube_proxy", "(ipv4|ipv6)-services"),\n    "service", "$1", "type", "(.+)"))'
                    % node('rate(collectd_kube_proxy_ipt_%s_total{kube_proxy=~"ipv4-services|ipv6-services"}[5m])' % _u)))

FAIL_DESC = ('Check {{ $labels.check }} has been FAIL on node {{ $labels.node }} for 2 minutes. '
             + branches() + FINDING)
WARN_DESC = ('Check {{ $labels.check }} has been WARN on node {{ $labels.node }} for 15 minutes. '
             + branches() + FINDING)
NOEP_DESC = ('{{ $value }} service port(s) on node {{ $labels.node }} have had a "has no endpoints" rule '
             'for 15 minutes: their clients get a reject. ' + CHECKS['endpoints']
             + ' kube-proxy-check on the node lists them (details.services_without_endpoints).')
READ_DESC = ("The collectd kube_proxy plugin on node {{ $labels.node }} has failed to read the netfilter "
             "tables for 2 minutes: no check runs there and its other series are stale. Read collectd's "
             "log on the node (it names the error once): missing CAP_NET_ADMIN / CAP_NET_RAW "
             "(docs/privileges.md), a NetNS path that does not exist, a table that cannot be read; "
             "kube-proxy-check run as root on the node shows whether the tables can be read at all.")
STALE_DESC = ("Node {{ $labels.node }} sent kube_proxy values within the last hour but none for 5 minutes "
              "or more: collectd stopped, the kube_proxy plugin is not loaded, or Prometheus cannot scrape "
              "the node's write_prometheus port (9103). Check collectd on the node (kubectl -n "
              "collectd-kube-proxy get pods -o wide, or systemctl status collectd), its log, and the "
              "target on Prometheus' Targets page. The alert ends an hour after the node went silent "
              "(a node removed on purpose resolves it then).")
ABSENT_DESC = ("Prometheus has had no kube_proxy series from any node for 15 minutes: the DaemonSet (or "
               "collectd with the kube_proxy plugin) is not deployed or not running, the scrape config or "
               "PodMonitor does not select it, or these recording rules do not match the metric names "
               "(docs/metrics.md, Prometheus). Check kubectl -n collectd-kube-proxy get ds,pods and "
               "Prometheus' Targets page.")

ALERTS = [
    ('A check FAIL for 2 minutes: services on the node are broken or about to be.',
     'KubeProxyCheckFailing', 'kube_proxy_check_state == 2', '2m', {'severity': 'critical'},
     'kube-proxy check {{ $labels.check }} FAIL on {{ $labels.node }}', FAIL_DESC, RUNBOOK + '{{ $labels.check }}'),
    ('A check WARN for 15 minutes. The endpoints check is left to KubeProxyServicesWithoutEndpoints.',
     'KubeProxyCheckWarning', 'kube_proxy_check_state{check!="endpoints"} == 1', '15m', {'severity': 'warning'},
     'kube-proxy check {{ $labels.check }} WARN on {{ $labels.node }}', WARN_DESC, RUNBOOK + '{{ $labels.check }}'),
    ('Services whose rules say they have no endpoints, for 15 minutes.',
     'KubeProxyServicesWithoutEndpoints', 'kube_proxy_check_services_without_endpoints > 0', '15m',
     {'severity': 'warning', 'check': 'endpoints'},
     '{{ $value }} service(s) without endpoints on {{ $labels.node }}', NOEP_DESC, RUNBOOK + 'endpoints'),
    ("The plugin's reads fail (read-failed gauge 1) for 2 minutes.",
     'KubeProxyReadFailing', 'kube_proxy_check_read_failed == 1', '2m', {'severity': 'critical', 'check': 'read'},
     'kube_proxy plugin cannot read the netfilter tables on {{ $labels.node }}', READ_DESC, RUNBOOK + 'read'),
    ('A node that reported within the last hour has no series now (stale), for 5 minutes.',
     'KubeProxyNodeNotReporting',
     'group by (node) (\n  last_over_time(kube_proxy_check_state[1h])\n  or last_over_time(kube_proxy_check_read_failed[1h])\n)\n'
     'unless\ngroup by (node) (kube_proxy_check_state or kube_proxy_check_read_failed)',
     '5m', {'severity': 'warning', 'check': 'reporting'},
     'Node {{ $labels.node }} stopped reporting kube-proxy checks', STALE_DESC, RUNBOOK + 'reporting'),
    ('No series from any node (absent) for 15 minutes.',
     'KubeProxyMetricsAbsent', 'absent(kube_proxy_check_state) and absent(kube_proxy_check_read_failed)', '15m',
     {'severity': 'warning', 'check': 'reporting'},
     'No node reports kube-proxy checks', ABSENT_DESC, RUNBOOK + 'reporting'),
]

HEADER = '''\
# Prometheus rules for collectd-kube-proxy (docs/deploying.md, "Prometheus").
# Generated by generate.py in this directory: edit that, run it, commit both.
#
# Input: what collectd's write_prometheus plugin serves for the kube_proxy
# plugin (docs/metrics.md, "In Prometheus"), scraped with no relabelling:
# honor_labels false (collectd's host name lands in exported_instance) or
# true (in instance), a static target, a PodMonitor. Every recorded series
# carries `node`: collectd's Hostname (with the DaemonSet, the node name).
#
# The selectors accept today's type names (count, gauge) and the ones that
# pass `promtool check metrics` (objects, health, bool), so the rules work
# before and after that rename in the plugin.
#
#   promtool check rules packaging/prometheus/kube-proxy.rules.yml
#   promtool test rules packaging/prometheus/kube-proxy.rules.test.yml
'''


def q(s):
    return '"%s"' % s.replace('\\', '\\\\').replace('"', '\\"')


def rules_text():
    ind = textwrap.indent
    # One group: Prometheus evaluates the rules of a group in order, and
    # groups concurrently, so alerts on recorded series sit after them in the
    # same group (in two groups an alert would read the previous evaluation's
    # values, and promtool's unit tests would pass or fail by group order).
    out = [HEADER + 'groups:\n  - name: kube-proxy-check\n    rules:']
    for comment, name, expr in RECORDS:
        out.append('      # %s\n      - record: %s\n        expr: |\n%s' % (comment, name, ind(expr, ' ' * 10)))
    for comment, name, expr, for_, labels, summary, desc, rb in ALERTS:
        lab = ''.join('          %s: %s\n' % (k, v) for k, v in labels.items())
        body = textwrap.fill(desc, 92, break_long_words=False, break_on_hyphens=False)
        out.append('      # %s\n      - alert: %s\n        expr: |\n%s\n        for: %s\n        labels:\n%s'
                   '        annotations:\n          summary: %s\n          description: >-\n%s\n'
                   '          runbook_url: %s' % (comment, name, ind(expr, ' ' * 10), for_, lab, q(summary),
                                                  ind(body, ' ' * 12), q(rb)))
    text = '\n'.join(out) + '\n'
    # the folded description must read back exactly as written
    back = {r.get('alert'): r for g in yaml.safe_load(text)['groups'] for r in g['rules']}
    for a in ALERTS:
        assert back[a[1]]['annotations']['description'] == a[6], a[1]
    return text


# ---- promtool unit tests ----------------------------------------------------
# Raw series as write_prometheus serves them, scraped with honor_labels
# false (instance = target, exported_instance = collectd's Hostname).
A = 'instance="10.0.0.1:9103",job="collectd",exported_instance="node-a"'
B = 'instance="node-b",job="collectd"'  # honor_labels true
A_OUT = {'instance': '10.0.0.1:9103', 'job': 'collectd', 'exported_instance': 'node-a', 'node': 'node-a'}
B_OUT = {'instance': 'node-b', 'job': 'collectd', 'node': 'node-b'}


def desc(tmpl, check, node_name, minutes, state):
    """The description Prometheus must render, built here from the parts
    (not from the Go template)."""
    return ('Check %s has been %s on node %s for %s. %s%s'
            % (check, state, node_name, minutes, CHECKS.get(check, OTHER), FINDING))


def failing_alert(check, labels, node_name):
    return {'exp_labels': dict(labels, severity='critical', check=check),
            'exp_annotations': {'summary': 'kube-proxy check %s FAIL on %s' % (check, node_name),
                                'description': desc(FAIL_DESC, check, node_name, '2 minutes', 'FAIL'),
                                'runbook_url': RUNBOOK + check}}


def warning_alert(check, labels, node_name):
    return {'exp_labels': dict(labels, severity='warning', check=check),
            'exp_annotations': {'summary': 'kube-proxy check %s WARN on %s' % (check, node_name),
                                'description': desc(WARN_DESC, check, node_name, '15 minutes', 'WARN'),
                                'runbook_url': RUNBOOK + check}}


def tests():
    t = []
    # 1. recording rules: names, labels, values, both scrape styles, both type namings
    t.append({
        'name': 'records: check states, counts, duration, read-failed, rates; node from exported_instance or instance',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-masquerade",%s}' % A, 'values': '2x10'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-hooks",%s}' % A, 'values': '0x10'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="read-failed",%s}' % A, 'values': '0x10'},
            {'series': 'collectd_kube_proxy_health{kube_proxy="check-masquerade",%s}' % B, 'values': '1x10'},
            {'series': 'collectd_kube_proxy_bool{kube_proxy="read-failed",%s}' % B, 'values': '1x10'},
            {'series': 'collectd_kube_proxy_count{kube_proxy="services",%s}' % A, 'values': '5x10'},
            {'series': 'collectd_kube_proxy_count{kube_proxy="endpoints",%s}' % A, 'values': '8x10'},
            {'series': 'collectd_kube_proxy_count{kube_proxy="services_without_endpoints",%s}' % A, 'values': '1x10'},
            {'series': 'collectd_kube_proxy_objects{kube_proxy="rules",%s}' % B, 'values': '59x10'},
            {'series': 'collectd_kube_proxy_count{kube_proxy="chains",%s}' % A, 'values': '42x10'},
            {'series': 'collectd_kube_proxy_duration_seconds{kube_proxy="read",%s}' % A, 'values': '0.25x10'},
            # 600 packets a minute = 10/s; 61440 B a minute = 1024 B/s
            {'series': 'collectd_kube_proxy_ipt_packets_total{kube_proxy="ipv4",type="KUBE-SERVICES",%s}' % A,
             'values': '0+600x10'},
            {'series': 'collectd_kube_proxy_ipt_bytes_total{kube_proxy="ipv6",type="KUBE-NODEPORTS",%s}' % A,
             'values': '0+61440x10'},
            {'series': 'collectd_kube_proxy_ipt_packets_total{kube_proxy="ipv4-services",type="web_frontend_http",%s}' % A,
             'values': '0+120x10'},
            {'series': 'collectd_kube_proxy_ipt_bytes_total{kube_proxy="ipv6-services",type="kube-system_kube-dns_dns",%s}' % B,
             'values': '0+6000x10'},
        ],
        'promql_expr_test': [
            {'expr': 'kube_proxy_check_state', 'eval_time': '5m', 'exp_samples': [
                {'labels': 'kube_proxy_check_state{check="hooks",%s}' % lbl(A_OUT), 'value': 0},
                {'labels': 'kube_proxy_check_state{check="masquerade",%s}' % lbl(A_OUT), 'value': 2},
                {'labels': 'kube_proxy_check_state{check="masquerade",%s}' % lbl(B_OUT), 'value': 1}]},
            {'expr': 'kube_proxy_check_read_failed', 'eval_time': '5m', 'exp_samples': [
                {'labels': 'kube_proxy_check_read_failed{%s}' % lbl(A_OUT), 'value': 0},
                {'labels': 'kube_proxy_check_read_failed{%s}' % lbl(B_OUT), 'value': 1}]},
            {'expr': 'kube_proxy_check_services', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_services{%s}' % lbl(A_OUT), 'value': 5}]},
            {'expr': 'kube_proxy_check_endpoints', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_endpoints{%s}' % lbl(A_OUT), 'value': 8}]},
            {'expr': 'kube_proxy_check_services_without_endpoints', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_services_without_endpoints{%s}' % lbl(A_OUT), 'value': 1}]},
            {'expr': 'kube_proxy_check_rules', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_rules{%s}' % lbl(B_OUT), 'value': 59}]},
            {'expr': 'kube_proxy_check_chains', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_chains{%s}' % lbl(A_OUT), 'value': 42}]},
            {'expr': 'kube_proxy_check_read_duration_seconds', 'eval_time': '5m',
             'exp_samples': [{'labels': 'kube_proxy_check_read_duration_seconds{%s}' % lbl(A_OUT), 'value': 0.25}]},
            {'expr': 'kube_proxy_check_chain_packets:rate5m', 'eval_time': '10m', 'exp_samples': [
                {'labels': 'kube_proxy_check_chain_packets:rate5m{chain="KUBE-SERVICES",family="ipv4",%s}' % lbl(A_OUT),
                 'value': 10}]},
            {'expr': 'kube_proxy_check_chain_bytes:rate5m', 'eval_time': '10m', 'exp_samples': [
                {'labels': 'kube_proxy_check_chain_bytes:rate5m{chain="KUBE-NODEPORTS",family="ipv6",%s}' % lbl(A_OUT),
                 'value': 1024}]},
            {'expr': 'kube_proxy_check_service_packets:rate5m', 'eval_time': '10m', 'exp_samples': [
                {'labels': 'kube_proxy_check_service_packets:rate5m{family="ipv4",service="web_frontend_http",%s}' % lbl(A_OUT),
                 'value': 2}]},
            {'expr': 'kube_proxy_check_service_bytes:rate5m', 'eval_time': '10m', 'exp_samples': [
                {'labels': 'kube_proxy_check_service_bytes:rate5m{family="ipv6",service="kube-system_kube-dns_dns",%s}' % lbl(B_OUT),
                 'value': 100}]},
        ],
    })
    # 2. KubeProxyCheckFailing: FAIL 3 minutes fires (pending before 2m);
    #    a 1-minute FAIL and a WARN never fire it.
    t.append({
        'name': 'KubeProxyCheckFailing fires after 2 minutes of FAIL, not for a short FAIL or a WARN',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-masquerade",%s}' % A, 'values': '0 2 2 2 2 2 2'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-hooks",%s}' % A, 'values': '2 0 0 0 0 0 0'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-canary",%s}' % B, 'values': '1x6'},
            {'series': 'collectd_kube_proxy_health{kube_proxy="check-sync",%s}' % B, 'values': '0 0 0 2 2 2 2'},
        ],
        'alert_rule_test': [
            {'eval_time': '2m', 'alertname': 'KubeProxyCheckFailing', 'exp_alerts': []},
            {'eval_time': '3m', 'alertname': 'KubeProxyCheckFailing',
             'exp_alerts': [failing_alert('masquerade', A_OUT, 'node-a')]},
            {'eval_time': '6m', 'alertname': 'KubeProxyCheckFailing',
             'exp_alerts': [failing_alert('masquerade', A_OUT, 'node-a'), failing_alert('sync', B_OUT, 'node-b')]},
        ],
    })
    t.append({
        'name': 'KubeProxyCheckFailing resolves when the check is OK again',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-backends",%s}' % A, 'values': '2 2 2 2 0 0 0'},
        ],
        'alert_rule_test': [
            {'eval_time': '3m', 'alertname': 'KubeProxyCheckFailing',
             'exp_alerts': [failing_alert('backends', A_OUT, 'node-a')]},
            {'eval_time': '5m', 'alertname': 'KubeProxyCheckFailing', 'exp_alerts': []},
        ],
    })
    # 3. KubeProxyCheckWarning
    t.append({
        'name': 'KubeProxyCheckWarning fires after 15 minutes of WARN; not before, not for endpoints, not for FAIL',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-activity",%s}' % A, 'values': '1x20'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-endpoints",%s}' % A, 'values': '1x20'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-chains",%s}' % A, 'values': '2x20'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-stale",%s}' % B, 'values': '1x10 0x10'},
        ],
        'alert_rule_test': [
            {'eval_time': '14m', 'alertname': 'KubeProxyCheckWarning', 'exp_alerts': []},
            {'eval_time': '16m', 'alertname': 'KubeProxyCheckWarning',
             'exp_alerts': [warning_alert('activity', A_OUT, 'node-a')]},
        ],
    })
    # 4. KubeProxyServicesWithoutEndpoints
    noep = lambda n: {'exp_labels': dict(A_OUT, severity='warning', check='endpoints'),
                      'exp_annotations': {'summary': '%d service(s) without endpoints on node-a' % n,
                                          'description': NOEP_DESC.replace('{{ $value }}', str(n)).replace(
                                              '{{ $labels.node }}', 'node-a'),
                                          'runbook_url': RUNBOOK + 'endpoints'}}
    t.append({
        'name': 'KubeProxyServicesWithoutEndpoints fires after 15 minutes, not before, not at 0',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_count{kube_proxy="services_without_endpoints",%s}' % A, 'values': '3x20'},
            {'series': 'collectd_kube_proxy_count{kube_proxy="services_without_endpoints",%s}' % B, 'values': '0x20'},
        ],
        'alert_rule_test': [
            {'eval_time': '14m', 'alertname': 'KubeProxyServicesWithoutEndpoints', 'exp_alerts': []},
            {'eval_time': '16m', 'alertname': 'KubeProxyServicesWithoutEndpoints', 'exp_alerts': [noep(3)]},
        ],
    })
    # 5. KubeProxyReadFailing
    readf = lambda labels, n: {'exp_labels': dict(labels, severity='critical', check='read'),
                               'exp_annotations': {
                                   'summary': 'kube_proxy plugin cannot read the netfilter tables on %s' % n,
                                   'description': READ_DESC.replace('{{ $labels.node }}', n),
                                   'runbook_url': RUNBOOK + 'read'}}
    t.append({
        'name': 'KubeProxyReadFailing fires after 2 minutes of failed reads, not for one failed read',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="read-failed",%s}' % A, 'values': '0 1 1 1 1 1'},
            {'series': 'collectd_kube_proxy_bool{kube_proxy="read-failed",%s}' % B, 'values': '0 1 0 0 0 0'},
        ],
        'alert_rule_test': [
            {'eval_time': '2m', 'alertname': 'KubeProxyReadFailing', 'exp_alerts': []},
            {'eval_time': '4m', 'alertname': 'KubeProxyReadFailing', 'exp_alerts': [readf(A_OUT, 'node-a')]},
        ],
    })
    # 6. KubeProxyNodeNotReporting: node-a's series end at 10m (visible 5
    #    more minutes: lookback), node-b keeps reporting.
    stale = {'exp_labels': {'node': 'node-a', 'severity': 'warning', 'check': 'reporting'},
             'exp_annotations': {'summary': 'Node node-a stopped reporting kube-proxy checks',
                                 'description': STALE_DESC.replace('{{ $labels.node }}', 'node-a'),
                                 'runbook_url': RUNBOOK + 'reporting'}}
    t.append({
        'name': 'KubeProxyNodeNotReporting fires for a node whose series stopped, not for one still reporting',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-mode",%s}' % A, 'values': '0x10'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="read-failed",%s}' % A, 'values': '0x10'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-mode",%s}' % B, 'values': '0x40'},
            # node-c: reads fail, check states gone, read-failed still there: not stale
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-mode",instance="node-c",job="collectd"}',
             'values': '0x10'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="read-failed",instance="node-c",job="collectd"}',
             'values': '0x10 1x30'},
        ],
        'alert_rule_test': [
            {'eval_time': '14m', 'alertname': 'KubeProxyNodeNotReporting', 'exp_alerts': []},
            {'eval_time': '25m', 'alertname': 'KubeProxyNodeNotReporting', 'exp_alerts': [stale]},
        ],
    })
    # 7. KubeProxyMetricsAbsent
    absent = {'exp_labels': {'severity': 'warning', 'check': 'reporting'},
              'exp_annotations': {'summary': 'No node reports kube-proxy checks', 'description': ABSENT_DESC,
                                  'runbook_url': RUNBOOK + 'reporting'}}
    t.append({
        'name': 'KubeProxyMetricsAbsent fires after 15 minutes without any series',
        'interval': '1m',
        'input_series': [{'series': 'up{job="other"}', 'values': '1x20'}],
        'alert_rule_test': [
            {'eval_time': '14m', 'alertname': 'KubeProxyMetricsAbsent', 'exp_alerts': []},
            {'eval_time': '16m', 'alertname': 'KubeProxyMetricsAbsent', 'exp_alerts': [absent]},
        ],
    })
    t.append({
        'name': 'KubeProxyMetricsAbsent does not fire while one node reports (only read-failed, or only states)',
        'interval': '1m',
        'input_series': [
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="read-failed",%s}' % A, 'values': '1x20'},
            {'series': 'collectd_kube_proxy_gauge{kube_proxy="check-mode",%s}' % B, 'values': '_x10 0x10'},
        ],
        'alert_rule_test': [
            {'eval_time': '20m', 'alertname': 'KubeProxyMetricsAbsent', 'exp_alerts': []},
            # and none of the other alerts for this healthy-looking input but the read failure
            {'eval_time': '20m', 'alertname': 'KubeProxyNodeNotReporting', 'exp_alerts': []},
            {'eval_time': '20m', 'alertname': 'KubeProxyCheckFailing', 'exp_alerts': []},
        ],
    })
    return {'rule_files': ['kube-proxy.rules.yml'], 'evaluation_interval': '1m', 'tests': t}


def lbl(d):
    return ','.join('%s="%s"' % (k, v) for k, v in sorted(d.items()))


def main():
    rules = rules_text()
    test = ('# promtool unit tests for kube-proxy.rules.yml, generated by generate.py.\n'
            '#   promtool test rules packaging/prometheus/kube-proxy.rules.test.yml\n'
            + yaml.safe_dump(tests(), sort_keys=False, width=100, allow_unicode=True))
    outdir = sys.argv[1] if len(sys.argv) > 1 else HERE
    with open(os.path.join(outdir, 'kube-proxy.rules.yml'), 'w') as f:
        f.write(rules)
    with open(os.path.join(outdir, 'kube-proxy.rules.test.yml'), 'w') as f:
        f.write(test)


if __name__ == '__main__':
    main()
