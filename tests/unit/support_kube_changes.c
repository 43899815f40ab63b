/* Random kube-proxy-style changes (support_kube_changes.h). */
#include "support_kube_changes.h"

#include <stdlib.h>
#include <string.h>

struct tkc_svc {
  bool on, nodeport;
  int n;     /* endpoints */
  int ep[3]; /* endpoint ids */
};

struct tkc_model {
  bool nft;
  unsigned seed;
  struct tkc_svc svc[TKC_SERVICES];
  int next_ep;
  int extra[4], n_extra, next_extra; /* iptables mode: another agent's INPUT rules */
};

struct tkc_model *tkc_new(bool nft_mode, unsigned seed) {
  struct tkc_model *m = calloc(1, sizeof(*m));
  if (m == NULL)
    abort();
  m->nft = nft_mode;
  m->seed = seed;
  return m;
}

void tkc_free(struct tkc_model *m) {
  free(m);
}

static int rnd(struct tkc_model *m, int n) {
  return rand_r(&m->seed) % n;
}

static void ep_ip(int e, char *buf, size_t len) {
  snprintf(buf, len, "10.181.%d.%d", e / 200, e % 200 + 1);
}

/* One random change of service s. */
static void mutate(struct tkc_model *m, int s) {
  struct tkc_svc *v = &m->svc[s];
  if (!v->on) {
    v->on = true;
    v->n = rnd(m, 4);
    for (int i = 0; i < v->n; i++)
      v->ep[i] = m->next_ep++;
    v->nodeport = rnd(m, 3) == 0;
    return;
  }
  switch (rnd(m, 6)) {
  case 0:
    v->on = false; /* the service goes */
    v->n = 0;
    v->nodeport = false;
    break;
  case 1:
    if (v->n < 3)
      v->ep[v->n++] = m->next_ep++;
    break;
  case 2:
    if (v->n > 0) {
      int i = rnd(m, v->n);
      v->ep[i] = v->ep[--v->n];
    }
    break;
  case 3:
    for (int i = 0; i < v->n; i++)
      v->ep[i] = m->next_ep++;
    break;
  case 4:
    v->nodeport = !v->nodeport;
    break;
  default:
    break; /* rewritten as it was */
  }
}

static bool has_ep(const struct tkc_svc *v, int e) {
  for (int i = 0; i < v->n; i++)
    if (v->ep[i] == e)
      return true;
  return false;
}

/* ---- iptables mode ------------------------------------------------------------- */

static void ipt_svc_rules(FILE *o, int s, const struct tkc_svc *v) {
  char ip[32];
  fprintf(o,
          "-A KUBE-SVC-F%015d ! -s 10.180.0.0/16 -d 172.30.1.%d/32 -p tcp -m comment --comment "
          "\"ns/svc%d:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n",
          s, s + 1, s);
  for (int i = 0; i < v->n; i++) {
    ep_ip(v->ep[i], ip, sizeof(ip));
    fprintf(o, "-A KUBE-SVC-F%015d -m comment --comment \"ns/svc%d:http -> %s:8080\"", s, s, ip);
    if (i < v->n - 1)
      fprintf(o, " -m statistic --mode random --probability %.11f", 1.0 / (v->n - i));
    fprintf(o, " -j KUBE-SEP-F%015d\n", v->ep[i]);
    fprintf(o,
            "-A KUBE-SEP-F%015d -s %s/32 -m comment --comment \"ns/svc%d:http\" -j KUBE-MARK-MASQ\n"
            "-A KUBE-SEP-F%015d -p tcp -m comment --comment \"ns/svc%d:http\" -m tcp -j DNAT "
            "--to-destination %s:8080\n",
            v->ep[i], ip, s, v->ep[i], s, ip);
  }
}

