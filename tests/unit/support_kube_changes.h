/* Random kube-proxy-style ruleset changes for the live nf_tables tests
 * (linked into every test binary). A model of up to TKC_SERVICES services
 * (cluster IP 172.30.1.<n+1>:80/tcp, endpoints 10.181.x.y:8080, some with a
 * NodePort 31000+n) changes the way kube-proxy's syncs change it (services
 * and endpoints added and removed, NodePorts toggled, stale chains deleted,
 * now and then a full resync), and each change is written as the input of
 * one transaction:
 *  - iptables mode: iptables-nft-restore --noflush input as kube-proxy's
 *    partial syncs write it (filter and nat KUBE-SERVICES and
 *    KUBE-NODEPORTS rewritten whole, the changed services' KUBE-SVC-* /
 *    KUBE-SEP-* chains declared and rewritten, stale chains flushed and
 *    deleted with -X); sometimes another agent's rule inserted at a
 *    position in filter INPUT, or deleted;
 *  - nftables mode: `nft -f` input against table ip kube-proxy (as
 *    tests/fixtures/make-nft-ruleset.sh makes it) as kube-proxy's nftables
 *    proxier writes it: service-/endpoint-/external- chains added, flushed,
 *    rewritten (numgen vmaps) and deleted, elements of service-ips,
 *    service-nodeports, no-endpoint-services and cluster-ips added and
 *    deleted; a full resync flushes the maps and writes everything again.
 * Deterministic for a seed (rand_r). */
#ifndef TKC_KUBE_CHANGES_H
#define TKC_KUBE_CHANGES_H

#include <stdbool.h>
#include <stdio.h>

#define TKC_SERVICES 16

struct tkc_model;
struct tkc_model *tkc_new(bool nft_mode, unsigned seed);
void tkc_free(struct tkc_model *m);
/* Writes one change into out; returns what it was ("partial sync", ...). */
const char *tkc_change(struct tkc_model *m, FILE *out);
/* Writes a change bringing up to `services` services up (the first load). */
void tkc_start(struct tkc_model *m, int services, FILE *out);

#endif
