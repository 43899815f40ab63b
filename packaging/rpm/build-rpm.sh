#!/usr/bin/env bash
# make rpm: builds the RPM on this (Debian) machine with rpmbuild.
#   build-rpm.sh BUILD_DIR VERSION
# Sources: a tarball of the tree (collectd-kube-proxy-VERSION/) and
# collectd 5.12's source from Debian's source package (`apt-get source
# --download-only --tar-only collectd`: needs a deb-src entry, which
# tests/install-deps.sh adds; apt checks its SHA-256 against the signed
# Sources index), kept in BUILD_DIR/rpm/SOURCES for the next run.
# rpmbuild runs with --nodeps: the BuildRequires are Fedora's package names,
# which dpkg's database does not know. Output: BUILD_DIR/rpm/RPMS/<arch>/.
set -euo pipefail
build=$1 version=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$build" in /*) ;; *) build="$root/$build" ;; esac
top="$build/rpm"
command -v rpmbuild >/dev/null || { echo "make rpm: needs rpmbuild (apt-get install rpm)" >&2; exit 1; }
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
ctar=$(ls "$top"/SOURCES/collectd_5.12.0.orig.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$ctar" ]; then
  (cd "$top/SOURCES" && apt-get source --download-only --tar-only collectd=5.12.0-14 >"$top/apt-source.log" 2>&1 ||
    apt-get source --download-only --tar-only collectd >>"$top/apt-source.log" 2>&1) ||
    { tail -n 5 "$top/apt-source.log" >&2
      echo "make rpm: apt-get source collectd failed (a deb-src line for bookworm? tests/install-deps.sh adds it)" >&2; exit 1; }
  ctar=$(ls "$top"/SOURCES/collectd_5.12.0.orig.tar.* | head -n 1)
fi
src="$top/collectd-kube-proxy-$version"
rm -rf "$src" && mkdir -p "$src"
tar -C "$root" --exclude-vcs --exclude=./build --exclude='./build-*' --exclude=./run \
  --exclude='*.o' --exclude='*.a' --exclude='*.so' --exclude=./tests/fuzz/corpus-run -cf - . | tar -C "$src" -xf -
tar -C "$top" -czf "$top/SOURCES/collectd-kube-proxy-$version.tar.gz" "collectd-kube-proxy-$version"
rm -rf "$src"
cp "$root/packaging/rpm/collectd-kube-proxy.spec" "$top/SPECS/"
rm -rf "$top"/RPMS/* "$top"/SRPMS/*
echo "make rpm: # not the outer make's variables (BUILD=... in MAKEFLAGS would point the
# package's make at this tree's objects)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD rpmbuild -ba --nodeps (log: $top/rpmbuild.log)"
# python3_sitelib: Debian's rpm has no python3-rpm-macros; Fedora's layout
# not the outer make's variables (BUILD=... in MAKEFLAGS would point the
# package's make at this tree's objects)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD rpmbuild -ba --nodeps --define "_topdir $top" --define "collectd_tarball $(basename "$ctar")" \
  --define "python3_sitelib /usr/lib/python3.11/site-packages" \
  "$top/SPECS/collectd-kube-proxy.spec" >"$top/rpmbuild.log" 2>&1 ||
  { tail -n 40 "$top/rpmbuild.log" >&2; echo "make rpm: rpmbuild failed" >&2; exit 1; }
find "$top/RPMS" "$top/SRPMS" -name '*.rpm' | sort
