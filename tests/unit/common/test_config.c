/* Properties parsing (java.util.Properties rules) and typed configuration,
 * with the errors a user sees naming the file, the line and the key. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/err.h"

/* A small schema in the shape real modules use. */
typedef struct tcfg {
    int32_t tc_port;
    int64_t tc_segment_bytes;
    int tc_enabled;
    double tc_ratio;
    char *tc_name;
    int tc_features;
    int32_t tc_unbounded;
} tcfg_t;

static const char *const feature_names[] = {"alpha", "beta", "gamma", NULL};

static const eddy_cfg_def_t tdefs[] = {
    {"port", CFG_INT32, offsetof(tcfg_t, tc_port), "9092", 1, 65535, NULL, "listener port"},
    {"segment.bytes", CFG_INT64, offsetof(tcfg_t, tc_segment_bytes), "1073741824", 1024, 1e15, NULL,
     "segment size"},
    {"enabled", CFG_BOOL, offsetof(tcfg_t, tc_enabled), "true", 0, 0, NULL, "switch"},
    {"ratio", CFG_DOUBLE, offsetof(tcfg_t, tc_ratio), "0.5", 0, 1, NULL, "a fraction"},
    {"name", CFG_STRING, offsetof(tcfg_t, tc_name), "eddy", 0, 0, NULL, "a name"},
    {"features", CFG_FLAGS, offsetof(tcfg_t, tc_features), "alpha,gamma", 0, 0, feature_names,
     "flags"},
    {"unbounded", CFG_INT32, offsetof(tcfg_t, tc_unbounded), NULL, 0, 0, NULL, "no bounds"},
    {0},
};

static char errstr[512];

/* Parses text into ps, asserting success. */
static void parse_ok(eddy_props_t *ps, const char *text)
{
    errstr[0] = 0;
    int rc = eddy_props_parse(ps, "test.properties", text, strlen(text), errstr, sizeof errstr);
    ck_assert_msg(rc == 0, "parse failed: %s", errstr);
}

static void assert_prop(const eddy_props_t *ps, const char *key, const char *want)
{
    const char *v = eddy_props_get(ps, key);
    ck_assert_msg(v != NULL, "key '%s' missing", key);
    ck_assert_str_eq(v, want);
}

static const eddy_prop_t *find_prop(const eddy_props_t *ps, const char *key)
{
    for (size_t i = 0; i < ps->ps_count; i++)
        if (strcmp(ps->ps_items[i].pr_key, key) == 0)
            return &ps->ps_items[i];
    return NULL;
}

static void assert_contains(const char *hay, const char *needle)
{
    ck_assert_msg(strstr(hay, needle) != NULL, "'%s' does not contain '%s'", hay, needle);
}

