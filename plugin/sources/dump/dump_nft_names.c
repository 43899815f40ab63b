/* Names shared by the text and JSON nft parsers: the tables iptables-nft
 * writes and the nft family words. */
#include "dump_nft_internal.h"

#include <string.h>

bool kp_nft_is_iptables_table(const char *name) {
  static const char *const names[] = {"filter", "nat", "mangle", "raw", "security"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

int kp_nft_family(const char *word, size_t n, int *family) {
  static const struct {
    const char *word;
    int family;
  } families[] = {{"ip", KP_FAMILY_IPV4},   {"ip6", KP_FAMILY_IPV6},
                  {"inet", KP_FAMILY_IPV4}, {"arp", -1},
                  {"bridge", -1},           {"netdev", -1}};
  for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++)
    if (strlen(families[k].word) == n && memcmp(word, families[k].word, n) == 0) {
      *family = families[k].family;
      return 0;
    }
  return -1;
}
