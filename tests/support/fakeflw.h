/* fakeflw.h -- an in-process fake of the Flutterwave v3 API for tests
 * (libmicrohttpd on loopback): POST /v3/tokenized-charges,
 * GET /v3/transactions/{id}/verify, GET /v3/transactions/verify_by_reference,
 * POST /v3/transactions/{id}/refund, with an in-memory transaction table
 * (ids from 1001). Requests without "Authorization: Bearer FAKEFLW_SECRET_KEY"
 * get 401 {"status":"error","message":"Invalid authorization key"}. */
#ifndef ATRIUM_FAKEFLW_H
#define ATRIUM_FAKEFLW_H
#include <stdint.h>

#define FAKEFLW_SECRET_KEY "FLWSECK_TEST-fake-key"
#define FAKEFLW_WEBHOOK_HASH "fake-verif-hash"
/* Start (once per process) and set ATRIUM_FLUTTERWAVE_SECRET_KEY, _WEBHOOK_HASH and _BASE_URL to it. */
const char *fakeflw_start(void);          /* base URL "http://127.0.0.1:PORT" */
void fakeflw_stop(void);
void fakeflw_next_charge(const char *status);   /* once: "successful" (default), "pending", "failed", "error500" */
void fakeflw_next_refund(const char *status);   /* once: "completed" (default), "pending", "failed", "error500" */
void fakeflw_set_status(const char *tx_ref, const char *status);  /* e.g. a pending charge becomes "successful" */
int fakeflw_count(const char *what);       /* requests seen: "charge", "verify", "refund" */
int64_t fakeflw_tx_id(const char *tx_ref); /* the fake's transaction id for our reference, 0 if none */
/* A charge.completed webhook body for the fake's transaction with that tx_ref (malloc'd JSON text). */
char *fakeflw_webhook_body(const char *tx_ref);
#endif
