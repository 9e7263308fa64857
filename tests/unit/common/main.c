#include "check_helpers.h"

TCase *tcase_err(void);
TCase *tcase_log(void);
TCase *tcase_varint(void);
TCase *tcase_buf(void);
TCase *tcase_crc32c(void);
TCase *tcase_config(void);
TCase *tcase_tls(void);

int main(void)
{
    Suite *s = suite_create("common");
    suite_add_tcase(s, tcase_err());
    suite_add_tcase(s, tcase_log());
    suite_add_tcase(s, tcase_varint());
    suite_add_tcase(s, tcase_buf());
    suite_add_tcase(s, tcase_crc32c());
    suite_add_tcase(s, tcase_config());
    suite_add_tcase(s, tcase_tls());
    return run_suite(s);
}
