/* eddy topic: create, list, describe, delete, produce, consume. */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "cli.h"
#include "cli_client.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/member.h"
#include "client/producer.h"
#include "common/clock.h"
#include "common/err.h"
#include "wire/recordbatch.h"

static void topic_usage(FILE *out)
{
    fprintf(out,
            "usage: eddy [-b HOST:PORT] topic <action> [options]\n"
            "\n"
            "actions:\n"
            "  create NAME -p PARTITIONS [-r REPLICAS] [-c key=value]...\n"
            "  list\n"
            "  describe NAME             partitions, leaders, start/end offsets, status, settings\n"
            "  alter NAME [-c key=value]... [--delete-config key]...\n"
            "                            change topic settings while the broker runs\n"
            "  delete NAME\n"
            "  produce NAME [-k SEPARATOR] [-p PARTITION] [--acks 0|1|all] [-z CODEC]\n"
            "                            one record per line of standard input\n"
            "      -z, --compression CODEC: none (default), gzip, snappy, lz4, zstd\n"
            "  consume NAME [-g GROUP] [-o beginning|end|OFFSET|@TIMESTAMP_MS] [-n COUNT] [-e]\n"
            "               [-f FORMAT] [--key-format F] [--value-format F]\n"
            "               [--isolation read_uncommitted|read_committed]\n"
            "      FORMAT: %%t topic, %%p partition, %%o offset, %%T timestamp, %%k key,\n"
            "              %%v value, %%h headers, \\n, \\t (default \"%%v\\n\")\n"
            "      F: string (default), int64 (8-byte big-endian), msgpack (printed as JSON)\n"
            "      reads batches of every codec; one it cannot read ends it with status 1,\n"
            "      naming topic, partition and offset (a group's commit stays before it)\n"
            "      --isolation: read_uncommitted (default) shows every record;\n"
            "      read_committed hides aborted and still open transactions\n"
            "\n"
            "-b/--bootstrap-server (or EDDY_BOOTSTRAP_SERVER) names a broker; default "
            "localhost:9092.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "eddy topic: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see eddy topic --help)\n");
    return CLI_USAGE;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

/* Kafka error codes come back positive, eddy_err negative. */
static const char *why(int rc, const char *err)
{
    return err[0] ? err : rc > 0 ? "the broker refused" : eddy_strerror(rc);
}

/* ---- create / list / describe / delete ---- */

static int do_create(cli_conn_t *cc, const char *name, int argc, char **argv)
{
    int64_t partitions = -1, replicas = -1;
    const char *keys[64], *vals[64];
    char *copies[64];
    int n = 0, rc = CLI_OK;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-p") || !strcmp(a, "--partitions")) && v && parse_int(v, &partitions) == 0)
            i++;
        else if ((!strcmp(a, "-r") || !strcmp(a, "--replicas")) && v &&
                 parse_int(v, &replicas) == 0)
            i++;
        else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && v && strchr(v, '=') && n < 64) {
            copies[n] = strdup(v);
            char *eq = strchr(copies[n], '=');
            *eq = 0;
            keys[n] = copies[n];
            vals[n] = eq + 1;
            n++;
            i++;
        } else {
            rc = usage_error("create: unexpected argument '%s'", a);
            goto out;
        }
    }
    if (partitions < 1) {
        rc = usage_error("create %s: -p PARTITIONS (at least 1) is required", name);
        goto out;
    }
    char err[1024] = "";
    int r = kc_admin_create_topic(cc->cc_client, name, (int32_t)partitions, (int16_t)replicas, keys,
                                  vals, n, err, sizeof err);
    if (r != 0) {
        fprintf(stderr, "eddy topic create %s: %s\n", name, why(r, err));
        rc = CLI_FAIL;
    } else {
        printf("created topic %s with %" PRId64 " partition(s)\n", name, partitions);
    }
out:
    for (int i = 0; i < n; i++)
        free(copies[i]);
    return rc;
}