START_TEST(test_comments_and_separators)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    parse_ok(&ps, "# a comment\n"
                  "! another comment\n"
                  "   # indented comment = not a key\n"
                  "\n"
                  "   \t\n"
                  "a=1\n"
                  "b:2\n"
                  "c 3\n"
                  "d = 4\n"
                  "e\t:\t5\n"
                  "  f  =  six six  \n"
                  "g\n"
                  "h=\n"
                  "i==x\n"
                  "j=a#b!c\n");
    assert_prop(&ps, "a", "1");
    assert_prop(&ps, "b", "2");
    assert_prop(&ps, "c", "3");
    assert_prop(&ps, "d", "4");
    assert_prop(&ps, "e", "5");
    assert_prop(&ps, "f", "six six  "); /* trailing blanks belong to the value, as in Java */
    assert_prop(&ps, "g", "");
    assert_prop(&ps, "h", "");
    assert_prop(&ps, "i", "=x"); /* only the first separator splits */
    assert_prop(&ps, "j", "a#b!c");
    ck_assert_uint_eq(ps.ps_count, 10);
    ck_assert_ptr_null(eddy_props_get(&ps, "#"));
    ck_assert_ptr_null(eddy_props_get(&ps, "missing"));
    /* Every entry remembers its line. */
    ck_assert_int_eq(find_prop(&ps, "a")->pr_line, 6);
    ck_assert_int_eq(find_prop(&ps, "j")->pr_line, 15);
    ck_assert_str_eq(find_prop(&ps, "j")->pr_source, "test.properties");
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_escapes)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    parse_ok(&ps, "tab=a\\tb\n"
                  "nl=a\\nb\\rc\\fd\n"
                  "bs=a\\\\b\n"
                  "uni=\\u00e9\\u20AC\\u0041\n"
                  "key\\ with\\ spaces=v1\n"
                  "k\\=eq\\:colon=v2\n"
                  "other=\\q\\#\n");
    assert_prop(&ps, "tab", "a\tb");
    assert_prop(&ps, "nl", "a\nb\rc\fd");
    assert_prop(&ps, "bs", "a\\b");
    assert_prop(&ps, "uni",
                "\xc3\xa9\xe2\x82\xac"
                "A"); /* é € A in UTF-8 */
    assert_prop(&ps, "key with spaces", "v1");
    assert_prop(&ps, "k=eq:colon", "v2");
    assert_prop(&ps, "other", "q#"); /* unknown escapes drop the backslash */
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_continuation_and_line_endings)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    parse_ok(&ps, "list=one, \\\n"
                  "      two, \\\n"
                  "\tthree\n"
                  "after=1\r\n"
                  "crlf=x\\\r\n"
                  "   y\r\n"
                  "even=ends\\\\\n"
                  "next=2\r"
                  "cr.only=3\n"
                  "hash=a\\\n"
                  "#not a comment\n"
                  "eof=last\\");
    assert_prop(&ps, "list", "one, two, three");
    assert_prop(&ps, "after", "1");
    assert_prop(&ps, "crlf", "xy");
    assert_prop(&ps, "even", "ends\\"); /* an even run of backslashes does not continue */
    assert_prop(&ps, "next", "2");
    assert_prop(&ps, "cr.only", "3");
    assert_prop(&ps, "hash", "a#not a comment");
    assert_prop(&ps, "eof", "last");
    /* A continued entry is reported at its first line. */
    ck_assert_int_eq(find_prop(&ps, "list")->pr_line, 1);
    ck_assert_int_eq(find_prop(&ps, "after")->pr_line, 4);
    ck_assert_int_eq(find_prop(&ps, "crlf")->pr_line, 5);
    ck_assert_int_eq(find_prop(&ps, "next")->pr_line, 8);
    ck_assert_int_eq(find_prop(&ps, "cr.only")->pr_line, 9);
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_later_keys_override)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    parse_ok(&ps, "port=1\nname=a\nport=2\n");
    parse_ok(&ps, "\nport=3\n"); /* a second parse into the same set also overrides */
    assert_prop(&ps, "port", "3");
    assert_prop(&ps, "name", "a");
    ck_assert_uint_eq(ps.ps_count, 2);
    ck_assert_int_eq(find_prop(&ps, "port")->pr_line, 2);
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_parse_errors)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    const char *t1 = "ok=1\nname=\\u12G4\n";
    ck_assert_int_eq(eddy_props_parse(&ps, "b.properties", t1, strlen(t1), errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "b.properties:2:");
    assert_contains(errstr, "name");
    assert_contains(errstr, "\\uXXXX");
    eddy_props_free(&ps);

    /* \u cut short by the end of the value. */
    eddy_props_init(&ps);
    const char *t2 = "a=1\n\nshort=ab\\u12\n";
    ck_assert_int_eq(eddy_props_parse(&ps, "c.properties", t2, strlen(t2), errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "c.properties:3:");
    assert_contains(errstr, "short");
    eddy_props_free(&ps);

    /* A malformed escape in the key names the file and line too. */
    eddy_props_init(&ps);
    const char *t3 = "k\\uZZZZ=1\n";
    ck_assert_int_eq(eddy_props_parse(&ps, "d.properties", t3, strlen(t3), errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "d.properties:1:");
    eddy_props_free(&ps);

    /* A value without a key. */
    eddy_props_init(&ps);
    const char *t4 = "# header\na=1\n  = orphan\n";
    ck_assert_int_eq(eddy_props_parse(&ps, "e.properties", t4, strlen(t4), errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "e.properties:3:");
    assert_contains(errstr, "no key");
    eddy_props_free(&ps);
}
END_TEST

/* Applies text to a fresh struct and returns the result; errstr is set. */
static int apply_text(const char *source, const char *text, tcfg_t *cfg)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    memset(cfg, 0, sizeof *cfg);
    int rc = eddy_props_parse(&ps, source, text, strlen(text), errstr, sizeof errstr);
    ck_assert_msg(rc == 0, "parse failed: %s", errstr);
    rc = eddy_cfg_defaults(tdefs, cfg, errstr, sizeof errstr);
    ck_assert_msg(rc == 0, "defaults failed: %s", errstr);
    errstr[0] = 0;
    rc = eddy_cfg_apply(tdefs, cfg, &ps, errstr, sizeof errstr);
    eddy_props_free(&ps);
    return rc;
}

START_TEST(test_defaults_and_apply)
{
    tcfg_t cfg;
    ck_assert_int_eq(apply_text("t.properties", "", &cfg), 0);
    ck_assert_int_eq(cfg.tc_port, 9092);
    ck_assert_int_eq(cfg.tc_segment_bytes, INT64_C(1073741824));
    ck_assert_int_eq(cfg.tc_enabled, 1);
    ck_assert_double_eq(cfg.tc_ratio, 0.5);
    ck_assert_str_eq(cfg.tc_name, "eddy");
    ck_assert_int_eq(cfg.tc_features, 1 | 4);
    eddy_cfg_free(tdefs, &cfg);
    ck_assert_ptr_null(cfg.tc_name);

    ck_assert_int_eq(apply_text("t.properties",
                                "port=1\nsegment.bytes=5000000000\nenabled=FALSE\nratio=0.25\n"
                                "name=broker one\nfeatures=beta, gamma\nunbounded=-7\n",
                                &cfg),
                     0);
    ck_assert_int_eq(cfg.tc_port, 1);
    ck_assert_int_eq(cfg.tc_segment_bytes, INT64_C(5000000000));
    ck_assert_int_eq(cfg.tc_enabled, 0);
    ck_assert_double_eq(cfg.tc_ratio, 0.25);
    ck_assert_str_eq(cfg.tc_name, "broker one");
    ck_assert_int_eq(cfg.tc_features, 2 | 4);
    ck_assert_int_eq(cfg.tc_unbounded, -7);
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_ptr_nonnull(eddy_cfg_find(tdefs, "ratio"));
    ck_assert_ptr_null(eddy_cfg_find(tdefs, "rati"));
}
END_TEST

START_TEST(test_apply_errors_name_file_line_key)
{
    tcfg_t cfg;
    ck_assert_int_eq(apply_text("broker.properties", "port=1\n\nbogus.key=1\n", &cfg),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "broker.properties:3");
    assert_contains(errstr, "bogus.key");
    assert_contains(errstr, "unknown");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "# c\nport=12x\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "broker.properties:2");
    assert_contains(errstr, "port");
    assert_contains(errstr, "'12x' is not an integer");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "port=\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "integer");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "port=70000\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "broker.properties:1");
    assert_contains(errstr, "port");
    assert_contains(errstr, "70000 is out of range [1, 65535]");
    ck_assert_int_eq(cfg.tc_port, 9092); /* a rejected value leaves the field alone */
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "port=0\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "out of range");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "segment.bytes=99\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "segment.bytes");
    assert_contains(errstr, "out of range");
    eddy_cfg_free(tdefs, &cfg);

    /* An int32 without bounds still cannot hold 5000000000; the message
     * must give the range that actually applies. */
    ck_assert_int_eq(apply_text("broker.properties", "unbounded=5000000000\n", &cfg),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "unbounded");
    assert_contains(errstr, "out of range");
    assert_contains(errstr, "2147483647");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "\n\n\n\nenabled=yes\n", &cfg),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "broker.properties:5");
    assert_contains(errstr, "enabled");
    assert_contains(errstr, "'yes' is not true or false");
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "features=alpha,delta\n", &cfg),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "broker.properties:1");
    assert_contains(errstr, "features");
    assert_contains(errstr, "alpha,delta");
    assert_contains(errstr, "alpha, beta, gamma"); /* the user is told the choices */
    ck_assert_int_eq(cfg.tc_features, 1 | 4);
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(apply_text("broker.properties", "ratio=abc\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "ratio");
    assert_contains(errstr, "not a number");
    eddy_cfg_free(tdefs, &cfg);
    ck_assert_int_eq(apply_text("broker.properties", "ratio=nan\n", &cfg), EDDY_ERR_CONFIG);
    eddy_cfg_free(tdefs, &cfg);
    ck_assert_int_eq(apply_text("broker.properties", "ratio=1.5\n", &cfg), EDDY_ERR_CONFIG);
    assert_contains(errstr, "out of range");
    eddy_cfg_free(tdefs, &cfg);
}
END_TEST

START_TEST(test_bad_default_is_named)
{
    static const eddy_cfg_def_t bad[] = {
        {"x", CFG_INT32, 0, "ten", 0, 0, NULL, NULL},
        {0},
    };
    int32_t x = 0;
    ck_assert_int_eq(eddy_cfg_defaults(bad, &x, errstr, sizeof errstr), EDDY_ERR_CONFIG);
    assert_contains(errstr, "default");
    assert_contains(errstr, "x");
}
END_TEST

/* A real file on disk: errors carry its path. */
static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/eddy-test-config-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

START_TEST(test_load_file)
{
    char *path = write_temp("# broker\nport = 9093\nname=from file\n\nbogus=1\n");
    eddy_props_t ps;
    eddy_props_init(&ps);
    ck_assert_int_eq(eddy_props_load(&ps, path, errstr, sizeof errstr), 0);
    assert_prop(&ps, "port", "9093");
    assert_prop(&ps, "name", "from file");
    tcfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(eddy_cfg_defaults(tdefs, &cfg, errstr, sizeof errstr), 0);
    ck_assert_int_eq(eddy_cfg_apply(tdefs, &cfg, &ps, errstr, sizeof errstr), EDDY_ERR_CONFIG);
    char want[128];
    snprintf(want, sizeof want, "%s:5", path);
    assert_contains(errstr, want);
    assert_contains(errstr, "bogus");
    eddy_cfg_free(tdefs, &cfg);
    eddy_props_free(&ps);
    unlink(path);
    free(path);

    /* A parse error in a file names the file and line as well. */
    path = write_temp("a=1\nb=\\uqqqq\n");
    eddy_props_init(&ps);
    ck_assert_int_eq(eddy_props_load(&ps, path, errstr, sizeof errstr), EDDY_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2:", path);
    assert_contains(errstr, want);
    eddy_props_free(&ps);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_load_missing_or_not_a_file)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    const char *missing = "/nonexistent-eddy-dir/broker.properties";
    ck_assert_int_eq(eddy_props_load(&ps, missing, errstr, sizeof errstr), -ENOENT);
    assert_contains(errstr, missing);
    assert_contains(errstr, strerror(ENOENT));
    ck_assert_uint_eq(ps.ps_count, 0);

    ck_assert_int_eq(eddy_props_load(&ps, "/tmp", errstr, sizeof errstr), EDDY_ERR_CONFIG);
    assert_contains(errstr, "/tmp");
    assert_contains(errstr, "regular file");
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_props_set)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    parse_ok(&ps, "port=1\n");
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "port=2345", errstr, sizeof errstr), 0);
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "name=a=b", errstr, sizeof errstr), 0);
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "ratio=", errstr, sizeof errstr), 0);
    assert_prop(&ps, "port", "2345");
    assert_prop(&ps, "name", "a=b"); /* split at the first '=' */
    assert_prop(&ps, "ratio", "");
    ck_assert_int_eq(find_prop(&ps, "port")->pr_line, 0);
    ck_assert_str_eq(find_prop(&ps, "port")->pr_source, "--set");

    /* An override's error names where it came from. */
    tcfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(eddy_cfg_defaults(tdefs, &cfg, errstr, sizeof errstr), 0);
    ck_assert_int_eq(eddy_cfg_apply(tdefs, &cfg, &ps, errstr, sizeof errstr), EDDY_ERR_CONFIG);
    assert_contains(errstr, "--set: ratio:");
    ck_assert_int_eq(cfg.tc_port, 2345);
    eddy_cfg_free(tdefs, &cfg);

    ck_assert_int_eq(eddy_props_set(&ps, "--set", "noequals", errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "--set");
    assert_contains(errstr, "'noequals' is not key=value");
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "=value", errstr, sizeof errstr),
                     EDDY_ERR_CONFIG);
    assert_contains(errstr, "'=value'");
    ck_assert_uint_eq(ps.ps_count, 3);
    eddy_props_free(&ps);
}
END_TEST

