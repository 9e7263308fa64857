#include "check_helpers.h"

TCase *tcase_builder(void);
TCase *tcase_builder_errors(void);
TCase *tcase_serde(void);
TCase *tcase_formats(void);
TCase *tcase_msgpack(void);
TCase *tcase_windows(void);

int main(void)
{
    Suite *s = suite_create("dsl");
    suite_add_tcase(s, tcase_builder());
    suite_add_tcase(s, tcase_builder_errors());
    suite_add_tcase(s, tcase_serde());
    suite_add_tcase(s, tcase_formats());
    suite_add_tcase(s, tcase_msgpack());
    suite_add_tcase(s, tcase_windows());
    return run_suite(s);
}
