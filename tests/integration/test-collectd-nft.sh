#!/usr/bin/env bash
# The real collectd with kube_proxy.so reading a kube-proxy ruleset loaded
# with iptables-nft-restore (nf_tables, read over netlink) in a throwaway
# namespace, with the same assertions as the iptables-legacy test
# (kp_iptables_suite in collectd-lib.sh): values exist and grow with real
# connections, masquerade FAILURE/OKAY with meta (backend nft), PodIP, a
# PUTNOTIF reaching the `process` check, reads while /run/xtables.lock is
# held, Backend "nft" forced; plus: the monitor creates no legacy table.
#   test-collectd-nft.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin itn iptables-nft-restore iptables-nft
kp_node nft
kp_iptables_suite nft
