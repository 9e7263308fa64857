/* Connections that cannot be made: a refused port, an unknown host, a
 * connect that hangs. An application's client retries with a growing
 * backoff and a rate-limited log; a tool's client (kc_client_fail_fast)
 * gives up at once with the real reason. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_helpers.h"
#include "client/admin.h"
#include "client/client_int.h"
#include "common/err.h"
#include "common/log.h"

/* A loopback port nothing listens on (bound, then released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct fixture {
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *c;
} fixture_t;

static void open_client(fixture_t *f, const char *bootstrap, const char *const *settings, int n)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[512], set[300];
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    ck_assert_int_eq(eddy_props_set(&ps, "test", set, err, sizeof err), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", settings[i], err, sizeof err), 0);
    ck_assert_int_eq(kc_config_load(&f->cfg, &ps, err, sizeof err), 0);
    eddy_props_free(&ps);
    uv_loop_init(&f->loop);
    f->c = kc_client_new(&f->loop, &f->cfg, err, sizeof err);
    ck_assert_ptr_nonnull(f->c);
}

static void close_client(fixture_t *f)
{
    kc_client_destroy(f->c);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&f->loop), 0);
    kc_config_free(&f->cfg);
}

/* Counts the client's WARN lines, and those that carry a count. */
typedef struct lines {
    int ln_warn, ln_counted;
    char ln_last[512];
} lines_t;

static void count_line(int level, const char *facility, const char *line, void *opaque)
{
    lines_t *ln = opaque;
    if (level != EDDY_LOG_LVL_WARN || strcmp(facility, "client") != 0)
        return;
    ln->ln_warn++;
    ln->ln_counted += strstr(line, "more like it") != NULL;
    snprintf(ln->ln_last, sizeof ln->ln_last, "%s", line);
}

static kc_broker_t *bootstrap_broker(fixture_t *f)
{
    return kc_broker_find(f->c, -1);
}

START_TEST(fail_fast_refused)
{
    char addr[64], err[512] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", closed_port());
    fixture_t f;
    open_client(&f, addr, NULL, 0);
    kc_client_fail_fast(f.c, 3);
    int rc = kc_admin_metadata(f.c, NULL, 0, err, sizeof err);
    ck_assert_int_eq(rc, -ECONNREFUSED);
    char want[128];
    snprintf(want, sizeof want, "cannot connect to %s: Connection refused", addr);
    ck_assert_str_eq(err, want);
    const char *why;
    ck_assert_int_eq(kc_client_error(f.c, &why), -ECONNREFUSED);
    ck_assert_str_eq(why, want);
    ck_assert_int_eq(bootstrap_broker(&f)->kb_failures, 3);
    /* New work fails at once, with the same error. */
    ck_assert_int_eq(kc_request(f.c, KC_NODE_ANY, API_METADATA, 1, NULL, NULL, NULL),
                     -ECONNREFUSED);
    close_client(&f);
}
END_TEST

START_TEST(fail_fast_every_address)
{
    char addr[128], err[512] = "";
    int port = closed_port();
    snprintf(addr, sizeof addr, "no-such-host.invalid:9092,127.0.0.1:%d", port);
    fixture_t f;
    open_client(&f, addr, NULL, 0);
    kc_client_fail_fast(f.c, 2);
    int rc = kc_admin_metadata(f.c, NULL, 0, err, sizeof err);
    ck_assert_int_lt(rc, 0);
    /* Both addresses were tried, though the request went to one. */
    ck_assert_ptr_nonnull(strstr(err, "cannot resolve no-such-host.invalid"));
    char want[64];
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", port);
    ck_assert_ptr_nonnull(strstr(err, want));
    ck_assert_int_ge(kc_broker_find(f.c, -1)->kb_failures, 2);
    ck_assert_int_ge(kc_broker_find(f.c, -2)->kb_failures, 2);
    close_client(&f);
}
END_TEST

/* Without fail-fast (an application): attempts go on with a doubling
 * backoff, the log says why once per interval, and a caller that times out
 * is told the reason, not only "timed out". */
static void app_keeps_retrying(const char *addr, const char *expect)
{
    lines_t ln = {0, 0, ""};
    eddy_log_set_sink(count_line, &ln);
    int saved = eddy_log_level;
    eddy_log_level = EDDY_LOG_LVL_WARN;
    const char *settings[] = {"request.timeout.ms=1800"};
    fixture_t f;
    open_client(&f, addr, settings, 1);
    char err[512] = "";
    int rc = kc_admin_metadata(f.c, NULL, 0, err, sizeof err);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(strstr(err, expect), "error '%s' lacks '%s'", err, expect);
    ck_assert_int_eq(kc_client_error(f.c, NULL), 0);
    /* 50, 100, 200, 400, 800, 1000 ms: a handful of attempts in 1.8 s,
     * not one every 50 ms. */
    int tries = bootstrap_broker(&f)->kb_failures;
    ck_assert_msg(tries >= 4 && tries <= 12, "%d attempts", tries);
    /* One line for the first failure, the rest counted into the next. */
    ck_assert_msg(ln.ln_warn == 1, "%d warnings, last: %s", ln.ln_warn, ln.ln_last);
    ck_assert_ptr_nonnull(strstr(ln.ln_last, expect));
    close_client(&f);
    eddy_log_level = saved;
    eddy_log_set_sink(NULL, NULL);
}

START_TEST(app_refused)
{
    char addr[64], want[96];
    int port = closed_port();
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", port);
    app_keeps_retrying(addr, want);
}
END_TEST

START_TEST(app_unknown_host)
{
    app_keeps_retrying("no-such-host.invalid:9092", "cannot resolve no-such-host.invalid");
}
END_TEST

/* A listener whose accept queue is full: the kernel drops further SYNs, so
 * a connect neither succeeds nor fails. */
START_TEST(setup_timeout)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    int fill[3];
    for (int i = 0; i < 3; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(100 * 1000);
    char addr[64], err[512] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(a.sin_port));
    const char *settings[] = {"socket.connection.setup.timeout.ms=200",
                              "socket.connection.setup.timeout.max.ms=300",
                              "request.timeout.ms=20000"};
    fixture_t f;
    open_client(&f, addr, settings, 3);
    kc_client_fail_fast(f.c, 2);
    int rc = kc_admin_metadata(f.c, NULL, 0, err, sizeof err);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_int_eq(kc_client_error(f.c, NULL), -ETIMEDOUT);
    /* 200 ms, then doubled but held at the maximum. */
    ck_assert_msg(strstr(err, "no connection within 300 ms (socket.connection.setup.timeout.ms)"),
                  "%s", err);
    close_client(&f);
    for (int i = 0; i < 3; i++)
        close(fill[i]);
    close(lfd);
}
END_TEST

TCase *tcase_conn(void)
{
    TCase *tc = tcase_create("conn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fail_fast_refused);
    tcase_add_test(tc, fail_fast_every_address);
    tcase_add_test(tc, app_refused);
    tcase_add_test(tc, app_unknown_host);
    tcase_add_test(tc, setup_timeout);
    return tc;
}
