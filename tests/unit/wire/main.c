#include "check_helpers.h"

TCase *tcase_recordbatch(void);
TCase *tcase_codec(void);
TCase *tcase_proto(void);
TCase *tcase_api_versions(void);
TCase *tcase_api_metadata(void);
TCase *tcase_api_produce(void);
TCase *tcase_api_fetch(void);
TCase *tcase_api_list_offsets(void);
TCase *tcase_api_admin(void);
TCase *tcase_api_group(void);
TCase *tcase_client_api(void);
TCase *tcase_client_sasl(void);
TCase *tcase_frame(void);
TCase *tcase_api_txn(void);

int main(void)
{
    Suite *s = suite_create("wire");
    suite_add_tcase(s, tcase_recordbatch());
    suite_add_tcase(s, tcase_codec());
    suite_add_tcase(s, tcase_proto());
    suite_add_tcase(s, tcase_api_versions());
    suite_add_tcase(s, tcase_api_metadata());
    suite_add_tcase(s, tcase_api_produce());
    suite_add_tcase(s, tcase_api_fetch());
    suite_add_tcase(s, tcase_api_list_offsets());
    suite_add_tcase(s, tcase_api_admin());
    suite_add_tcase(s, tcase_api_group());
    suite_add_tcase(s, tcase_client_api());
    suite_add_tcase(s, tcase_client_sasl());
    suite_add_tcase(s, tcase_frame());
    suite_add_tcase(s, tcase_api_txn());
    return run_suite(s);
}
