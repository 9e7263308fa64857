#include "check_helpers.h"

TCase *tcase_group_partition(void);
TCase *tcase_broker_config(void);
TCase *tcase_topic_names(void);
TCase *tcase_acl(void);
TCase *tcase_users(void);
TCase *tcase_txn(void);
TCase *tcase_group_txn(void);
TCase *tcase_group_replay(void);

int main(void)
{
    Suite *s = suite_create("broker");
    suite_add_tcase(s, tcase_group_partition());
    suite_add_tcase(s, tcase_broker_config());
    suite_add_tcase(s, tcase_topic_names());
    suite_add_tcase(s, tcase_acl());
    suite_add_tcase(s, tcase_users());
    suite_add_tcase(s, tcase_txn());
    suite_add_tcase(s, tcase_group_txn());
    suite_add_tcase(s, tcase_group_replay());
    return run_suite(s);
}
