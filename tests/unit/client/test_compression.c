/* The producer's compression settings: compression.type and the levels, by
 * librdkafka's name (compression.level) and the Java client's
 * (compression.<codec>.level), each checked against its codec's range when
 * the settings are loaded. */
#include <string.h>

#include "check_helpers.h"
#include "client/client.h"
#include "common/err.h"
#include "wire/codec.h"

/* Loads the settings ("key=value", n of them); returns kc_config_load's
 * result, and on success the codec and level kc_config_compression reads. */
static int load(const char *const *kv, int n, int *codec, int *level, char *err, size_t err_size)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", kv[i], err, err_size), 0);
    kc_config_t cfg;
    int rc = kc_config_load(&cfg, &ps, err, err_size);
    if (rc == 0)
        ck_assert_int_eq(kc_config_compression(&cfg, codec, level, err, err_size), 0);
    kc_config_free(&cfg);
    eddy_props_free(&ps);
    return rc;
}

START_TEST(test_compression_defaults)
{
    int codec = -1, level = 0;
    char err[256];
    ck_assert_int_eq(load(NULL, 0, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(codec, WIRE_CODEC_NONE);
    ck_assert_int_eq(level, WIRE_CODEC_LEVEL_DEFAULT);
    const char *const kv[] = {"compression.type=zstd"};
    ck_assert_int_eq(load(kv, 1, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(codec, WIRE_CODEC_ZSTD);
    ck_assert_int_eq(level, WIRE_CODEC_LEVEL_DEFAULT);
}
END_TEST

START_TEST(test_compression_levels)
{
    int codec, level;
    char err[256];
    /* Java's per-codec setting, a negative zstd level included. */
    const char *const java[] = {"compression.type=zstd", "compression.zstd.level=-5",
                                "compression.gzip.level=9"};
    ck_assert_int_eq(load(java, 3, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(codec, WIRE_CODEC_ZSTD);
    ck_assert_int_eq(level, -5);
    /* librdkafka's compression.level wins over the per-codec one. */
    const char *const both[] = {"compression.type=gzip", "compression.gzip.level=2",
                                "compression.level=7"};
    ck_assert_int_eq(load(both, 3, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(codec, WIRE_CODEC_GZIP);
    ck_assert_int_eq(level, 7);
    /* -1: the codec's default, in librdkafka's setting and Java's gzip one. */
    const char *const dflt[] = {"compression.type=gzip", "compression.level=-1"};
    ck_assert_int_eq(load(dflt, 2, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(level, WIRE_CODEC_LEVEL_DEFAULT);
    /* snappy takes no level: compression.level is ignored, as librdkafka does. */
    const char *const snappy[] = {"compression.type=snappy", "compression.level=5"};
    ck_assert_int_eq(load(snappy, 2, &codec, &level, err, sizeof err), 0);
    ck_assert_int_eq(codec, WIRE_CODEC_SNAPPY);
    ck_assert_int_eq(level, WIRE_CODEC_LEVEL_DEFAULT);
}
END_TEST

START_TEST(test_compression_errors)
{
    int codec, level;
    char err[256];
    const char *const bad_type[] = {"compression.type=brotli"};
    ck_assert_int_eq(load(bad_type, 1, &codec, &level, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compression.type: 'brotli'"));
    const char *const gzip10[] = {"compression.type=gzip", "compression.level=10"};
    ck_assert_int_eq(load(gzip10, 2, &codec, &level, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compression.level: 10 is out of range for gzip"));
    /* Each per-codec level is checked even when its codec is not in use. */
    const char *const lz4[] = {"compression.type=none", "compression.lz4.level=18"};
    ck_assert_int_eq(load(lz4, 2, &codec, &level, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compression.lz4.level: 18 is out of range for lz4"));
    const char *const text[] = {"compression.type=zstd", "compression.zstd.level=fast"};
    ck_assert_int_eq(load(text, 2, &codec, &level, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "'fast' is not an integer"));
}
END_TEST

TCase *tcase_compression(void)
{
    TCase *tc = tcase_create("compression");
    tcase_add_test(tc, test_compression_defaults);
    tcase_add_test(tc, test_compression_levels);
    tcase_add_test(tc, test_compression_errors);
    return tc;
}
