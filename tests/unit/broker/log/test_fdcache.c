/* File descriptors stay bounded with many partitions. */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "logtest.h"

#define T0 1700000000000LL

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

/* 10,000 partitions in one process under a 1024-descriptor limit, each
 * written, read back and closed. */
START_TEST(ten_thousand_partitions_fit_default_fd_limit)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = 1024; /* the usual default soft limit */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    enum { N = 10000 };
    log_config_t cfg = lt_config();
    log_fdcache_t *fdc = log_fdcache_new(256);
    char *dir = lt_tmpdir();
    log_t **logs = calloc(N, sizeof *logs);
    int base_fds = open_fds();
    for (int i = 0; i < N; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/topic-%d", dir, i);
        logs[i] = lt_open(p, &cfg, fdc);
        lt_append(logs[i], 2, NULL, NULL, NULL, T0 + i);
    }
    ck_assert_int_le(log_fdcache_open_count(fdc), 256);
    ck_assert_int_le(open_fds() - base_fds, 260);
    for (int i = 0; i < N; i += 7) {
        trec_t *recs;
        ck_assert_int_eq(lt_read_all(logs[i], &recs), 2);
        ck_assert_str_eq(recs[1].value, "v1");
        free(recs);
    }
    ck_assert_int_le(log_fdcache_open_count(fdc), 256);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(log_close(logs[i]), 0);
    ck_assert_int_eq(log_fdcache_open_count(fdc), 0);
    free(logs);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Slices of more partitions than the cache holds, all taken at once (one
 * fetch of many partitions): each stays open while it is read, so the cache
 * goes over its limit; once they are released it is back within it, with
 * nothing else opened meanwhile. */
START_TEST(cache_back_within_limit_after_pins)
{
    enum { N = 12, MAX = 4 };
    log_config_t cfg = lt_config();
    log_fdcache_t *fdc = log_fdcache_new(MAX);
    char *dir = lt_tmpdir();
    log_t *logs[N];
    log_slice_t sl[N];
    for (int i = 0; i < N; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/topic-%d", dir, i);
        logs[i] = lt_open(p, &cfg, fdc);
        lt_append(logs[i], 2, NULL, NULL, NULL, T0 + i);
    }
    int base_fds = open_fds();
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(log_read(logs[i], 0, 1 << 20, &sl[i]), 0);
        ck_assert_int_gt((int)sl[i].sl_len, 0);
    }
    ck_assert_int_eq(log_fdcache_open_count(fdc), N);
    for (int i = 0; i < N; i++) {
        uint8_t *buf = malloc(sl[i].sl_len);
        ck_assert_int_eq(log_slice_read(logs[i], &sl[i], buf), 0);
        free(buf);
        log_slice_release(logs[i], &sl[i]);
    }
    ck_assert_int_le(log_fdcache_open_count(fdc), MAX);
    ck_assert_int_le(open_fds() - base_fds, MAX);
    for (int i = 0; i < N; i++) {
        trec_t *recs;
        ck_assert_int_eq(lt_read_all(logs[i], &recs), 2);
        free(recs);
        ck_assert_int_eq(log_close(logs[i]), 0);
    }
    ck_assert_int_eq(log_fdcache_open_count(fdc), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_fdcache(void)
{
    TCase *tc = tcase_create("fdcache");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, ten_thousand_partitions_fit_default_fd_limit);
    tcase_add_test(tc, cache_back_within_limit_after_pins);
    return tc;
}
