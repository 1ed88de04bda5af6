/* httpc.c -- one outbound HTTP request with libcurl, for payment adapters
 * (payments.h). http and https only (redirects not followed), the same limit
 * for connecting and for the whole exchange, no signals (threads), no
 * "Expect: 100-continue". The response body is capped at 1 MiB: a larger
 * answer is a transport failure. A body is sent only when given; a POST
 * without one sends an empty body. */
#include "atrium.h"
#include "internal.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTPC_MAX_BODY (1024 * 1024)

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    if (b->n + n > HTTPC_MAX_BODY) return 0;
    b->p = xrealloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

static void curl_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void set_method(CURL *c, const char *method, const char *body)
{
    if (strcasecmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (strcasecmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcasecmp(method, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body || strcasecmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    }
}

int httpc_request(const char *method, const char *url, const char *const *headers, const char *body,
                  long timeout_s, long *status, char **resp, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct buf data = {xstrdup(""), 0};
    struct curl_slist *hl = NULL;
    int rc = -1;
    *status = 0;
    *resp = NULL;
    if (errlen) err[0] = 0;
    if (db_thread_flush() < 0) {        /* a request's held transaction: never across the network */
        snprintf(err, errlen, "database commit failed before the call");
        free(data.p);
        return -1;
    }
    pthread_once(&once, curl_once);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot create a curl handle");
        goto out;
    }
    for (const char *const *h = headers; h && *h; h++) hl = curl_slist_append(hl, *h);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    set_method(c, method, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &data);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s", cc == CURLE_WRITE_ERROR ? "response too large" : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    *resp = data.p;
    data.p = NULL;
    rc = 0;
out:
    free(data.p);
    curl_slist_free_all(hl);
    if (c) curl_easy_cleanup(c);
    return rc;
}
