/* Who may subscribe to codepop.store.<id> realtime topics: the store's
 * managers, its region's logistics managers and admins; nobody for a topic
 * of another shape (not even an admin); and app_topic_id() itself. */
#include "support/fixture.h"
#include <curl/curl.h>
#include <stdlib.h>

TestSuite(codepop_topics, .init = cp_start, .fini = srv_stop);

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

/* The status of an SSE subscription; a granted one streams, so the request
 * is cut after a moment and the status read from the head. */
static long subscribe(const char *as, const char *topic)
{
    char url[256], auth[160];
    char *tok = test_token(as);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/realtime/sse?topics=%s", srv_port(), topic);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    free(tok);
    return status;
}

Test(codepop_topics, store_topics_follow_store_scope)
{
    cr_assert_eq(subscribe("cp_mgr1", "codepop.store.1"), 200);
    cr_assert_eq(subscribe("cp_log_c", "codepop.store.2"), 200, "a region role covers its stores");
    cr_assert_eq(subscribe("cp_admin", "codepop.store.3"), 200);
    cr_assert_eq(subscribe("cp_mgr2", "codepop.store.1"), 403, "another store's manager");
    cr_assert_eq(subscribe("cp_log_e", "codepop.store.1"), 403, "another region's logistics manager");
    cr_assert_eq(subscribe("cp_user1", "codepop.store.1"), 403);
    cr_assert_eq(subscribe("cp_admin", "codepop.store.0"), 403, "no store 0, even for a global role");
    cr_assert_eq(subscribe("cp_admin", "codepop.store.x"), 403);
    cr_assert_eq(subscribe("cp_admin", "codepop.region.1"), 403);
}

Test(codepop_topics, app_topic_id_parses_only_positive_ids)
{
    cr_assert_eq(app_topic_id("codepop.store.7", "codepop.store."), 7);
    cr_assert_eq(app_topic_id("groupbuy.group.1234", "groupbuy.group."), 1234);
    cr_assert_eq(app_topic_id("codepop.store.0", "codepop.store."), 0);
    cr_assert_eq(app_topic_id("codepop.store.", "codepop.store."), 0);
    cr_assert_eq(app_topic_id("codepop.store.7x", "codepop.store."), 0);
    cr_assert_eq(app_topic_id("codepop.store.-7", "codepop.store."), 0);
    cr_assert_eq(app_topic_id("codepop.store. 7", "codepop.store."), 0);
    cr_assert_eq(app_topic_id("codepop.stores.7", "codepop.store."), 0);
}
