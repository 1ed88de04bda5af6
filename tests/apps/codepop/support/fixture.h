/* fixture.h -- a small, fixed codepop world for tests (ids are stable):
 *
 *   regions  1 "C" Central, 2 "E" East
 *   hubs     1 HUB-C (region 1), 2 HUB-E (region 2); 5000 of every item
 *   stores   1 Downtown, 2 Midtown (region 1, hub 1, open 00:00-24:00, New York)
 *            3 Eastside (region 2, hub 2, open 06:00-22:00, America/Chicago)
 *   machines 1, 2, 3 (one per store, status normal)
 *   drinks   1 Cherry Cola (simple, 350): Cola Syrup 1, Cherry Syrup 1, Cups 1
 *            2 Vanilla Dream (medium, 450): Vanilla Syrup 2, Cups 1
 *            3 Triple Layer (complex, 650): Cherry 1, Vanilla 1, Cola 1, Cups 1
 *   stock    every store: Cherry/Vanilla/Cola Syrup 100 (threshold 10), Cups 500 (50)
 *   users    cp_admin (admin), cp_mgr1/2/3 (manager of store 1/2/3),
 *            cp_log_c / cp_log_e (logistics_manager of region 1/2),
 *            cp_rep_c / cp_rep_e (repair_staff of region 1/2),
 *            cp_user1, cp_user2 (account_user), cp_nobody (no codepop role)
 */
#ifndef CODEPOP_FIXTURE_H
#define CODEPOP_FIXTURE_H
#include "support/harness.h"

void cp_fixture(void);               /* call after srv_start() */
void cp_start(void);                 /* srv_start() + cp_fixture(): a TestSuite .init */
int64_t cp_stock(int64_t store_id, const char *item_name);
int64_t cp_hub_stock(int64_t hub_id, const char *item_name);
void cp_set_stock(int64_t store_id, const char *item_name, int64_t quantity);
#endif
