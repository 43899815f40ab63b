#!/usr/bin/env bash
# What fleets deploy, checked here as far as this machine allows:
#  - `make deb` builds the Debian package with dpkg-buildpackage; its file
#    list, conffile and dependencies; the extracted kube-proxy-check runs
#    (--version, --file on a captured healthy ruleset: exit 1, one WARN);
#  - the Ansible role: YAML parses, every template variable has a default,
#    the drop-in rendered from a sample variable set (jinja2, and Ansible
#    itself when installed) is accepted by a real collectd 5.12 loading the
#    packaged kube_proxy.so in a kp- namespace, and its settings take effect;
#    a bad Backend is refused (the check can fail); ansible-playbook
#    --syntax-check when ansible is installed;
#  - the Kubernetes manifest: documents, kinds, required fields, the
#    securityContext; its ConfigMap's collectd.conf + drop-in run in a real
#    collectd and serve kube_proxy values on write_prometheus;
#  - the RPM spec: rpmspec -P, BuildRequires, and %files against what
#    `make install` puts in a DESTDIR with the spec's directories.
# Root (namespaces, dpkg-buildpackage's fakeroot-free build as root is fine).
# Usage: test-packaging.sh [BUILD_DIR]  (0 pass, 1 fail, 77 skip)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${1:-${KP_BUILD:-build}}
case "$BUILD" in /*) ;; *) BUILD="$KP_ROOT/$BUILD" ;; esac
PKG="$KP_ROOT/packaging"
ROLE="$PKG/ansible/roles/collectd_kube_proxy"
FIXTURE="$KP_ROOT/tests/fixtures/captured/healthy/legacy/iptables-save-c.txt"
VERSION=$(sed -n 's/^VERSION *:= *//p' "$KP_ROOT/Makefile")

kp_require_root
kp_require_tools dpkg-buildpackage dpkg-deb python3 make
command -v dh >/dev/null 2>&1 || kp_skip "debhelper not installed (dh missing)"
python3 -c 'import yaml' 2>/dev/null || kp_skip "python3-yaml not installed"
kp_trap_cleanup
kp_tmp pkg
chmod 755 "$KP_TMP"
COLLECTD_PID=
stop_collectd() {
  kp_stop "$COLLECTD_PID"
  COLLECTD_PID=
}

passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then
    echo "ok     $1"
    passed=$((passed + 1))
  else
    echo "not ok $1"
    failed=$((failed + 1))
  fi
}
skip() { echo "skip   $*"; }

# ---- the Debian package -----------------------------------------------------------
rm -f "$BUILD"/collectd-kube-proxy_*.deb "$BUILD"/collectd-kube-proxy-dbgsym_*.deb
start=$(date +%s)
make -C "$KP_ROOT" --no-print-directory BUILD="$BUILD" deb >"$KP_TMP/make-deb.log" 2>&1
rc=$?
echo "make deb: rc=$rc in $(($(date +%s) - start)) s"
DEB=$(ls -1 "$BUILD"/collectd-kube-proxy_"$VERSION"-*_*.deb 2>/dev/null | head -n 1)
check "make deb builds collectd-kube-proxy_$VERSION-*.deb" test "$rc" -eq 0 -a -n "$DEB"
if [ -z "$DEB" ]; then
  tail -n 30 "$KP_TMP/make-deb.log"
  echo "test-packaging.sh: $passed passed, $((failed + 1)) failed"
  echo FAIL
  exit 1
fi

dpkg-deb -c "$DEB" | awk '{ print $NF }' >"$KP_TMP/files"
has_file() { grep -Eq "^\./$1\$" "$KP_TMP/files"; }
check "plugin in /usr/lib/collectd/kube_proxy.so" has_file 'usr/lib/collectd/kube_proxy\.so'
check "CLI in /usr/sbin/kube-proxy-check" has_file 'usr/sbin/kube-proxy-check'
check "man page collectd-kube_proxy(5)" has_file 'usr/share/man/man5/collectd-kube_proxy\.5\.gz'
check "man page kube-proxy-check(8)" has_file 'usr/share/man/man8/kube-proxy-check\.8\.gz'
check "drop-in /etc/collectd/collectd.conf.d/kube_proxy.conf" \
  has_file 'etc/collectd/collectd\.conf\.d/kube_proxy\.conf'
