#!/usr/bin/env bash
# Captures the committed fixtures under tests/fixtures/captured/ from REAL
# iptables (legacy and nft backends) and nft, in throw-away network
# namespaces. Needs root, iproute2, iptables (1.8.x with both backends),
# nftables, ipset, perl (for make-ruleset.sh).
#
#   sudo tests/capture-fixtures.sh [OUTDIR] [CASE...]
#
# Per case and backend: two namespaces kp-cap-<pid>-n (the "node") and
# kp-cap-<pid>-p (the "pods"), joined by a veth 192.168.77.1/24 <-> .2/24.
# The node routes 172.30.0.0/16 and 10.180.0.0/16 to the pods namespace,
# which treats both as local (so every SYN gets a quick RST). No route leaves
# the two namespaces. The ruleset from make-ruleset.sh is loaded with
# iptables-<backend>-restore, a few TCP SYNs / one UDP datagram cross the nat
# chains, then every listing format is saved.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gen=$here/fixtures/make-ruleset.sh
out=${1:-$here/fixtures/captured}
[ $# -gt 0 ] && shift
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(healthy zero-traffic no-masquerade mark-mismatch no-hooks ipvs
  kubelet-only pod-substring-trap stale no-canary)

for c in "${cases[@]}"; do
  case "$c" in
  healthy | zero-traffic | no-masquerade | mark-mismatch | no-hooks | ipvs | kubelet-only | \
    pod-substring-trap | stale | no-canary) ;;
  *) echo "capture-fixtures.sh: unknown case: $c" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "capture-fixtures.sh: needs root" >&2; exit 1; }
for tool in ip iptables-legacy-restore iptables-nft-restore nft ipset perl; do
  command -v "$tool" >/dev/null || { echo "capture-fixtures.sh: missing $tool" >&2; exit 1; }
done

NODE=kp-cap-$$-n
PODS=kp-cap-$$-p
cleanup() {
  ip netns del "$NODE" 2>/dev/null || true
  ip netns del "$PODS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_node() { ip netns exec "$NODE" "$@"; }
in_pods() { ip netns exec "$PODS" "$@"; }

# One TCP connection attempt (SYN; RST or REJECT comes back at once).
syn_from() {
  local where=$1 ip=$2 port=$3
  $where timeout 1 bash -c "echo > /dev/tcp/$ip/$port" 2>/dev/null || true
}

setup_netns() { # $1 = with_link (1/0)
  cleanup
  ip netns add "$NODE"
  ip netns add "$PODS"
  in_node ip link set lo up
  in_pods ip link set lo up
  [ "$1" = 1 ] || return 0
  ip link add kp-veth0 netns "$NODE" type veth peer name kp-veth1 netns "$PODS"
  in_node ip addr add 192.168.77.1/24 dev kp-veth0
  in_pods ip addr add 192.168.77.2/24 dev kp-veth1
  in_node ip link set kp-veth0 up
  in_pods ip link set kp-veth1 up
  in_node ip route add 172.30.0.0/16 via 192.168.77.2
  in_node ip route add 10.180.0.0/16 via 192.168.77.2
  in_pods ip route add local 10.180.0.0/16 dev lo
  in_pods ip route add local 172.30.0.0/16 dev lo
  in_node sysctl -qw net.ipv4.ip_forward=1
}

# IPVS mode: service VIPs live on kube-ipvs0, sets via ipset. kube-proxy
# uses a dummy device; this kernel may lack the dummy driver, so a veth
# pair local to the node namespace stands in (same local routes).
setup_ipvs() {
  in_node ip link add kube-ipvs0 type veth peer name kube-ipvs0-p
  in_node ip link set kube-ipvs0 up
  in_node ip link set kube-ipvs0-p up
  for vip in 172.30.0.1 172.30.0.10 172.30.0.20 172.30.0.21; do
    in_node ip addr add "$vip/32" dev kube-ipvs0
  done
  "$gen" --mutation ipvs --ipset | in_node ipset restore
}

send_traffic() {
  local _
  for _ in 1 2; do
    syn_from in_node 172.30.0.1 443   # default/kubernetes:https
    syn_from in_node 172.30.0.10 53   # kube-dns:dns-tcp
    syn_from in_node 172.30.0.20 80   # web/frontend:http
    syn_from in_node 192.168.77.1 30080 # NodePort, from the node itself
  done
  syn_from in_node 172.30.0.21 80     # web/orphan:http, no endpoints -> REJECT
  in_node bash -c 'echo x > /dev/udp/172.30.0.10/53' 2>/dev/null || true
  syn_from in_pods 192.168.77.1 30080 # NodePort from outside (PREROUTING, FORWARD)
  sleep 0.2
}

capture() { # $1 = backend (legacy|nft), $2 = dir
  local b=$1 d=$2
  local ipt=("iptables-$1" -w 10)
  mkdir -p "$d/bundle"
  in_node "iptables-$b-save" -c >"$d/iptables-save-c.txt"
  in_node "iptables-$b-save" >"$d/iptables-save.txt"
  in_node "${ipt[@]}" -t nat -L -n -v >"$d/nat-L-n-v.txt"
  in_node "${ipt[@]}" -t nat -L -n -v -x >"$d/nat-L-n-v-x.txt"
  in_node "${ipt[@]}" -t nat -L -n >"$d/nat-L-n.txt"
  in_node "${ipt[@]}" -t filter -L -n -v >"$d/filter-L-n-v.txt"
  in_node "${ipt[@]}" -t nat -S >"$d/nat-S.txt"
  [ "$b" = nft ] && in_node nft list ruleset >"$d/nft-list-ruleset.txt"
  # support-bundle layout (as collected by node log-gathering scripts)
  cp "$d/nat-L-n-v.txt" "$d/bundle/node_iptables_nat.txt"
  cp "$d/filter-L-n-v.txt" "$d/bundle/node_iptables_filter.txt"
  in_node "${ipt[@]}" -t mangle -L -n -v >"$d/bundle/node_iptables_mangle.txt"
}

for c in "${cases[@]}"; do
  case "$c" in
  healthy | zero-traffic) mutation=none ;;
  *) mutation=$c ;;
  esac
  traffic=1
  [ "$c" = zero-traffic ] && traffic=0
  rm -rf "${out:?}/$c"
  mkdir -p "$out/$c"
  "$gen" --mutation "$mutation" >"$out/$c/input.restore"
  [ "$mutation" = ipvs ] && "$gen" --mutation ipvs --ipset >"$out/$c/input.ipset"
  for b in legacy nft; do
    setup_netns "$traffic"
    [ "$mutation" = ipvs ] && setup_ipvs
    in_node "iptables-$b-restore" <"$out/$c/input.restore"
    [ "$traffic" = 1 ] && send_traffic
    capture "$b" "$out/$c/$b"
    echo "captured $c/$b"
  done
done
cleanup
