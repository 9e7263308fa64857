/* state/window.c, session stores: key order (end, then start), Kafka's
 * findSessions semantics, expiry, restore and reopen. */
#include "window_helpers.h"

TCase *tcase_session_store(void)
{
    TCase *tc = tcase_create("session_store");
    return tc;
}