for d in checks metrics privileges; do
  check "doc $d.md" has_file "usr/share/doc/collectd-kube-proxy/$d\.md(\.gz)?"
done
check "no file outside the plugin, CLI, drop-in, docs and man pages" python3 - "$KP_TMP/files" <<'PY'
import re, sys
ok = re.compile(r'\./(etc/collectd/collectd\.conf\.d/kube_proxy\.conf|usr/lib/collectd/kube_proxy\.so'
                r'|usr/sbin/kube-proxy-check|usr/share/doc/collectd-kube-proxy/[^/]+'
                r'|usr/share/man/man[58]/[^/]+|usr/share/lintian/overrides/collectd-kube-proxy'
                r'|usr/lib/python3/dist-packages/sos/report/plugins/kube_proxy\.py)$')
bad = [l.strip() for l in open(sys.argv[1]) if not l.strip().endswith('/') and not ok.match(l.strip())]
if bad:
    sys.exit('unexpected: %s' % bad)
PY
check "sos plugin in sos's plugin package (usr/lib/python3/dist-packages/sos/report/plugins/kube_proxy.py)" \
  has_file 'usr/lib/python3/dist-packages/sos/report/plugins/kube_proxy\.py'
mode=$(dpkg-deb -c "$DEB" | awk '$NF == "./usr/lib/collectd/kube_proxy.so" { print $1 }')
check "kube_proxy.so is -rw-r--r-- root/root ($mode)" test "$mode" = "-rw-r--r--"
dpkg-deb -e "$DEB" "$KP_TMP/control"
check "kube_proxy.conf is a conffile" \
  grep -qx /etc/collectd/collectd.conf.d/kube_proxy.conf "$KP_TMP/control/conffiles"
deps=$(dpkg-deb -f "$DEB" Depends)
check "Depends collectd-core and the shared libraries ($deps)" \
  bash -c "grep -q 'collectd-core' <<<'$deps' && grep -q 'libip4tc2' <<<'$deps' && grep -q 'libnftnl11' <<<'$deps'"
check "Architecture is the build machine's" \
  test "$(dpkg-deb -f "$DEB" Architecture)" = "$(dpkg --print-architecture)"

X="$KP_TMP/root"
dpkg-deb -x "$DEB" "$X"
CLI="$X/usr/sbin/kube-proxy-check"
out=$("$CLI" --version 2>&1)
check "extracted kube-proxy-check --version says $VERSION ($out)" grep -q "$VERSION" <<<"$out"
"$CLI" --file "$FIXTURE" >"$KP_TMP/cli.out" 2>&1
rc=$?
check "extracted kube-proxy-check --file healthy legacy dump exits 1 (rc=$rc)" test "$rc" -eq 1
check "... one WARN, for the orphan service web/orphan" \
  test "$(grep -c '^\[WARN\]' "$KP_TMP/cli.out")" -eq 1 -a "$(grep -c '^\[WARN\].*web/orphan' "$KP_TMP/cli.out")" -eq 1
check "... no FAIL" bash -c "! grep -q '^\[FAIL\]' '$KP_TMP/cli.out'"
check "packaged plugin exports module_register" \
  bash -c "nm -D --defined-only '$X/usr/lib/collectd/kube_proxy.so' | grep -qw module_register"

# ---- the Ansible role ----------------------------------------------------------------
yaml_ok() { # every file parses as YAML
  python3 - "$@" <<'PY'
import sys, yaml
for f in sys.argv[1:]:
    yaml.safe_load(open(f))
PY
}
mapfile -t role_yaml < <(find "$ROLE" "$PKG/ansible" -maxdepth 3 -name '*.yml' | sort)
check "Ansible YAML files parse (${#role_yaml[@]})" yaml_ok "${role_yaml[@]}"
check "every variable of the template has a default" python3 - "$ROLE" <<'PY'
import re, sys, yaml
role = sys.argv[1]
used = set(re.findall(r'collectd_kube_proxy_\w+', open(role + '/templates/kube_proxy.conf.j2').read()))
known = set(yaml.safe_load(open(role + '/defaults/main.yml')))
missing = used - known
if missing:
    sys.exit('no default: %s' % sorted(missing))
