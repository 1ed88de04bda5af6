/* Every codepop write workflow with a database failure at each of its steps
 * in turn (tests/support/faults.h): a JSON 5xx, nothing changed, the audit
 * chain intact, and the same request succeeding afterwards. Enumerated
 * values are sent in the case the schema uses (they are being renamed). */
#include "support/fixture.h"
#include "support/faults.h"
#include <stdlib.h>
#include <string.h>

#define P "/api/v1/codepop"
#define TABLES "codepop\\_%"

TestSuite(codepop_faults, .init = cp_start, .fini = srv_stop, .timeout = 120);

static int64_t id;             /* the row the walked request acts on */

/* upper as the schema spells it: as is, or in lowercase. */
static struct resp *post_id(const char *fmt, const char *as, const char *key, const char *body)
{
    return fault_post(pathf(fmt, id), as, key, body);
}

static int64_t created(struct resp *r, int status)
{
    cr_assert_eq(r->status, status, "setup: %d %s", r->status, r->body);
    int64_t v = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    return v;
}

/* ----------------------------------------------------------------- orders */

static void full_stock(void)
{
    const char *items[] = {"Cherry Syrup", "Vanilla Syrup", "Cola Syrup", "Cups"};
    for (int i = 0; i < 4; i++) cp_set_stock(1, items[i], 100);
}

static struct resp *order_create(const char *key)
{
    char body[256];
    snprintf(body, sizeof body, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1},"
                                "{\"drink_id\":2,\"quantity\":2}],\"pickup_time\":\"%s\"}", time_in(30));
    return fault_post(P "/orders", "cp_user1", key, body);
}

static void new_order(void)
{
    full_stock();
    id = created(order_create(NULL), 201);
}

static void paid_order(void)
{
    new_order();
    struct resp *r = post_id(P "/orders/%lld/pay", "cp_user1", NULL, "{}");
    cr_assert_eq(r->status, 200, "setup pay: %d %s", r->status, r->body);
    resp_free(r);
}

static struct resp *order_pay(const char *key) { return post_id(P "/orders/%lld/pay", "cp_user1", key, "{}"); }
static struct resp *order_cancel(const char *key)
{
    return post_id(P "/orders/%lld/cancel", "cp_user1", key, "{\"reason\":\"changed my mind\"}");
}

Test(codepop_faults, order_create)
{
    fault_walk(&(struct fault_walk){"order_create", full_stock, order_create, 201, TABLES});
}

Test(codepop_faults, order_pay)
{
    fault_walk(&(struct fault_walk){"order_pay", new_order, order_pay, 200, TABLES});
}

Test(codepop_faults, order_cancel_unpaid)
{
    fault_walk(&(struct fault_walk){"order_cancel", new_order, order_cancel, 200, TABLES});
}

Test(codepop_faults, order_cancel_paid)
{
    fault_walk(&(struct fault_walk){"order_cancel_paid", paid_order, order_cancel, 200, TABLES});
}

/* ---------------------------------------------------- supply and deliveries */

static struct resp *supply_create(const char *key)
{
    char body[256];
    snprintf(body, sizeof body, "{\"urgency\":\"%s\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\","
                                "\"quantity\":40},{\"item_name\":\"Cherry Syrup\",\"item_type\":\"Syrups\","
                                "\"quantity\":7}]}", "NORMAL");
    return fault_post(P "/supply-requests", "cp_mgr1", key, body);
}

static void new_supply(void) { id = created(supply_create(NULL), 201); }
static struct resp *supply_approve(const char *key)
{
    return post_id(P "/supply-requests/%lld/approve", "cp_log_c", key, "{}");
}
static struct resp *supply_reject(const char *key)
{
    return post_id(P "/supply-requests/%lld/reject", "cp_log_c", key, "{\"reason\":\"not this week\"}");
}

static struct resp *delivery_to(const char *status, const char *key)
{
    char body[64];
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    return post_id(P "/deliveries/%lld/status", "cp_log_c", key, body);
}

/* An approved request; id becomes its delivery. */
static void scheduled_delivery(void)
{
    new_supply();
    struct resp *r = supply_approve(NULL);
    cr_assert_eq(r->status, 200, "setup approve: %d %s", r->status, r->body);
    id = json_integer_value(json_object_get(json_object_get(r->json, "delivery"), "id"));
    resp_free(r);
}

static void delivery_in_transit(void)
{
    scheduled_delivery();
    struct resp *r = delivery_to("in_transit", NULL);
    cr_assert_eq(r->status, 200, "setup in transit: %d %s", r->status, r->body);
    resp_free(r);
}

static struct resp *delivery_ship(const char *key) { return delivery_to("in_transit", key); }
static struct resp *delivery_deliver(const char *key) { return delivery_to("delivered", key); }
static struct resp *delivery_cancel(const char *key) { return delivery_to("cancelled", key); }

Test(codepop_faults, supply_create)
{
    fault_walk(&(struct fault_walk){"supply_create", NULL, supply_create, 201, TABLES});
}

Test(codepop_faults, supply_approve)
{
    fault_walk(&(struct fault_walk){"supply_approve", new_supply, supply_approve, 200, TABLES});
}

Test(codepop_faults, supply_reject)
{
    fault_walk(&(struct fault_walk){"supply_reject", new_supply, supply_reject, 200, TABLES});
}

Test(codepop_faults, delivery_status)
{
    fault_walk(&(struct fault_walk){"delivery_ship", scheduled_delivery, delivery_ship, 200, TABLES});
    fault_walk(&(struct fault_walk){"delivery_deliver", delivery_in_transit, delivery_deliver, 200, TABLES});
    fault_walk(&(struct fault_walk){"delivery_cancel", scheduled_delivery, delivery_cancel, 200, TABLES});
}

/* ---------------------------------------------------------------- repairs */

static struct resp *repair_create(const char *key)
{
    char body[256];
    snprintf(body, sizeof body, "{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\","
                                "\"action_type\":\"%s\",\"estimated_duration_minutes\":60}",
             date_in(1), "PREVENTIVE_MAINTENANCE");
    return fault_post(P "/repair-schedules", "cp_rep_c", key, body);
}

static void new_repair(void) { id = created(repair_create(NULL), 201); }
static struct resp *repair_start(const char *key)
{
    return post_id(P "/repair-schedules/%lld/start", "cp_rep_c", key, "{}");
}
static struct resp *repair_complete(const char *key)
{
    return post_id(P "/repair-schedules/%lld/complete", "cp_rep_c", key, "{\"notes\":\"belt replaced\"}");
}

static void started_repair(void)
{
    new_repair();
    struct resp *r = repair_start(NULL);
    cr_assert_eq(r->status, 200, "setup start: %d %s", r->status, r->body);
    resp_free(r);
}

Test(codepop_faults, repairs)
{
    fault_walk(&(struct fault_walk){"repair_create", NULL, repair_create, 201, TABLES});
    fault_walk(&(struct fault_walk){"repair_start", new_repair, repair_start, 200, TABLES});
    fault_walk(&(struct fault_walk){"repair_complete", started_repair, repair_complete, 200, TABLES});
}
