#!/usr/bin/env bash
# The real collectd with kube_proxy.so reading an iptables-legacy kube-proxy
# ruleset in a throwaway namespace (NetNS), with real connections through
# the nat chains: values and their growth (csv), FAILURE/OKAY notifications
# with meta when masquerading breaks and is repaired (exec), PodIP results,
# a PUTNOTIF about kube-proxy reaching the `process` check (unixsock), and
# reads that keep working while /run/xtables.lock is held; then Backend
# "legacy" forced (kp_iptables_suite in collectd-lib.sh, shared with the
# iptables-nft test).
#   test-collectd-legacy.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin it iptables-legacy-restore iptables-legacy
kp_node legacy
kp_iptables_suite legacy
