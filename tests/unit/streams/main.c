#include "check_helpers.h"

TCase *tcase_task_assignor(void);

int main(void)
{
    Suite *s = suite_create("streams");
    suite_add_tcase(s, tcase_task_assignor());
    return run_suite(s);
}
