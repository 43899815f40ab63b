#!/usr/bin/env bash
# Runs the libFuzzer targets built in FUZZ_DIR (make fuzz / fuzz-smoke).
#   run.sh FUZZ_DIR SECONDS_PER_TARGET [TARGET...]
# 1. replays every tests/fuzz/regress/<target>-<name> through its target;
# 2. seeds a corpus per target from tests/fixtures/** (or, for a target of
#    binary input, tests/fuzz/seeds/<target without fuzz_>/) (FUZZ_DIR/corpus/<target>,
#    kept between runs of the same build dir, or a fresh temporary one with
#    FUZZ_CORPUS=fresh as `make fuzz-smoke` does; never committed); the
#    bundle target gets the files of each captured bundle joined by NUL;
# 3. fuzzes each target for SECONDS (or until FUZZ_RUNS executions, when
#    set: whichever comes first), FUZZ_JOBS targets at a time (default 1),
#    (a kept corpus continues a campaign: FUZZ_DIR/<target>.ledger adds up
#    the executions of every run on it, printed as "campaign ..."),
#    with FUZZ_CAMPAIGN=N instead of FUZZ_RUNS, each target runs until its
#    ledger holds N executions: FUZZ_RUNS is N minus what the ledger holds,
#    and a target already there is not run again, only reported),
#    inputs up to FUZZ_MAX_LEN bytes (default 65536); prints one summary line
#    per target with the executions run, the wall time and the rate, and a
#    closing "fuzz: N passed, N failed" line. A long run, as in the notes:
#      make fuzz FUZZ_RUNS=10000000 FUZZ_SECONDS=36000 FUZZ_JOBS=2 FUZZ_MAX_LEN=4096
# A crash leaves its input in FUZZ_DIR/artifacts/<target>/; minimise it with
#   FUZZ_DIR/<target> -minimize_crash=1 -runs=20000 -exact_artifact_path=OUT CRASH
# and commit OUT as tests/fuzz/regress/<target-without-fuzz_>-<short-name>.
set -u
fuzz_dir=${1:?usage: run.sh FUZZ_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh FUZZ_DIR SECONDS [TARGET...]}
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=$root/tests/fixtures
regress=$root/tests/fuzz/regress
fuzz_dir=$(cd "$fuzz_dir" && pwd) || exit 1
corpus_root=$fuzz_dir/corpus
if [ "${FUZZ_CORPUS:-keep}" = fresh ]; then
  corpus_root=$(mktemp -d /tmp/kp-fuzz-corpus.XXXXXX) || exit 1
  trap 'rm -rf "$corpus_root"' EXIT
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for bin in "$fuzz_dir"/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] && targets+=("$(basename "$bin")")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $fuzz_dir"; exit 1; }

max_len=${FUZZ_MAX_LEN:-65536}
jobs=${FUZZ_JOBS:-1}
runs=${FUZZ_RUNS:-}
campaign_goal=${FUZZ_CAMPAIGN:-}
if [ -n "$campaign_goal" ] && [ "${FUZZ_CORPUS:-keep}" = fresh ]; then
  echo "fuzz: FUZZ_CAMPAIGN needs the kept corpus (not FUZZ_CORPUS=fresh)"
  exit 1
fi
common=(-max_len="$max_len" -timeout=10 -rss_limit_mb=2048)
dict=$root/tests/fuzz/seeds/dumps.dict
passed=0 failed=0