static int do_alter(cli_conn_t *cc, const char *name, int argc, char **argv)
{
    const char *keys[64], *vals[64];
    char *copies[64];
    int n = 0, rc = CLI_OK;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && v && strchr(v, '=') && n < 64) {
            copies[n] = strdup(v);
            char *eq = strchr(copies[n], '=');
            *eq = 0;
            keys[n] = copies[n];
            vals[n] = eq + 1;
            n++;
            i++;
        } else if (!strcmp(a, "--delete-config") && v && n < 64) {
            copies[n] = strdup(v);
            keys[n] = copies[n];
            vals[n] = NULL;
            n++;
            i++;
        } else {
            rc = usage_error("alter: unexpected argument '%s'", a);
            goto out;
        }
    }
    if (n == 0) {
        rc = usage_error("alter %s: nothing to change (-c key=value or --delete-config key)", name);
        goto out;
    }
    char err[1024] = "";
    int r = kc_admin_alter_topic_configs(cc->cc_client, name, keys, vals, n, err, sizeof err);
    if (r != 0) {
        fprintf(stderr, "eddy topic alter %s: %s\n", name, why(r, err));
        rc = CLI_FAIL;
    } else {
        printf("altered %d setting(s) of topic %s\n", n, name);
    }
out:
    for (int i = 0; i < n; i++)
        free(copies[i]);
    return rc;
}

static int by_topic_name(const void *a, const void *b)
{
    return strcmp((*(const kc_topic_meta_t *const *)a)->tm_name,
                  (*(const kc_topic_meta_t *const *)b)->tm_name);
}

static int do_list(cli_conn_t *cc)
{
    char err[1024] = "";
    int rc = kc_admin_metadata(cc->cc_client, NULL, 0, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy topic list: %s\n", why(rc, err));
        return CLI_FAIL;
    }
    int n;
    const kc_topic_meta_t *t = kc_metadata_topics(cc->cc_client, &n);
    /* By name: a cluster's brokers answer in no particular order. */
    const kc_topic_meta_t **sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted) {
        fprintf(stderr, "eddy topic list: out of memory\n");
        return CLI_FAIL;
    }
    for (int i = 0; i < n; i++)
        sorted[i] = &t[i];
    qsort(sorted, (size_t)n, sizeof *sorted, by_topic_name);
    printf("%-40s %s\n", "NAME", "PARTITIONS");
    for (int i = 0; i < n; i++)
        printf("%-40s %d%s\n", sorted[i]->tm_name, sorted[i]->tm_npartitions,
               sorted[i]->tm_internal ? " (internal)" : "");
    free(sorted);
    return CLI_OK;
}

static void print_config(const char *name, const char *value, int source, void *opaque)
{
    (void)opaque;
    const char *from = "";
    if (source == KC_CONFIG_SOURCE_TOPIC)
        from = "  (set on the topic)";
    else if (source == KC_CONFIG_SOURCE_BROKER)
        from = "  (dynamic broker setting)";
    else if (source == KC_CONFIG_SOURCE_CLUSTER_BROKER)
        from = "  (dynamic cluster-wide broker default)";
    else if (source != KC_CONFIG_SOURCE_DEFAULT)
        from = "  (broker setting)";
    printf("  %-28s %s%s\n", name, value, from);
}

/* "1,2,3" into buf; "-" when the broker named none; a list too long for buf
 * ends in "...". */
static const char *format_nodes(char *buf, size_t size, const int32_t *ids, int32_t n)
{
    size_t len = 0;
    snprintf(buf, size, "-");
    for (int32_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, size - len, "%s%d", i ? "," : "", ids[i]);
        if (w < 0 || (size_t)w >= size - len) {
            snprintf(buf + (size > 4 ? size - 4 : 0), size > 4 ? 4 : size, "...");
            break;
        }
        len += (size_t)w;
    }
    return buf;
}

