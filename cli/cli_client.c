#include "cli_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

const char *cli_bootstrap;

int cli_conn_open(cli_conn_t *cc, const char *const *settings, int n)
{
    memset(cc, 0, sizeof *cc);
    /* A command's output is its answer: the client's routine INFO lines
     * (joins, rebalances) stay out unless EDDY_LOG_LEVEL asks for them. */
    const char *lvl = getenv("EDDY_LOG_LEVEL");
    eddy_log_level = lvl && eddy_log_level_parse(lvl) >= 0 ? eddy_log_level_parse(lvl) : EDDY_LOG_LVL_WARN;
    const char *bootstrap = cli_bootstrap ? cli_bootstrap : getenv("EDDY_BOOTSTRAP_SERVER");
    if (!bootstrap || !*bootstrap)
        bootstrap = "localhost:9092";
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[1024], set[1200];
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    eddy_props_set(&ps, "-b", set, err, sizeof err);
    eddy_props_set(&ps, "eddy", "client.id=eddy-cli", err, sizeof err);
    for (int i = 0; i < n; i++)
        eddy_props_set(&ps, "eddy", settings[i], err, sizeof err);
    int rc = kc_config_load(&cc->cc_cfg, &ps, err, sizeof err);
    eddy_props_free(&ps);
    if (rc < 0) {
        fprintf(stderr, "eddy: %s\n", err);
        kc_config_free(&cc->cc_cfg);
        return -1;
    }
    uv_loop_init(&cc->cc_loop);
    cc->cc_client = kc_client_new(&cc->cc_loop, &cc->cc_cfg, err, sizeof err);
    if (!cc->cc_client) {
        fprintf(stderr, "eddy: %s\n", err);
        uv_loop_close(&cc->cc_loop);
        kc_config_free(&cc->cc_cfg);
        return -1;
    }
    return 0;
}

void cli_conn_close(cli_conn_t *cc)
{
    kc_client_destroy(cc->cc_client);
    uv_run(&cc->cc_loop, UV_RUN_DEFAULT);
    uv_loop_close(&cc->cc_loop);
    kc_config_free(&cc->cc_cfg);
}
