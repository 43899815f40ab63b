#!/usr/bin/env bash
# The `sync` check live: the real collectd with kube_proxy.so asks
# kube-proxy's own HTTP endpoints (/metrics and /proxyMode on :10249,
# /livez on :10256) on the namespace's loopback. kube-proxy itself cannot run
# here, so a small HTTP server in the test namespace serves the bodies a
# kube-proxy serves (files the test rewrites):
#  1. healthy (last sync = last queued = now, /proxyMode iptables, /livez
#     lastUpdated == currentTime): health-check-sync 0;
#  2. hung (an update queued 300 s after the last applied sync, /livez
#     stale): FAILURE for check-sync naming the hang, then healthy: OKAY;
#  3. the endpoints go away: WARNING "kube-proxy does not answer";
#  4. the CLI (--netns) says the same as the plugin.
#   test-collectd-sync.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin itsy iptables-legacy-restore python3
kp_node legacy
mkdir -p "$KP_TMP/www"

# The bodies, as kube-proxy writes them (pkg/proxy/healthcheck, metrics).
serve_state() { # healthy | hung
  local now last queued
  now=$(date +%s)
  if [ "$1" = healthy ]; then last=$now queued=$now; else last=$((now - 300)) queued=$now; fi
  cat >"$KP_TMP/www/metrics" <<EOF
# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced
# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_timestamp_seconds $last
# TYPE kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds gauge
kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds $queued
# TYPE kubeproxy_sync_proxy_rules_iptables_restore_failures_total counter
kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0
EOF
  printf 'iptables' >"$KP_TMP/www/proxyMode"
  local lu cu
  lu=$(date -u -d "@$last" +%Y-%m-%dT%H:%M:%S.000000000Z)
  cu=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%S.000000000Z)
  printf '{"lastUpdated": "%s","currentTime": "%s", "nodeEligible": true}' "$lu" "$cu" \
    >"$KP_TMP/www/livez"
  if [ "$1" = healthy ]; then echo 200 >"$KP_TMP/www/livez.status"; else echo 503 >"$KP_TMP/www/livez.status"; fi
}

cat >"$KP_TMP/server.py" <<'EOF'
# Serves files of a directory as kube-proxy's endpoints, on two ports.
import http.server, os, sys, threading
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.strip("/")
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            self.send_response(404); self.end_headers(); return
        status = 200
        if os.path.isfile(path + ".status"):
            status = int(open(path + ".status").read().strip())
        body = open(path, "rb").read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if name == "livez" else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
servers = [http.server.ThreadingHTTPServer(("127.0.0.1", p), H) for p in (10249, 10256)]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
EOF
start_server() { # the stand-in kube-proxy endpoints, in the namespace
  kp_spawn /dev/null ip netns exec "$NS" python3 "$KP_TMP/server.py" "$KP_TMP/www"
  SERVER_PID=$KP_SPAWNED
}
serve_state healthy
start_server
up() { ip netns exec "$NS" bash -c 'echo > /dev/tcp/127.0.0.1/10256' 2>/dev/null; }
kp_check "stand-in endpoints listening in the namespace" kp_wait 5 up

KP_PROXY_ENDPOINTS='KubeProxyMetrics "127.0.0.1:10249"
  KubeProxyHealthz "127.0.0.1:10256"' kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
sync_notifs() { kp_notifs_matching 'TypeInstance: check-sync' "$@"; }

# --- 1. healthy ----------------------------------------------------------------------------
kp_check "first values written" kp_wait 15 kp_csv_last kube_proxy health-check-sync
kp_check "healthy kube-proxy: health-check-sync 0" kp_csv_is kube_proxy health-check-sync 0
kp_check "... and no notification for check-sync" test "$(sync_notifs)" -eq 0

# --- 2. hung, then healthy again ---------------------------------------------------------
serve_state hung
# Two findings (stale /livez, and the hang): the notification carries the
# first and counts the other.
kp_check "hung sync: FAILURE for check-sync (/livez unhealthy, +1 more: the hang)" \
  kp_wait 8 kp_has_notif '^Severity: FAILURE' 'TypeInstance: check-sync' \
  'kube-proxy /livez unhealthy .*\(\+1 more\)|sync hung: an update was queued 300 s'
kp_check "... with meta check sync, mode iptables" \
  kp_has_notif '^Severity: FAILURE' '^check: sync$' '^mode: iptables$'
kp_check "health-check-sync 2" kp_wait 4 kp_csv_is kube_proxy health-check-sync 2
serve_state healthy
kp_check "synced again: OKAY for check-sync" \
  kp_wait 8 kp_has_notif '^Severity: OKAY' 'TypeInstance: check-sync'
kp_check "health-check-sync 0" kp_wait 4 kp_csv_is kube_proxy health-check-sync 0

# --- 3. kube-proxy gone --------------------------------------------------------------------
kp_stop "$SERVER_PID"
kp_check "endpoints gone: WARNING for check-sync, kube-proxy does not answer" \
  kp_wait 8 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-sync' \
  'kube-proxy does not answer: http://127.0.0.1:10249/metrics: Connection refused'
kp_check "collectd still running" kp_collectd_alive
kp_check "one FAILURE, one WARNING for check-sync in all" \
  test "$(sync_notifs '^Severity: FAILURE')" -eq 1 -a "$(sync_notifs '^Severity: WARNING')" -eq 1

# --- 4. the CLI asks the same endpoints --------------------------------------------------------
serve_state healthy
start_server
kp_check "stand-in endpoints back" kp_wait 5 up
out=$("$KP_BUILD/kube-proxy-check" --netns "/run/netns/$NS" 2>&1)
kp_check "CLI: [OK] kube-proxy syncing" grep -q '^\[OK\] kube-proxy syncing (last sync [0-9]* s ago)$' <<<"$out"
serve_state hung
out=$("$KP_BUILD/kube-proxy-check" --netns "/run/netns/$NS" 2>&1)
kp_check "CLI: [FAIL] sync hung" grep -q '^\[FAIL\] kube-proxy sync hung' <<<"$out"
kp_check "CLI: [FAIL] /livez unhealthy" grep -q '^\[FAIL\] kube-proxy /livez unhealthy' <<<"$out"
out=$("$KP_BUILD/kube-proxy-check" --netns "/run/netns/$NS" --kube-proxy-metrics none \
  --kube-proxy-healthz none 2>&1)
kp_check "CLI: endpoints not asked with none" grep -q '^\[INFO\] no kube-proxy metrics' <<<"$out"

kp_finish