static int do_describe(cli_conn_t *cc, const char *name)
{
    char err[1024] = "";
    const char *names[1] = {name};
    int rc = kc_admin_metadata(cc->cc_client, names, 1, err, sizeof err);
    const kc_topic_meta_t *t = rc == 0 ? kc_metadata_topic(cc->cc_client, name) : NULL;
    if (rc != 0 || !t || t->tm_error) {
        fprintf(stderr, "eddy topic describe %s: %s\n", name,
                rc ? why(rc, err)
                : t && t->tm_error == KERR_TOPIC_AUTHORIZATION_FAILED
                    ? "TOPIC_AUTHORIZATION_FAILED"
                    : "no such topic (eddy topic list shows the topics)");
        return CLI_FAIL;
    }
    printf("topic %s: %d partition(s)%s\n", name, t->tm_npartitions,
           t->tm_internal ? ", internal" : "");
    printf("  %-10s %-8s %-14s %-14s %-14s %-14s %s\n", "PARTITION", "LEADER", "START", "END",
           "REPLICAS", "ISR", "STATUS");
    int offline = 0;
    for (int32_t p = 0; p < t->tm_npartitions; p++) {
        int64_t start = -1, end = -1;
        int16_t perr = t->tm_partitions[p].pm_error;
        /* An offline partition answers ListOffsets with the same error:
         * asking would only print -1 twice. */
        if (perr == KERR_NONE) {
            kc_admin_list_offset(cc->cc_client, name, p, -2, &start, err, sizeof err);
            kc_admin_list_offset(cc->cc_client, name, p, -1, &end, err, sizeof err);
        }
        t = kc_metadata_topic(cc->cc_client, name);
        const kc_partition_meta_t *pm = &t->tm_partitions[p];
        char status[96] = "online";
        if (perr == KERR_KAFKA_STORAGE_ERROR)
            snprintf(status, sizeof status, "offline (KAFKA_STORAGE_ERROR)");
        else if (perr != KERR_NONE)
            snprintf(status, sizeof status, "error (%s)", kafka_err_name(perr));
        offline += perr != KERR_NONE;
        char replicas[128], isr[128];
        printf("  %-10d %-8d %-14" PRId64 " %-14" PRId64 " %-14s %-14s %s\n", p, pm->pm_leader,
               start, end,
               format_nodes(replicas, sizeof replicas, pm->pm_replicas, pm->pm_nreplicas),
               format_nodes(isr, sizeof isr, pm->pm_isr, pm->pm_nisr), status);
    }
    if (offline)
        fprintf(stderr,
                "eddy topic describe %s: %d partition(s) offline: the broker's log names the "
                "cause (docs/broker.md, \"Offline partitions\")\n",
                name, offline);
    printf("settings:\n");
    rc = kc_admin_describe_topic_configs(cc->cc_client, name, print_config, NULL, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy topic describe %s: settings: %s\n", name, why(rc, err));
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int do_delete(cli_conn_t *cc, const char *name)
{
    char err[1024] = "";
    int rc = kc_admin_delete_topic(cc->cc_client, name, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy topic delete %s: %s\n", name, why(rc, err));
        return CLI_FAIL;
    }
    printf("deleted topic %s\n", name);
    return CLI_OK;
}

/* ---- produce ---- */

typedef struct produce_state {
    int64_t ps_sent, ps_acked, ps_failed;
    int ps_first_error;
    int16_t ps_first_kafka_error;
} produce_state_t;

static void on_delivery(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)p;
    (void)topic;
    (void)partition;
    (void)offset;
    produce_state_t *st = opaque;
    if (err == 0) {
        st->ps_acked++;
    } else {
        if (!st->ps_failed) {
            st->ps_first_error = err;
            st->ps_first_kafka_error = kerr;
        }
        st->ps_failed++;
    }
}

static int do_produce(cli_conn_t *cc, const char *topic, int argc, char **argv)
{
    const char *sep = NULL;
    int64_t partition = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-k") || !strcmp(a, "--key-separator")) && v)
            sep = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--partition")) && v &&
                 parse_int(v, &partition) == 0)
            i++;
        else if ((!strcmp(a, "--acks") || !strcmp(a, "-z") || !strcmp(a, "--compression")) && v)
            i++; /* read by cmd_topic before the client opened */
        else
            return usage_error("produce: unexpected argument '%s'", a);
    }
    kc_client_t *c = cc->cc_client;
    /* Reach the cluster before reading a line: an address that is down
     * fails the command now, not after delivery.timeout.ms of silence (and
     * not only once standard input has ended). The topic's own metadata
     * comes with the producer's first record, which may create it. */
    char err[1024] = "";
    const char *names[1] = {topic};
    int mrc = kc_admin_metadata(c, names, 1, err, sizeof err);
    if (mrc != 0) {
        fprintf(stderr, "eddy topic produce %s: %s\n", topic, why(mrc, err));
        return CLI_FAIL;
    }
    produce_state_t st = {0, 0, 0, 0, 0};
    kc_producer_t *p = kc_producer_new(c, on_delivery);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int tty = isatty(2);
    int64_t last_progress = eddy_mono_ms();
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        kc_record_t r = {NULL, -1, line, (int32_t)n, -1, NULL, 0, NULL, NULL};
        char *s = sep ? strstr(line, sep) : NULL;
        if (s) {
            r.rec_key = line;
            r.rec_key_len = (int32_t)(s - line);
            r.rec_value = s + strlen(sep);
            r.rec_value_len = (int32_t)(n - (s - line) - (ssize_t)strlen(sep));
        }
        int rc = kc_produce(p, topic, (int32_t)partition, &r, &st);
        if (rc < 0) {
            fprintf(stderr, "eddy topic produce %s: %s\n", topic,
                    rc == -EINVAL ? "partition out of range" : eddy_strerror(rc));
            break;
        }
        st.ps_sent++;
        /* Let the loop send while reading; keep memory bounded. */
        uv_run(kc_loop(c), UV_RUN_NOWAIT);
        while (kc_producer_outstanding(p) > 100000)
            uv_run(kc_loop(c), UV_RUN_ONCE);
        if (tty && eddy_mono_ms() - last_progress >= 1000) {
            last_progress = eddy_mono_ms();
            fprintf(stderr, "\r%" PRId64 " records sent, %" PRId64 " acknowledged", st.ps_sent,
                    st.ps_acked);
        }
    }
    free(line);
    int rc = kc_producer_flush(p, kc_config(c)->delivery_timeout_ms + 5000);
    if (tty)
        fprintf(stderr, "\r%60s\r", "");
    kc_producer_destroy(p);
    const char *down;
    if (rc < 0 && kc_client_error(c, &down) == rc) {
        fprintf(stderr,
                "eddy topic produce %s: %" PRId64 " of %" PRId64 " records not delivered (%s)\n",
                topic, st.ps_sent - st.ps_acked, st.ps_sent, down);
        return CLI_FAIL;
    }
    if (rc < 0 || st.ps_failed) {
        /* -EIO is "the broker refused it": then its Kafka error says why, alone. */
        int16_t kerr = st.ps_first_kafka_error;
        const char *what = rc < 0 ? "timed out" : eddy_strerror(st.ps_first_error);
        if (rc >= 0 && st.ps_first_error == -EIO && kerr)
            what = "";
        fprintf(stderr,
                "eddy topic produce %s: %" PRId64 " of %" PRId64
                " records not delivered (%s%s%s)\n",
                topic, st.ps_sent - st.ps_acked, st.ps_sent, what, kerr && *what ? ": " : "",
                kerr ? kafka_err_name(kerr) : "");
        return CLI_FAIL;
    }
    fprintf(stderr, "produced %" PRId64 " records to %s\n", st.ps_acked, topic);
    return CLI_OK;
}

