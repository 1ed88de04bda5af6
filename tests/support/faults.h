/* faults.h -- walking a write request through every database failure:
 * for n = 1, 2, 3... the nth database operation inside the handler fails
 * (db_fault_arm), and each time the answer must be a JSON 5xx with an error
 * code, the database exactly as before (the app's tables, outbox, audit log,
 * idempotency keys, notifications, roles, users), the audit chain intact, and the same request without
 * the fault must then succeed. The walk ends at the first n the request never
 * reaches (it then succeeds with the fault armed). */
#ifndef ATRIUM_TEST_FAULTS_H
#define ATRIUM_TEST_FAULTS_H
#include "harness.h"

struct fault_walk {
    const char *name;
    void (*prepare)(void);                  /* fresh state for one attempt (NULL: none) */
    struct resp *(*send)(const char *key);  /* the request; key: a fresh Idempotency-Key */
    int ok;                                 /* the status of a success */
    const char *tables;                     /* LIKE pattern of the app's tables: "codepop\\_%" */
};

/* Walks every operation (as I/O errors), then every begin and commit as
 * SQLITE_BUSY. Returns the number of faults injected. */
int fault_walk(const struct fault_walk *w);

/* Row count and digest of each table matching `tables` (LIKE, escape \),
 * of outbox (without delivery columns), audit_log and idempotency_keys, one
 * line each; malloc'd. Equal texts: equal contents. */
char *fault_snapshot(const char *tables);

/* A token for the user, issued once per process (each issue is a commit). */
const char *fault_token(const char *username);

/* A "Idempotency-Key: key" header list for api_h (static storage). */
const char *const *fault_key_header(const char *key);
/* POST body to path as a user (fault_token), with the Idempotency-Key key
 * when key != NULL: the send of a walk. */
struct resp *fault_post(const char *path, const char *as, const char *key, const char *body);
#endif
