/* The P2P protocol in process: this server is a hub (ATRIUM_NODE_TYPE=hub,
 * hub 1 of the fixture) and the test plays a store node. Signatures are
 * computed here independently of p2p.c (libsodium HMAC-SHA256 over
 * METHOD\nPATH\nTIMESTAMP\nBODY); outbound delivery is checked against an
 * unreachable port and against a tiny fake peer served from a thread. */
#include "support/fixture.h"
#include "apps/codepop/codepop.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HUB_NODE   "6f1c2d3e-0000-4000-8000-00000000a001"
#define STORE_NODE "6f1c2d3e-0000-4000-8000-00000000b001"
#define SECRET     "bootstrap-secret-for-tests"
#define EVENTS     "/api/v1/codepop/p2p/events"
#define REGISTER   "/api/v1/codepop/p2p/nodes/register"

static void hub_start(void)
{
    setenv("ATRIUM_NODE_TYPE", "hub", 1);
    setenv("ATRIUM_NODE_ID", HUB_NODE, 1);
    setenv("ATRIUM_NODE_URL", "http://127.0.0.1:9", 1);
    setenv("ATRIUM_NODE_HUB_ID", "1", 1);
    setenv("ATRIUM_P2P_SECRET", SECRET, 1);
    setenv("ATRIUM_P2P_MAX_ATTEMPTS", "2", 1);
    cp_start();
}

TestSuite(p2p, .init = hub_start, .fini = srv_stop);

/* ---------------------------------------------------------------- helpers */

static void sign(const char *key, const char *path, long long ts, const char *body, char out[65])
{
    char *msg = xasprintf("POST\n%s\n%lld\n%s", path, ts, body);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    free(msg);
}

/* POST body signed by `node` with `key` at time ts (0 = now). */
static struct resp *signed_post(const char *path, const char *node, const char *key, long long ts, const char *body)
{
    char sig[65], h1[128], h2[64], h3[128];
    if (!ts) ts = (long long)time(NULL);
    sign(key, path, ts, body, sig);
    snprintf(h1, sizeof h1, "X-Atrium-Node: %s", node);
    snprintf(h2, sizeof h2, "X-Atrium-Timestamp: %lld", ts);
    snprintf(h3, sizeof h3, "X-Atrium-Signature: %s", sig);
    const char *const headers[] = {h1, h2, h3, NULL};
    return api_h("POST", path, NULL, body, headers);
}

static char *reg_body(const char *node, const char *url, int store_id)
{
    return xasprintf("{\"node_id\":\"%s\",\"node_type\":\"store\",\"url\":\"%s\",\"store_id\":%d,\"timestamp\":%lld}",
                     node, url, store_id, (long long)time(NULL));
}

/* Register a store node and return its credential (malloc'd). */
static char *register_store(const char *node, const char *url, int store_id)
{
    char *body = reg_body(node, url, store_id);
    struct resp *r = signed_post(REGISTER, node, SECRET, 0, body);
    cr_assert_eq(r->status, 201, "register: %s", r->body);
    char *cred = xstrdup(json_string_value(json_object_get(r->json, "credential")));
    resp_free(r);
    free(body);
    return cred;
}

static char *event_json(const char *event_id, const char *type, const char *payload)
{
    return xasprintf("{\"event_id\":\"%s\",\"event_type\":\"%s\",\"source_node_id\":\"%s\","
                     "\"created_at\":\"2026-01-01T00:00:00Z\",\"payload\":%s}", event_id, type, STORE_NODE, payload);
}

#define REQ_UUID "11111111-2222-4333-8444-555555555555"
static const char *supply_payload =
    "{\"uuid\":\"" REQ_UUID "\",\"store_id\":1,\"status\":\"pending\",\"urgency\":\"HIGH\",\"notes\":\"\","
    "\"items\":[{\"item_name\":\"Cola Syrup\",\"item_type\":\"Syrups\",\"quantity\":40}],"
    "\"created_at\":\"2026-01-01T00:00:00Z\",\"requested_by\":7}";

