/* groupbuy.c -- group buying: its roles, its whole route table (who may call
 * what, in one place), its jobs, and the realtime topics a caller may follow.
 * Handlers live in one file per resource or workflow (groupbuy.h). */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define P GROUPBUY_PREFIX

/* ------------------------------------------------------------------ roles */

static const char *const trader_perms[] = {
    "groupbuy.suppliers.read", "groupbuy.products.read", "groupbuy.groups.read", "groupbuy.groups.join",
    "groupbuy.contributions.read", "groupbuy.contributions.pay", "groupbuy.qr.read", NULL};
/* Scoped to one supplier account: its products, groups, orders and pickups. */
static const char *const supplier_perms[] = {
    "groupbuy.suppliers.read", "groupbuy.products.read", "groupbuy.products.write", "groupbuy.groups.read",
    "groupbuy.groups.create", "groupbuy.supplier_orders.read", "groupbuy.supplier_orders.answer",
    "groupbuy.qr.verify", "groupbuy.balance.read", NULL};
/* The supplier's counter staff: they see orders and scan pickups, no more. */
static const char *const supplier_staff_perms[] = {
    "groupbuy.suppliers.read", "groupbuy.products.read", "groupbuy.groups.read", "groupbuy.supplier_orders.read",
    "groupbuy.qr.verify", NULL};
/* Everything but acting as a trader (join, pay, a trader's QR code) or as a
 * supplier (answering orders). */
static const char *const admin_perms[] = {
    "groupbuy.suppliers.read", "groupbuy.suppliers.manage", "groupbuy.products.read", "groupbuy.products.write",
    "groupbuy.groups.read", "groupbuy.groups.create", "groupbuy.groups.manage", "groupbuy.contributions.read",
    "groupbuy.contributions.read_all", "groupbuy.supplier_orders.read", "groupbuy.qr.verify",
    "groupbuy.refunds.manage", "groupbuy.refunds.read", "groupbuy.balance.read", "groupbuy.ledger.read", NULL};

static const struct role groupbuy_roles[] = {
    {"trader", NULL, NULL, trader_perms},
    {"supplier", NULL, "supplier", supplier_perms},
    {"supplier_staff", NULL, "supplier", supplier_staff_perms},
    {"admin", NULL, NULL, admin_perms},
    {0},
};

/* ----------------------------------------------------------------- routes */

/* The last field lists the query parameters each handler reads (req_query*,
 * req_page); any other is refused. api.json describes them. */

static const struct route groupbuy_routes[] = {
    /* suppliers and products */
    {"GET", P "/suppliers", groupbuy_suppliers_list, "groupbuy.suppliers.read", 0, "page,page_size"},
    {"POST", P "/suppliers", groupbuy_suppliers_create, "groupbuy.suppliers.manage", 0},
    {"GET", P "/products", groupbuy_products_list, "groupbuy.products.read", 0,
     "supplier_id,active,page,page_size"},
    {"GET", P "/products/{id:int}", groupbuy_products_get, "groupbuy.products.read", 0},
    {"POST", P "/products", groupbuy_products_create, "groupbuy.products.write", 0},
    {"PATCH", P "/products/{id:int}", groupbuy_products_patch, "groupbuy.products.write", 0},

    /* group buys and contributions */
    {"POST", P "/groups", groupbuy_groups_create, "groupbuy.groups.create", 0},
    {"GET", P "/groups", groupbuy_groups_list, "groupbuy.groups.read", 0,
     "status,product_id,supplier_id,page,page_size"},
    {"GET", P "/groups/{id:int}", groupbuy_groups_get, "groupbuy.groups.read", 0},
    {"POST", P "/groups/{id:int}/join", groupbuy_groups_join, "groupbuy.groups.join", ROUTE_IDEMPOTENT | ROUTE_ROW_LOCKS},
    {"GET", P "/contributions", groupbuy_contributions_list, "groupbuy.contributions.read", 0,
     "group_id,payment_status,page,page_size"},
    {"GET", P "/contributions/{id:int}", groupbuy_contributions_get, "groupbuy.contributions.read", 0},
    {"POST", P "/contributions/{id:int}/pay", groupbuy_contributions_pay, "groupbuy.contributions.pay",
     ROUTE_SLOW | ROUTE_IDEMPOTENT},
    /* providers authenticate with their signature, not a token */
    {"POST", P "/payments/webhook/{provider}", groupbuy_webhook, PERM_PUBLIC,
     ROUTE_SLOW | ROUTE_RAW_BODY | ROUTE_NO_RATELIMIT},

    /* completion and the supplier's answer */
    {"POST", P "/admin/groups/{id:int}/complete", groupbuy_admin_complete, "groupbuy.groups.manage", 0},
    {"GET", P "/supplier/orders", groupbuy_supplier_orders_list, "groupbuy.supplier_orders.read", 0,
     "status,group_id,page,page_size"},
    {"GET", P "/supplier/orders/{id:int}", groupbuy_supplier_orders_get, "groupbuy.supplier_orders.read", 0},
    {"POST", P "/supplier/orders/{id:int}/accept", groupbuy_supplier_orders_accept,
     "groupbuy.supplier_orders.answer", ROUTE_IDEMPOTENT},
    {"POST", P "/supplier/orders/{id:int}/reject", groupbuy_supplier_orders_reject,
     "groupbuy.supplier_orders.answer", ROUTE_SLOW | ROUTE_IDEMPOTENT},

    /* pickup */
    {"POST", P "/admin/groups/{id:int}/mark-ready-for-collection", groupbuy_admin_mark_ready,
     "groupbuy.groups.manage", 0},
    {"GET", P "/groups/{id:int}/qr-code", groupbuy_qr_code, "groupbuy.qr.read", 0, "format,contribution_id"},
    {"POST", P "/admin/qr/verify", groupbuy_admin_qr_verify, "groupbuy.qr.verify", 0},

    /* refunds and money */
    {"POST", P "/admin/groups/{id:int}/process-refunds", groupbuy_admin_process_refunds, "groupbuy.refunds.manage",
     ROUTE_SLOW | ROUTE_IDEMPOTENT},
    {"GET", P "/admin/refunds", groupbuy_admin_refunds_list, "groupbuy.refunds.read", 0,
     "status,group_id,page,page_size"},
    {"GET", P "/supplier/balance", groupbuy_supplier_balance, "groupbuy.balance.read", 0,
     "supplier_id,page,page_size"},
    {"GET", P "/admin/ledger", groupbuy_admin_ledger, "groupbuy.ledger.read", ROUTE_SLOW},
    {0},
};

static const struct job groupbuy_jobs[] = {
    {"groupbuy.auto_complete", 3600, groupbuy_auto_complete_job},
    {"groupbuy.refunds", 60, groupbuy_refunds_job},
    {0},
};

/* ------------------------------------------------------------------ topics */

/* groupbuy.group.<id>: progress and state changes of one group, for anyone
 * who may read groups. */
static bool topic_allowed(struct req *r, const char *topic)
{
    return app_topic_id(topic, "groupbuy.group.") && rbac_can(r, "groupbuy.groups.read", NULL, 0);
}

const struct app groupbuy_app = {
    .name = "groupbuy",
    .migrations_dir = "src/apps/groupbuy/migrations/",
    .routes = groupbuy_routes,
    .roles = groupbuy_roles,
    .jobs = groupbuy_jobs,
    .seed = groupbuy_seed,
    .api_doc = "src/apps/groupbuy/api.json",
    .topic_allowed = topic_allowed,
    .scope_exists = groupbuy_scope_exists,
};
