/* The SCRAM credential store of the broker: per user and mechanism, the
 * salt, the iteration count, StoredKey and ServerKey (common/scram.h), never
 * the password. Kept in <log.dirs>/scram_credentials (layout and recovery
 * rule at the top of users.c), replaced whole on every change.
 *
 * Loop thread only. Entries are returned as borrowed pointers, valid until
 * the next change to the store.
 */
#ifndef EDDY_BROKER_USERS_H
#define EDDY_BROKER_USERS_H

#include <stddef.h>

#include "common/scram.h"

typedef struct broker_user {
    char *bu_name;       /* owned */
    scram_cred_t bu_cred; /* bu_cred.sc_mech says which mechanism */
} broker_user_t;

typedef struct broker_users {
    char *us_dir; /* owned */
    broker_user_t *us_users;
    int us_n, us_cap;
} broker_users_t;

/* Reads the store (a missing file: no users). A file that does not check
 * fails with a sentence naming it: a guess could let the wrong people in
 * or lock everyone out. */
int broker_users_open(broker_users_t *us, const char *dir, char *errstr, size_t errstr_size);
void broker_users_close(broker_users_t *us);
/* The credential of name for mech, or NULL. */
const scram_cred_t *broker_users_get(const broker_users_t *us, const char *name, int mech);
/* In memory only: broker_users_save() makes the changes durable. */
int broker_users_put(broker_users_t *us, const char *name, const scram_cred_t *cred);
/* 0, or -ENOENT when name has no credential for mech. */
int broker_users_delete(broker_users_t *us, const char *name, int mech);
/* Writes the store: temp file (mode 0600), fsync, rename, fsync dir. On
 * failure the file keeps its old content and the caller reloads it. */
int broker_users_save(const broker_users_t *us);
/* Drops the in-memory state and reads the file again (after a failed save). */
int broker_users_reload(broker_users_t *us, char *errstr, size_t errstr_size);

#endif