static char *run_job(const char *name)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), name, &result), 0, "%s: %s", name, result ? result : "?");
    return result;
}

static void emit(int64_t store_id, const char *type)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(codepop_emit(db, store_id, type, json_pack("{s:I, s:s}", "store_id", (json_int_t)store_id, "uuid",
                                                            "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")), 0);
    cr_assert_eq(db_commit(db), 0);
}

/* ----------------------------------------------------------- registration */

Test(p2p, register_with_the_bootstrap_secret)
{
    char *cred = register_store(STORE_NODE, "http://127.0.0.1:1", 1);
    cr_assert_eq(strlen(cred), 64);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes WHERE node_id = '" STORE_NODE "' AND store_id = 1 "
                            "AND node_type = 'store' AND status = 'active'"), 1);
    char *stored = db_text(test_db(), "SELECT credential FROM codepop_nodes WHERE node_id = $1", DB_S(STORE_NODE));
    cr_assert(stored && !strstr(stored, cred), "credential is stored sealed");
    free(stored);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.node.registered'"), 1);

    /* the answer names the hub */
    char *body = reg_body(STORE_NODE, "http://127.0.0.1:2", 1);
    struct resp *r = signed_post(REGISTER, STORE_NODE, SECRET, 0, body);
    cr_assert_eq(r->status, 201);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "node_id")), HUB_NODE);
    const char *rotated = json_string_value(json_object_get(r->json, "credential"));
    cr_assert_str_neq(rotated, cred, "registering again rotates the credential");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes WHERE url = 'http://127.0.0.1:2'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.node.credential_rotated'"), 1);

    /* the old credential no longer signs anything */
    char *ev = event_json("9a9a9a9a-0000-4000-8000-000000000001", "SOMETHING_NEW", "{}");
    struct resp *old = signed_post(EVENTS, STORE_NODE, cred, 0, ev);
    cr_assert_eq(old->status, 401);
    struct resp *now = signed_post(EVENTS, STORE_NODE, rotated, 0, ev);
    cr_assert_eq(now->status, 200, "%s", now->body);
    resp_free(old), resp_free(now), resp_free(r);
    free(ev), free(body), free(cred);
}

Test(p2p, register_refuses_a_wrong_secret_and_bad_bodies)
{
    char *body = reg_body(STORE_NODE, "http://127.0.0.1:1", 1);
    struct resp *r = signed_post(REGISTER, STORE_NODE, "not-the-secret", 0, body);
    cr_assert_eq(r->status, 401);
    cr_assert_str_eq(resp_error_code(r), "invalid_signature");
    resp_free(r);
    r = api("POST", REGISTER, NULL, body);      /* unsigned */
    cr_assert_eq(r->status, 401);
    resp_free(r);
    free(body);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes"), 0);

    body = reg_body(STORE_NODE, "http://127.0.0.1:1", 3);       /* store 3 is hub 2's */
    r = signed_post(REGISTER, STORE_NODE, SECRET, 0, body);
    cr_assert_eq(r->status, 400);
    cr_assert(strstr(r->body, "store_id"), "%s", r->body);
    resp_free(r);
    free(body);
    body = reg_body("not-a-uuid", "http://127.0.0.1:1", 1);
    r = signed_post(REGISTER, "not-a-uuid", SECRET, 0, body);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    free(body);
    body = reg_body(STORE_NODE, "ftp://x", 1);
    r = signed_post(REGISTER, STORE_NODE, SECRET, 0, body);
    cr_assert_eq(r->status, 400);
    cr_assert(strstr(r->body, "url"), "%s", r->body);
    resp_free(r);
    free(body);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes"), 0);
}

/* ------------------------------------------------------------- receiving */

