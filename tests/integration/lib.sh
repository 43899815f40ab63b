# Shared helpers for the integration tests (sourced, bash). Everything a
# test creates goes through a helper that registers it, so that it is removed
# on every exit path (normal end, failure, SIGINT, SIGTERM) once
# kp_trap_cleanup has been called, and so that the leftover guard
# (leftovers.sh) can check afterwards that none of it is still there:
#   kp_tmp NAME        a private temp dir /tmp/kp-NAME.XXXXXX in KP_TMP
#   kp_ns_add NAME     a network namespace (name kp-...), loopback up
#   kp_spawn OUT CMD   a background program (its pid in KP_SPAWNED)
#   kp_track PID       a background subshell started with ( ... ) &
# Network namespaces are named kp-*. Traffic stays between addresses the
# test assigned inside its own namespaces.
#
#   . "$(dirname "$0")/lib.sh"
#   kp_require_root; kp_require_tools ip iptables-legacy-restore
#   kp_trap_cleanup; kp_tmp x
#   kp_ns_add kp-x-$$; kp_load kp-x-$$ 4 < rules.v4
#
# KP_RUN_DIR (exported by run-all.sh and `make check`): each helper appends
# what it created to $KP_RUN_DIR/created, one line each:
#   ns NAME INODE TEST | tmp PATH TEST | pid PID STARTTIME TEST CMD...
# A test run on its own gets a private KP_RUN_DIR and runs the guard itself
# at exit (after its cleanup): a leftover makes it fail.

