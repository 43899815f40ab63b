#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, only
# those that are missing (so a second run costs one dpkg query).
set -eu
pkgs=(build-essential clang clang-format valgrind pkg-config check
      collectd-core collectd-dev collectd-utils libyajl2
      iptables nftables ipset iproute2 util-linux libcap2-bin
      libiptc-dev libip4tc-dev libip6tc-dev libnftnl-dev libmnl-dev
      debhelper rpm python3-yaml python3-jinja2 libmicrohttpd12)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# collectd-core must not start a system daemon of its own here.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.kp && chmod +x /usr/sbin/policy-rc.d.kp
if [ ! -e /usr/sbin/policy-rc.d ]; then cp /usr/sbin/policy-rc.d.kp /usr/sbin/policy-rc.d; added_policy=1; fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "${added_policy:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.kp
