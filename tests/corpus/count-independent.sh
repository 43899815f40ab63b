#!/usr/bin/env bash
# Counts chains and rules of one dump WITHOUT the project's parser, as a
# cross-check for it (tests/unit/test_corpus.c). Prints
#   format <list|save|rules|nft|nft-script|unknown>
#   chains N
#   rules N
# Definitions (the same as kp_snapshot_chain_count / kp_snapshot_rule_count):
# every declared chain counts, built-in chains and nft base chains included;
# a chain name seen twice in one table counts once; rules are counted in
# every chain of every table.
#   iptables -L:      "Chain X (" headers; rows between the column header
#                     line and the next blank line.
#   iptables-save:    ":X" declarations; "-A" lines (with or without [p:b]);
#                     restore input: "-N X" declares, "-X X" deletes X and its rules.
#   iptables -S:      "-P" and "-N" lines; "-A" lines.
#   nft list:         "chain X {" blocks (keyed by the enclosing table);
#                     lines inside a chain other than its "type ... hook"
#                     line and a chain "comment" line.
#   nft -f script:    "add chain" lines; "add rule" / "insert rule" lines.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: count-independent.sh FILE" >&2; exit 2; }
[ -r "$1" ] || { echo "count-independent.sh: cannot read $1" >&2; exit 2; }

LC_ALL=C awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
# nft -a appends " # handle N" to tables, chains and rules.
function nohandle(s) { sub(/[ \t]+# handle [0-9]+$/, "", s); return s }
function addchain(key) { if (!(key in seen)) { seen[key] = 1; chains++ } }
{ lines[NR] = $0 }
END {
  # Detect the format from the content.
  fmt = "unknown"
  for (i = 1; i <= NR; i++) {
    l = lines[i]
    if (l ~ /^Chain [^ ]+ \(/) { fmt = "list"; break }
    if (nohandle(trim(l)) ~ /^(table|chain) [^ ]+( [^ ]+)? *\{$/) { fmt = "nft"; break }
    if (l ~ /^(add|insert|create) (table|chain|rule) /) { fmt = "nft-script"; break }
    if (l ~ /^\*[a-z]+[ \t\r]*$/ || l ~ /^:[^ ]+ [^ ]+ \[/) { fmt = "save"; break }
    if (l ~ /^-[PN] /) { fmt = "rules"; break }
  }
  chains = 0; rules = 0
  if (fmt == "list") {
    inrows = 0
    for (i = 1; i <= NR; i++) {
      l = lines[i]; t = trim(l)
      if (l ~ /^Chain [^ ]+ \(/) { split(l, f, " "); addchain(f[2]); inrows = 0; hdr = 1; continue }
      if (t == "") { inrows = 0; hdr = 0; continue }
      if (l ~ /^#/) continue
      if (hdr) { hdr = 0; inrows = 1; continue }   # the column header line
      if (inrows) rules++
    }
  } else if (fmt == "save") {
    table = ""
    for (i = 1; i <= NR; i++) {
      l = lines[i]
      if (l ~ /^\*/) { table = trim(substr(l, 2)); continue }
      if (l ~ /^:/) { split(substr(l, 2), f, " "); addchain(table SUBSEP f[1]); continue }
      if (l ~ /^-N /) { split(l, f, " "); addchain(table SUBSEP f[2]); continue }
      if (l ~ /^-X /) {   # restore input deleting a chain (and its rules)
        split(l, f, " "); key = table SUBSEP f[2]
        if (key in seen) { delete seen[key]; chains--; rules -= nrules[key]; nrules[key] = 0 }
        continue
      }
      if (l ~ /^(\[[0-9]+:[0-9]+\] )?-A /) {
        sub(/^\[[0-9]+:[0-9]+\] /, "", l); split(l, f, " ")
        nrules[table SUBSEP f[2]]++; rules++
      }
    }
  } else if (fmt == "rules") {
    for (i = 1; i <= NR; i++) {
      l = lines[i]
      if (l ~ /^-[PN] /) { split(l, f, " "); addchain(f[2]); continue }
      if (l ~ /^-A /) rules++
    }
  } else if (fmt == "nft") {
    table = ""; inchain = 0
    for (i = 1; i <= NR; i++) {
      t = nohandle(trim(lines[i]))
      if (t ~ /^table [^ ]+( [^ ]+)? *\{$/) { table = t; continue }
      if (t ~ /^chain [^ ]+ *\{$/) { split(t, f, " "); addchain(table SUBSEP f[2]); inchain = 1; continue }
      if (!inchain) continue
      if (t == "}") { inchain = 0; continue }
      if (t == "" || t ~ /^#/) continue
      if (t ~ /^type [a-z]+ hook /) continue
      if (t ~ /^comment "/) continue
      rules++
    }
  } else if (fmt == "nft-script") {
    for (i = 1; i <= NR; i++) {
      l = lines[i]
      if (l ~ /^add chain /) { split(l, f, " "); addchain(f[3] SUBSEP f[4] SUBSEP f[5]); continue }
      if (l ~ /^(add|insert) rule /) rules++
    }
  }
  print "format " fmt
  print "chains " chains
  print "rules " rules
}' "$1"
