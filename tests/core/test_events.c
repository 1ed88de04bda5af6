/* test_events.c -- the transactional outbox and its dispatcher. */
#include "support/harness.h"
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* A sink that records what it gets (events of type "test.*"); fails while
 * `failing` is set, or always for type "test.poison". */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int calls, delivered, failing;
static char got_id[8][37], got_topic[8][64], got_type[8][64];
static json_t *got_payload[8];

static int rec_deliver(struct db *db, const char *event_id, const char *topic, const char *type, json_t *payload)
{
    int rc = 0;
    pthread_mutex_lock(&rec_lock);
    calls++;
    if (failing || !strcmp(type, "test.poison")) {
        rc = -1;
    } else {
        int i = delivered++;
        if (i < 8) {
            snprintf(got_id[i], sizeof got_id[i], "%s", event_id);
            snprintf(got_topic[i], sizeof got_topic[i], "%s", topic);
            snprintf(got_type[i], sizeof got_type[i], "%s", type);
            got_payload[i] = json_deep_copy(payload);
        }
    }
    pthread_mutex_unlock(&rec_lock);
    return rc;
}

static const struct event_sink rec_sink = {"recorder", "test.", rec_deliver};

static int other_calls;
static int other_deliver(struct db *db, const char *event_id, const char *topic, const char *type, json_t *payload)
{
    __atomic_add_fetch(&other_calls, 1, __ATOMIC_RELAXED);
    return 0;
}
static const struct event_sink other_sink = {"other", "other.", other_deliver};

static int counter(int *v)
{
    pthread_mutex_lock(&rec_lock);
    int n = *v;
    pthread_mutex_unlock(&rec_lock);
    return n;
}

/* Poll cond for up to `secs` seconds. */
#define WAIT_FOR(cond, secs)                                              \
    do {                                                                  \
        for (int w_ = 0; w_ < (secs) * 50 && !(cond); w_++) usleep(20000); \
    } while (0)

static int64_t emit_committed(const char *topic, const char *type, json_t *payload, char event_id[37])
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_emit(db, topic, type, payload), 0);
    int64_t id = 0;
    cr_assert_eq(db_int(db, &id, "SELECT MAX(id) FROM outbox"), 1);
    if (event_id) {
        char *e = db_text(db, "SELECT event_id FROM outbox WHERE id = $1", DB_I(id));
        cr_assert(e);
        snprintf(event_id, 37, "%s", e);
        free(e);
    }
    cr_assert_eq(db_commit(db), 0);
    return id;
}

Test(events, rolled_back_event_never_reaches_outbox) {
    events_add_sink(&rec_sink);
    srv_start();
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_emit(db, "test.topic.1", "test.created", json_pack("{s:i}", "n", 1)), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'test.topic.1'"), 1);
    db_rollback(db);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), 0);
    cr_assert_eq(events_backlog(db), 0);
    cr_assert_eq(events_dispatch_once(db), 0);
    usleep(200000);
    cr_assert_eq(counter(&calls), 0);
    srv_stop();
}

Test(events, emit_outside_transaction_is_refused) {
    srv_start();
    struct db *db = test_db();
    cr_assert_eq(events_emit(db, "test.topic.1", "test.created", json_pack("{s:i}", "n", 1)), -1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), 0);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_emit(db, NULL, "test.created", NULL), -1);
    cr_assert_eq(events_emit(db, "t", "", json_object()), -1);
    db_rollback(db);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), 0);
    srv_stop();
}

Test(events, committed_event_dispatched_exactly_once) {
    srv_start();
    events_add_sink(&rec_sink);         /* a sink added while the dispatcher runs */
    events_add_sink(&rec_sink);         /* twice: still one registration */
    events_add_sink(&other_sink);
    char event_id[37];
    int64_t id = emit_committed("test.topic.7", "test.created", json_pack("{s:i, s:s, s:[i,i]}", "a", 1, "s", "x", "l", 1, 2),
                                event_id);
    WAIT_FOR(counter(&delivered) >= 1 && test_count("SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NOT NULL") == 1, 10);
    cr_assert_eq(counter(&delivered), 1);
    cr_assert_eq(events_dispatch_once(test_db()), 0, "nothing left to dispatch");
    usleep(300000);
    cr_assert_eq(counter(&calls), 1, "delivered exactly once");
    cr_assert_eq(__atomic_load_n(&other_calls, __ATOMIC_RELAXED), 0, "prefix filter");
    cr_assert_str_eq(got_id[0], event_id);
    cr_assert_eq(strlen(event_id), 36);
    cr_assert_str_eq(got_topic[0], "test.topic.7");
    cr_assert_str_eq(got_type[0], "test.created");
    json_t *want = json_pack("{s:i, s:s, s:[i,i]}", "a", 1, "s", "x", "l", 1, 2);
    cr_assert(json_equal(got_payload[0], want));
    json_decref(want);
    json_decref(got_payload[0]);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NOT NULL AND attempts = 0 "
                            "AND last_error IS NULL"), 1);
    char *payload = db_text(test_db(), "SELECT payload FROM outbox WHERE id = $1", DB_I(id));
    cr_assert_str_eq(payload, "{\"a\":1,\"s\":\"x\",\"l\":[1,2]}");
    free(payload);
    cr_assert_eq(events_backlog(test_db()), 0);
    srv_stop();
}

