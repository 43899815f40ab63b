/* kube-proxy's own view of itself, for the `sync` check: its /metrics,
 * /livez and /proxyMode answers. The live source asks them over HTTP from
 * inside the node's namespace. */
#ifndef KP_LIVE_PROXY_FETCH_H
#define KP_LIVE_PROXY_FETCH_H

#include "kp/model.h"

/* Asks kube-proxy's own endpoints (HTTP, 1 s timeout each) and fills
 * snap->proxy; an endpoint that does not answer is noted in
 * snap->proxy.unreachable, not an error. */
void kp_proxy_status_fetch(struct kp_snapshot *snap, const char *metrics, const char *healthz);

#endif