Test(p2p, signed_event_is_applied_once)
{
    char *cred = register_store(STORE_NODE, "http://127.0.0.1:1", 1);
    char *ev = event_json("9a9a9a9a-0000-4000-8000-000000000002", "SUPPLY_REQUEST_CREATED", supply_payload);
    long long now = (long long)time(NULL);
    struct resp *r = signed_post(EVENTS, STORE_NODE, cred, now, ev);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "applied");
    resp_free(r);
    r = signed_post(EVENTS, STORE_NODE, cred, now - 1, ev);     /* the sender's retry: same event, new signature */
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "duplicate");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests WHERE uuid = '" REQ_UUID "' AND "
                            "origin_node_id = '" STORE_NODE "' AND status = 'pending'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_request_items"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_inbox"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes WHERE last_contact_at IS NOT NULL"), 1);
    /* the hub's logistics manager sees it */
    r = api_get("/api/v1/codepop/supply-requests?store_id=1", "cp_log_c");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    resp_free(r);
    free(ev), free(cred);
}

Test(p2p, forged_and_stale_requests_change_nothing)
{
    char *cred = register_store(STORE_NODE, "http://127.0.0.1:1", 1);
    char *ev = event_json("9a9a9a9a-0000-4000-8000-000000000003", "SUPPLY_REQUEST_CREATED", supply_payload);
    const char *cases[][2] = {{STORE_NODE, "0000000000000000000000000000000000000000000000000000000000000000"},
                              {"6f1c2d3e-0000-4000-8000-0000000000ff", NULL},    /* unknown node */
                              {STORE_NODE, SECRET}};                              /* bootstrap key is not a credential */
    for (size_t i = 0; i < 3; i++) {
        struct resp *r = signed_post(EVENTS, cases[i][0], cases[i][1] ? cases[i][1] : cred, 0, ev);
        cr_assert_eq(r->status, 401, "case %zu: %s", i, r->body);
        cr_assert_str_eq(resp_error_code(r), "invalid_signature");
        resp_free(r);
    }
    /* signed, then the body altered */
    char sig[65], h1[128], h2[64], h3[128];
    long long now = (long long)time(NULL);
    sign(cred, EVENTS, now, ev, sig);
    snprintf(h1, sizeof h1, "X-Atrium-Node: %s", STORE_NODE);
    snprintf(h2, sizeof h2, "X-Atrium-Timestamp: %lld", now);
    snprintf(h3, sizeof h3, "X-Atrium-Signature: %s", sig);
    const char *const headers[] = {h1, h2, h3, NULL};
    char *tampered = xstrdup(ev);
    memcpy(strstr(tampered, "\"quantity\":40") + 11, "99", 2);    /* still valid JSON, other bytes */
    struct resp *r = api_h("POST", EVENTS, NULL, tampered, headers);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    /* stale and future timestamps */
    r = signed_post(EVENTS, STORE_NODE, cred, now - 301, ev);
    cr_assert_eq(r->status, 401);
    cr_assert_str_eq(resp_error_code(r), "invalid_signature");
    resp_free(r);
    r = signed_post(EVENTS, STORE_NODE, cred, now + 400, ev);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_inbox"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_seen"), 1, "only the registration's signature");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes WHERE last_contact_at > registered_at"), 0);
    free(tampered), free(ev), free(cred);
}

