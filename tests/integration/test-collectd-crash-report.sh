#!/usr/bin/env bash
# The harness's report of a collectd that dies of a signal (what a crash in
# CI leaves to diagnose it): collectd with the plugin reads a namespace,
# is killed with SIGSEGV, and kp_stop_collectd must give its exit status
# 139, keep the core (collectd alone dumps core, in its BaseDir) and print
# gdb's backtrace of its threads, the plugin loaded among them.
# Needs root (network namespaces, iptables-nft) and gdb.
#   test-collectd-crash-report.sh BUILD_DIR
set -u
KP_BUILD=${1:-build}
. "$(dirname "$0")/collectd-lib.sh"
kp_begin crashrep iptables-nft-restore gdb
kp_node nft

kp_collectd <<EOF
  NetNS "/run/netns/$NS"
EOF
kp_check "values from the namespace" kp_wait 10 kp_csv_last kube_proxy-ipv4 ipt_packets-KUBE-SERVICES
kill -SEGV "$KP_COLLECTD_PID"
kp_stop_collectd
kp_check "exit status 139 (SIGSEGV)" test "$KP_COLLECTD_RC" -eq 139
report=$KP_TMP/collectd.crash
kp_check "the report names the signal" grep -q '^--- collectd died of signal 11 ---$' "$report"
kp_check "a core file was written" ls "$KP_TMP"/base/core
kp_check "gdb read it: frames of several threads" \
  test "$(grep -c '^#0 ' "$report")" -ge 2
kp_check "kube_proxy.so is loaded in it" grep -q 'kube_proxy\.so' "$report"
kp_check "collectd's own frames are named" grep -q ' in main ' "$report"
kp_finish
