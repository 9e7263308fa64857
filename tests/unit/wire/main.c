#include "check_helpers.h"

TCase *tcase_recordbatch(void);

int main(void)
{
    Suite *s = suite_create("wire");
    suite_add_tcase(s, tcase_recordbatch());
    return run_suite(s);
}