START_TEST(test_format_roundtrip)
{
    tcfg_t a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(eddy_cfg_defaults(tdefs, &a, errstr, sizeof errstr), 0);
    a.tc_port = 65535;
    a.tc_segment_bytes = INT64_C(987654321012345);
    a.tc_enabled = 0;
    a.tc_ratio = 0.123456789012;
    free(a.tc_name);
    a.tc_name = strdup("a name, with: punctuation = ok");
    a.tc_features = 1 | 2 | 4;
    a.tc_unbounded = INT32_MIN;

    char text[256], again[256];
    for (const eddy_cfg_def_t *d = tdefs; d->cd_name; d++) {
        eddy_cfg_format(d, &a, text, sizeof text);
        ck_assert_msg(eddy_cfg_set(tdefs, &b, d->cd_name, text, "roundtrip", errstr,
                                   sizeof errstr) == 0,
                      "%s: '%s' does not parse back: %s", d->cd_name, text, errstr);
        eddy_cfg_format(d, &b, again, sizeof again);
        ck_assert_str_eq(again, text);
    }
    ck_assert_int_eq(b.tc_port, a.tc_port);
    ck_assert_int_eq(b.tc_segment_bytes, a.tc_segment_bytes);
    ck_assert_int_eq(b.tc_enabled, a.tc_enabled);
    ck_assert_double_eq(b.tc_ratio, a.tc_ratio);
    ck_assert_str_eq(b.tc_name, a.tc_name);
    ck_assert_int_eq(b.tc_features, a.tc_features);
    ck_assert_int_eq(b.tc_unbounded, a.tc_unbounded);

    /* Known text for the simple cases. */
    eddy_cfg_format(eddy_cfg_find(tdefs, "enabled"), &a, text, sizeof text);
    ck_assert_str_eq(text, "false");
    eddy_cfg_format(eddy_cfg_find(tdefs, "features"), &a, text, sizeof text);
    ck_assert_str_eq(text, "alpha,beta,gamma");
    a.tc_features = 0;
    eddy_cfg_format(eddy_cfg_find(tdefs, "features"), &a, text, sizeof text);
    ck_assert_str_eq(text, "");
    eddy_cfg_format(eddy_cfg_find(tdefs, "segment.bytes"), &a, text, sizeof text);
    ck_assert_str_eq(text, "987654321012345");
    a.tc_ratio = 0.25;
    eddy_cfg_format(eddy_cfg_find(tdefs, "ratio"), &a, text, sizeof text);
    ck_assert_str_eq(text, "0.25");
    eddy_cfg_free(tdefs, &a);
    eddy_cfg_free(tdefs, &b);
}
END_TEST

