#!/usr/bin/env bash
# kube-proxy's /metrics misbehaving, as the `sync` check sees it live. A
# stand-in serves /metrics inside the node namespace, its behaviour picked
# per request from a file:
#  - broken: a body that stops parsing between
#    kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds and
#    ..._last_timestamp_seconds (the order kube-proxy prints them in). The
#    real collectd: check-sync is a WARNING naming the line (not a FAILURE
#    "sync hung" made of the half that parsed), health-check-sync 1;
#  - the CLI on the same endpoint for each behaviour: refused, no answer
#    (slow: hung on every path), an answer over 4 MiB, garbage, HTTP 500:
#    exit 1, one WARN saying what happened (does not answer, too big, does
#    not parse, HTTP error), never a FAIL; a hung kube-proxy costs one
#    1 s timeout (/proxyMode is not asked after /metrics did not answer);
#  - KubeProxyMetrics "localhost:10249" (not an IP): collectd refuses the
#    config, the ERROR saying IP:PORT is needed (the probe resolves no
#    name: it would read as kube-proxy being down).
# Needs root (network namespaces, iptables-legacy), python3.
#   test-collectd-proxy-faults.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin proxyfaults iptables-legacy-restore python3
kp_node legacy

mkdir -p "$KP_TMP/www"
now=$(date +%s)
{
  echo "# TYPE kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds gauge"
  echo "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds $now"
  echo "kubeproxy_sync_proxy_rules_last_sync_bogus not-a-number"
  echo "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge"
  echo "kubeproxy_sync_proxy_rules_last_timestamp_seconds $now"
} >"$KP_TMP/www/broken"
cat >"$KP_TMP/server.py" <<'EOF'
# /metrics as the file "mode" says: broken (the file "broken"), slow (no
# answer for 5 s), huge (6 MiB of samples), garbage (binary bytes), error
# (HTTP 500).
import http.server, os, sys, time
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mode = open(os.path.join(root, "mode")).read().strip()
        if mode == "slow": # hung: accepts, never answers, on every path
            time.sleep(5); return
        if self.path != "/metrics":
            self.send_response(404); self.end_headers(); return
        if mode == "error": # an error page, as a proxy in front or a crashing handler gives
            self.send_response(500); self.end_headers(); self.wfile.write(b"500 oops\n"); return
        if mode == "huge":
            body = b"kubeproxy_sync_proxy_rules_last_timestamp_seconds 1\n" * 120000
        elif mode == "garbage":
            body = bytes(range(256)) * 4
        else:
            body = open(os.path.join(root, mode), "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 10249), H).serve_forever()
EOF
echo broken >"$KP_TMP/www/mode"
kp_spawn /dev/null ip netns exec "$NS" python3 "$KP_TMP/server.py" "$KP_TMP/www"
SERVER_PID=$KP_SPAWNED
up() { ip netns exec "$NS" bash -c 'echo > /dev/tcp/127.0.0.1/10249' 2>/dev/null; }
kp_check "stand-in /metrics listening in the namespace" kp_wait 5 up

# --- the real collectd on a /metrics that does not parse --------------------------------
KP_PROXY_ENDPOINTS='KubeProxyMetrics "127.0.0.1:10249"
  KubeProxyHealthz "none"' kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
sync_notifs() { kp_notifs_matching 'TypeInstance: check-sync' "$@"; }
kp_check "broken /metrics: WARNING for check-sync naming the line" \
  kp_wait 10 kp_has_notif '^Severity: WARNING' 'TypeInstance: check-sync' \
  '/metrics: response line [0-9]+: sample without a numeric value'
kp_check "... health-check-sync 1" kp_wait 4 kp_csv_is kube_proxy health-check-sync 1
sleep 2
kp_check "... no FAILURE for check-sync (no sync hung from half a body)" \
  test "$(sync_notifs '^Severity: FAILURE')" -eq 0
kp_check "... reads go on: read-failed 0" kp_csv_is kube_proxy bool-read-failed 0
kp_stop_collectd

# --- the CLI, one behaviour after the other ----------------------------------------------
cli() { # cli MODE: the CLI on the endpoint; output in $out, status in $rc, seconds in $took
  echo "$1" >"$KP_TMP/www/mode"
  local t0=$(date +%s%N)
  out=$("$KP_BUILD/kube-proxy-check" --netns "/run/netns/$NS" --kube-proxy-metrics 127.0.0.1:10249 \
    --kube-proxy-healthz none 2>&1)
  rc=$?
  took=$((($(date +%s%N) - t0) / 1000000))
}
sync_lines() { grep -c "kube-proxy does not answer\|kube-proxy's answer\|kube-proxy answered\|kube-proxy sync" <<<"$out"; }
for mode in slow huge garbage broken error; do
  cli "$mode"
  case $mode in
  slow) said='kube-proxy does not answer' why='/metrics: Connection timed out (not running' ;;
  huge) said="kube-proxy's answer is too big to read" why='/metrics: answer over 4 MiB, not read (' ;;
  garbage) said="kube-proxy's answer does not parse" why='/metrics: response line [0-9]*: ' ;;
  broken) said="kube-proxy's answer does not parse"
    why='/metrics: response line [0-9]*: sample without a numeric value (none of it is used' ;;
  error) said='kube-proxy answered with an HTTP error' why='/metrics: HTTP status 500 (' ;;
  esac
  kp_check "CLI, $mode /metrics: exit 1" test "$rc" -eq 1
  kp_check "... one [WARN] saying what happened ($said)" grep -q "^\[WARN\] $said: http://127.0.0.1:10249$why" <<<"$out"
  kp_check "... no [FAIL] about the sync" bash -c '! grep -q "^\[FAIL\] kube-proxy" <<<"$1"' _ "$out"
  kp_check "... one sync finding only" test "$(sync_lines)" -eq 1
  if [ "$mode" = slow ]; then
    # One 1 s timeout: /proxyMode is not asked of a kube-proxy that did
    # not answer /metrics (it was: 2 s, 3 with /livez on the same hung process).
    kp_check "... done in under 1.7 s: one timeout (took $took ms)" test "$took" -lt 1700
  else
    kp_check "... done in under 3 s (took $took ms)" test "$took" -lt 3000
  fi
done
kp_stop "$SERVER_PID"
cli refused
kp_check "CLI, nothing listening: one [WARN] Connection refused" \
  grep -q '^\[WARN\] kube-proxy does not answer: http://127.0.0.1:10249/metrics: Connection refused' <<<"$out"

# --- an address that is not IP:PORT ----------------------------------------------------------
: >"$KP_TMP/collectd.log"
rm -f "$KP_TMP"/notifications/n.*
KP_PROXY_ENDPOINTS='KubeProxyMetrics "localhost:10249"
  KubeProxyHealthz "none"' kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
collectd_gone() { ! kp_collectd_alive; }
kp_check "KubeProxyMetrics localhost:10249: collectd refuses the config (the probe could never ask it)" \
  kp_wait 10 collectd_gone
kp_stop_collectd
kp_check "... collectd exits 1 (rc=$KP_COLLECTD_RC)" test "$KP_COLLECTD_RC" -eq 1
kp_check "... its ERROR names the key and value and asks for IP:PORT" \
  grep -q 'kube_proxy plugin: invalid value "localhost:10249" for option "KubeProxyMetrics": expected IP:PORT' \
  "$KP_TMP/collectd.log" "$KP_TMP/collectd.out"
kp_finish
