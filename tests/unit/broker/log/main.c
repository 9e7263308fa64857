#include "check_helpers.h"

TCase *tcase_append_read(void);
TCase *tcase_recovery(void);
TCase *tcase_retention(void);
TCase *tcase_compaction(void);
TCase *tcase_flush(void);
TCase *tcase_fdcache(void);
TCase *tcase_ioerrors(void);
TCase *tcase_compressed(void);
TCase *tcase_producer_state(void);
TCase *tcase_txn(void);

int main(void)
{
    Suite *s = suite_create("log");
    suite_add_tcase(s, tcase_append_read());
    suite_add_tcase(s, tcase_recovery());
    suite_add_tcase(s, tcase_retention());
    suite_add_tcase(s, tcase_compaction());
    suite_add_tcase(s, tcase_flush());
    suite_add_tcase(s, tcase_fdcache());
    suite_add_tcase(s, tcase_ioerrors());
    suite_add_tcase(s, tcase_compressed());
    suite_add_tcase(s, tcase_producer_state());
    suite_add_tcase(s, tcase_txn());
    return run_suite(s);
}
