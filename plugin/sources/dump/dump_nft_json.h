/* Private to the `nft -j` parser (dump_nft_json.c, dump_nft_json_rule.c):
 * JSON through jansson, the same model as the text parser. */
#ifndef KP_DUMP_NFT_JSON_H
#define KP_DUMP_NFT_JSON_H

#include "dump_nft_internal.h"

#include <jansson.h>

/* Decodes a rule's "expr" array into rule (as kp_nft_parse_rule does for
 * the text statements). Unknown statements are skipped. 0, or -1 on OOM. */
int kp_nft_json_rule(struct kp_snapshot *snap, struct kp_rule *rule, const json_t *expr);

/* A value as nft's text prints it, into out: "10.0.0.1", "80", "tcp",
 * "10.0.0.0/8" (prefix), "1-5" (range), "a . b . c" (concat). False for a
 * value that has no such form (a set reference is "@name"). */
bool kp_nft_json_text(const json_t *value, char *out, size_t cap);

#endif
