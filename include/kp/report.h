/* Report writers for the CLI: text lines, JSON, exit status. */
#ifndef KP_REPORT_H
#define KP_REPORT_H

#include "kp/checks.h"

#include <stdio.h>

/* "[OK] message" per finding, then a summary line. */
int kp_report_write_text(FILE *out, const struct kp_report *report);
/* {"mode":..,"backend":..,"inventory":{..},"results":[..]} */
int kp_report_write_json(FILE *out, const struct kp_report *report);
/* 0 all OK/INFO, 1 a warning, 2 a failure. */
int kp_report_exit_code(const struct kp_report *report);

/* Text made safe for one log/notification line: control characters and
 * escape sequences become \xNN, quotes and backslashes stay. */
void kp_sanitize_line(const char *in, char *out, size_t out_len);
/* JSON string body escaping (without the surrounding quotes). */
void kp_json_escape(FILE *out, const char *s);

#endif
