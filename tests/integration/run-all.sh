#!/usr/bin/env bash
# Runs the leftover guard's self-test, then every tests/integration/test-*.sh
# (or only the TESTs named) with BUILD_DIR, and prints a closing
# "integration: N passed, N failed, N skipped" line. A test exits 0
# (passed), 77 after printing "SKIP: reason" (skipped: not root, tool
# missing), or anything else (failed). Then the leftover guard
# (leftovers.sh) checks that nothing the tests recorded in KP_RUN_DIR (the
# caller's, as `make check` exports it, or a new one) is left: a leftover
# fails the run, naming it and the test that made it. SIGINT/SIGTERM stop
# the running test with SIGTERM (it cleans up), then the guard runs.
# Exit 1 when any test failed or something was left behind.
#   run-all.sh BUILD_DIR [TEST...]
set -u
build=${1:-build}
shift
dir=$(cd "$(dirname "$0")" && pwd)
own_run=
if [ -z "${KP_RUN_DIR:-}" ]; then
  KP_RUN_DIR=$(mktemp -d /tmp/kp-run.XXXXXX) || exit 1
  chmod 755 "$KP_RUN_DIR"
  own_run=1
fi
export KP_RUN_DIR

tests=("$dir/leftovers-selftest.sh")
if [ $# -gt 0 ]; then
  for t in "$@"; do tests+=("$dir/$(basename "$t")"); done
else
  tests+=("$dir"/test-*.sh)
fi

# The guard on the whole run; removes a run dir of our own.
guard() {
  local rc=0
  bash "$dir/leftovers.sh" "$KP_RUN_DIR" || rc=1
  [ -z "$own_run" ] || rm -rf "$KP_RUN_DIR"
  return "$rc"
}

current= current_name=
stop() { # stop EXIT_STATUS: on SIGINT/SIGTERM
  trap '' INT TERM
  if [ -n "$current" ]; then
    echo "=== $current_name: interrupted, stopping it (SIGTERM)"
    kill -TERM "$current" 2>/dev/null
    wait "$current" 2>/dev/null
  fi
  guard
  echo "integration: interrupted"
  exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM

# Scripts that make namespaces or temp dirs themselves: the guard sees only
# what the helpers (kp_ns_add, kp_make_node, kp_tmp) recorded.
for t in "${tests[@]}"; do
  grep -nE '^[^#]*(ip netns add|mktemp -d)' "$t" 2>/dev/null | sed "s|^|note: $(basename "$t"):|; s|\$| (use kp_ns_add / kp_tmp: the leftover guard cannot see it)|"
done

passed=0 failed=0 skipped=0 failed_names=()
for t in "${tests[@]}"; do
  [ -f "$t" ] || continue
  name=$(basename "$t")
  echo "=== $name"
  start=$(date +%s)
  # In the background, so that a signal to this script reaches the trap at
  # once (bash defers traps until a foreground child ends).
  bash "$t" "$build" &
  current=$! current_name=$name
  wait "$current"
  rc=$?
  current=
  secs=$(($(date +%s) - start))
  case $rc in
  0) passed=$((passed + 1)); echo "=== $name: passed (${secs}s)" ;;
  77) skipped=$((skipped + 1)); echo "=== $name: skipped" ;;
  *) failed=$((failed + 1)); failed_names+=("$name"); echo "=== $name: FAILED (rc=$rc, ${secs}s)" ;;
  esac
done
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "integration: $passed passed, $failed failed, $skipped skipped"
left=0
guard || left=1
[ "$failed" -eq 0 ] && [ "$left" -eq 0 ]
