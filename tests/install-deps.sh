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
  pkgs+=(clang clang-format valgrind ipset util-linux libcap2-bin sosreport ipvsadm
         debhelper rpm python3-yaml python3-jinja2 libmicrohttpd12)
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