Test(p2p, replayed_request_is_refused)
{
    char *cred = register_store(STORE_NODE, "http://127.0.0.1:1", 1);
    char *ev = event_json("9a9a9a9a-0000-4000-8000-000000000004", "SUPPLY_REQUEST_CREATED", supply_payload);
    long long now = (long long)time(NULL);
    struct resp *r = signed_post(EVENTS, STORE_NODE, cred, now, ev);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    r = signed_post(EVENTS, STORE_NODE, cred, now, ev);         /* byte for byte the same request */
    cr_assert_eq(r->status, 401);
    cr_assert_str_eq(resp_error_code(r), "replayed");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests"), 1);
    /* a registration replayed is refused too */
    char *body = reg_body(STORE_NODE, "http://127.0.0.1:3", 1);
    r = signed_post(REGISTER, STORE_NODE, SECRET, now, body);
    cr_assert_eq(r->status, 201);
    resp_free(r);
    r = signed_post(REGISTER, STORE_NODE, SECRET, now, body);
    cr_assert_eq(r->status, 401);
    cr_assert_str_eq(resp_error_code(r), "replayed");
    resp_free(r);
    /* the cleanup job forgets signatures older than 10 minutes */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_seen"), 3);
    db_exec(test_db(), "UPDATE codepop_p2p_seen SET seen_at = seen_at - 601 WHERE signature IN "
                       "(SELECT signature FROM codepop_p2p_seen ORDER BY signature LIMIT 2)");
    char *res = run_job("codepop.p2p_cleanup");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_seen"), 1, "%s", res);
    free(res), free(body), free(ev), free(cred);
}

Test(p2p, reports_are_recorded_and_reemitted_and_bad_payloads_retried)
{
    char *cred = register_store(STORE_NODE, "http://127.0.0.1:1", 1);
    char *ev = event_json("9a9a9a9a-0000-4000-8000-000000000005", "INVENTORY_LOW",
                          "{\"store_id\":1,\"item_name\":\"Cups\",\"quantity\":3}");
    struct resp *r = signed_post(EVENTS, STORE_NODE, cred, 0, ev);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = 'INVENTORY_LOW'"), 1);
    free(ev);
    ev = event_json("9a9a9a9a-0000-4000-8000-000000000006", "SOMETHING_NEW", "{\"x\":1}");
    r = signed_post(EVENTS, STORE_NODE, cred, 0, ev);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_inbox"), 2);
    free(ev);
    /* a payload the hub cannot apply: 500, nothing kept, so the sender retries */
    ev = event_json("9a9a9a9a-0000-4000-8000-000000000007", "SUPPLY_REQUEST_CREATED", "{\"uuid\":\"x\"}");
    r = signed_post(EVENTS, STORE_NODE, cred, 0, ev);
    cr_assert_eq(r->status, 500);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_inbox"), 2);
    free(ev);
    /* a body naming another source node */
    ev = event_json("9a9a9a9a-0000-4000-8000-000000000008", "SOMETHING_NEW", "{}");
    char *other = xstrdup(ev);
    memcpy(strstr(other, STORE_NODE), "6f1c2d3e-0000-4000-8000-00000000b002", 36);
    r = signed_post(EVENTS, STORE_NODE, cred, 0, other);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    free(other), free(ev), free(cred);
}

/* ------------------------------------------------------------- fake peer */

struct fake_peer {
    int fd, port, status;           /* status: what to answer */
    volatile int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    int received;
    char bodies[8][2048];
    char headers[8][2048];
};