/* changed[s]: the service's chains are written; old: the state before. */
static void ipt_sync(struct tkc_model *m, const bool *changed, const struct tkc_svc *old, FILE *o) {
  fprintf(o, "*filter\n:KUBE-SERVICES - [0:0]\n");
  for (int s = 0; s < TKC_SERVICES; s++)
    if (m->svc[s].on && m->svc[s].n == 0)
      fprintf(o,
              "-A KUBE-SERVICES -d 172.30.1.%d/32 -p tcp -m comment --comment \"ns/svc%d:http has "
              "no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n",
              s + 1, s);
  fprintf(o, "COMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n");
  for (int s = 0; s < TKC_SERVICES; s++) {
    const struct tkc_svc *v = &m->svc[s];
    bool chain = v->on && v->n > 0, had = old[s].on && old[s].n > 0;
    if (changed[s] && (chain || had))
      fprintf(o, ":KUBE-SVC-F%015d - [0:0]\n", s);
    for (int i = 0; changed[s] && i < v->n; i++)
      fprintf(o, ":KUBE-SEP-F%015d - [0:0]\n", v->ep[i]);
    for (int i = 0; changed[s] && i < old[s].n; i++)
      if (!has_ep(v, old[s].ep[i]))
        fprintf(o, ":KUBE-SEP-F%015d - [0:0]\n", old[s].ep[i]);
  }
  for (int s = 0; s < TKC_SERVICES; s++)
    if (m->svc[s].on && m->svc[s].n > 0)
      fprintf(o,
              "-A KUBE-SERVICES -d 172.30.1.%d/32 -p tcp -m comment --comment \"ns/svc%d:http "
              "cluster IP\" -m tcp --dport 80 -j KUBE-SVC-F%015d\n",
              s + 1, s, s);
  fprintf(o, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this "
             "must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j "
             "KUBE-NODEPORTS\n");
  for (int s = 0; s < TKC_SERVICES; s++)
    if (m->svc[s].on && m->svc[s].n > 0 && m->svc[s].nodeport)
      fprintf(o,
              "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns/svc%d:http\" -m tcp --dport %d "
              "-j KUBE-SVC-F%015d\n",
              s, 31000 + s, s);
  for (int s = 0; s < TKC_SERVICES; s++)
    if (changed[s] && m->svc[s].on && m->svc[s].n > 0)
      ipt_svc_rules(o, s, &m->svc[s]);
  for (int s = 0; s < TKC_SERVICES; s++) {
    const struct tkc_svc *v = &m->svc[s];
    if (changed[s] && old[s].on && old[s].n > 0 && !(v->on && v->n > 0))
      fprintf(o, "-X KUBE-SVC-F%015d\n", s);
    for (int i = 0; changed[s] && i < old[s].n; i++)
      if (!has_ep(v, old[s].ep[i]))
        fprintf(o, "-X KUBE-SEP-F%015d\n", old[s].ep[i]);
  }
  fprintf(o, "COMMIT\n");
}

/* Another agent's rule in filter INPUT, inserted at a position or deleted. */
static const char *ipt_agent(struct tkc_model *m, FILE *o) {
  fprintf(o, "*filter\n");
  const char *what;
  if (m->n_extra == 4 || (m->n_extra > 0 && rnd(m, 2) == 0)) {
    int i = rnd(m, m->n_extra);
    fprintf(o, "-D INPUT -s 10.9.0.%d/32 -j DROP\n", m->extra[i]);
    m->extra[i] = m->extra[--m->n_extra];
    what = "agent rule deleted";
  } else {
    int id = m->next_extra++ % 250 + 1;
    fprintf(o, "-I INPUT %d -s 10.9.0.%d/32 -j DROP\n", 1 + rnd(m, m->n_extra + 1), id);
    m->extra[m->n_extra++] = id;
    what = "agent rule inserted at a position";
  }
  fprintf(o, "COMMIT\n");
  return what;
}

/* ---- nftables mode --------------------------------------------------------------- */

#define T "ip kube-proxy"

/* Endpoint chains first: the service chain's rules refer to them. */
static void nft_chain_rules(FILE *o, int s, const struct tkc_svc *v) {
  char ip[32];
  for (int i = 0; i < v->n; i++) {
    ep_ip(v->ep[i], ip, sizeof(ip));
    fprintf(o,
            "add chain " T " endpoint-E%d\nflush chain " T " endpoint-E%d\n"
            "add rule " T " endpoint-E%d ip saddr %s jump mark-for-masquerade\n"
            "add rule " T " endpoint-E%d meta l4proto tcp dnat to %s:8080\n",
            v->ep[i], v->ep[i], v->ep[i], ip, v->ep[i], ip);
  }
  fprintf(o, "add chain " T " service-S%d\nflush chain " T " service-S%d\n", s, s);
  fprintf(o,
          "add rule " T " service-S%d ip daddr 172.30.1.%d ip saddr != 10.180.0.0/16 jump "
          "mark-for-masquerade\n",
          s, s + 1);
  if (v->n == 1) {
    fprintf(o, "add rule " T " service-S%d goto endpoint-E%d\n", s, v->ep[0]);
  } else {
    fprintf(o, "add rule " T " service-S%d numgen random mod %d vmap { ", s, v->n);
    for (int i = 0; i < v->n; i++)
      fprintf(o, "%s%d : goto endpoint-E%d", i ? " , " : "", i, v->ep[i]);
    fprintf(o, " }\n");
  }
  if (v->nodeport)
    fprintf(o,
            "add chain " T " external-S%d\nflush chain " T " external-S%d\n"
            "add rule " T " external-S%d jump mark-for-masquerade\n"
            "add rule " T " external-S%d goto service-S%d\n",
            s, s, s, s, s);
}