/* ---- consume ---- */

enum fmt_kind { FMT_STRING, FMT_INT64, FMT_MSGPACK };

typedef struct consume_state {
    const char *cs_format;
    enum fmt_kind cs_key_fmt, cs_value_fmt;
    int64_t cs_limit, cs_count;
    int cs_exit_at_end;
    int cs_partitions, cs_at_end;
    int cs_assigned; /* the partitions to wait for at -e are known */
    int cs_failed;
} consume_state_t;

static int parse_fmt(const char *s, enum fmt_kind *out)
{
    if (!strcmp(s, "string"))
        *out = FMT_STRING;
    else if (!strcmp(s, "int64"))
        *out = FMT_INT64;
    else if (!strcmp(s, "msgpack"))
        *out = FMT_MSGPACK;
    else
        return -1;
    return 0;
}

static void print_json_string(const char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_msgpack(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: printf("null"); break;
    case MSGPACK_OBJECT_BOOLEAN: printf(o->via.boolean ? "true" : "false"); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: printf("%" PRIu64, o->via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: printf("%" PRId64, o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: printf("%.17g", o->via.f64); break;
    case MSGPACK_OBJECT_STR: print_json_string(o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_BIN: print_json_string(o->via.bin.ptr, o->via.bin.size); break;
    case MSGPACK_OBJECT_ARRAY:
        putchar('[');
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                putchar(',');
            print_msgpack(&o->via.array.ptr[i]);
        }
        putchar(']');
        break;
    case MSGPACK_OBJECT_MAP:
        putchar('{');
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (i)
                putchar(',');
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type == MSGPACK_OBJECT_STR)
                print_msgpack(k);
            else {
                /* JSON keys are strings: print other keys quoted. */
                putchar('"');
                if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                    printf("%" PRIu64, k->via.u64);
                else if (k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                    printf("%" PRId64, k->via.i64);
                putchar('"');
            }
            putchar(':');
            print_msgpack(&o->via.map.ptr[i].val);
        }
        putchar('}');
        break;
    default: printf("null"); break;
    }
}

static void print_field(const uint8_t *p, int32_t len, enum fmt_kind f)
{
    if (len < 0) {
        printf("null");
        return;
    }
    if (f == FMT_INT64 && len == 8) {
        printf("%" PRId64, (int64_t)be64_load(p));
        return;
    }
    if (f == FMT_MSGPACK) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        if (msgpack_unpack_next(&u, (const char *)p, (size_t)len, &off) == MSGPACK_UNPACK_SUCCESS)
            print_msgpack(&u.data);
        else
            printf("(not msgpack: %d bytes)", len);
        msgpack_unpacked_destroy(&u);
        return;
    }
    fwrite(p, 1, (size_t)len, stdout);
}