PY

if command -v ansible-playbook >/dev/null 2>&1; then
  check "ansible-playbook --syntax-check site.yml" bash -c \
    "cd '$PKG/ansible' && ANSIBLE_ROLES_PATH=roles ansible-playbook --syntax-check -i localhost, site.yml >'$KP_TMP/syntax.log' 2>&1"
  # The same check on a broken copy of the role must fail.
  mkdir -p "$KP_TMP/broken/roles"
  cp -a "$ROLE" "$KP_TMP/broken/roles/"
  cp "$PKG/ansible/site.yml" "$KP_TMP/broken/"
  printf -- '- name: two modules in one task\n  ansible.builtin.copy: {src: a, dest: b}\n  ansible.builtin.file: {path: b}\n' \
    >>"$KP_TMP/broken/roles/collectd_kube_proxy/tasks/main.yml"
  check "... and it fails on a broken copy of the role" bash -c \
    "cd '$KP_TMP/broken' && ! ANSIBLE_ROLES_PATH=roles ansible-playbook --syntax-check -i localhost, site.yml >/dev/null 2>&1"
else
  skip "ansible-playbook not installed: no --syntax-check"
fi

# render VARS_YAML OUT: the template with defaults + VARS_YAML, like Ansible's
# template module (trim_blocks, Ansible's bool filter).
render() {
  python3 - "$ROLE" "$1" "$2" <<'PY'
import sys, yaml, jinja2
role, extra, out = sys.argv[1:]
ctx = yaml.safe_load(open(role + '/defaults/main.yml'))
ctx.update(yaml.safe_load(open(extra)) or {})
def to_bool(v):
    return v if isinstance(v, bool) else str(v).strip().lower() in ('yes', 'on', '1', 'true', 'y', 't')
env = jinja2.Environment(loader=jinja2.FileSystemLoader(role + '/templates'),
                         trim_blocks=True, keep_trailing_newline=True,
                         undefined=jinja2.StrictUndefined)
env.filters['bool'] = to_bool
open(out, 'w').write(env.get_template('kube_proxy.conf.j2').render(**ctx))
PY
}
cat >"$KP_TMP/vars.yml" <<'EOF'
collectd_kube_proxy_backend: auto
collectd_kube_proxy_ipv6: true
collectd_kube_proxy_pod_ips: ["10.180.0.2", "fd00:10:180::2"]
collectd_kube_proxy_activity_intervals: 3
collectd_kube_proxy_checks: {sync: false, process: false}
collectd_kube_proxy_collect_services: true
collectd_kube_proxy_service_filter: '^web/'
collectd_kube_proxy_max_services: 50
collectd_kube_proxy_repeat_notification: 4
EOF
printf 'collectd_kube_proxy_backend: bogus\n' >"$KP_TMP/vars-bad.yml"
printf 'collectd_kube_proxy_service_filter: %s\n' "'a\"b\\c'" >"$KP_TMP/vars-quote.yml"
have_jinja=0
python3 -c 'import jinja2' 2>/dev/null && have_jinja=1
if [ "$have_jinja" = 1 ]; then
  check "template renders the sample variables (jinja2)" render "$KP_TMP/vars.yml" "$KP_TMP/kube_proxy.conf"
  check "... with the expected lines" python3 - "$KP_TMP/kube_proxy.conf" <<'PY'
