/* Shared helpers for the Check suites. */
#ifndef EDDY_TEST_CHECK_HELPERS_H
#define EDDY_TEST_CHECK_HELPERS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one suite built from the given TCases; returns the process exit code. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