static void *fake_main(void *arg)
{
    struct fake_peer *f = arg;
    while (!f->stop) {
        struct pollfd p = {.fd = f->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) continue;
        char buf[8192];
        size_t n = 0;
        char *end = NULL;
        long want = -1;
        while (n < sizeof buf - 1) {
            ssize_t got = read(c, buf + n, sizeof buf - 1 - n);
            if (got <= 0) break;
            n += (size_t)got;
            buf[n] = 0;
            if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                char *cl = strcasestr(buf, "Content-Length:");
                want = cl ? strtol(cl + 15, NULL, 10) : 0;
            }
            if (end && (long)(n - (size_t)(end + 4 - buf)) >= want) break;
        }
        pthread_mutex_lock(&f->lock);
        if (end && f->received < 8) {
            *end = 0;
            snprintf(f->headers[f->received], sizeof f->headers[0], "%s", buf);
            snprintf(f->bodies[f->received], sizeof f->bodies[0], "%s", end + 4);
            f->received++;
        }
        int status = f->status;
        pthread_mutex_unlock(&f->lock);
        const char *body = status == 401 ? "{\"error\":{\"code\":\"invalid_signature\"}}" : "{}";
        if (strstr(buf, "POST " REGISTER " ")) {    /* playing the hub: a fresh credential each time */
            status = 201;
            body = "{\"node_id\":\"" HUB_NODE "\",\"node_type\":\"hub\",\"hub_id\":1,\"credential\":"
                   "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
        }
        char resp[512];
        int len = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                           status, strlen(body), body);
        if (write(c, resp, (size_t)len) < 0) {}
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake_peer *f, int status)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    memset(f, 0, sizeof *f);
    f->status = status;
    pthread_mutex_init(&f->lock, NULL);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(f->fd >= 0 && bind(f->fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(f->fd, 16) == 0);
    getsockname(f->fd, (struct sockaddr *)&a, &alen);
    f->port = ntohs(a.sin_port);
    pthread_create(&f->thread, NULL, fake_main, f);
}

static void fake_stop(struct fake_peer *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
    close(f->fd);
}

static const char *header_of(const char *headers, const char *name)
{
    static char v[256];
    const char *p = strcasestr(headers, name);
    cr_assert(p, "no %s header", name);
    p += strlen(name) + 1;
    while (*p == ' ') p++;
    snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "\r\n"), p);
    return v;
}

/* -------------------------------------------------------------- sending */

Test(p2p, events_go_only_to_the_store_node_they_concern)
{
    free(register_store(STORE_NODE, "http://127.0.0.1:1", 1));
    emit(1, "SUPPLY_REQUEST_APPROVED");      /* hub -> store 1's node */
    emit(1, "ORDER_CREATED");                /* stays local */
    emit(1, "INVENTORY_LOW");                /* store -> hub type: a hub does not send it */
    emit(2, "DELIVERY_SCHEDULED");           /* store 2 is no separate node */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE event_type = 'SUPPLY_REQUEST_APPROVED' "
                            "AND target_node_id = '" STORE_NODE "' AND source_node_id = '" HUB_NODE "' "
                            "AND status = 'pending'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic LIKE 'codepop.store.%'"), 4, "realtime always");
}