import sys
lines = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.lstrip().startswith('#')]
want = ['LoadPlugin kube_proxy', '<Plugin kube_proxy>', 'Backend "auto"',
        'KubeProxyMetrics "127.0.0.1:10249"', 'KubeProxyHealthz "127.0.0.1:10256"', 'IPv6 true',
        'PodIP "10.180.0.2"', 'PodIP "fd00:10:180::2"', 'ActivityIntervals 3',
        'Check "process" false', 'Check "sync" false', 'CollectServices true',
        'ServiceFilter "^web/"', 'MaxServices 50', 'RepeatNotification 4', '</Plugin>']
if lines != want:
    sys.exit('got %r' % lines)
PY
  render "$KP_TMP/vars-quote.yml" "$KP_TMP/quote.conf"
  check "quotes and backslashes escaped for collectd (ServiceFilter \"a\\\"b\\\\c\")" \
    grep -qxF '  ServiceFilter "a\"b\\c"' "$KP_TMP/quote.conf"
  if command -v ansible >/dev/null 2>&1; then
    ansible localhost -c local -i localhost, -m ansible.builtin.template \
      -a "src=$ROLE/templates/kube_proxy.conf.j2 dest=$KP_TMP/kube_proxy.ansible.conf" \
      -e "@$ROLE/defaults/main.yml" -e "@$KP_TMP/vars.yml" >"$KP_TMP/ansible.log" 2>&1
    check "Ansible's template module renders the same drop-in" \
      diff <(grep -v '^# .*[Mm]anaged' "$KP_TMP/kube_proxy.conf") \
      <(grep -v '^# .*[Mm]anaged' "$KP_TMP/kube_proxy.ansible.conf")
  else
    skip "ansible not installed: template rendered with jinja2 only"
  fi
else
  skip "python3-jinja2 not installed: template not rendered"
fi

# ---- real collectd with the packaged plugin -------------------------------------------------
# run_collectd CONF: collectd -f in namespace $NS, log in $KP_TMP/run/collectd.log
run_collectd() {
  kp_spawn "$KP_TMP/run/collectd.out" ip netns exec "$NS" collectd -f -C "$1"
  COLLECTD_PID=$KP_SPAWNED
}
alive() { [ -n "$COLLECTD_PID" ] && kill -0 "$COLLECTD_PID" 2>/dev/null; }
csv_has() { ls "$KP_TMP/run/csv/kp-pkg/$1/$2"-* >/dev/null 2>&1; }
# collectd_conf OUT INCLUDED: logfile + csv, then the packaged plugin dir and
# an Include of the drop-in under test.
collectd_conf() {
  cat >"$1" <<EOF
Hostname "kp-pkg"
FQDNLookup false
BaseDir "$KP_TMP/run"
PIDFile "$KP_TMP/run/collectd.pid"
AutoLoadPlugin false
Interval 1
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File "$KP_TMP/run/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$KP_TMP/run/csv"
</Plugin>
PluginDir "$X/usr/lib/collectd"
Include "$2"
EOF
}
wait_for() { # wait_for SECONDS CMD...
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    "${@:2}" && return 0
    sleep 0.2
  done
  return 1
}
no_config_error() { ! config_error; }
config_error() { grep -Eqi 'Parsing the config file failed|kube_proxy plugin:.*(unknown|invalid|bad|error)' "$KP_TMP/run/collectd.log" "$KP_TMP/run/collectd.out" 2>/dev/null; }

if ! command -v collectd >/dev/null 2>&1 || [ ! -f /usr/lib/collectd/csv.so ]; then
  skip "collectd-core not installed: rendered drop-in and manifest config not run"
elif [ "$have_jinja" != 1 ]; then
  skip "python3-jinja2 not installed: rendered drop-in not run in collectd"
