/* Compares two snapshots of the same ruleset read two ways (linked into
 * every test binary): tables in order, chains in order (name, built-in,
 * declared, policy, hook, referrers after finalize), rules in order (every
 * match and target field the checks use, the verdict-map chains, the text
 * when both kept it; counters only when asked), sets and maps (type and
 * elements, compared as sets: the kernel lists a hash set in hash order). */
#ifndef TSE_SNAPSHOT_EQUAL_H
#define TSE_SNAPSHOT_EQUAL_H

#include "kp/model.h"

#include <stdbool.h>
#include <stddef.h>

/* true, or false with the first difference written into out. */
bool tse_snapshots_equal(const struct kp_snapshot *a, const struct kp_snapshot *b, bool counters,
                         char *out, size_t len);
/* The first field in which two rules differ, or NULL. */
const char *tse_rule_diff(const struct kp_rule *a, const struct kp_rule *b, bool counters);

#endif
