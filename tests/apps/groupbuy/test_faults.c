/* Every groupbuy write workflow with a database failure at each of its steps
 * in turn (tests/support/faults.h): a JSON 5xx, nothing changed, the audit
 * chain intact, the same request succeeding afterwards, and the ledger
 * reconciling at the end (GbTest). Payments go through the sandbox. */
#include "support/fixture.h"
#include "support/faults.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define TABLES "groupbuy\\_%"

TestSuite(groupbuy_faults, .init = gb_start, .fini = gb_stop, .timeout = 120);

static int64_t group, id;      /* the group and the row the walked request acts on */

/* Setup straight in the database, as one transaction (one fsync, not five). */
static void setup_begin(void) { cr_assert_eq(db_begin(test_db()), 0); }
static void setup_commit(void) { cr_assert_eq(db_commit(test_db()), 0); }

/* ------------------------------------------------------ joining and paying */

static void open_group(void) { group = gb_group(1, 10, 60); }
static void unpaid(void)
{
    setup_begin();
    open_group();
    id = gb_contribution(group, "gb_trader1", 2);
    setup_commit();
}

static struct resp *join(const char *key)
{
    return fault_post(pathf(GB "/groups/%lld/join", group), "gb_trader1", key, "{\"quantity\":2}");
}
static struct resp *pay(const char *key)
{
    return fault_post(pathf(GB "/contributions/%lld/pay", id), "gb_trader1", key, "{\"payment_token\":\"tok_success\"}");
}

GbTest(groupbuy_faults, join)
{
    fault_walk(&(struct fault_walk){"join", open_group, join, 201, TABLES});
}

GbTest(groupbuy_faults, pay)
{
    fault_walk(&(struct fault_walk){"pay", unpaid, pay, 200, TABLES});
}

/* ------------------------------------------- completion and the supplier */

/* Two paid contributions (2 + 3) meeting the MOQ of 5, deadline passed. */
static void full_group(void)
{
    setup_begin();
    group = gb_group(1, 5, -5);
    gb_paid(group, "gb_trader1", 2);
    gb_paid(group, "gb_trader2", 3);
    setup_commit();
}

static void pending_order(void)
{
    char why[128];
    setup_begin();
    full_group();
    cr_assert_eq(groupbuy_group_complete(test_db(), group, 0, false, why, sizeof why), 1, "%s", why);
    id = test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", group);
    setup_commit();
}

static void accepted_order(void)
{
    setup_begin();
    pending_order();
    cr_assert_eq(groupbuy_order_accept(test_db(), id, test_user_id("gb_sup1"), NULL), 1);
    setup_commit();
}

static struct resp *complete(const char *key)
{
    return fault_post(pathf(GB "/admin/groups/%lld/complete", group), "gb_admin", key, "{}");
}
static struct resp *accept(const char *key)
{
    return fault_post(pathf(GB "/supplier/orders/%lld/accept", id), "gb_sup1", key, "{}");
}
static struct resp *reject(const char *key)
{
    return fault_post(pathf(GB "/supplier/orders/%lld/reject", id), "gb_sup1", key, "{\"reason\":\"out of rice\"}");
}
static struct resp *process_refunds(const char *key)
{
    return fault_post(pathf(GB "/admin/groups/%lld/process-refunds", group), "gb_admin", key, "{\"reason\":\"goods spoiled\"}");
}

GbTest(groupbuy_faults, complete)
{
    fault_walk(&(struct fault_walk){"complete", full_group, complete, 200, TABLES});
}

GbTest(groupbuy_faults, supplier_accept)
{
    fault_walk(&(struct fault_walk){"accept", pending_order, accept, 200, TABLES});
}

GbTest(groupbuy_faults, supplier_reject)
{
    fault_walk(&(struct fault_walk){"reject", pending_order, reject, 200, TABLES});
}

GbTest(groupbuy_faults, process_refunds)
{
    fault_walk(&(struct fault_walk){"process_refunds", accepted_order, process_refunds, 200, TABLES});
}

/* ---------------------------------------------------------------- pickup */

static char token[65];

static struct resp *mark_ready(const char *key)
{
    return fault_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", group), "gb_admin", key, "{}");
}

static void ready_group(void)
{
    accepted_order();
    struct resp *r = mark_ready(NULL);
    cr_assert_eq(r->status, 200, "setup ready: %d %s", r->status, r->body);
    resp_free(r);
    r = api_get(pathf(GB "/groups/%lld/qr-code?format=json", group), "gb_trader1");
    cr_assert_eq(r->status, 200, "setup qr: %d %s", r->status, r->body);
    snprintf(token, sizeof token, "%s", jstr(r->json, "token"));
    resp_free(r);
}

static struct resp *redeem(const char *key)
{
    char body[128];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    return fault_post(GB "/admin/qr/verify", "gb_admin", key, body);
}

GbTest(groupbuy_faults, mark_ready)
{
    fault_walk(&(struct fault_walk){"mark_ready", accepted_order, mark_ready, 200, TABLES});
}

GbTest(groupbuy_faults, qr_redeem)
{
    fault_walk(&(struct fault_walk){"qr_redeem", ready_group, redeem, 200, TABLES});
}