static int on_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    consume_state_t *cs = opaque;
    if (cs->cs_limit >= 0 && cs->cs_count >= cs->cs_limit)
        return 1; /* not taken: a commit must not cover it */
    cs->cs_count++;
    for (const char *f = cs->cs_format; *f; f++) {
        if (*f == '\\' && f[1]) {
            f++;
            putchar(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f);
            continue;
        }
        if (*f != '%' || !f[1]) {
            putchar(*f);
            continue;
        }
        switch (*++f) {
        case 't': fputs(m->msg_topic, stdout); break;
        case 'p': printf("%d", m->msg_partition); break;
        case 'o': printf("%" PRId64, m->msg_offset); break;
        case 'T': printf("%" PRId64, m->msg_timestamp); break;
        case 'k': print_field(m->msg_key, m->msg_key_len, cs->cs_key_fmt); break;
        case 'v': print_field(m->msg_value, m->msg_value_len, cs->cs_value_fmt); break;
        case 'h': {
            eddy_rd_t rd;
            rd_init(&rd, m->msg_headers, m->msg_headers_len);
            wire_header_t h;
            int first = 1;
            while (wire_header_next(&rd, &h) == 1) {
                printf("%s%.*s=", first ? "" : ",", h.keyLength > 0 ? h.keyLength : 0,
                       (const char *)h.key);
                print_field(h.value, h.valueLength, FMT_STRING);
                first = 0;
            }
            break;
        }
        case '%': putchar('%'); break;
        default:
            putchar('%');
            putchar(*f);
            break;
        }
    }
    /* The last record the broker has for now: out it goes, also into a pipe
     * (stdio would hold it in its block buffer until more records come, and
     * a follower such as `... | awk` would wait for records already read). */
    if (m->msg_offset + 1 >= kc_consumer_high_watermark(k, m->msg_topic, m->msg_partition))
        fflush(stdout);
    return 0;
}

