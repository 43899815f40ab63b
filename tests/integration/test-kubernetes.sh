#!/usr/bin/env bash
# The image and the DaemonSet, without a registry or a cluster:
#  - the manifests (daemonset.yaml, prometheus-operator.yaml) validate
#    offline against Kubernetes' schemas with unknown fields rejected
#    (packaging/kubernetes/validate: kubernetes-models + TypeScript, from the
#    npm registry, cached in BUILD/k8s-npm); copies with an unknown field and
#    a bad quantity are rejected; Service and PodMonitor select the pods;
#  - the image's root filesystem: mmdebstrap of Debian 12 with the packages
#    of the Containerfile's apt-get line and the .deb of `make deb`, cached
#    in BUILD/k8s-rootfs (rebuilt when the .deb or the list changes);
#  - the ConfigMap's collectd.conf, drop-in and liveness.sh mounted on
#    /etc/collectd (bind mounts in a private mount namespace), collectd run
#    chrooted into it inside a kp- namespace holding a kube-proxy ruleset,
#    as the DaemonSet runs it (hostNetwork: the namespace is the "node"):
#    write_prometheus serves our series; the liveness probe passes; with
#    CAP_NET_ADMIN and CAP_NET_RAW dropped (reads fail) it fails although
#    write_prometheus answers; with collectd gone it fails.
# Root. Usage: test-kubernetes.sh [BUILD_DIR]
set -uo pipefail
KP_BUILD=${1:-build}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$(dirname "$0")/collectd-lib.sh"
K8S="$KP_ROOT/packaging/kubernetes"
[ "$(id -u)" -eq 0 ] || kp_skip "needs root (namespaces, chroot, mmdebstrap)"
for t in mmdebstrap node npm capsh unshare nsenter python3 iptables-legacy-restore dpkg-deb; do
  command -v "$t" >/dev/null 2>&1 || kp_skip "$t not installed"