Test(events, failing_sink_leaves_event_pending_until_it_succeeds) {
    failing = 1;
    events_add_sink(&rec_sink);
    srv_start();
    emit_committed("test.topic.2", "test.updated", json_pack("{s:b}", "ok", 1), NULL);
    WAIT_FOR(test_count("SELECT COUNT(*) FROM outbox WHERE attempts >= 1") == 1, 10);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND dispatched_at IS NULL "
                            "AND last_error = 'sink recorder failed'"), 1);
    cr_assert_eq(events_backlog(test_db()), 1);
    cr_assert_eq(counter(&delivered), 0);
    pthread_mutex_lock(&rec_lock);
    failing = 0;
    pthread_mutex_unlock(&rec_lock);
    WAIT_FOR(test_count("SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NOT NULL") == 1, 10);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NOT NULL"), 1, "retried");
    cr_assert_eq(counter(&delivered), 1);
    cr_assert_str_eq(got_type[0], "test.updated");
    json_decref(got_payload[0]);
    cr_assert_eq(events_backlog(test_db()), 0);
    srv_stop();
}

/* Without the dispatcher thread: rounds by hand are deterministic. */
Test(events, dispatch_once_counts_batches_and_backlog) {
    srv_start();
    events_stop();
    events_kick();                      /* no thread: a no-op */
    events_add_sink(&rec_sink);
    struct db *db = test_db();
    failing = 1;
    cr_assert_eq(db_begin(db), 0);
    for (int i = 0; i < 3; i++) cr_assert_eq(events_emit(db, "test.b", "test.n", json_pack("{s:i}", "i", i)), 0);
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(events_backlog(db), 3);
    cr_assert_eq(events_dispatch_once(db), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE attempts = 1 AND dispatched_at IS NULL"), 3);
    cr_assert_eq(events_backlog(db), 3);
    failing = 0;
    cr_assert_eq(events_dispatch_once(db), 3);
    cr_assert_eq(events_backlog(db), 0);
    cr_assert_eq(events_dispatch_once(db), 0);
    cr_assert_eq(delivered, 3);
    for (int i = 0; i < 3; i++) {              /* in id order */
        cr_assert_eq(json_integer_value(json_object_get(got_payload[i], "i")), i);
        json_decref(got_payload[i]);
    }
    /* batches of at most 200 */
    cr_assert_eq(db_begin(db), 0);
    for (int i = 0; i < 450; i++) cr_assert_eq(events_emit(db, "other.b", "other.n", NULL), 0);
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(events_backlog(db), 450);
    cr_assert_eq(events_dispatch_once(db), 200);
    cr_assert_eq(events_dispatch_once(db), 200);
    cr_assert_eq(events_dispatch_once(db), 50);
    cr_assert_eq(events_backlog(db), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE payload = '{}'"), 450);
    /* refused inside a transaction */
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_dispatch_once(db), -1);
    db_rollback(db);
    srv_stop();
}

Test(events, failing_event_does_not_block_fresh_ones) {
    events_add_sink(&rec_sink);
    srv_start();
    emit_committed("test.p", "test.poison", NULL, NULL);
    emit_committed("test.p", "test.fine", NULL, NULL);
    WAIT_FOR(counter(&delivered) >= 1, 10);
    cr_assert_eq(counter(&delivered), 1);
    cr_assert_str_eq(got_type[0], "test.fine");
    json_decref(got_payload[0]);
    WAIT_FOR(test_count("SELECT attempts FROM outbox WHERE type = 'test.poison'") >= 2, 10);
    cr_assert_geq(test_count("SELECT attempts FROM outbox WHERE type = 'test.poison'"), 2, "retried later");
    cr_assert_eq(events_backlog(test_db()), 1);
    srv_stop();
}

Test(events, stop_drains_pending_events) {
    events_add_sink(&rec_sink);
    srv_start();
    emit_committed("test.s", "test.last", NULL, NULL);
    events_stop();                      /* wakes, drains, joins */
    cr_assert_eq(counter(&delivered), 1);
    cr_assert_eq(events_backlog(test_db()), 0);
    json_decref(got_payload[0]);
    events_stop();                      /* twice is harmless */
    srv_stop();
}
