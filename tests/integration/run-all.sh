#!/usr/bin/env bash
# Runs every tests/integration/test-*.sh with BUILD_DIR and prints a closing
# "integration: N passed, N failed, N skipped" line. A test exits 0 (passed),
# 77 after printing "SKIP: reason" (skipped: not root, tool missing), or
# anything else (failed). Exit 1 when any test failed.
#   run-all.sh BUILD_DIR
set -u
build=${1:-build}
dir=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0 failed_names=()
for t in "$dir"/test-*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t")
  echo "=== $name"
  start=$(date +%s)
  bash "$t" "$build"
  rc=$?
  secs=$(($(date +%s) - start))
  case $rc in
  0) passed=$((passed + 1)); echo "=== $name: passed (${secs}s)" ;;
  77) skipped=$((skipped + 1)); echo "=== $name: skipped" ;;
  *) failed=$((failed + 1)); failed_names+=("$name"); echo "=== $name: FAILED (rc=$rc, ${secs}s)" ;;
  esac
done
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
