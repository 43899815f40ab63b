#!/usr/bin/env bash
# Runs Check unit-test binaries; prints each one's result and a closing
# "N passed, N failed" line summed over all of them. Exit 1 on any failure.
set -u
passed=0 failed=0 bad_bins=()
for bin in "$@"; do
  out=$("$bin" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out"
    echo "FAIL $bin: no Check summary (crashed? rc=$rc)"
    failed=$((failed + 1)); bad_bins+=("$bin"); continue
  fi
  checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
  fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
  errs=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
  bad=$((fails + errs))
  passed=$((passed + checks - bad)); failed=$((failed + bad))
  if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
    printf '%s\n' "$out"; bad_bins+=("$bin")
  else
    printf '%s\n' "$out" | grep -E '^(SKIP|NOTE)' || true
    echo "ok   $(basename "$bin"): $checks checks"
  fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#bad_bins[@]} -eq 0 ]
