#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are
# missing (a second run costs one dpkg query per package).
#   install-deps.sh          everything: build, tests, fuzzing, packaging
#   install-deps.sh demo     what `make demo` needs: build and run the plugin
set -eu
demo=(build-essential pkg-config check collectd-core collectd-dev collectd-utils libyajl2
      iptables nftables iproute2 libiptc-dev libip4tc-dev libip6tc-dev libnftnl-dev libmnl-dev
      libjansson-dev)
pkgs=("${demo[@]}")
if [ "${1:-all}" != demo ]; then
  pkgs+=(clang clang-format valgrind gdb ipset util-linux libcap2-bin
         debhelper rpm python3-yaml python3-jinja2 libmicrohttpd12
         # packaging tests (issue #11): write_prometheus needs libprotobuf-c1
         # too; Prometheus, sos, Ansible, rpmlint, the image's rootfs
         libprotobuf-c1 prometheus curl sosreport ansible rpmlint mmdebstrap dpkg-dev ipvsadm
         # make rpm: configuring collectd's source tree for its config.h
         autoconf automake libtool flex bison rpm2cpio cpio)
  # npm (schema validation of the manifests): Debian's, unless Node.js
  # from elsewhere already brought one
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
# make rpm takes collectd's source from Debian's source package: a deb-src
# entry for bookworm (added once, next to the machine's own entries).
src_list=/etc/apt/sources.list.d/kp-deb-src.sources
if [ "${1:-all}" != demo ] && [ ! -e "$src_list" ] &&
  ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: no deb-src entry for make rpm (run as root to add $src_list)" >&2
    exit 1
  fi
  # the machine's own Debian mirror (first deb entry)
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || { echo "install-deps: no Debian mirror found in the apt sources" >&2; exit 1; }
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" >"$src_list"
  apt-get update -qq
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "install-deps: missing ${missing[*]} and no apt-get (Debian 12 expected)" >&2; exit 1; }
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# collectd-core must not start a system collectd nobody asked for.
added_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  added_policy=1
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