KP_ROOT=${KP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KP_TEST_NAME=$(basename "$0")
KP_NAMESPACES=()
KP_PIDS=()
KP_TMPS=()
KP_RUN_DIR_OWN=

# Prints "SKIP: reason" and exits 77 (counted as skipped, not passed).
kp_skip() {
  echo "SKIP: $*"
  exit 77
}

# Fatal: the test cannot go on (setup failed). Exit 1, through the cleanup.
kp_die() {
  echo "FAIL: $*"
  exit 1
}

# In plain lib.sh scripts a failure ends the test (collectd-lib.sh replaces
# kp_fail with a counting one: its scripts go on and end in kp_finish).
kp_fail() {
  kp_die "$@"
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

# kp_record KIND ARGS...: one line in the run's record of what it created.
kp_record() {
  [ -n "${KP_RUN_DIR:-}" ] || return 0
  local kind=$1
  shift
  printf '%s %s\n' "$kind" "$*" >>"$KP_RUN_DIR/created"
}

# kp_pid_start PID: the process's start time (clock ticks after boot, field
# 22 of /proc/PID/stat), which tells a live process from a reused pid.
kp_pid_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the command name may hold spaces and parentheses
  set -- $stat
  echo "${20}"
}

# kp_pid_running PID: alive and not a zombie.
kp_pid_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# kp_tmp NAME [VAR]: a private temp dir /tmp/kp-NAME.XXXXXX in VAR (default
# KP_TMP), removed at exit.
kp_tmp() {
  local d
  d=$(mktemp -d "/tmp/kp-$1.XXXXXX") || kp_die "mktemp -d /tmp/kp-$1.XXXXXX"
  KP_TMPS+=("$d")
  kp_record tmp "$d" "$KP_TEST_NAME"
  printf -v "${2:-KP_TMP}" '%s' "$d"
}

# kp_adopt_tmp: registers KP_TMP when a script made it itself (mktemp -d
# instead of kp_tmp), so that the cleanup removes it and the guard sees it.
kp_adopt_tmp() {
  [ -n "${KP_TMP:-}" ] && [ -d "$KP_TMP" ] || return 0
  [[ " ${KP_TMPS[*]} " == *" $KP_TMP "* ]] && return 0
  KP_TMPS+=("$KP_TMP")
  kp_record tmp "$KP_TMP" "$KP_TEST_NAME"
}

# kp_track PID: a background process of this shell (a program or a
# ( ... ) & subshell), stopped at exit.
declare -gA KP_PID_START=()
kp_track() {
  local start
  start=$(kp_pid_start "$1") || start=0
  KP_PIDS+=("$1")
  KP_PID_START[$1]=$start
  kp_record pid "$1" "$start" "$KP_TEST_NAME" \
    "$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | cut -c1-200)" # may have ended
}

# kp_spawn OUT CMD [ARGS...]: CMD in the background, stdout and stderr to
# OUT; KP_SPAWNED is its pid, tracked. CMD must be a program (ip netns exec,
# setpriv, valgrind, timeout exec theirs): a shell function would run in a
# subshell, and $! would then be that subshell, not the program, which
# survives when the subshell is killed.
KP_SPAWNED=
kp_spawn() {
  local out=$1
  shift
  kp_adopt_tmp
  [ "$(type -t "$1")" = file ] || kp_die "kp_spawn: $1 is not a program ($(type -t "$1"))"
  "$@" >"$out" 2>&1 &
  KP_SPAWNED=$!
  kp_track "$KP_SPAWNED"
}

# kp_stop PID [SECONDS]: SIGTERM to PID and its children of the moment,
# SIGKILL after SECONDS (default 30); returns PID's exit status when it is
# a child of this shell. A tracked PID that has already ended (its pid now
# maybe someone else's) is only forgotten.
kp_stop() {
  local pid=$1 secs=${2:-30} kids i rc=0 start
  [ -n "$pid" ] || return 0
  start=$(kp_pid_start "$pid") || start=
  if [ -n "$start" ] && [ "$start" = "${KP_PID_START[$pid]:-$start}" ]; then
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
    kill -TERM "$pid" $kids 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
      kp_pid_running "$pid" || break
      sleep 0.1
    done
    if kp_pid_running "$pid"; then
      echo "note: pid $pid still running ${secs} s after SIGTERM: SIGKILL"
      kill -KILL "$pid" $kids 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  local keep=() p
  for p in "${KP_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  KP_PIDS=("${keep[@]}")
  unset "KP_PID_START[$pid]"
  return "$rc"
}

# kp_procs_under DIR...: "PID CMD" of every process whose working directory
# is under one of DIRs or whose command line names one (this shell excepted).
kp_procs_under() {
  [ $# -gt 0 ] || return 0
  {
    find /proc -mindepth 2 -maxdepth 2 -path '/proc/[0-9]*/cwd' -printf 'cwd %h %l\n' 2>/dev/null
    ps -eo pid=,args= -ww | sed 's/^ */cmd /'
  } | KP_DIRS="$*" awk -v self="$$" -v me="$BASHPID" ' # dirs from the environment: awk must not match itself
    BEGIN { n = split(ENVIRON["KP_DIRS"], d, " ") }
    $1 == "cwd" { pid = $2; sub("^/proc/", "", pid); path = $3
                  for (i = 1; i <= n; i++) if (path == d[i] || index(path, d[i] "/") == 1) hit[pid] = "cwd " path
                  next }
    { pid = $2; line = $0; sub(/^cmd +[0-9]+ /, "", line); cmd[pid] = line
      for (i = 1; i <= n; i++) if (index(line, d[i])) hit[pid] = hit[pid] ? hit[pid] : "cmd" }
    END { for (p in hit) if (p != self && p != me && p in cmd) print p, cmd[p] }'
}

# Stops every process this script started (tracked ones; then any other
# still working in or naming its temp dirs or inside its namespaces, which
# fails the test: it started something it did not stop), deletes every namespace it created
# and its temp dirs (KP_TMP too when set). Idempotent. A test run on its own
# then runs the leftover guard: anything left fails the test.
kp_cleanup() {
  local rc=$? ns i p line
  trap '' INT TERM
  for ((i = ${#KP_PIDS[@]} - 1; i >= 0; i--)); do
    kp_stop "${KP_PIDS[$i]}" 10
  done
  KP_PIDS=()
  kp_adopt_tmp
  if [ ${#KP_TMPS[@]} -gt 0 ]; then
    while read -r p line; do
      [ -n "$p" ] || continue
      # a process the test started but did not track or stop: a bug of the test
      echo "FAIL: cleanup: pid $p (not stopped by the test) still uses its temp dir, killed: $line"
      kill -TERM "$p" 2>/dev/null
      sleep 0.5
      kill -KILL "$p" 2>/dev/null
      rc=1
    done < <(kp_procs_under "${KP_TMPS[@]}")
  fi
  for ns in "${KP_NAMESPACES[@]}"; do
    # a process left inside would keep the namespace alive after ip netns del
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      echo "FAIL: cleanup: pid $p (not stopped by the test) still in namespace $ns, killed: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
      kill -KILL "$p" 2>/dev/null
      rc=1
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  KP_NAMESPACES=()
  for p in "${KP_TMPS[@]}"; do
    rm -rf "$p"
  done
  KP_TMPS=()
  if [ -n "$KP_RUN_DIR_OWN" ]; then
    bash "$KP_LIB_DIR/leftovers.sh" "$KP_RUN_DIR" || rc=1
    rm -rf "$KP_RUN_DIR"
    KP_RUN_DIR_OWN=
  fi
  return "$rc"
}

# kp_trap_cleanup: kp_cleanup on every exit path. Run on its own (no
# KP_RUN_DIR from run-all.sh or make check), the test records what it
# creates in a private KP_RUN_DIR and checks for leftovers at exit.
kp_trap_cleanup() {
  if [ -z "${KP_RUN_DIR:-}" ]; then
    KP_RUN_DIR=$(mktemp -d /tmp/kp-run.XXXXXX) || kp_die "mktemp -d /tmp/kp-run.XXXXXX"
    chmod 755 "$KP_RUN_DIR"
    KP_RUN_DIR_OWN=1
  fi
  trap 'kp_cleanup; exit $?' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# kp_ns_add NAME: creates a network namespace (name must start with kp-),
# loopback up, registered for deletion.
kp_ns_add() {
  kp_adopt_tmp
  case "$1" in
  kp-*) ;;
  *) kp_die "namespace names start with kp-: $1" ;;
  esac
  ip netns add "$1" || kp_die "ip netns add $1"
  KP_NAMESPACES+=("$1")
  kp_record ns "$1" "$(stat -L -c %i "/run/netns/$1" 2>/dev/null || echo 0)" "$KP_TEST_NAME"
  ip -n "$1" link set lo up
}

# kp_ns_del NAME...: deletes namespaces before the end (missing ones are fine).
kp_ns_del() {
  local ns
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done
}

# kp_veth NS_A ADDR_A/PREFIX NS_B ADDR_B/PREFIX: a veth pair between two of
# the test's namespaces, addressed and up (no default route anywhere).
kp_veth() {
  local a=$1 addr_a=$2 b=$3 addr_b=$4
  ip link add kpv0 netns "$a" type veth peer name kpv1 netns "$b" || kp_die "veth $a-$b"
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
  ip netns exec "$ns" "$tool" "$@" || kp_die "$tool failed in $ns"
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