else
  NS=kp-pkg-$$
  kp_ns_add "$NS"
  # write_prometheus binds with AI_ADDRCONFIG: it needs a non-loopback
  # address (a veth pair inside the namespace, no route anywhere else).
  ip -n "$NS" link add kpa0 type veth peer name kpb0
  ip -n "$NS" addr add 10.99.7.1/24 dev kpa0
  ip -n "$NS" addr add fd00:99:7::1/64 dev kpa0 nodad
  ip -n "$NS" link set kpa0 up
  ip -n "$NS" link set kpb0 up
  if command -v iptables-legacy-restore >/dev/null 2>&1; then
    ip netns exec "$NS" iptables-legacy-restore -c <"$FIXTURE" || echo "note: fixture not loaded"
  fi
  mkdir -p "$KP_TMP/run"
  collectd_conf "$KP_TMP/collectd.conf" "$KP_TMP/kube_proxy.conf"
  run_collectd "$KP_TMP/collectd.conf"
  check "collectd with the rendered drop-in and the packaged plugin: values (health-check-chains)" \
    wait_for 8 csv_has kube_proxy health-check-chains
  check "... collectd still running" alive
  check "... no config error in the log" no_config_error
  check "... Check \"sync\" false took effect (no health-check-sync)" bash -c "! ls '$KP_TMP/run/csv/kp-pkg/kube_proxy/health-check-sync'-* >/dev/null 2>&1"
  check "... CollectServices + ServiceFilter ^web/: web_frontend_http series, no kube-dns" bash -c \
    "ls '$KP_TMP/run/csv/kp-pkg/kube_proxy-ipv4-services/' 2>/dev/null | grep -q web_frontend_http && ! ls '$KP_TMP/run/csv/kp-pkg/kube_proxy-ipv4-services/' | grep -q kube-dns"
  stop_collectd

  # The same run with a bad Backend must be refused: this is what makes the
  # acceptance check above meaningful.
  render "$KP_TMP/vars-bad.yml" "$KP_TMP/bad.conf"
  rm -rf "$KP_TMP/run" && mkdir -p "$KP_TMP/run"
  collectd_conf "$KP_TMP/collectd-bad.conf" "$KP_TMP/bad.conf"
  run_collectd "$KP_TMP/collectd-bad.conf"
  wait_for 5 bash -c "! kill -0 $COLLECTD_PID 2>/dev/null"
  check "Backend \"bogus\" is refused by collectd (config error, daemon exits)" \
    bash -c "! kill -0 $COLLECTD_PID 2>/dev/null && grep -q 'bogus' '$KP_TMP/run/collectd.log' '$KP_TMP/run/collectd.out'"
  stop_collectd
fi

# ---- the Kubernetes manifest ------------------------------------------------------------------
MANIFEST="$PKG/kubernetes/daemonset.yaml"
check "daemonset.yaml: documents parse, kinds, required fields, securityContext" python3 - "$MANIFEST" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
err = []
def need(cond, what):
    if not cond:
        err.append(what)
kinds = {d.get('kind'): d for d in docs}
need(set(kinds) == {'Namespace', 'ConfigMap', 'DaemonSet'}, 'kinds %s' % sorted(map(str, kinds)))
for d in docs:
    need(d.get('apiVersion') and d.get('kind') and d.get('metadata', {}).get('name'), 'apiVersion/kind/name in %s' % d.get('kind'))
ns = kinds['Namespace']['metadata']['name']
cm, ds = kinds['ConfigMap'], kinds['DaemonSet']
need(kinds['DaemonSet']['apiVersion'] == 'apps/v1', 'DaemonSet apiVersion apps/v1')
need(cm['metadata'].get('namespace') == ns and ds['metadata'].get('namespace') == ns, 'namespace %s everywhere' % ns)
spec = ds['spec']
tmpl = spec['template']
sel = spec['selector']['matchLabels']
need(sel and all(tmpl['metadata']['labels'].get(k) == v for k, v in sel.items()), 'selector matches template labels')
pod = tmpl['spec']
need(pod.get('hostNetwork') is True, 'hostNetwork: true')
need(not pod.get('hostPID'), 'no hostPID')
need({'operator': 'Exists'} in pod.get('tolerations', []), 'toleration operator Exists (all taints)')
c = pod['containers'][0]
need(c.get('name') and c.get('image'), 'container name and image')
sc = c.get('securityContext', {})
need(sc.get('privileged') is not True, 'not privileged')
need(sc.get('allowPrivilegeEscalation') is False, 'allowPrivilegeEscalation false')
need(sc.get('readOnlyRootFilesystem') is True, 'readOnlyRootFilesystem')
caps = sc.get('capabilities', {})
need(sorted(caps.get('add', [])) == ['NET_ADMIN', 'NET_RAW'], 'capabilities add NET_ADMIN NET_RAW')
need(caps.get('drop') == ['ALL'], 'capabilities drop ALL')
res = c.get('resources', {})
need(res.get('requests', {}).get('cpu') and res.get('requests', {}).get('memory'), 'requests cpu/memory')
need(res.get('limits', {}).get('cpu') and res.get('limits', {}).get('memory'), 'limits cpu/memory')
vols = {v['name']: v for v in pod.get('volumes', [])}
for m in c.get('volumeMounts', []):
    need(m['name'] in vols, 'volume for mount %s' % m['name'])
