#!/bin/sh
# Call graph between the object files of plugin/, from `nm`: fails when two
# files call each other (directly or around a loop), or when a file calls
# into a folder its folder may not use (the data flow: sources -> model ->
# checks -> output; only the glue and the CLI see everything but each other).
# Usage: tests/tools/layers.sh [BUILD]   (objects in BUILD/obj, after `make`)
set -eu
build=${1:-build}
cd "$(dirname "$0")/../.."

# caller folder -> the other folders it may call
allowed() {
  case $1 in
  model) echo "" ;;
  sources/dump) echo "model" ;;
  sources/live) echo "model sources/dump" ;; # kube-proxy's /metrics answers: the dump parser
  checks) echo "model" ;;
  config) echo "model checks" ;;
  output) echo "model checks" ;;
  collectd | cli) echo "model sources/dump sources/live checks config output" ;;
  *) echo "?" ;;
  esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
: >"$tmp/def"
: >"$tmp/und"
: >"$tmp/allow"
for src in $(find plugin -name '*.c' | sort); do
  rel=${src#plugin/}
  obj=$build/obj/${rel%.c}.o
  dir=${rel%/*}
  if [ ! -f "$obj" ]; then
    echo "layers: $obj missing (run make first)" >&2
    exit 2
  fi
  nm --defined-only "$obj" | awk -v f="$rel" -v d="$dir" '$2 ~ /^[TDBRC]$/ {print $3, f, d}' >>"$tmp/def"
  nm -u "$obj" | awk -v f="$rel" -v d="$dir" '{print $NF, f, d}' >>"$tmp/und"
  echo "$dir $(allowed "$dir")" >>"$tmp/allow"
done

awk '
FILENAME == ARGV[1] { owner[$1] = $2; folder[$2] = $3; next }
FILENAME == ARGV[2] { ok[$1] = " " $0 " "; next }
FILENAME == ARGV[3] { if ($0 !~ /^#/ && NF) known[$0] = 1; next }
{
  to = owner[$1]
  if (to == "" || to == $2) next
  edge = $2 SUBSEP to
  if (!(edge in seen)) {
    seen[edge] = $1
    succ[$2] = succ[$2] " " to
    nodes[$2] = 1; nodes[to] = 1
  }
  fd = folder[to]
  if (fd != $3 && index(ok[$3], " " fd " ") == 0) {
    printf "layers: %s calls %s in %s (%s): against the folder direction\n", $2, $1, to, fd
    bad = 1
  }
}
# Tarjan: every strongly connected component of more than one file is a
# cycle; it is named by its files in sorted order.
function visit(n,   list, k, i, m, members, cnt, x, y, t, name) {
  index_of[n] = low[n] = ++counter; stack[++depth] = n; on[n] = 1
  k = split(succ[n], list, " ")
  for (i = 1; i <= k; i++) {
    m = list[i]
    if (!(m in index_of)) {
      visit(m)
      if (low[m] < low[n]) low[n] = low[m]
    } else if (on[m] && index_of[m] < low[n]) {
      low[n] = index_of[m]
    }
  }
  if (low[n] != index_of[n]) return
  cnt = 0
  do { x = stack[depth--]; on[x] = 0; members[++cnt] = x } while (x != n)
  if (cnt < 2) return
  for (x = 2; x <= cnt; x++)
    for (y = x; y > 1 && members[y - 1] > members[y]; y--) {
      t = members[y]; members[y] = members[y - 1]; members[y - 1] = t
    }
  name = members[1]
  for (x = 2; x <= cnt; x++) name = name " " members[x]
  if (name in known) {
    printf "layers: known cycle (to remove): %s\n", name
  } else {
    printf "layers: files calling each other around a loop: %s\n", name
    bad = 1
  }
}
END {
  for (n in nodes) if (!(n in index_of)) visit(n)
  e = 0; for (x in seen) e++
  if (bad) exit 1
  printf "layers: %d files, %d calls between them, no cycle, folder direction kept\n", length(nodes), e
}
' "$tmp/def" "$tmp/allow" tests/tools/layers-known.txt "$tmp/und"
