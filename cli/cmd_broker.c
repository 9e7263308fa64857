/* eddy broker: run a broker in the foreground until SIGINT/SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/config.h"
#include "include/eddy_broker.h"

static void broker_usage(FILE *out)
{
    fprintf(out, "usage: eddy broker [options]\n"
                 "\n"
                 "Runs a Kafka-protocol broker in the foreground until SIGINT or SIGTERM.\n"
                 "\n"
                 "options:\n"
                 "  --data-dir DIR         data directory (log.dirs; default ./eddy-data)\n"
                 "  --listen HOST:PORT     address to listen on (default 127.0.0.1:9092)\n"
                 "  --advertise HOST:PORT  address given to clients (default: the listen address)\n"
                 "  --node-id N            broker.id (default 0)\n"
                 "  --config FILE          Kafka-style server.properties\n"
                 "  --set KEY=VALUE        one setting, overriding the file (repeatable)\n"
                 "\n"
                 "Settings use Kafka's names: num.partitions, log.segment.bytes,\n"
                 "log.retention.hours, auto.create.topics.enable, message.max.bytes, ...\n");
}

int cmd_broker(int argc, char **argv)
{
    eddy_props_t props;
    eddy_props_init(&props);
    char err[1024];
    const char *config = NULL;
    int rc = CLI_USAGE;
    /* The file first, then --set and the flags on top, whatever their order. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
    if (config && eddy_props_load(&props, config, err, sizeof err) < 0) {
        fprintf(stderr, "eddy broker: %s\n", err);
        eddy_props_free(&props);
        return CLI_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char set[4200];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            broker_usage(stdout);
            eddy_props_free(&props);
            return CLI_OK;
        }
        if (!v) {
            fprintf(stderr, "eddy broker: %s needs a value (see --help)\n", a);
            goto out;
        }
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        } else if (!strcmp(a, "--data-dir")) {
            snprintf(set, sizeof set, "log.dirs=%s", v);
        } else if (!strcmp(a, "--listen")) {
            snprintf(set, sizeof set, "listeners=PLAINTEXT://%s", v);
        } else if (!strcmp(a, "--advertise")) {
            snprintf(set, sizeof set, "advertised.listeners=PLAINTEXT://%s", v);
        } else if (!strcmp(a, "--node-id")) {
            snprintf(set, sizeof set, "broker.id=%s", v);
        } else if (!strcmp(a, "--set")) {
            snprintf(set, sizeof set, "%s", v);
        } else {
            fprintf(stderr, "eddy broker: unknown option '%s' (see --help)\n", a);
            goto out;
        }
        if (eddy_props_set(&props, a, set, err, sizeof err) < 0) {
            fprintf(stderr, "eddy broker: %s\n", err);
            goto out;
        }
        i++;
    }
    eddy_broker_t *b = eddy_broker_new(&props, err, sizeof err);
    if (!b) {
        fprintf(stderr, "eddy broker: %s\n", err);
        rc = CLI_FAIL;
        goto out;
    }
    rc = eddy_broker_run(b, 1) == 0 ? CLI_OK : CLI_FAIL;
    eddy_broker_destroy(b);
out:
    eddy_props_free(&props);
    return rc;
}