Test(p2p, unreachable_peer_backs_off_then_fails_and_admin_retries)
{
    free(register_store(STORE_NODE, "http://127.0.0.1:1", 1));
    emit(1, "DELIVERY_SCHEDULED");
    int64_t before = (int64_t)time(NULL);
    char *res = run_job("codepop.p2p_deliver");
    cr_assert_str_eq(res, "delivered 0, retried 1, failed 0");
    free(res);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE status = 'pending' AND attempts = 1 "
                            "AND last_error IS NOT NULL"), 1);
    int64_t next = 0;
    db_int(test_db(), &next, "SELECT next_attempt_at FROM codepop_p2p_events");
    cr_assert(next >= before + 1 && next <= (int64_t)time(NULL) + 3, "backoff 2 s +- jitter, got %lld",
              (long long)(next - before));
    res = run_job("codepop.p2p_deliver");       /* not due yet */
    cr_assert_str_eq(res, "delivered 0, retried 0, failed 0");
    free(res);
    db_exec(test_db(), "UPDATE codepop_p2p_events SET next_attempt_at = 0");
    res = run_job("codepop.p2p_deliver");
    cr_assert_str_eq(res, "delivered 0, retried 0, failed 1");     /* ATRIUM_P2P_MAX_ATTEMPTS=2 */
    free(res);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE status = 'failed' AND attempts = 2"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.p2p_event.failed'"), 1);

    int64_t id = 0;
    db_int(test_db(), &id, "SELECT id FROM codepop_p2p_events");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/codepop/p2p/events/%lld/retry", (long long)id);
    struct resp *r = api_post(path, "cp_log_c", NULL, "{}");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    r = api_post(path, "cp_admin", NULL, "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "pending");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "attempts")), 0);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.p2p_event.retried'"), 1);
    r = api_post(path, "cp_admin", NULL, "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
    r = api_post("/api/v1/codepop/p2p/events/999/retry", "cp_admin", NULL, "{}");
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

Test(p2p, delivery_is_signed_in_order_and_holds_back_after_a_failure)
{
    struct fake_peer f;
    fake_start(&f, 500);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
    char *cred = register_store(STORE_NODE, url, 1);
    emit(1, "SUPPLY_REQUEST_APPROVED");
    emit(1, "DELIVERY_SCHEDULED");
    char *res = run_job("codepop.p2p_deliver");
    cr_assert(!strncmp(res, "delivered 0, retried 1, failed 0", 32), "%s", res);
    free(res);
    cr_assert_eq(f.received, 1, "the second event waits behind the first");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE attempts = 0 AND "
                            "event_type = 'DELIVERY_SCHEDULED'"), 1);
    res = run_job("codepop.p2p_deliver");       /* the first is backing off: the second must not overtake it */
    cr_assert_str_eq(res, "delivered 0, retried 0, failed 0");
    free(res);
    cr_assert_eq(f.received, 1);

    pthread_mutex_lock(&f.lock);
    f.status = 200;
    pthread_mutex_unlock(&f.lock);
    db_exec(test_db(), "UPDATE codepop_p2p_events SET next_attempt_at = 0");
    res = run_job("codepop.p2p_deliver");
    cr_assert_str_eq(res, "delivered 2, retried 0, failed 0");
    free(res);
    fake_stop(&f);
    cr_assert_eq(f.received, 3);
    cr_assert(strstr(f.bodies[1], "SUPPLY_REQUEST_APPROVED") && strstr(f.bodies[2], "DELIVERY_SCHEDULED"));
    cr_assert(strstr(f.headers[2], "POST " EVENTS " HTTP/1.1"));
    cr_assert_str_eq(header_of(f.headers[2], "X-Atrium-Node"), HUB_NODE);
    long long ts = strtoll(header_of(f.headers[2], "X-Atrium-Timestamp"), NULL, 10);
    char want[65];
    sign(cred, EVENTS, ts, f.bodies[2], want);
    cr_assert_str_eq(header_of(f.headers[2], "X-Atrium-Signature"), want);
    json_t *body = json_loads(f.bodies[2], 0, NULL);
    cr_assert(body);
    cr_assert_str_eq(json_string_value(json_object_get(body, "source_node_id")), HUB_NODE);
    cr_assert(json_is_object(json_object_get(body, "payload")));
    json_decref(body);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE status = 'delivered' "
                            "AND processed_at IS NOT NULL"), 2);
    free(cred);
}

/* ------------------------------------------------------- admin and health */

Test(p2p, lists_and_health)
{
    free(register_store(STORE_NODE, "http://127.0.0.1:1", 1));
    emit(1, "SUPPLY_REQUEST_REJECTED");
    struct resp *r = api_get("/api/v1/codepop/p2p/nodes", "cp_admin");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    cr_assert(!strstr(r->body, "credential"), "no credentials in the list: %s", r->body);
    resp_free(r);
    r = api_get("/api/v1/codepop/p2p/nodes", "cp_mgr1");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    r = api_get("/api/v1/codepop/p2p/events?status=pending&event_type=SUPPLY_REQUEST_REJECTED", "cp_admin");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(item, "payload"), "store_id")), 1);
    resp_free(r);
    r = api_get("/api/v1/codepop/p2p/events?status=failed", "cp_admin");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 0);
    resp_free(r);
    r = api_get("/api/v1/codepop/p2p/events?status=bogus", "cp_admin");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = api_get("/api/v1/codepop/p2p/events", "cp_log_c");
    cr_assert_eq(r->status, 403);
    resp_free(r);

    r = api_get("/api/v1/codepop/p2p/health", NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "node_id")), HUB_NODE);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "node_type")), "hub");
    json_t *peers = json_object_get(r->json, "peers"), *outbox = json_object_get(r->json, "outbox");
    cr_assert_eq(json_array_size(peers), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(peers, 0), "node_id")), STORE_NODE);
    cr_assert(json_object_get(json_array_get(peers, 0), "last_contact_at"));
    cr_assert_eq(json_integer_value(json_object_get(outbox, "pending")), 1);
    cr_assert_eq(json_integer_value(json_object_get(outbox, "failed")), 0);
    cr_assert_eq(json_integer_value(json_object_get(outbox, "delivered")), 0);
    resp_free(r);
}