static void on_eof(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset,
                   void *opaque)
{
    (void)k;
    (void)topic;
    (void)partition;
    (void)offset;
    consume_state_t *cs = opaque;
    cs->cs_at_end++;
    fflush(stdout); /* caught up (see on_message) */
}

/* The partition stopped (a batch that cannot be read, auto.offset.reset=none):
 * the command ends with status 1, with or without -e, and a group commits
 * the position, which is still before the failed batch. */
static void on_error(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque)
{
    (void)k;
    consume_state_t *cs = opaque;
    fflush(stdout); /* the records before it come first */
    if (e->ce_offset >= 0)
        fprintf(stderr, "eddy topic consume: topic %s partition %d offset %lld: %s\n", e->ce_topic,
                e->ce_partition, (long long)e->ce_offset, e->ce_why);
    else
        fprintf(stderr, "eddy topic consume: topic %s partition %d: %s\n", e->ce_topic,
                e->ce_partition, e->ce_why);
    cs->cs_failed = 1;
}

static void on_assigned(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque)
{
    (void)m;
    (void)parts;
    consume_state_t *cs = opaque;
    cs->cs_partitions = n; /* -e now waits for the end of these */
    cs->cs_at_end = 0;
    cs->cs_assigned = 1;
}

static void on_member_error(kc_member_t *m, int err, int16_t kafka_err, int fatal, const char *why,
                            void *opaque)
{
    (void)m;
    (void)err;
    (void)kafka_err;
    consume_state_t *cs = opaque;
    fprintf(stderr, "eddy topic consume: group: %s\n", why);
    if (fatal)
        cs->cs_failed = 1;
}

static int member_closed_flag;

static void on_member_closed(kc_member_t *m, void *opaque)
{
    (void)m;
    (void)opaque;
    member_closed_flag = 1;
}

static int member_closed(void *opaque)
{
    (void)opaque;
    return member_closed_flag;
}

