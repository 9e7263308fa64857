/* The SCRAM credential store: what is put is read back after a reopen,
 * deletes stick, the file holds no password, and a damaged file stops the
 * open with a sentence instead of letting the wrong people in. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/users.h"
#include "common/err.h"

static char dir[64];

static int contains(const char *buf, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return 1;
    return 0;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/eddy-users-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void cred(scram_cred_t *c, int mech, const char *pw, int32_t it)
{
    char err[256];
    ck_assert_int_eq(
        scram_cred_from_password(c, mech, pw, strlen(pw), NULL, 0, it, err, sizeof err), 0);
}

START_TEST(test_round_trip)
{
    broker_users_t us;
    scram_cred_t a256, a512, b256;
    char err[512];
    cred(&a256, SCRAM_SHA_256, "alice-pw", 4096);
    cred(&a512, SCRAM_SHA_512, "alice-pw", 8192);
    cred(&b256, SCRAM_SHA_256, "bob-pw", 4096);
    ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), 0);
    ck_assert_int_eq(us.us_n, 0);
    ck_assert_int_eq(broker_users_put(&us, "alice", &a256), 0);
    ck_assert_int_eq(broker_users_put(&us, "alice", &a512), 0);
    ck_assert_int_eq(broker_users_put(&us, "bob", &b256), 0);
    ck_assert_int_eq(broker_users_save(&us), 0);
    broker_users_close(&us);

    ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), 0);
    ck_assert_int_eq(us.us_n, 3);
    const scram_cred_t *got = broker_users_get(&us, "alice", SCRAM_SHA_512);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->sc_iterations, 8192);
    ck_assert_int_eq(scram_cred_check_password(got, "alice-pw", 8), 1);
    ck_assert_int_eq(scram_cred_check_password(got, "alice-pX", 8), 0);
    ck_assert_ptr_null(broker_users_get(&us, "bob", SCRAM_SHA_512));
    /* A delete and a replacement, saved and read back. */
    ck_assert_int_eq(broker_users_delete(&us, "alice", SCRAM_SHA_256), 0);
    ck_assert_int_eq(broker_users_delete(&us, "alice", SCRAM_SHA_256), -ENOENT);
    cred(&b256, SCRAM_SHA_256, "bob-new", 4096);
    ck_assert_int_eq(broker_users_put(&us, "bob", &b256), 0);
    ck_assert_int_eq(broker_users_save(&us), 0);
    broker_users_close(&us);
    ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), 0);
    ck_assert_int_eq(us.us_n, 2);
    ck_assert_ptr_null(broker_users_get(&us, "alice", SCRAM_SHA_256));
    ck_assert_int_eq(
        scram_cred_check_password(broker_users_get(&us, "bob", SCRAM_SHA_256), "bob-new", 7), 1);
    broker_users_close(&us);

    /* No password in the file, which only its owner may read. */
    char path[128], buf[4096];
    snprintf(path, sizeof path, "%s/scram_credentials", dir);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert(!contains(buf, n, "alice-pw"));
    ck_assert(!contains(buf, n, "bob-new"));
    ck_assert(contains(buf, n, "alice")); /* the names are there */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_damage_stops_the_open)
{
    broker_users_t us;
    scram_cred_t c;
    char err[512], path[128];
    cred(&c, SCRAM_SHA_256, "pw", 4096);
    ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), 0);
    ck_assert_int_eq(broker_users_put(&us, "carol", &c), 0);
    ck_assert_int_eq(broker_users_save(&us), 0);
    broker_users_close(&us);
    snprintf(path, sizeof path, "%s/scram_credentials", dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    /* Every single flipped byte, and every truncation, is caught. */
    for (off_t i = 0; i < st.st_size; i++) {
        FILE *f = fopen(path, "r+b");
        fseek(f, i, SEEK_SET);
        int b = fgetc(f);
        fseek(f, i, SEEK_SET);
        fputc(b ^ 0x5A, f);
        fclose(f);
        err[0] = '\0';
        ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), EDDY_ERR_CORRUPT);
        ck_assert_ptr_nonnull(strstr(err, "scram_credentials is corrupt"));
        f = fopen(path, "r+b");
        fseek(f, i, SEEK_SET);
        fputc(b, f);
        fclose(f);
    }
    ck_assert_int_eq(truncate(path, st.st_size - 1), 0);
    ck_assert_int_eq(broker_users_open(&us, dir, err, sizeof err), EDDY_ERR_CORRUPT);
}
END_TEST

TCase *tcase_users(void)
{
    TCase *tc = tcase_create("users");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_damage_stops_the_open);
    return tc;
}
