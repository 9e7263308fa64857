/* What the client subcommands (topic, group) share: the bootstrap address
 * from -b / EDDY_BOOTSTRAP_SERVER, and a client on a private loop. */
#ifndef EDDY_CLI_CLIENT_H
#define EDDY_CLI_CLIENT_H

#include <uv.h>

#include "client/client.h"

/* -b/--bootstrap-server, taken out of argv by main() wherever it stood. */
extern const char *cli_bootstrap;

typedef struct cli_conn {
    uv_loop_t cc_loop;
    kc_config_t cc_cfg;
    kc_client_t *cc_client;
} cli_conn_t;

/* Opens a client with bootstrap.servers set and the extra "key=value"
 * settings; prints the reason and returns -1 on failure. */
int cli_conn_open(cli_conn_t *cc, const char *const *settings, int n);
void cli_conn_close(cli_conn_t *cc);

#endif