static int consume_done(void *opaque)
{
    consume_state_t *cs = opaque;
    return cs->cs_failed || (cs->cs_limit >= 0 && cs->cs_count >= cs->cs_limit) ||
           (cs->cs_exit_at_end && cs->cs_assigned && cs->cs_at_end >= cs->cs_partitions);
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int stop_requested(void *opaque)
{
    return interrupted || consume_done(opaque);
}

static int do_consume(cli_conn_t *cc, const char *topic, int argc, char **argv, const char *group)
{
    consume_state_t cs = {"%v\n", FMT_STRING, FMT_STRING, -1, 0, 0, 0, 0, 0, 0};
    const char *from = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "-o") || !strcmp(a, "--offset")) && v)
            from = argv[++i];
        else if ((!strcmp(a, "-n") || !strcmp(a, "--count")) && v &&
                 parse_int(v, &cs.cs_limit) == 0)
            i++;
        else if (!strcmp(a, "-e") || !strcmp(a, "--exit"))
            cs.cs_exit_at_end = 1;
        else if ((!strcmp(a, "-f") || !strcmp(a, "--format")) && v)
            cs.cs_format = argv[++i];
        else if (!strcmp(a, "--key-format") && v && parse_fmt(v, &cs.cs_key_fmt) == 0)
            i++;
        else if (!strcmp(a, "--value-format") && v && parse_fmt(v, &cs.cs_value_fmt) == 0)
            i++;
        else if ((!strcmp(a, "-g") || !strcmp(a, "--group") || !strcmp(a, "--isolation")) && v)
            i++; /* read before the client opened */
        else
            return usage_error("consume: unexpected or bad argument '%s'", a);
    }
    int64_t start = KC_OFFSET_BEGINNING;
    int64_t ts = -1;
    if (from) {
        if (!strcmp(from, "beginning"))
            start = KC_OFFSET_BEGINNING;
        else if (!strcmp(from, "end"))
            start = KC_OFFSET_END;
        else if (from[0] == '@' && parse_int(from + 1, &ts) == 0)
            start = KC_OFFSET_BEGINNING;
        else if (parse_int(from, &start) < 0 || start < 0)
            return usage_error("consume: -o '%s' is not beginning, end, OFFSET or @TIMESTAMP_MS",
                               from);
        if (group && (start >= 0 || ts >= 0))
            return usage_error("consume: with -g the group's committed offsets decide where to "
                               "start; "
                               "-o '%s' is not allowed (use eddy group reset-offsets)",
                               from);
    }
    char err[1024] = "";
    const char *names[1] = {topic};
    int rc = kc_admin_metadata(cc->cc_client, names, 1, err, sizeof err);
    const kc_topic_meta_t *t = rc == 0 ? kc_metadata_topic(cc->cc_client, topic) : NULL;
    if (rc != 0 || !t || t->tm_error) {
        fprintf(stderr, "eddy topic consume %s: %s\n", topic,
                rc ? why(rc, err)
                : t && t->tm_error == KERR_TOPIC_AUTHORIZATION_FAILED
                    ? "TOPIC_AUTHORIZATION_FAILED"
                    : "no such topic (eddy topic create makes one)");
        return CLI_FAIL;
    }
    kc_consumer_cbs_t cbs = {on_message, on_eof, on_error, &cs};
    kc_consumer_t *k = kc_consumer_new(cc->cc_client, &cbs);
    kc_member_t *m = NULL;
    if (group) {
        /* A member of the group: partitions come from its assignment,
         * positions from its committed offsets (else -o / earliest). */
        kc_member_cbs_t mcbs = {NULL, on_assigned, on_member_error, &cs};
        const char *topics[1] = {topic};
        m = kc_member_open(cc->cc_client, k, topics, 1, &mcbs, err, sizeof err);
        if (!m) {
            fprintf(stderr, "eddy topic consume %s: %s\n", topic, err);
            kc_consumer_destroy(k);
            return CLI_FAIL;
        }
    } else {
        cs.cs_partitions = t->tm_npartitions;
        cs.cs_assigned = 1;
        for (int32_t p = 0; p < t->tm_npartitions; p++) {
            kc_consumer_assign(k, topic, p, start);
            if (ts >= 0)
                kc_consumer_seek_timestamp(k, topic, p, ts);
        }
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    while (!stop_requested(&cs))
        kc_run_until(cc->cc_client, stop_requested, &cs, 200);
    fflush(stdout);
    int ret = cs.cs_failed ? CLI_FAIL : CLI_OK;
    if (m) {
        /* Commits what was consumed, then leaves the group. */
        member_closed_flag = 0;
        kc_member_close(m, on_member_closed, NULL);
        if (kc_run_until(cc->cc_client, member_closed, NULL,
                         kc_config(cc->cc_client)->request_timeout_ms) < 0) {
            fprintf(stderr, "eddy topic consume %s: leaving group %s timed out\n", topic, group);
            ret = CLI_FAIL;
        }
    }
    kc_consumer_destroy(k);
    return ret;
}

