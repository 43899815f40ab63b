/* Private to the dump source (plugin/sources/dump): one parser per text
 * format, called by kp_dump_parse_buffer after kp_dump_detect (and by the
 * unit tests and fuzzers). */
#ifndef KP_DUMP_PARSERS_H
#define KP_DUMP_PARSERS_H

#include "kp/dump.h"

#include <stddef.h>

/* Per-format parsers, used by kp_dump_parse_buffer and by tests. Each gets
 * the whole buffer; same contract as kp_dump_parse_buffer. */
int kp_parse_ipt_list(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err);
int kp_parse_ipt_save(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                      struct kp_dump_error *err);
int kp_parse_ipt_rules(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                       struct kp_dump_error *err);
int kp_parse_nft(struct kp_snapshot *snap, const char *source, const char *buf, size_t len,
                 struct kp_dump_error *err);

#endif
