#!/usr/bin/env bash
# `make rpm`: rpmbuild (--nodeps) builds the binary and source RPMs from
# packaging/rpm/collectd-kube-proxy.spec against collectd's source tree
# (Debian's orig tarball of collectd 5.12, configured for config.h), not
# against /usr/include/collectd. Asserted: both packages exist; the binary
# package's file list is exactly the expected one (paths of the Fedora
# family: /usr/lib64/collectd, /etc/collectd.d, the sos plugin in
# python3_sitelib); the drop-in is %config(noreplace); Requires collectd and
# the netfilter libraries; the glue was compiled with the tree's include
# paths only; the packaged kube_proxy.so loads in the real collectd 5.12 and
# dispatches values; rpmlint reports no error but the three that
# packaging/rpm/README.md explains.
# Root (the collectd run uses a kp- namespace). Usage: test-rpm.sh [BUILD_DIR]
set -uo pipefail
KP_BUILD=${1:-build}
KP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$KP_BUILD" in /*) ;; *) KP_BUILD="$KP_ROOT/$KP_BUILD" ;; esac
. "$(dirname "$0")/collectd-lib.sh"
kp_require iptables-legacy-restore rpmbuild rpm2cpio cpio rpmlint apt-get
VERSION=$(sed -n 's/^VERSION *:= *//p' "$KP_ROOT/Makefile")
KP_TMP=$(mktemp -d /tmp/kp-rpm.XXXXXX)
chmod 755 "$KP_TMP"
NS=kp-rpm-$$
cleanup() {
  kp_stop_collectd
  ip netns del "$NS" 2>/dev/null
  rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s)
make -C "$KP_ROOT" --no-print-directory BUILD="$KP_BUILD" rpm >"$KP_TMP/make-rpm.log" 2>&1
rc=$?
echo "make rpm: rc=$rc in $(($(date +%s) - t0)) s"
RPM=$(ls "$KP_BUILD"/rpm/RPMS/*/collectd-kube-proxy-"$VERSION"-1.*.rpm 2>/dev/null | head -n 1)
SRPM=$(ls "$KP_BUILD"/rpm/SRPMS/collectd-kube-proxy-"$VERSION"-1.src.rpm 2>/dev/null | head -n 1)
kp_check "make rpm builds collectd-kube-proxy-$VERSION-1.<arch>.rpm" test "$rc" -eq 0 -a -n "$RPM"
kp_check "... and the source RPM" test -n "$SRPM"
if [ -z "$RPM" ]; then
  tail -n 30 "$KP_TMP/make-rpm.log"
  kp_finish
fi
kp_check "the source RPM carries collectd's source tree as Source1" \
  bash -c "rpm -qlp '$SRPM' | grep -qx 'collectd_5.12.0.orig.tar.xz'"

rpm -qlp "$RPM" | grep -v '^/usr/lib/\.build-id' | sort >"$KP_TMP/files"
cat >"$KP_TMP/expected" <<'EOF'
/etc/collectd.d/kube_proxy.conf
/usr/lib/python3.11/site-packages/sos/report/plugins/kube_proxy.py
/usr/lib64/collectd/kube_proxy.so
/usr/sbin/kube-proxy-check
/usr/share/doc/collectd-kube-proxy/architecture.md
/usr/share/doc/collectd-kube-proxy/checks.md
/usr/share/doc/collectd-kube-proxy/deploying.md
/usr/share/doc/collectd-kube-proxy/fuzzing.md
/usr/share/doc/collectd-kube-proxy/metrics.md
/usr/share/doc/collectd-kube-proxy/performance.md
/usr/share/doc/collectd-kube-proxy/privileges.md
/usr/share/licenses/collectd-kube-proxy-0.1.0
/usr/share/licenses/collectd-kube-proxy-0.1.0/LICENSE
/usr/share/man/man5/collectd-kube_proxy.5
/usr/share/man/man8/kube-proxy-check.8
EOF
kp_check "file list is exactly the expected one" diff "$KP_TMP/expected" "$KP_TMP/files"
kp_check "the drop-in is %config(noreplace)" \
  bash -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$RPM' | grep -qx '/etc/collectd.d/kube_proxy.conf cn'"
req=$(rpm -qp --requires "$RPM" | tr '\n' ' ')
kp_check "Requires collectd, libip4tc, libip6tc, libnftnl, libmnl" \
  bash -c "for r in collectd 'libip4tc.so.2()(64bit)' 'libip6tc.so.2()(64bit)' 'libnftnl.so.11()(64bit)' 'libmnl.so.0()(64bit)'; do grep -qF \" \$r \" <<<' $req' || exit 1; done"
LOG="$KP_BUILD/rpm/rpmbuild.log"
glue=$(grep -E -- '-c plugin/collectd/kube_proxy\.c ' "$LOG" | head -n 1)
kp_check "the glue was compiled against the tarball's tree (collectd-inc, collectd-src/src)" \
  bash -c "grep -q -- '-I[^ ]*/collectd-inc ' <<<'$glue' && grep -q -- '-I[^ ]*/collectd-src/src ' <<<'$glue'"
kp_check "... and not against /usr/include/collectd (Debian's collectd-dev)" \
  bash -c "[ -n '$glue' ] && ! grep -q '/usr/include/collectd' <<<'$glue'"
kp_check "collectd's configure made its config.h (log)" grep -q 'test -f collectd-src/src/config.h' "$LOG"

# the packaged plugin in the real collectd
mkdir -p "$KP_TMP/x"
(cd "$KP_TMP/x" && rpm2cpio "$RPM" | cpio -idm --quiet)
kp_check "packaged kube_proxy.so exports module_register" \
  bash -c "nm -D --defined-only '$KP_TMP/x/usr/lib64/collectd/kube_proxy.so' | grep -qw module_register"
KP_BUILD="$KP_TMP/x/usr/lib64/collectd"
ip netns add "$NS" && ip -n "$NS" link set lo up
kp_ruleset | ip netns exec "$NS" iptables-legacy-restore
kp_write_conf "$KP_TMP/collectd.conf" <<EOF
  NetNS "/run/netns/$NS"
EOF
kp_start_collectd "$KP_TMP/collectd.conf"
kp_check "collectd 5.12 loads the RPM's kube_proxy.so: objects-endpoints 8 (csv)" \
  kp_wait 15 kp_csv_is kube_proxy objects-endpoints 8
kp_check "... no load or read error" \
  bash -c "! grep -Eq 'dlopen|cannot read the netfilter|not found' '$KP_TMP/collectd.log'"
kp_stop_collectd

# rpmlint: errors other than these three fail the test (README.md, "rpmlint")
rpmlint "$RPM" "$SRPM" "$KP_ROOT/packaging/rpm/collectd-kube-proxy.spec" >"$KP_TMP/rpmlint.out" 2>&1
grep -E ' E: ' "$KP_TMP/rpmlint.out" | sed 's/^[^:]*: E: //; s/ .*//' | sort -u >"$KP_TMP/errors"
kp_check "rpmlint ran ($(grep -c ' [EW]: ' "$KP_TMP/rpmlint.out") findings)" grep -q 'packages and 1 specfiles checked' "$KP_TMP/rpmlint.out"
kp_check "rpmlint: no error but no-signature, no-group-tag, no-packager-tag ($(tr '\n' ' ' <"$KP_TMP/errors"))" \
  bash -c "! grep -vxE 'no-signature|no-group-tag|no-packager-tag' '$KP_TMP/errors' | grep -q ."
kp_finish