done
python3 -c 'import yaml' 2>/dev/null || kp_skip "python3-yaml not installed"
KP_TMP=$(mktemp -d /tmp/kp-k8s.XXXXXX)
chmod 755 "$KP_TMP"
NS=kp-k8s-$$
PID=
stop() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
  fi
}
cleanup() {
  stop
  kp_delete_node "$NS"
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- manifests against the schemas -------------------------------------------------------
NPM="$KP_BUILD/k8s-npm"
if ! cmp -s "$K8S/validate/package.json" "$NPM/package.json" 2>/dev/null || [ ! -d "$NPM/node_modules" ]; then
  rm -rf "$NPM" && mkdir -p "$NPM"
  cp "$K8S/validate/package.json" "$NPM/"
  (cd "$NPM" && npm install --no-audit --no-fund --loglevel=error >"$KP_TMP/npm.log" 2>&1) ||
    { cat "$KP_TMP/npm.log"; rm -rf "$NPM"; }
fi
export KP_NODE_MODULES="$NPM/node_modules"
validate() { node "$K8S/validate/validate.mjs" "$@"; }
validate "$K8S/daemonset.yaml" "$K8S/prometheus-operator.yaml" >"$KP_TMP/validate.out" 2>&1
kp_check "daemonset.yaml + prometheus-operator.yaml valid, no unknown field ($(grep -c '^ok' "$KP_TMP/validate.out") ok lines)" \
  bash -c "! grep -q '^FAIL' '$KP_TMP/validate.out' && grep -q 'no field outside the schemas' '$KP_TMP/validate.out'"
grep '^FAIL' "$KP_TMP/validate.out"
sed 's/^      enableServiceLinks: false$/      enableServiceLinks: false\n      hostNetworking: true/' "$K8S/daemonset.yaml" >"$KP_TMP/unknown.yaml"
# rejected FILE WORD: the validator fails on FILE and names WORD
rejected() { ! validate "$1" >"$KP_TMP/v.out" 2>&1 && grep -q -- "$2" "$KP_TMP/v.out"; }
kp_check "a copy with an unknown pod field (hostNetworking) is rejected" \
  bash -c "grep -qx '      hostNetworking: true' '$KP_TMP/unknown.yaml'" && kp_check "... (validator)" rejected "$KP_TMP/unknown.yaml" hostNetworking
sed 's/^  podMetricsEndpoints:$/  podMetricEndpoints:/' "$K8S/prometheus-operator.yaml" >"$KP_TMP/pm.yaml"
kp_check "a PodMonitor with a misspelt field (podMetricEndpoints) is rejected" rejected "$KP_TMP/pm.yaml" podMetricEndpoints
sed 's/memory: 160Mi/memory: 160 MiB/' "$K8S/daemonset.yaml" >"$KP_TMP/quantity.yaml"
kp_check "a copy with a bad quantity (160 MiB) is rejected" rejected "$KP_TMP/quantity.yaml" quantity
kp_check "Service and PodMonitor select the DaemonSet's pods; port metrics; arch matches the Containerfile" \
  python3 - "$K8S" <<'PY'
import re, sys, yaml
k = sys.argv[1]
ds = [d for d in yaml.safe_load_all(open(k + '/daemonset.yaml')) if d and d['kind'] == 'DaemonSet'][0]
mon = {d['kind']: d for d in yaml.safe_load_all(open(k + '/prometheus-operator.yaml')) if d}
labels = ds['spec']['template']['metadata']['labels']
pod = ds['spec']['template']['spec']
c = pod['containers'][0]
ports = {p['name']: p['containerPort'] for p in c['ports']}
svc, pm = mon['Service'], mon['PodMonitor']
assert all(labels.get(a) == b for a, b in svc['spec']['selector'].items()), 'Service selector'
assert all(labels.get(a) == b for a, b in pm['spec']['selector']['matchLabels'].items()), 'PodMonitor selector'
assert svc['metadata']['namespace'] == pm['metadata']['namespace'] == ds['metadata']['namespace']
assert pm['spec']['podMetricsEndpoints'][0]['port'] in ports and svc['spec']['ports'][0]['targetPort'] in ports
arch = re.search(r'^ARG TARGETARCH=(\S+)', open(k + '/Containerfile').read(), re.M).group(1)
assert pod['nodeSelector'].get('kubernetes.io/arch') == arch, (pod['nodeSelector'], arch)
probe = c['livenessProbe']['exec']['command']
assert probe[:2] == ['/bin/bash', '/etc/collectd/liveness.sh'], probe
PY

# ---- the image's root filesystem ---------------------------------------------------------------
ARCH=$(dpkg --print-architecture)
DEB=$(ls -1 "$KP_BUILD"/collectd-kube-proxy_*_"$ARCH".deb 2>/dev/null | head -n 1)
if [ -z "$DEB" ]; then
  make -C "$KP_ROOT" --no-print-directory BUILD="$KP_BUILD" deb >"$KP_TMP/deb.log" 2>&1
  DEB=$(ls -1 "$KP_BUILD"/collectd-kube-proxy_*_"$ARCH".deb 2>/dev/null | head -n 1)
fi
kp_check "the .deb of make deb ($(basename "${DEB:-none}"))" test -n "$DEB"
[ -n "$DEB" ] || kp_finish
# the Containerfile's package list: the words of its apt-get install line
PKGS=$(sed -n 's/.*apt-get install -y --no-install-recommends \(.*\)/\1/p' "$K8S/Containerfile" |
  tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort | tr '\n' ',' | sed 's/,$//')
kp_check "Containerfile installs collectd-core, libmicrohttpd12, libprotobuf-c1 ($PKGS)" \
  bash -c "grep -q collectd-core <<<'$PKGS' && grep -q libmicrohttpd12 <<<'$PKGS' && grep -q libprotobuf-c1 <<<'$PKGS'"
# the .deb's own dependencies (names only) go in too, so dpkg -i finds them
DEPS=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/[(|].*//; s/ //g' | grep . | sort -u | tr '\n' ',' | sed 's/,$//')
MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list)
KEY=$( (sha256sum "$DEB"; echo "$PKGS $DEPS $MIRROR") | sha256sum | cut -c1-16)
ROOT="$KP_BUILD/k8s-rootfs"
if [ "$(cat "$ROOT.key" 2>/dev/null)" != "$KEY" ] || [ ! -x "$ROOT/usr/sbin/collectd" ]; then
  rm -rf "$ROOT" "$ROOT.key"
  t0=$(date +%s)
  mmdebstrap --variant=apt --architectures="$ARCH" --include="$PKGS,$DEPS" \
    --customize-hook="copy-in $DEB /tmp" \
    --customize-hook="chroot \"\$1\" dpkg -i /tmp/$(basename "$DEB")" \
    --customize-hook='rm -f "$1"/tmp/*.deb' \
    bookworm "$ROOT" "deb $MIRROR bookworm main" >"$KP_TMP/mmdebstrap.log" 2>&1 &&
    echo "$KEY" >"$ROOT.key"
  echo "rootfs built in $(($(date +%s) - t0)) s"
else
  echo "rootfs cached ($ROOT)"
fi
kp_check "rootfs: collectd, kube_proxy.so and kube-proxy-check from the .deb" \
  bash -c "[ -x '$ROOT/usr/sbin/collectd' ] && [ -f '$ROOT/usr/lib/collectd/kube_proxy.so' ] && [ -x '$ROOT/usr/sbin/kube-proxy-check' ]"
[ -x "$ROOT/usr/sbin/collectd" ] || { tail -n 20 "$KP_TMP/mmdebstrap.log"; kp_finish; }
kp_check "rootfs: every plugin the ConfigMap loads resolves its libraries (ldd, in the chroot)" \
  bash -c "for p in logfile write_prometheus kube_proxy; do out=\$(chroot '$ROOT' ldd /usr/lib/collectd/\$p.so) || exit 1; ! grep -q 'not found' <<<\"\$out\" || exit 1; done"

# ---- the ConfigMap in the image, in a kp- namespace ---------------------------------------------
python3 - "$K8S/daemonset.yaml" "$KP_TMP/etc" <<'PY'
import os, sys, yaml
cm = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d['kind'] == 'ConfigMap'][0]
ds = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d['kind'] == 'DaemonSet'][0]
out = sys.argv[2]
# the volume's items: key -> path (and mode), as the kubelet mounts them
vol = [v for v in ds['spec']['template']['spec']['volumes'] if 'configMap' in v][0]
for it in vol['configMap']['items']:
    p = os.path.join(out, it['path'])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, 'w').write(cm['data'][it['key']])
    os.chmod(p, it.get('mode', 0o644))
