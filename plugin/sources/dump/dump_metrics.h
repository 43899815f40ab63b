/* kube-proxy's own view of itself, for the `sync` check: its /metrics,
 * /livez and /proxyMode answers. This parser reads them from a saved file
 * (the dump source) and from the live answers (proxy_http.c). */
#ifndef KP_DUMP_METRICS_H
#define KP_DUMP_METRICS_H

#include "kp/dump.h"
#include "kp/model.h"

#include <stddef.h>

/* Parses a /metrics (Prometheus text), /livez or /proxyMode body into
 * snap->proxy. Same contract as kp_dump_parse_buffer; on failure
 * snap->proxy is left exactly as it was (no sample of the body is kept). */
int kp_parse_metrics(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                     struct kp_dump_error *err);

#endif