/* The elements of service s in state v, added or deleted. */
static void nft_elems(FILE *o, bool add, int s, const struct tkc_svc *v) {
  const char *verb = add ? "add" : "delete";
  if (v->on && v->n > 0) {
    fprintf(o, "%s element " T " service-ips { 172.30.1.%d . tcp . 80", verb, s + 1);
    if (add)
      fprintf(o, " : goto service-S%d", s);
    fprintf(o, " }\n");
    if (v->nodeport) {
      fprintf(o, "%s element " T " service-nodeports { tcp . %d", verb, 31000 + s);
      if (add)
        fprintf(o, " : goto external-S%d", s);
      fprintf(o, " }\n");
    }
  }
  if (v->on && v->n == 0) {
    fprintf(o, "%s element " T " no-endpoint-services { 172.30.1.%d . tcp . 80", verb, s + 1);
    if (add)
      fprintf(o, " comment \"ns/svc%d:http\" : goto reject-chain", s);
    fprintf(o, " }\n");
  }
  if (v->on)
    fprintf(o, "%s element " T " cluster-ips { 172.30.1.%d }\n", verb, s + 1);
}

static void nft_sync(struct tkc_model *m, const bool *changed, const struct tkc_svc *old, bool full,
                     FILE *o) {
  if (full)
    fprintf(o, "flush map " T " service-ips\nflush map " T " service-nodeports\n"
               "flush map " T " no-endpoint-services\nflush set " T " cluster-ips\n");
  for (int s = 0; s < TKC_SERVICES; s++) {
    const struct tkc_svc *v = &m->svc[s];
    if (changed[s] && !full)
      nft_elems(o, false, s, &old[s]);
    if (changed[s] && v->on && v->n > 0)
      nft_chain_rules(o, s, v);
    if (changed[s] || full)
      nft_elems(o, true, s, v);
  }
  /* Stale chains, once nothing refers to them. */
  for (int s = 0; s < TKC_SERVICES; s++) {
    const struct tkc_svc *v = &m->svc[s];
    bool chain = v->on && v->n > 0, had = old[s].on && old[s].n > 0;
    if (changed[s] && had && old[s].nodeport && !(chain && v->nodeport))
      fprintf(o, "flush chain " T " external-S%d\ndelete chain " T " external-S%d\n", s, s);
    if (changed[s] && had && !chain)
      fprintf(o, "flush chain " T " service-S%d\ndelete chain " T " service-S%d\n", s, s);
    for (int i = 0; changed[s] && i < old[s].n; i++)
      if (!has_ep(v, old[s].ep[i]))
        fprintf(o, "flush chain " T " endpoint-E%d\ndelete chain " T " endpoint-E%d\n",
                old[s].ep[i], old[s].ep[i]);
  }
}

/* ---- changes ------------------------------------------------------------------------ */

static void sync(struct tkc_model *m, const bool *changed, const struct tkc_svc *old, bool full,
                 FILE *o) {
  if (m->nft)
    nft_sync(m, changed, old, full, o);
  else
    ipt_sync(m, changed, old, o);
}

void tkc_start(struct tkc_model *m, int services, FILE *out) {
  struct tkc_svc old[TKC_SERVICES];
  bool changed[TKC_SERVICES] = {false};
  memcpy(old, m->svc, sizeof(old));
  for (int s = 0; s < services && s < TKC_SERVICES; s++) {
    mutate(m, s);
    changed[s] = true;
  }
  sync(m, changed, old, false, out);
}

const char *tkc_change(struct tkc_model *m, FILE *out) {
  struct tkc_svc old[TKC_SERVICES];
  bool changed[TKC_SERVICES] = {false};
  memcpy(old, m->svc, sizeof(old));
  int r = rnd(m, 100);
  if (!m->nft && r < 8)
    return ipt_agent(m, out);
  bool full = r >= 8 && r < 16;
  int n = full ? TKC_SERVICES : 1 + rnd(m, 3);
  for (int i = 0; i < n; i++) {
    int s = full ? i : rnd(m, TKC_SERVICES);
    if (!full || rnd(m, 4) == 0)
      mutate(m, s);
    changed[s] = true; /* a full resync writes every service */
  }
  sync(m, changed, old, full, out);
  return full ? "full resync" : "partial sync";
}