int cmd_topic(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        topic_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *action = argv[1];
    int is_list = !strcmp(action, "list");
    if (!is_list && strcmp(action, "create") && strcmp(action, "describe") &&
        strcmp(action, "delete") && strcmp(action, "produce") && strcmp(action, "consume") &&
        strcmp(action, "alter"))
        return usage_error("unknown action '%s'", action);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            topic_usage(stdout);
            return CLI_OK;
        }
    if (!is_list && (argc < 3 || argv[2][0] == '-'))
        return usage_error("%s: a topic name is required", action);
    /* Settings that must be known before the client opens. */
    const char *settings[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int ns = 0;
    const char *group = NULL;
    char acks[32], group_set[600], codec[64], isolation[64];
    for (int i = 3; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--acks") && !strcmp(action, "produce")) {
            if (strcmp(argv[i + 1], "0") && strcmp(argv[i + 1], "1") && strcmp(argv[i + 1], "all"))
                return usage_error("produce: --acks '%s' is not 0, 1 or all", argv[i + 1]);
            snprintf(acks, sizeof acks, "acks=%s", argv[i + 1]);
            settings[ns++] = acks;
        }
        if ((!strcmp(argv[i], "-z") || !strcmp(argv[i], "--compression")) &&
            !strcmp(action, "produce")) {
            if (wire_codec_parse(argv[i + 1]) < 0)
                return usage_error("produce: -z '%s' is not none, gzip, snappy, lz4 or zstd",
                                   argv[i + 1]);
            snprintf(codec, sizeof codec, "compression.type=%s", argv[i + 1]);
            if (ns < 5)
                settings[ns++] = codec;
        }
        if (!strcmp(argv[i], "--isolation") && !strcmp(action, "consume")) {
            if (strcmp(argv[i + 1], "read_uncommitted") && strcmp(argv[i + 1], "read_committed"))
                return usage_error("consume: --isolation '%s' is not read_uncommitted or "
                                   "read_committed",
                                   argv[i + 1]);
            snprintf(isolation, sizeof isolation, "isolation.level=%s", argv[i + 1]);
            settings[ns++] = isolation;
        }
        if ((!strcmp(argv[i], "-g") || !strcmp(argv[i], "--group")) && !strcmp(action, "consume")) {
            group = argv[i + 1];
            snprintf(group_set, sizeof group_set, "group.id=%s", group);
            settings[ns++] = group_set;
            settings[ns++] = "auto.offset.reset=earliest";
            for (int j = 3; j + 1 < argc; j++)
                if ((!strcmp(argv[j], "-o") || !strcmp(argv[j], "--offset")) &&
                    !strcmp(argv[j + 1], "end"))
                    settings[ns - 1] = "auto.offset.reset=latest";
        }
    }
    cli_conn_t cc;
    if (cli_conn_open(&cc, settings, ns) < 0)
        return CLI_FAIL;
    int rc;
    const char *name = is_list ? NULL : argv[2];
    if (!strcmp(action, "create"))
        rc = do_create(&cc, name, argc - 3, argv + 3);
    else if (is_list)
        rc = argc > 2 ? usage_error("list: unexpected argument '%s'", argv[2]) : do_list(&cc);
    else if (!strcmp(action, "describe"))
        rc = argc > 3 ? usage_error("describe: unexpected argument '%s'", argv[3])
                      : do_describe(&cc, name);
    else if (!strcmp(action, "alter"))
        rc = do_alter(&cc, name, argc - 3, argv + 3);
    else if (!strcmp(action, "delete"))
        rc = argc > 3 ? usage_error("delete: unexpected argument '%s'", argv[3])
                      : do_delete(&cc, name);
    else if (!strcmp(action, "produce"))
        rc = do_produce(&cc, name, argc - 3, argv + 3);
    else
        rc = do_consume(&cc, name, argc - 3, argv + 3, group);
    cli_conn_close(&cc);
    return rc;
}
