/* fakeflw.c -- see fakeflw.h. A small fake of the Flutterwave v3 API.
 *
 * Choices the real API leaves open here: a charge repeating a known tx_ref
 * answers the existing transaction (no second one); an "error500" charge
 * creates nothing; a "failed" charge is stored and answered with HTTP 200 and
 * data.status "failed"; refunds need a "successful" transaction and an amount
 * within what is left (else 400 "status":"error"); a "failed" refund does not
 * count against the charge. Unknown transactions answer 400 "No transaction was
 * found". Every request to an endpoint counts, authorised or not. */
#include "fakeflw.h"
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TX 512
#define MAX_BODY 65536

struct tx {
    int64_t id;
    char tx_ref[128];
    int64_t cents, refunded;
    char currency[8];
    char status[16];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct MHD_Daemon *daemon_;
static char base_url[64];
static struct tx txs[MAX_TX];
static int ntx;
static int64_t next_refund_id = 5001;
static char next_charge[16], next_refund[16];
static int n_charge, n_verify, n_refund;

struct upload {
    char *p;
    size_t n;
    bool too_big;
};

static struct tx *by_ref(const char *tx_ref)
{
    for (int i = 0; i < ntx; i++)
        if (strcmp(txs[i].tx_ref, tx_ref) == 0) return &txs[i];
    return NULL;
}

static struct tx *by_id(int64_t id)
{
    for (int i = 0; i < ntx; i++)
        if (txs[i].id == id) return &txs[i];
    return NULL;
}

static json_t *tx_json(const struct tx *t)
{
    char flw_ref[48];
    snprintf(flw_ref, sizeof flw_ref, "FLW-MOCK-%lld", (long long)t->id);
    return json_pack("{s:I, s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "id", (json_int_t)t->id, "tx_ref", t->tx_ref,
                     "flw_ref", flw_ref, "amount", (double)t->cents / 100.0, "charged_amount",
                     (double)t->cents / 100.0, "currency", t->currency, "status", t->status, "processor_response",
                     strcmp(t->status, "failed") == 0 ? "Declined" : "Approved");
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result fail_json(struct MHD_Connection *c, unsigned code, const char *message)
{
    return send_json(c, code, json_pack("{s:s, s:s, s:n}", "status", "error", "message", message, "data"));
}

static enum MHD_Result success(struct MHD_Connection *c, const char *message, json_t *data)
{
    return send_json(c, 200, json_pack("{s:s, s:s, s:o}", "status", "success", "message", message, "data", data));
}

static void take(char *slot, const char *dflt, char *out, size_t n)
{
    snprintf(out, n, "%s", slot[0] ? slot : dflt);
    slot[0] = 0;
}

static enum MHD_Result do_charge(struct MHD_Connection *c, json_t *body)
{
    const char *token, *currency, *tx_ref, *email = NULL;
    json_t *amount;
    char status[16];
    if (json_unpack(body, "{s:s, s:s, s:o, s:s, s?s}", "token", &token, "currency", &currency, "amount", &amount,
                    "tx_ref", &tx_ref, "email", &email) < 0 || !json_is_number(amount) || !*token ||
        strlen(tx_ref) >= sizeof txs[0].tx_ref || strlen(currency) >= sizeof txs[0].currency)
        return fail_json(c, 400, "Invalid charge request");
    pthread_mutex_lock(&mu);
    take(next_charge, "successful", status, sizeof status);
    struct tx *t = by_ref(tx_ref);
    if (!t && strcmp(status, "error500") != 0 && ntx < MAX_TX) {
        t = &txs[ntx];
        t->id = 1001 + ntx++;
        snprintf(t->tx_ref, sizeof t->tx_ref, "%s", tx_ref);
        snprintf(t->currency, sizeof t->currency, "%s", currency);
        snprintf(t->status, sizeof t->status, "%s", status);
        t->cents = llround(json_number_value(amount) * 100.0);
        t->refunded = 0;
    }
    json_t *data = t ? tx_json(t) : NULL;
    pthread_mutex_unlock(&mu);
    if (!data) return fail_json(c, 500, "Internal server error");
    return success(c, strcmp(status, "successful") == 0 ? "Charge successful" : "Charge initiated", data);
}

static enum MHD_Result do_verify(struct MHD_Connection *c, int64_t id, const char *tx_ref)
{
    pthread_mutex_lock(&mu);
    struct tx *t = tx_ref ? by_ref(tx_ref) : by_id(id);
    json_t *data = t ? tx_json(t) : NULL;
    pthread_mutex_unlock(&mu);
    if (!data) return fail_json(c, 400, "No transaction was found for this id");
    return success(c, "Transaction fetched successfully", data);
}

static enum MHD_Result do_refund(struct MHD_Connection *c, int64_t id, json_t *body)
{
    char status[16], msg[64] = "";
    json_t *amount = json_object_get(body, "amount"), *data = NULL;
    if (!json_is_number(amount)) return fail_json(c, 400, "amount is required");
    int64_t cents = llround(json_number_value(amount) * 100.0);
    pthread_mutex_lock(&mu);
    take(next_refund, "completed", status, sizeof status);
    struct tx *t = by_id(id);
    if (strcmp(status, "error500") == 0) snprintf(msg, sizeof msg, "Internal server error");
    else if (!t) snprintf(msg, sizeof msg, "No transaction was found for this id");
    else if (strcmp(t->status, "successful") != 0) snprintf(msg, sizeof msg, "Transaction is not successful");
    else if (cents <= 0 || t->refunded + cents > t->cents) snprintf(msg, sizeof msg, "Refund amount is too high");
    else {
        if (strcmp(status, "failed") != 0) t->refunded += cents;
        data = json_pack("{s:I, s:I, s:s, s:f, s:s}", "id", (json_int_t)next_refund_id++, "tx_id", (json_int_t)t->id,
                         "flw_ref", "URF_MOCK", "amount_refunded", (double)cents / 100.0, "status", status);
    }
    pthread_mutex_unlock(&mu);
    if (!data) return fail_json(c, strcmp(status, "error500") == 0 ? 500 : 400, msg);
    return success(c, "Transaction refund initiated", data);
}

static bool authorised(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return h && strcmp(h, "Bearer " FAKEFLW_SECRET_KEY) == 0;
}

static enum MHD_Result route(struct MHD_Connection *c, const char *method, const char *url, struct upload *u)
{
    long long id = 0;
    char tail[16] = "";
    int *counter = NULL;
    bool post = strcmp(method, "POST") == 0;
    if (post && strcmp(url, "/v3/tokenized-charges") == 0) counter = &n_charge;
    else if (!post && strcmp(url, "/v3/transactions/verify_by_reference") == 0) counter = &n_verify;
    else if (sscanf(url, "/v3/transactions/%lld/%15s", &id, tail) == 2 && id > 0) {
        if (!post && strcmp(tail, "verify") == 0) counter = &n_verify;
        else if (post && strcmp(tail, "refund") == 0) counter = &n_refund;
    }
    if (!counter) return fail_json(c, 404, "Not found");
    pthread_mutex_lock(&mu);
    (*counter)++;
    pthread_mutex_unlock(&mu);
    if (!authorised(c)) return fail_json(c, 401, "Invalid authorization key");
    if (!post) {
        const char *ref = id ? NULL : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tx_ref");
        if (!id && !ref) return fail_json(c, 400, "tx_ref is required");
        return do_verify(c, id, ref);
    }
    json_t *body = u->p && !u->too_big ? json_loadb(u->p, u->n, 0, NULL) : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return fail_json(c, 400, "Invalid JSON body");
    }
    enum MHD_Result rc = counter == &n_charge ? do_charge(c, body) : do_refund(c, id, body);
    json_decref(body);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **state)
{
    struct upload *u = *state;
    if (!u) {
        *state = calloc(1, sizeof *u);
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        if (u->n + *size > MAX_BODY) u->too_big = true;
        else {
            u->p = realloc(u->p, u->n + *size + 1);
            memcpy(u->p + u->n, data, *size);
            u->n += *size;
            u->p[u->n] = 0;
        }
        *size = 0;
        return MHD_YES;
    }
    return route(c, method, url, u);
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe)
{
    struct upload *u = *state;
    if (u) free(u->p);
    free(u);
    *state = NULL;
}

const char *fakeflw_start(void)
{
    pthread_mutex_lock(&mu);
    if (!daemon_) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                   on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                   MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
        const union MHD_DaemonInfo *info = daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (info) snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u", (unsigned)info->port);
        else fprintf(stderr, "fakeflw: cannot start the fake Flutterwave\n");
    }
    pthread_mutex_unlock(&mu);
    setenv("ATRIUM_FLUTTERWAVE_SECRET_KEY", FAKEFLW_SECRET_KEY, 1);
    setenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH", FAKEFLW_WEBHOOK_HASH, 1);
    setenv("ATRIUM_FLUTTERWAVE_BASE_URL", base_url, 1);
    return base_url;
}