cmv = [v for v in vols.values() if 'configMap' in v]
need(len(cmv) == 1 and cmv[0]['configMap']['name'] == cm['metadata']['name'], 'configMap volume names the ConfigMap')
for it in cmv[0]['configMap'].get('items', []):
    need(it['key'] in cm['data'], 'ConfigMap key %s' % it['key'])
need('LoadPlugin kube_proxy' in cm['data'].get('kube_proxy.conf', ''), 'drop-in loads kube_proxy')
need('NetNS' not in cm['data'].get('kube_proxy.conf', '').replace('# NetNS', ''), 'no NetNS with hostNetwork')
need('write_prometheus' in cm['data'].get('collectd.conf', ''), 'write_prometheus output')
if err:
    sys.exit('; '.join(err))
PY

# The ConfigMap's collectd.conf + drop-in in a real collectd: paths moved
# into KP_TMP, the packaged plugin dir added, Interval 1; write_prometheus
# listens on 9103 inside the test namespace only.
if [ -n "${NS:-}" ] && ldd /usr/lib/collectd/write_prometheus.so 2>/dev/null | grep -q 'not found'; then
  skip "write_prometheus.so cannot load ($(ldd /usr/lib/collectd/write_prometheus.so | awk '/not found/ { printf "%s ", $1 }')missing; tests/install-deps.sh installs libmicrohttpd12 and libprotobuf-c1): manifest config not run"
elif [ -n "${NS:-}" ]; then
  python3 - "$MANIFEST" "$KP_TMP/k8s" "$X/usr/lib/collectd" <<'PY'
import os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
data = [d for d in docs if d['kind'] == 'ConfigMap'][0]['data']
out, plugdir = sys.argv[2], sys.argv[3]
os.makedirs(out + '/collectd.conf.d', exist_ok=True)
os.makedirs(out + '/base', exist_ok=True)
conf = data['collectd.conf']
for old, new in [('"/var/lib/collectd"', '"%s/base"' % out),
                 ('Interval 30', 'Interval 1'),
                 ('File "stdout"', 'File "%s/collectd.log"' % out),
                 ('Include "/etc/collectd/collectd.conf.d"',
                  'PluginDir "%s"\nInclude "%s/collectd.conf.d"' % (plugdir, out))]:
    if old not in conf:
        sys.exit('ConfigMap collectd.conf has no %s' % old)
    conf = conf.replace(old, new)
open(out + '/collectd.conf', 'w').write('Hostname "kp-pkg"\n' + conf)
open(out + '/collectd.conf.d/kube_proxy.conf', 'w').write(data['kube_proxy.conf'])
PY
  mkdir -p "$KP_TMP/run"
  kp_spawn "$KP_TMP/k8s/collectd.out" ip netns exec "$NS" collectd -f -C "$KP_TMP/k8s/collectd.conf"
  COLLECTD_PID=$KP_SPAWNED
  scrape() {
    ip netns exec "$NS" python3 -c '
import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:9103/metrics", timeout=2).read().decode()
sys.exit(0 if "collectd_kube_proxy_" in body and "check-chains" in body else 1)' 2>/dev/null
  }
  check "DaemonSet's collectd.conf + drop-in: kube_proxy values on write_prometheus :9103" wait_for 10 scrape
  check "... no config error, collectd running" bash -c \
    "kill -0 $COLLECTD_PID && ! grep -qi 'Parsing the config file failed' '$KP_TMP/k8s/collectd.log' '$KP_TMP/k8s/collectd.out' 2>/dev/null"
  stop_collectd
