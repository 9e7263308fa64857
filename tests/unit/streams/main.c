#include "check_helpers.h"

TCase *tcase_task_assignor(void);
TCase *tcase_combine(void);
TCase *tcase_config_arg(void);
TCase *tcase_pgroup(void);
TCase *tcase_handlers(void);
TCase *tcase_driver(void);
TCase *tcase_app_new(void);

int main(void)
{
    Suite *s = suite_create("streams");
    suite_add_tcase(s, tcase_task_assignor());
    suite_add_tcase(s, tcase_combine());
    suite_add_tcase(s, tcase_config_arg());
    suite_add_tcase(s, tcase_pgroup());
    suite_add_tcase(s, tcase_handlers());
    suite_add_tcase(s, tcase_driver());
    suite_add_tcase(s, tcase_app_new());
    return run_suite(s);
}