void fakeflw_stop(void)
{
    pthread_mutex_lock(&mu);
    struct MHD_Daemon *d = daemon_;
    daemon_ = NULL;
    pthread_mutex_unlock(&mu);
    if (d) MHD_stop_daemon(d);
    pthread_mutex_lock(&mu);
    ntx = n_charge = n_verify = n_refund = 0;
    next_refund_id = 5001;
    next_charge[0] = next_refund[0] = 0;
    base_url[0] = 0;
    pthread_mutex_unlock(&mu);
}

void fakeflw_next_charge(const char *status)
{
    pthread_mutex_lock(&mu);
    snprintf(next_charge, sizeof next_charge, "%s", status ? status : "");
    pthread_mutex_unlock(&mu);
}

void fakeflw_next_refund(const char *status)
{
    pthread_mutex_lock(&mu);
    snprintf(next_refund, sizeof next_refund, "%s", status ? status : "");
    pthread_mutex_unlock(&mu);
}

void fakeflw_set_status(const char *tx_ref, const char *status)
{
    pthread_mutex_lock(&mu);
    struct tx *t = by_ref(tx_ref);
    if (t) snprintf(t->status, sizeof t->status, "%s", status);
    pthread_mutex_unlock(&mu);
}

int fakeflw_count(const char *what)
{
    pthread_mutex_lock(&mu);
    int n = strcmp(what, "charge") == 0 ? n_charge : strcmp(what, "verify") == 0 ? n_verify
          : strcmp(what, "refund") == 0 ? n_refund : 0;
    pthread_mutex_unlock(&mu);
    return n;
}

int64_t fakeflw_tx_id(const char *tx_ref)
{
    pthread_mutex_lock(&mu);
    struct tx *t = by_ref(tx_ref);
    int64_t id = t ? t->id : 0;
    pthread_mutex_unlock(&mu);
    return id;
}

char *fakeflw_webhook_body(const char *tx_ref)
{
    pthread_mutex_lock(&mu);
    struct tx *t = by_ref(tx_ref);
    json_t *data = t ? tx_json(t) : NULL;
    pthread_mutex_unlock(&mu);
    if (!data) return NULL;
    json_t *ev = json_pack("{s:s, s:o}", "event", "charge.completed", "data", data);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return text;
}
