/* kube-proxy-check --check-config FILE (cli_check_config.c). */
#ifndef KP_CLI_CHECK_CONFIG_H
#define KP_CLI_CHECK_CONFIG_H

/* Checks every <Plugin kube_proxy> block of a collectd config file (or a
 * drop-in) with the plugin's own key table. Prints each error as
 * "FILE:LINE: KEY VALUE: why" on stderr. Returns the exit status: 0 clean,
 * 1 errors, 3 the file cannot be read. */
int kp_cli_check_config(const char *path);

#endif