/* CFG_ENUM: exactly one of the names, stored as its index, formatted back;
 * a list or an unknown name is an error naming the choices. */
START_TEST(test_enum)
{
    static const char *const types[] = {"uncompressed", "gzip", "producer", NULL};
    struct {
        int e;
    } obj;
    const eddy_cfg_def_t defs[] = {
        {"compression.type", CFG_ENUM, 0, "producer", 0, 0, types, "codec"},
        {0},
    };
    ck_assert_int_eq(eddy_cfg_defaults(defs, &obj, errstr, sizeof errstr), 0);
    ck_assert_int_eq(obj.e, 2);
    ck_assert_int_eq(
        eddy_cfg_set(defs, &obj, "compression.type", "gzip", "t", errstr, sizeof errstr), 0);
    ck_assert_int_eq(obj.e, 1);
    char out[64];
    eddy_cfg_format(&defs[0], &obj, out, sizeof out);
    ck_assert_str_eq(out, "gzip");
    ck_assert_int_eq(eddy_cfg_set(defs, &obj, "compression.type", "gzip,producer", "t", errstr,
                                  sizeof errstr),
                     EDDY_ERR_CONFIG);
    ck_assert_int_eq(obj.e, 1);
    ck_assert_ptr_nonnull(strstr(errstr, "is not one of {uncompressed, gzip, producer}"));
    ck_assert_int_eq(eddy_cfg_set(defs, &obj, "compression.type", "zip", "t", errstr,
                                  sizeof errstr),
                     EDDY_ERR_CONFIG);
}
END_TEST

TCase *tcase_config(void)
{
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_comments_and_separators);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_continuation_and_line_endings);
    tcase_add_test(tc, test_later_keys_override);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_defaults_and_apply);
    tcase_add_test(tc, test_apply_errors_name_file_line_key);
    tcase_add_test(tc, test_bad_default_is_named);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_load_missing_or_not_a_file);
    tcase_add_test(tc, test_props_set);
    tcase_add_test(tc, test_format_roundtrip);
    tcase_add_test(tc, test_enum);
    return tc;
}
