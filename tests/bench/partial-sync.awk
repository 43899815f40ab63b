# What a kube-proxy partial sync writes with iptables-restore --noflush:
# nat KUBE-SERVICES and KUBE-NODEPORTS rewritten whole and 10 services'
# KUBE-SVC/KUBE-SEP chains rewritten (the same rules again), from a ruleset
# made by tests/fixtures/make-ruleset.sh. Read the file twice:
#   awk -f partial-sync.awk RULESET RULESET > PARTIAL
FNR == NR {
  if ($0 ~ /^\*nat/) nat = 1; else if ($0 ~ /^\*/) nat = 0
  if (nat && $0 ~ /^:KUBE-SVC-/ && n < 10) { svc[substr($1, 2)] = 1; n++ }
  if (nat && $1 == "-A" && ($2 in svc))
    for (i = 3; i < NF; i++) if ($i == "-j" && $(i + 1) ~ /^KUBE-SEP-/) sep[$(i + 1)] = 1
  next
}
FNR == 1 {
  print "*nat"; print ":KUBE-SERVICES - [0:0]"; print ":KUBE-NODEPORTS - [0:0]"
  for (c in svc) print ":" c " - [0:0]"
  for (c in sep) print ":" c " - [0:0]"
}
{ if ($0 ~ /^\*nat/) nat = 1; else if ($0 ~ /^\*/) nat = 0 }
nat && $1 == "-A" && ($2 == "KUBE-SERVICES" || $2 == "KUBE-NODEPORTS" || ($2 in svc) || ($2 in sep))
END { print "COMMIT" }
