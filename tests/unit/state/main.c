#include "check_helpers.h"

TCase *tcase_store_cache(void);
TCase *tcase_store_hooks(void);
TCase *tcase_store_range(void);
TCase *tcase_store_restore(void);
TCase *tcase_store_restore_batch(void);
TCase *tcase_env_commit(void);
TCase *tcase_env_growth(void);
TCase *tcase_env_threads(void);
TCase *tcase_env_files(void);
TCase *tcase_window_store(void);
TCase *tcase_session_store(void);
TCase *tcase_store_keys(void);

int main(void)
{
    Suite *s = suite_create("state");
    suite_add_tcase(s, tcase_store_cache());
    suite_add_tcase(s, tcase_store_hooks());
    suite_add_tcase(s, tcase_store_range());
    suite_add_tcase(s, tcase_store_restore());
    suite_add_tcase(s, tcase_store_restore_batch());
    suite_add_tcase(s, tcase_env_commit());
    suite_add_tcase(s, tcase_env_growth());
    suite_add_tcase(s, tcase_env_threads());
    suite_add_tcase(s, tcase_env_files());
    suite_add_tcase(s, tcase_window_store());
    suite_add_tcase(s, tcase_session_store());
    suite_add_tcase(s, tcase_store_keys());
    return run_suite(s);
}
