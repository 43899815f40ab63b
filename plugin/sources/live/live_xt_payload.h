/* Private to the x_tables decoders (live_xt_match.c, live_xt_target.c): one
 * match or target payload, size-checked before it is copied out. */
#ifndef KP_LIVE_XT_PAYLOAD_H
#define KP_LIVE_XT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

struct kp_xt_payload {
  const unsigned char *data;
  size_t len;
  uint8_t revision;
};

/* The payload holds at least a whole `type` (copy it out before reading:
 * libiptc's copies carry no alignment promise). */
#define KP_XT_FITS(p, type) ((p)->len >= sizeof(type))

#endif
