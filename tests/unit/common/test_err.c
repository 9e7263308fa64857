/* The error table: every code is distinct, named and explained, and -errno
 * values fall through to the operating system's text. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/err.h"

struct code_row {
    int code;
    const char *name;
};

static const struct code_row codes[] = {
#define ROW(name, n, msg) {EDDY_ERR_##name, "EDDY_ERR_" #name},
    EDDY_ERR_TABLE(ROW)
#undef ROW
};
#define NCODES (sizeof codes / sizeof codes[0])

START_TEST(test_every_code_named_and_explained)
{
    ck_assert_uint_ge(NCODES, 17);
    for (size_t i = 0; i < NCODES; i++) {
        int c = codes[i].code;
        ck_assert_int_lt(c, EDDY_ERR_BASE);
        ck_assert_str_eq(eddy_err_name(c), codes[i].name);
        const char *msg = eddy_strerror(c);
        ck_assert_ptr_nonnull(msg);
        ck_assert_uint_gt(strlen(msg), 0);
        ck_assert_str_ne(msg, "unknown error");
        for (size_t j = 0; j < i; j++) {
            ck_assert_int_ne(c, codes[j].code);
            ck_assert_str_ne(eddy_err_name(c), eddy_err_name(codes[j].code));
            ck_assert_str_ne(msg, eddy_strerror(codes[j].code));
        }
    }
}
END_TEST

START_TEST(test_success)
{
    ck_assert_str_eq(eddy_err_name(0), "EDDY_OK");
    ck_assert_str_eq(eddy_strerror(0), "success");
}
END_TEST

START_TEST(test_errno_maps_to_strerror)
{
    ck_assert_str_eq(eddy_strerror(-ENOENT), strerror(ENOENT));
    ck_assert_str_eq(eddy_err_name(-ENOENT), "ENOENT");
    ck_assert_str_eq(eddy_strerror(-ENOSPC), strerror(ENOSPC));
    ck_assert_str_eq(eddy_err_name(-ENOSPC), "ENOSPC");
    /* An errno without a symbolic entry still gets the OS sentence. */
    ck_assert_str_eq(eddy_strerror(-EPIPE), strerror(EPIPE));
}
END_TEST

START_TEST(test_unknown_code)
{
    /* Below the base but outside the table, and positive values, are not
     * errno values and not Eddy codes. */
    ck_assert_str_eq(eddy_strerror(EDDY_ERR_BASE - 9999), "unknown error");
    ck_assert_str_eq(eddy_err_name(EDDY_ERR_BASE - 9999), "EUNKNOWN");
    ck_assert_str_eq(eddy_strerror(EDDY_ERR_BASE), "unknown error");
    ck_assert_str_eq(eddy_strerror(5), "unknown error");
    ck_assert_str_eq(eddy_err_name(5), "EUNKNOWN");
}
END_TEST

TCase *tcase_err(void)
{
    TCase *tc = tcase_create("err");
    tcase_add_test(tc, test_every_code_named_and_explained);
    tcase_add_test(tc, test_success);
    tcase_add_test(tc, test_errno_maps_to_strerror);
    tcase_add_test(tc, test_unknown_code);
    return tc;
}
