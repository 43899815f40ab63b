# Shared helpers for the integration tests (sourced, bash). Network
# namespaces are named kp-*, registered when created and deleted on every
# exit path once kp_trap_cleanup has been called. Traffic stays between
# addresses the test assigned inside its own namespaces.
#
#   . "$(dirname "$0")/lib.sh"
#   kp_require_root; kp_require_tools ip iptables-legacy-restore
#   kp_trap_cleanup
#   kp_ns_add kp-x-$$; kp_load kp-x-$$ 4 < rules.v4

KP_ROOT=${KP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KP_NAMESPACES=()

# Prints "SKIP: reason" and exits 77 (counted as skipped, not passed).
kp_skip() {
  echo "SKIP: $*"
  exit 77
}

kp_fail() {
  echo "FAIL: $*"
  exit 1
}

kp_require_root() {
  [ "$(id -u)" -eq 0 ] || kp_skip "needs root (network namespaces, netfilter tables)"
}

kp_require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || kp_skip "$t not installed"
  done
}

# Deletes every namespace this script created, and KP_TMP when set.
kp_cleanup() {
  local ns
  for ns in "${KP_NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  KP_NAMESPACES=()
  if [ -n "${KP_TMP:-}" ] && [ -d "$KP_TMP" ]; then
    rm -rf "$KP_TMP"
  fi
}

kp_trap_cleanup() {
  trap kp_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# kp_ns_add NAME: creates a network namespace (name must start with kp-),
# loopback up, registered for deletion.
kp_ns_add() {
  case "$1" in
  kp-*) ;;
  *) kp_fail "namespace names start with kp-: $1" ;;
  esac
  ip netns add "$1" || kp_fail "ip netns add $1"
  KP_NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# kp_veth NS_A ADDR_A/PREFIX NS_B ADDR_B/PREFIX: a veth pair between two of
# the test's namespaces, addressed and up (no default route anywhere).
kp_veth() {
  local a=$1 addr_a=$2 b=$3 addr_b=$4
  ip link add kpv0 netns "$a" type veth peer name kpv1 netns "$b" || kp_fail "veth $a-$b"
  ip -n "$a" addr add "$addr_a" dev kpv0
  ip -n "$b" addr add "$addr_b" dev kpv1
  ip -n "$a" link set kpv0 up
  ip -n "$b" link set kpv1 up
}

# kp_load NS FAMILY [restore options...] < rules: iptables-legacy-restore
# (FAMILY 4) or ip6tables-legacy-restore (6) inside the namespace.
kp_load() {
  local ns=$1 fam=$2 tool=iptables-legacy-restore
  shift 2
  [ "$fam" = 6 ] && tool=ip6tables-legacy-restore
  ip netns exec "$ns" "$tool" "$@" || kp_fail "$tool failed in $ns"
}

# kp_count_rules NS FAMILY: the number of rules iptables-legacy-save shows.
kp_count_rules() {
  local tool=iptables-legacy-save
  [ "$2" = 6 ] && tool=ip6tables-legacy-save
  ip netns exec "$1" "$tool" | grep -c '^-A' || true
}

# kp_services_ruleset N: a kube-proxy iptables-mode ruleset with N services
# (the fixtures generator when present, else a plain awk loop of
# KUBE-SVC/KUBE-SEP chains with DNAT rules).
kp_services_ruleset() {
  local n=$1 gen="$KP_ROOT/tests/fixtures/make-ruleset.sh"
  if [ -f "$gen" ]; then
    bash "$gen" --services "$n"
    return
  fi
  awk -v n="$n" 'BEGIN {
    print "*nat"
    print ":PREROUTING ACCEPT [0:0]"; print ":INPUT ACCEPT [0:0]"
    print ":OUTPUT ACCEPT [0:0]"; print ":POSTROUTING ACCEPT [0:0]"
    print ":KUBE-SERVICES - [0:0]"; print ":KUBE-MARK-MASQ - [0:0]"
    for (s = 0; s < n; s++) { printf ":KUBE-SVC-%06d - [0:0]\n:KUBE-SEP-%06d - [0:0]\n", s, s }
    print "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
    print "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"
    for (s = 0; s < n; s++) {
      ip = sprintf("172.30.%d.%d", int(s / 250), s % 250 + 1)
      pod = sprintf("10.180.%d.%d", int(s / 250), s % 250 + 2)
      printf "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"ns/svc%d:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-%06d\n", ip, s, s
      printf "-A KUBE-SVC-%06d -m comment --comment \"ns/svc%d:http -> %s:8080\" -j KUBE-SEP-%06d\n", s, s, pod, s
      printf "-A KUBE-SEP-%06d -s %s/32 -m comment --comment \"ns/svc%d:http\" -j KUBE-MARK-MASQ\n", s, pod, s
      printf "-A KUBE-SEP-%06d -p tcp -m comment --comment \"ns/svc%d:http\" -m tcp -j DNAT --to-destination %s:8080\n", s, s, pod
    }
    print "COMMIT"
  }'
}
