/* xtables-compat expressions (`match name X rev N`, `target name X rev N`):
 * iptables-nft keeps the x_tables payload as is, so the bytes are wrapped in
 * an xt_entry_match / xt_entry_target header and handed to the libiptc
 * source's decoders (live_iptc_xt.c): both backends decode the same way. */
#include "live_nft_internal.h"

#include <linux/netfilter/x_tables.h>
#include <stdlib.h>
#include <string.h>

/* Payloads kube-proxy uses are small; a larger one is decoded from the heap. */
#define XT_STACK 512

static unsigned char *wrap(unsigned char *stack, size_t head, const char *name, uint32_t rev,
                           const void *info, size_t len, size_t *size) {
  *size = XT_ALIGN(head + len);
  unsigned char *buf = *size <= XT_STACK ? stack : calloc(1, *size);
  if (buf == NULL)
    return NULL;
  memset(buf, 0, *size);
  /* xt_entry_match and xt_entry_target share the user-side layout:
   * u16 size, char name[29], u8 revision. */
  uint16_t size16 = (uint16_t)*size;
  memcpy(buf, &size16, sizeof(size16));
  strncpy((char *)buf + sizeof(size16), name, XT_EXTENSION_MAXNAMELEN - 1);
  buf[sizeof(size16) + XT_EXTENSION_MAXNAMELEN] = (unsigned char)rev;
  if (len > 0)
    memcpy(buf + head, info, len);
  return buf;
}

int kp_nft_xt_match(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                    uint32_t rev, const void *info, size_t len, struct kp_rule_text *text) {
  unsigned char stack[XT_STACK];
  size_t size;
  unsigned char *buf = wrap(stack, sizeof(struct xt_entry_match), name, rev, info, len, &size);
  if (buf == NULL)
    return -1;
  int rc = kp_xt_decode_matches(&ctx->xt, rule, buf, size, text);
  if (buf != stack)
    free(buf);
  return rc;
}

int kp_nft_xt_target(struct kp_nft_table_ctx *ctx, struct kp_rule *rule, const char *name,
                     uint32_t rev, const void *info, size_t len, struct kp_rule_text *text) {
  unsigned char stack[XT_STACK];
  size_t size;
  unsigned char *buf = wrap(stack, sizeof(struct xt_entry_target), name, rev, info, len, &size);
  if (buf == NULL)
    return -1;
  int rc = kp_xt_decode_target(&ctx->xt, rule, buf, size, "", false, text);
  if (buf != stack)
    free(buf);
  return rc;
}
