#!/usr/bin/env bash
# Hostile names through the real CLI binary (issue 5.5): the hand-made dumps
# tests/fixtures/parse/hostile-* carry chain names, comments and service
# names with quotes, backslashes, CR/DEL, ANSI and OSC escape sequences, BEL,
# 8-bit CSI, C1 controls, invalid UTF-8 and over-long names into findings.
#  - text output: no raw control byte (C0 but '\n', DEL, C1, raw 0x80-0x9f),
#    valid UTF-8, one "[SEV] " line per finding plus the summary;
#  - --json: parses (python3), the hostile service names round-trip;
#  - stderr: error messages built from hostile input (a table name, a
#    command, a file name inside a --dir bundle, a bad --pod-ip / --disable
#    value, a stray argument) hold no raw control byte.
# No root needed. Usage: test-cli-hostile.sh [BUILD_DIR]  (0 pass, 1 fail, 77 skip)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${1:-${KP_BUILD:-build}}
case "$BUILD" in /*) ;; *) BUILD="$KP_ROOT/$BUILD" ;; esac
CLI="$BUILD/kube-proxy-check"
FIX="$KP_ROOT/tests/fixtures/parse"

kp_require_tools python3
[ -x "$CLI" ] || kp_skip "$CLI not built"
kp_trap_cleanup
kp_tmp cli-hostile
failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

# safe_bytes FILE [lines]: no raw control byte; with "lines", every line is
# "[OK|INFO|WARN|FAIL] ..." except a last "Summary: " line.
safe_bytes() {
  python3 - "$@" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
try:
    text = data.decode('utf-8')
except UnicodeDecodeError as e:
    sys.exit('invalid UTF-8: %s' % e)
bad = [c for c in text if (ord(c) < 0x20 and c != '\n') or 0x7f <= ord(c) <= 0x9f]
if bad:
    sys.exit('raw control characters: %r' % sorted(set(bad)))
if len(sys.argv) > 2:
    lines = text.split('\n')
    if lines[-1] != '':
        sys.exit('no final newline')
    lines = lines[:-1]
    if not lines or not lines[-1].startswith('Summary: '):
        sys.exit('last line is not the summary')
    for l in lines[:-1]:
        # a finding's list items (services without endpoints) are indented
        # by four spaces under it; anything else is a finding
        if l.startswith('    ') and l[4:5] not in ('', ' '):
            continue
        if not l.split(' ', 1)[0] in ('[OK]', '[INFO]', '[WARN]', '[FAIL]'):
            sys.exit('not a finding line: %r' % l)
PY
}

# json_has FILE CHECK KEY HEX: the JSON parses and CHECK's details list KEY
# holds the string whose UTF-8 bytes are HEX.
json_has() {
  python3 - "$@" <<'PY'
import json, sys
path, check, key, want = sys.argv[1:5]
d = json.load(open(path, encoding='utf-8'))
for r in d['results']:
    if r['check'] == check and any(x.encode('utf-8').hex() == want for x in r['details'].get(key, [])):
        sys.exit(0)
sys.exit('%s/%s: %s not found' % (check, key, bytes.fromhex(want)))
PY
}

run_set() { # run_set NAME FILE... : text + JSON checks on one fixture set
  local name=$1 args=() f rc
  shift
  for f in "$@"; do args+=(--file "$FIX/$f"); done
  "$CLI" "${args[@]}" >"$KP_TMP/$name.txt" 2>"$KP_TMP/$name.err"
  rc=$?
  check "$name: text exit status 1 or 2 (got $rc)" test "$rc" -eq 1 -o "$rc" -eq 2
  check "$name: text has no raw control byte, one line per finding" \
    safe_bytes "$KP_TMP/$name.txt" lines
  check "$name: stderr has no raw control byte" safe_bytes "$KP_TMP/$name.err"
  "$CLI" --json "${args[@]}" >"$KP_TMP/$name.json" 2>/dev/null
  check "$name: JSON parses, no raw control byte" safe_bytes "$KP_TMP/$name.json"
  # ESC/SGR name, quote+backslash name, valid non-ASCII name (exact bytes)
  check "$name: JSON round-trips an ANSI-escape service name" json_has "$KP_TMP/$name.json" \
    endpoints services_without_endpoints "$(printf 'ns/esc\033[31mRED\033[0m:http' | od -An -tx1 | tr -d ' \n')"
  check "$name: JSON round-trips quotes and backslashes" json_has "$KP_TMP/$name.json" \
    endpoints services_without_endpoints "$(printf 'ns/q"uote\\back:http' | od -An -tx1 | tr -d ' \n')"
  check "$name: JSON round-trips invalid UTF-8 as U+FFFD" json_has "$KP_TMP/$name.json" \
    endpoints services_without_endpoints "$(printf 'ns/bad\357\277\275\357\277\275\357\277\275utf8:http' | od -An -tx1 | tr -d ' \n')"
}

run_set save hostile-ipt-save.txt
run_set list hostile-ipt-list-filter.txt hostile-ipt-list-nat.txt
run_set rules hostile-ipt-rules-filter.txt hostile-ipt-rules-nat.txt
run_set nft hostile-nft.nft
check "save: the OSC chain name is shown escaped" \
  grep -qF '(e.g. KUBE-SVC-\x1b]0;pwned\x07X)' "$KP_TMP/save.txt"

# stderr of failing inputs: exit 3 and a message without raw control bytes.
err_case() { # err_case NAME CLI-ARGS...
  local name=$1 rc
  shift
  "$CLI" "$@" >/dev/null 2>"$KP_TMP/err-$name"
  rc=$?
  check "stderr $name: non-zero exit ($rc) with a message" test "$rc" -ne 0 -a -s "$KP_TMP/err-$name"
  check "stderr $name: no raw control byte" safe_bytes "$KP_TMP/err-$name"
}
# (a table opened while another is still open is an error naming the open one;
# a save that only ends without COMMIT is judged as cut, not refused)
printf '*ev\033[31mil\233\n:X - [0:0]\n*nat\n' >"$KP_TMP/table.txt"
err_case table-name --file "$KP_TMP/table.txt"
printf '*nat\n-Z\033[2J\a\n' >"$KP_TMP/command.txt"
err_case command --file "$KP_TMP/command.txt"
mkdir -p "$KP_TMP/bundle"
printf '*nat\n:PREROUTING ACCEPT [0:0]\n*filter\n' >"$KP_TMP/bundle/$(printf 'node\033]0;pwned\a\233x.txt')"
err_case bundle-file-name --dir "$KP_TMP/bundle"
err_case missing-file-name --file "$KP_TMP/$(printf 'no\033[31mfile')"
err_case pod-ip --file "$FIX/hostile-nft.nft" --pod-ip "$(printf '10.0.0.1\033[2J')"
err_case disable --file "$FIX/hostile-nft.nft" --disable "$(printf 'mode\033[2J')"
err_case stray-argument "$(printf '\033[2J\a')"

[ "$failures" -eq 0 ] || { echo "test-cli-hostile: $failures check(s) failed"; exit 1; }
echo "test-cli-hostile: all checks passed"