# the test speeds up the interval (30 s) to 2 s; the probe's age limit scales with it
c = os.path.join(out, 'collectd.conf')
t = open(c).read()
assert 'Interval 30\n' in t
open(c, 'w').write('Hostname "kp-k8s"\n' + t.replace('Interval 30\n', 'Interval 2\n'))
PY
mkdir -p "$KP_TMP/state"
kp_make_node "$NS" legacy || kp_fail "node namespace"
# start [capsh options]: collectd as the container runs it
start() {
  : >"$KP_TMP/collectd.out"
  ip netns exec "$NS" unshare -m --propagation private bash -c '
    set -e
    mount --bind "$1/etc" "$2/etc/collectd"
    mount --bind "$1/state" "$2/var/lib/collectd"
    mount -t proc proc "$2/proc"
    root=$2
    shift 2
    exec capsh "$@" -- -c "exec chroot $root collectd -f -C /etc/collectd/collectd.conf"' \
    kp-k8s "$KP_TMP" "$ROOT" "$@" >"$KP_TMP/collectd.out" 2>&1 &
  PID=$!
}
page() { ip netns exec "$NS" python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9103/metrics", timeout=2).read().decode())' 2>/dev/null; }
serves() { page | grep -Eq "^collectd_kube_proxy_[a-z]+\{kube_proxy=\"$1\"[^}]*\} $2 "; }
answers() { page | grep -q 'collectd/write_prometheus'; }
# probe: the ConfigMap's liveness.sh run in the image's filesystem, in the
# namespace (as the kubelet's exec probe runs it in the container); age
# limit 6 s = 3 intervals of the test
probe() { ip netns exec "$NS" chroot "$ROOT" /bin/bash -s -- 9103 6 <"$KP_TMP/etc/liveness.sh" >"$KP_TMP/probe.out" 2>&1; }

start
kp_check "write_prometheus serves kube_proxy check states from the image (check-chains 0)" \
  kp_wait 30 serves check-chains 0
kp_check "... and the inventory of the ruleset (count services 5)" serves services 5
kp_check "... collectd runs as uid 0 in the chroot, its log has no config error" \
  bash -c "kill -0 $PID && ! grep -qi 'Parsing the config file failed\|could not be loaded' '$KP_TMP/collectd.out'"
kp_check "liveness probe passes on the healthy pod" probe
cat "$KP_TMP/probe.out"
stop
probe
rc=$?
kp_check "liveness probe fails once collectd is gone (rc=$rc)" test "$rc" -ne 0
kp_check "... saying write_prometheus does not answer" grep -q 'does not answer' "$KP_TMP/probe.out"

# reads failing: the container without CAP_NET_ADMIN and CAP_NET_RAW
start --drop=cap_net_admin,cap_net_raw
kp_check "without CAP_NET_ADMIN/CAP_NET_RAW write_prometheus still answers" kp_wait 20 answers
sleep 3
kp_check "... no check state is served (the reads fail)" bash -c "! page | grep -q 'kube_proxy=\"check-'"
probe
rc=$?
kp_check "... and the liveness probe fails (rc=$rc): $(head -c 80 "$KP_TMP/probe.out")" \
  bash -c "[ $rc -ne 0 ] && grep -q '^kube_proxy: ' '$KP_TMP/probe.out'"
stop
kp_finish