/* ------------------------------------------------------------ store side */

/* A store node whose hub is unreachable at start; the test then points it at
 * a fake hub (codepop_node.hub_url) that registers it and takes its events. */
static void store_start(void)
{
    setenv("ATRIUM_NODE_TYPE", "store", 1);
    setenv("ATRIUM_NODE_ID", STORE_NODE, 1);
    setenv("ATRIUM_NODE_URL", "http://127.0.0.1:9", 1);
    setenv("ATRIUM_NODE_STORE_ID", "1", 1);
    setenv("ATRIUM_HUB_URL", "http://127.0.0.1:1", 1);
    setenv("ATRIUM_P2P_SECRET", SECRET, 1);
    cp_start();
}

TestSuite(p2p_store, .init = store_start, .fini = srv_stop);

Test(p2p_store, registers_late_retargets_and_registers_again_on_401)
{
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes"), 0, "the hub was unreachable at start");
    emit(1, "INVENTORY_LOW");
    emit(1, "SUPPLY_REQUEST_APPROVED");          /* hub -> store type: a store does not send it */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE target_node_id = 'hub'"), 1);

    struct fake_peer f;
    fake_start(&f, 200);
    char *hub_url = xasprintf("http://127.0.0.1:%d", f.port);
    codepop_node.hub_url = hub_url;     /* jobs are off: nothing else reads it now */
    char *res = run_job("codepop.p2p_deliver");
    cr_assert_str_eq(res, "delivered 1, retried 0, failed 0");
    free(res);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_nodes WHERE node_id = '" HUB_NODE "' AND node_type = 'hub' "
                            "AND hub_id = 1"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_p2p_events WHERE target_node_id = '" HUB_NODE "' "
                            "AND status = 'delivered'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.node.registered_with_hub'"), 1);

    /* the hub no longer knows our credential: the store registers again */
    pthread_mutex_lock(&f.lock);
    f.status = 401;
    pthread_mutex_unlock(&f.lock);
    emit(1, "MACHINE_STATUS_CHANGED");
    res = run_job("codepop.p2p_deliver");
    cr_assert_str_eq(res, "delivered 0, retried 1, failed 0");
    free(res);
    fake_stop(&f);
    cr_assert_eq(f.received, 4, "register, event, event, register again");
    cr_assert(strstr(f.headers[0], "POST " REGISTER) && strstr(f.headers[3], "POST " REGISTER));
    cr_assert(strstr(f.bodies[0], "\"store_id\":1") && strstr(f.bodies[0], STORE_NODE));
    char want[65];
    long long ts = strtoll(header_of(f.headers[0], "X-Atrium-Timestamp"), NULL, 10);
    sign(SECRET, REGISTER, ts, f.bodies[0], want);
    cr_assert_str_eq(header_of(f.headers[0], "X-Atrium-Signature"), want, "registration signed with the secret");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.node.registered_with_hub'"), 2);
    struct resp *r = api_get("/api/v1/codepop/p2p/health", NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "node_type")), "store");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r->json, "outbox"), "pending")), 1);
    resp_free(r);
}