fi

# ---- the RPM spec --------------------------------------------------------------------------------
SPEC="$PKG/rpm/collectd-kube-proxy.spec"
if command -v rpmspec >/dev/null 2>&1; then
  check "rpmspec -P parses the spec" bash -c "rpmspec -P '$SPEC' >'$KP_TMP/spec.out' 2>'$KP_TMP/spec.err'"
  check "... Version matches the Makefile ($VERSION)" \
    test "$(rpmspec -q --qf '%{VERSION}' --srpm "$SPEC" 2>/dev/null)" = "$VERSION"
  br=$(rpmspec -q --buildrequires "$SPEC" 2>/dev/null | sort | tr '\n' ' ')
  check "... BuildRequires: no collectd-devel (Fedora/EPEL have none), autotools for collectd's config.h" \
    test "$br" = "autoconf automake bison flex gcc iptables-devel libmnl-devel libnftnl-devel libtool make pkgconfig python3-rpm-macros "
  check "... Requires collectd" bash -c "rpmspec -q --requires '$SPEC' 2>/dev/null | grep -qx collectd"
  check "... the drop-in is %config(noreplace)" \
    grep -q '^%config(noreplace) /etc/collectd.d/kube_proxy.conf$' "$KP_TMP/spec.out"
  # %files against `make install` with the spec's directories (what
  # rpmbuild would report as missing or unpackaged files).
  eval "$(awk '/^%install/,/^%check/' "$KP_TMP/spec.out" | tr -d '\\\n' |
    sed -n 's/.*PREFIX=\([^ ]*\).*PLUGINDIR=\([^ ]*\).*CONFDIR=\([^ ]*\).*MANDIR=\([^ ]*\).*DOCDIR=\([^ ]*\).*/RPM_PREFIX=\1 RPM_PLUGINDIR=\2 RPM_CONFDIR=\3 RPM_MANDIR=\4 RPM_DOCDIR=\5/p')"
  if [ -n "${RPM_PREFIX:-}" ]; then
    make -C "$KP_ROOT" --no-print-directory BUILD="$BUILD" install DESTDIR="$KP_TMP/rpmroot" \
      PREFIX="$RPM_PREFIX" PLUGINDIR="$RPM_PLUGINDIR" CONFDIR="$RPM_CONFDIR" \
      MANDIR="$RPM_MANDIR" DOCDIR="$RPM_DOCDIR" >"$KP_TMP/install.log" 2>&1
    check "make install with the spec's directories" test $? -eq 0
    check "... %files lists exactly what make install put there" python3 - "$KP_TMP/spec.out" "$KP_TMP/rpmroot" <<'PY'
import fnmatch, os, sys
spec, root = sys.argv[1:]
lines = open(spec).read().split('%files', 1)[1].split('%changelog', 1)[0].split('\n')
pats = [l.split()[-1] for l in lines if l.split() and l.split()[-1].startswith('/')]
files = ['/' + os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
unpackaged = [f for f in files if not any(fnmatch.fnmatch(f, p) for p in pats)]
missing = [p for p in pats if not any(fnmatch.fnmatch(f, p) for f in files)]
if unpackaged or missing:
    sys.exit('unpackaged %s, missing %s' % (unpackaged, missing))
PY
  else
    check "make install variables found in the spec's %install" false
  fi
else
  skip "rpm not installed: no rpmspec checks"
fi

echo "test-packaging.sh: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "--- make deb log (tail) ---"
  tail -n 15 "$KP_TMP/make-deb.log"
  for f in "$KP_TMP/run/collectd.log" "$KP_TMP/k8s/collectd.log"; do
    [ -f "$f" ] && { echo "--- $f ---"; tail -n 20 "$f"; }
  done
  echo FAIL
  exit 1
fi
echo PASS
exit 0
