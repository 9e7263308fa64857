/* A stream-table join: orders enriched with their customer's name.
 *
 *   orders_join [--orders orders] [--customers customers] [--output enriched-orders]
 *               [--left] [--config FILE] [-X key=value]...
 *
 * The table topic (customers) maps a customer id to the customer's name, the
 * stream topic (orders) has the customer id as key and the order as value,
 * both text. Each order is written to the output, keyed by the customer id,
 * as "<order> by <customer name>". An inner join (the default) drops orders
 * of customers the table does not know yet; --left writes them as "<order>
 * by unknown". The two input topics must have the same number of partitions
 * (co-partitioned), which the app checks at start.
 *
 * Settings are Kafka Streams' (docs/streams.md); application.id defaults to
 * "orders-join" and bootstrap.servers to localhost:9092. Stop it with Ctrl-C
 * or SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

static void enrich(eddy_bytes_t key, eddy_bytes_t order, eddy_bytes_t customer, eddy_buf_t *out,
                   void *opaque)
{
    (void)key;
    (void)opaque;
    static const char by[] = " by ", unknown[] = "unknown";
    eddy_buf_set(out, order.len > 0 ? order.data : "", order.len > 0 ? (size_t)order.len : 0);
    eddy_buf_append(out, by, sizeof by - 1);
    if (eddy_bytes_is_null(customer))
        eddy_buf_append(out, unknown, sizeof unknown - 1);
    else
        eddy_buf_append(out, customer.len ? customer.data : "", (size_t)customer.len);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--orders TOPIC] [--customers TOPIC] [--output TOPIC] [--left]\n"
            "       [--config FILE] [-X key=value]...\n"
            "Joins the orders (default topic: orders) with the customers table (default: "
            "customers)\nby customer id into TOPIC (default: enriched-orders); --left keeps "
            "orders of unknown customers.\n",
            argv0);
    return 2;
}

/* Usage errors free the config first (argv0 NULL: the error is printed). */
static int usage_free(eddy_config_t *cfg, const char *argv0)
{
    eddy_config_destroy(cfg);
    return argv0 ? usage(argv0) : 2;
}

int main(int argc, char **argv)
{
    const char *orders_topic = "orders", *customers_topic = "customers",
               *output = "enriched-orders";
    int left = 0;
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "orders-join", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "orders_join: %s\n", err);
            return usage_free(cfg, NULL);
        }
        if (used)
            continue;
        if ((!strcmp(a, "--orders") || !strcmp(a, "--input") || !strcmp(a, "--customers") ||
             !strcmp(a, "--output")) &&
            i + 1 >= argc)
            return usage_free(cfg, argv[0]);
        if (!strcmp(a, "--orders") || !strcmp(a, "--input")) {
            orders_topic = argv[++i];
        } else if (!strcmp(a, "--customers")) {
            customers_topic = argv[++i];
        } else if (!strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--left")) {
            left = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(argv[0]);
            return eddy_config_destroy(cfg), 0;
        } else {
            return usage_free(cfg, argv[0]);
        }
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_ktable_t *customers = eddy_builder_table(b, customers_topic, eddy_serde_string(),
                                                  eddy_serde_string(), "customers");
    eddy_kstream_t *orders = eddy_builder_stream(b, orders_topic, eddy_serde_string(),
                                                 eddy_serde_string());
    eddy_kstream_t *enriched = left ? eddy_stream_left_join_table(orders, customers, enrich, NULL)
                                    : eddy_stream_join_table(orders, customers, enrich, NULL);
    eddy_stream_to(enriched, output, eddy_serde_string(), eddy_serde_string());

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "orders_join: %s\n", err);
        return 1;
    }
    return eddy_app_run(app);
}