# Bundle seeds: each captured bundle directory (+ its nft listing and a
# metrics file) as one input, files separated by NUL.
seed_bundles() {
  local out=$1 dir n=0 f
  for dir in "$fixtures"/captured/*/*/bundle; do
    [ -d "$dir" ] || continue
    n=$((n + 1))
    {
      for f in "$dir"/* "$dir"/../nft-list-ruleset.txt "$fixtures"/parse/metrics-kube-proxy.txt; do
        [ -f "$f" ] || continue
        cat "$f"
        printf '\0'
      done
    } >"$out/bundle-$n"
  done
}

seed_corpus() {
  local target=$1 corpus=$2 f rel seeds=$root/tests/fuzz/seeds/${1#fuzz_}
  mkdir -p "$corpus"
  # A target of binary input has its own seeds (tests/fuzz/seeds/<name>/,
  # captured: see the capture program there) instead of the text fixtures.
  if [ -d "$seeds" ]; then
    for f in "$seeds"/*; do
      case $f in *.c | *.md) continue ;; esac
      head -c "$max_len" "$f" >"$corpus/seed-$(basename "$f")"
    done
    return 0
  fi
  # Every fixture, capped at the fuzzer's max_len; named after its path so
  # reseeding overwrites instead of duplicating.
  while IFS= read -r -d '' f; do
    rel=${f#"$fixtures"/}
    head -c "$max_len" "$f" >"$corpus/seed-${rel//\//_}"
  done < <(find "$fixtures" -type f -print0)
  [ "$target" = fuzz_bundle ] && seed_bundles "$corpus"
  return 0
}

# The essentials of a sanitizer report: error line, summary, top frames.
crash_summary() {
  grep -m1 -E '^==[0-9]+==ERROR|runtime error|fuzz property broken' "$1"
  grep -m1 -E '^SUMMARY' "$1"
  grep -m5 -E '^    #[0-9]+ ' "$1"
}

# 1. regression inputs
for input in "$regress"/*; do
  [ -f "$input" ] || continue
  name=$(basename "$input")
  target=fuzz_${name%%-*}
  if [ ! -x "$fuzz_dir/$target" ]; then
    echo "FAIL regress $name: no target $target"
    failed=$((failed + 1))
    continue
  fi
  if "$fuzz_dir/$target" "${common[@]}" "$input" >"$fuzz_dir/regress-$name.log" 2>&1; then
    echo "PASS regress $name"
    passed=$((passed + 1))
  else
    echo "FAIL regress $name (log: $fuzz_dir/regress-$name.log)"
    crash_summary "$fuzz_dir/regress-$name.log"
    failed=$((failed + 1))
  fi
done

# 2-3. fuzz each target; its summary goes to FUZZ_DIR/<target>.result
# (first word PASS or FAIL), printed as the target ends.
# Executions the target's ledger holds (0 without one).
ledger_total() {
  [ -f "$fuzz_dir/$1.ledger" ] || { echo 0; return; }
  awk '{e += $1} END {print e + 0}' "$fuzz_dir/$1.ledger"
}

fuzz_target() {
  local target=$1 corpus=$corpus_root/$1 artifacts=$fuzz_dir/artifacts/$1
  local log=$fuzz_dir/$1.log result=$fuzz_dir/$1.result start end rc execs rate size reached
  local runs=$runs
  if [ -n "$campaign_goal" ]; then
    local held
    held=$(ledger_total "$target")
    if [ "$held" -ge "$campaign_goal" ]; then
      echo "PASS $target: campaign already at $held executions (FUZZ_CAMPAIGN=$campaign_goal), not run" >"$result"
      cat "$result"
      return 0
    fi
    runs=$((campaign_goal - held))
  fi
  mkdir -p "$artifacts"
  seed_corpus "$target" "$corpus"
  start=$(date +%s)
  "$fuzz_dir/$target" "${common[@]}" -dict="$dict" -max_total_time="$seconds" ${runs:+-runs="$runs"} \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  size=$(find "$corpus" -type f | wc -l)
  reached=
  [ -n "$runs" ] && reached=", $( [ "${execs:-0}" -ge "$runs" ] && echo reached || echo "did NOT reach") FUZZ_RUNS=$runs"
  # The kept corpus is the fuzzer's state: runs on the same build dir
  # continue one campaign, whose executions add up in <target>.ledger.
  local campaign=
  if [ "${FUZZ_CORPUS:-keep}" = keep ] && [ -n "$execs" ]; then
    echo "$execs $((end - start)) $(date -u +%FT%TZ) $(git -C "$root" rev-parse --short HEAD 2>/dev/null)" \
      >>"$fuzz_dir/$target.ledger"
    campaign=$(awk '{e += $1; s += $2; n++} END {printf ", campaign %d executions in %d s over %d run(s)", e, s, n}' \
      "$fuzz_dir/$target.ledger")
  fi
  if [ "$rc" -eq 0 ]; then
    echo "PASS $target: ${execs:-?} executions in $((end - start))s (${rate:-?}/s), corpus $size inputs, max_len $max_len$reached$campaign" >"$result"
  else
    {
      echo "FAIL $target: rc=$rc after ${execs:-?} executions (log: $log, inputs: $artifacts/)"
      crash_summary "$log"
    } >"$result"
  fi
  cat "$result"
}

running=0
for target in "${targets[@]}"; do
  rm -f "$fuzz_dir/$target.result"
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_target "$target" &
  running=$((running + 1))
done
wait
for target in "${targets[@]}"; do
  if grep -q '^PASS' "$fuzz_dir/$target.result" 2>/dev/null; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
