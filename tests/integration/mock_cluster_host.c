/* Hosts librdkafka's mock cluster in a process of its own, so that
 * client_mock_cluster.c runs Eddy's client in one process and the mock in
 * another: a crash of either can never be taken for the other's.
 *
 *   mock_cluster_host [BROKERS]        (default 3)
 *
 * Prints "bootstrap HOST:PORT,..." once the cluster is up, then reads one
 * command a line from stdin and answers each with "ok" or "error TEXT":
 *
 *   topic NAME PARTITIONS REPLICATION   creates a topic
 *   leader TOPIC PARTITION NODE         moves a partition's leader
 *   coordinator TYPE KEY NODE           TYPE "group" or "transaction"
 *   rtt NODE MS                         delays every response of a broker
 *   errors APIKEY COUNT CODE            the next COUNT requests of APIKEY (any
 *                                       broker) are answered with error CODE
 *   clearerrors APIKEY                  drops the errors still queued for APIKEY
 *   apiversion APIKEY MIN MAX           the versions of APIKEY the brokers
 *                                       advertise (-1 -1: not at all)
 *
 * Every command returns once the mock's own thread has applied it (the
 * rd_kafka_mock_* calls wait for it), so after "ok" the cluster answers
 * with the new state. EOF on stdin (the test ended or died) destroys the
 * cluster and exits 0. MOCK_DEBUG=1 in the environment logs the mock's
 * protocol handling (librdkafka's debug "mock") to stderr.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void answer(rd_kafka_resp_err_t err)
{
    if (err)
        printf("error %s\n", rd_kafka_err2str(err));
    else
        printf("ok\n");
    fflush(stdout);
}

static void run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char a[256], b[256], c[256];
    int n1, n2, n3;
    if (sscanf(line, "topic %255s %d %d", a, &n1, &n2) == 3)
        answer(rd_kafka_mock_topic_create(mc, a, n1, n2));
    else if (sscanf(line, "leader %255s %d %d", a, &n1, &n2) == 3)
        answer(rd_kafka_mock_partition_set_leader(mc, a, n1, n2));
    else if (sscanf(line, "coordinator %255s %255s %d", a, b, &n1) == 3)
        answer(rd_kafka_mock_coordinator_set(mc, a, b, n1));
    else if (sscanf(line, "rtt %d %d", &n1, &n2) == 2)
        answer(rd_kafka_mock_broker_set_rtt(mc, n1, n2));
    else if (sscanf(line, "errors %d %d %d", &n1, &n2, &n3) == 3 && n2 > 0 && n2 <= 1000) {
        rd_kafka_resp_err_t errs[1000];
        for (int i = 0; i < n2; i++)
            errs[i] = (rd_kafka_resp_err_t)n3;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)n1, (size_t)n2, errs);
        answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (sscanf(line, "clearerrors %d", &n1) == 1) {
        rd_kafka_mock_clear_request_errors(mc, (int16_t)n1);
        answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (sscanf(line, "apiversion %d %d %d", &n1, &n2, &n3) == 3)
        answer(rd_kafka_mock_set_apiversion(mc, (int16_t)n1, (int16_t)n2, (int16_t)n3));
    else if (sscanf(line, "%255s", c) == 1) {
        printf("error unknown command '%s'\n", c);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    int nbrokers = argc > 1 ? atoi(argv[1]) : 3;
    if (nbrokers < 1 || nbrokers > 16) {
        fprintf(stderr, "mock_cluster_host: BROKERS must be 1..16\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *dbg = getenv("MOCK_DEBUG");
    if (dbg && *dbg && strcmp(dbg, "0") != 0) {
        rd_kafka_conf_set(conf, "debug", "mock", err, sizeof err);
        rd_kafka_conf_set(conf, "log_level", "7", err, sizeof err);
    } else {
        rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock_cluster_host: rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "mock_cluster_host: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    char line[1024];
    while (fgets(line, sizeof line, stdin))
        run_command(mc, line);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
