#include "check_helpers.h"

TCase *tcase_partitioner(void);
TCase *tcase_partitioner_rdkafka(void);
TCase *tcase_assignor_protocol(void);
TCase *tcase_assignor_range(void);
TCase *tcase_assignor_roundrobin(void);
TCase *tcase_assignor_plugin(void);
TCase *tcase_assignor_sticky(void);
TCase *tcase_conn(void);
TCase *tcase_compression(void);
TCase *tcase_idempotence(void);
TCase *tcase_sasl_config(void);
TCase *tcase_txn_filter(void);

int main(void)
{
    Suite *s = suite_create("client");
    suite_add_tcase(s, tcase_partitioner());
    suite_add_tcase(s, tcase_partitioner_rdkafka());
    suite_add_tcase(s, tcase_assignor_protocol());
    suite_add_tcase(s, tcase_assignor_range());
    suite_add_tcase(s, tcase_assignor_roundrobin());
    suite_add_tcase(s, tcase_assignor_plugin());
    suite_add_tcase(s, tcase_assignor_sticky());
    suite_add_tcase(s, tcase_conn());
    suite_add_tcase(s, tcase_compression());
    suite_add_tcase(s, tcase_idempotence());
    suite_add_tcase(s, tcase_sasl_config());
    suite_add_tcase(s, tcase_txn_filter());
    return run_suite(s);
}
