/* The columns of an `iptables -L` rule line whose listing lost its
 * column header line (`iptables -t nat -L -n -v | grep -i kube` keeps the
 * Chain lines and rules that match, never the header): told from where
 * the opt column ("--", "-f", "!f") is and which columns before it are
 * counts. */
#include "dump_ipt_internal.h"

#include <string.h>

struct word {
  const char *p;
  size_t n;
};

/* "1234", "535K", "113G": a -L counter. */
static bool is_count(struct word w) {
  size_t i = 0;
  while (i < w.n && w.p[i] >= '0' && w.p[i] <= '9')
    i++;
  return i > 0 && (i == w.n || (i + 1 == w.n && memchr("KMGT", w.p[i], 4) != NULL));
}

static bool is_opt(struct word w) {
  return w.n == 2 && (w.p[0] == '-' || w.p[0] == '!') && (w.p[1] == '-' || w.p[1] == 'f');
}

bool kp_ipt_list_columns(const char *line, size_t n, bool *num, bool *counters) {
  struct word w[6];
  size_t count = 0, i = 0, opt = 6;
  while (count < 6 && opt == 6) {
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
      i++;
    if (i >= n)
      break;
    w[count].p = line + i;
    while (i < n && line[i] != ' ' && line[i] != '\t')
      i++;
    w[count].n = (size_t)(line + i - w[count].p);
    if (is_opt(w[count]))
      opt = count;
    count++;
  }
  /* before opt: [num] [pkts bytes] [target] prot (the target may be empty) */
  switch (opt) {
  case 1: /* prot opt */
  case 2: /* target prot opt | num prot opt */
    *counters = false;
    *num = opt == 2 && is_count(w[0]) && w[0].p[w[0].n - 1] <= '9';
    return true;
  case 3: /* pkts bytes prot opt | num target prot opt */
    *counters = is_count(w[0]) && is_count(w[1]);
    *num = !*counters && is_count(w[0]);
    return *counters || *num;
  case 4: /* pkts bytes target prot opt | num pkts bytes prot opt */
    *counters = is_count(w[0]) && is_count(w[1]);
    *num = *counters && is_count(w[2]);
    return *counters;
  case 5: /* num pkts bytes target prot opt */
    *counters = *num = is_count(w[0]) && is_count(w[1]) && is_count(w[2]);
    return *counters;
  default:
    return false;
  }
}
