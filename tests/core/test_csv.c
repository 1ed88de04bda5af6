/* test_csv.c -- csv.c: RFC 4180 quoting, the formula-injection guard on text
 * (never on numbers), rows from JSON, and over HTTP the json/csv choice
 * (?format=, Accept) and the attachment answer with a safe file name. */
#include "support/harness.h"
#include <stdlib.h>
#include <string.h>

/* One text field as its own row. */
static void text_is(const char *in, const char *want)
{
    struct csv c = {0};
    csv_text(&c, in);
    csv_end_row(&c);
    char *expect = xasprintf("%s\r\n", want);
    cr_assert_str_eq(c.buf, expect, "text [%s]", in ? in : "(null)");
    cr_assert_eq(c.len, strlen(expect));
    free(expect);
    csv_free(&c);
}

static void num_is(const char *in, const char *want)
{
    struct csv c = {0};
    csv_num(&c, in);
    cr_assert_str_eq(c.buf, want, "number [%s]", in ? in : "(null)");
    csv_free(&c);
}

Test(csv, quoting_rfc4180)
{
    text_is("plain", "plain");
    text_is("", "");
    text_is(NULL, "");
    text_is("Cruz, Ana", "\"Cruz, Ana\"");
    text_is("say \"hi\"", "\"say \"\"hi\"\"\"");
    text_is("\"", "\"\"\"\"");
    text_is("two\nlines", "\"two\nlines\"");
    text_is("cr\rinside", "\"cr\rinside\"");
    text_is("crlf\r\nend", "\"crlf\r\nend\"");
    text_is("semi;colon and 'apostrophe'", "semi;colon and 'apostrophe'");
    text_is("Pe\xc3\xb1" "a", "Pe\xc3\xb1" "a");                /* UTF-8 as it is */
}

Test(csv, formula_injection_guard_on_text)
{
    text_is("=1+2", "'=1+2");
    text_is("+1", "'+1");
    text_is("-5", "'-5");
    text_is("@SUM(A1:A2)", "'@SUM(A1:A2)");
    text_is("\tx", "'\tx");
    text_is("\rx", "\"'\rx\"");                                 /* guarded, then quoted for its CR */
    text_is("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    text_is("-1,5", "\"'-1,5\"");
    text_is("a=b", "a=b");                                      /* only the first character counts */
    text_is(" =x", " =x");
    text_is("'already", "'already");
}

Test(csv, numbers_are_never_guarded)
{
    struct csv c = {0};
    csv_int(&c, -1500);
    csv_int(&c, 0);
    csv_int(&c, INT64_MAX);
    csv_int(&c, INT64_MIN);
    csv_end_row(&c);
    cr_assert_str_eq(c.buf, "-1500,0,9223372036854775807,-9223372036854775808\r\n");
    csv_free(&c);
    cr_assert_null(c.buf);
    cr_assert_eq(c.len, 0);
    num_is("-12.5", "-12.5");
    num_is("66.7", "66.7");
    num_is("0", "0");
    num_is("1e+20", "1e+20");
    num_is("-3E-2", "-3E-2");
    /* not a plain number: written as text, so guarded */
    num_is("-1+2", "'-1+2");
    num_is("=1", "'=1");
    num_is("1,5", "\"1,5\"");
    num_is("-", "'-");
    num_is("1.", "1.");
    num_is(".5", ".5");
    num_is("", "");
    num_is(NULL, "");
}

Test(csv, rows_header_and_separators)
{
    struct csv c = {0};
    csv_header(&c, (const char *const[]){"id", "name", "amount_cents", NULL});
    csv_int(&c, 7);
    csv_text(&c, "Cruz, Ana");
    csv_int(&c, -1500);
    csv_end_row(&c);
    csv_text(&c, NULL);
    csv_text(&c, NULL);
    csv_end_row(&c);
    cr_assert_str_eq(c.buf, "id,name,amount_cents\r\n7,\"Cruz, Ana\",-1500\r\n,\r\n");
    csv_free(&c);
}

Test(csv, rows_from_json)
{
    json_t *rows = json_loads("[{\"id\": 1, \"name\": \"=cmd\", \"rate\": 66.7, \"whole\": 5.0, \"ok\": true,"
                              " \"note\": null, \"tags\": [\"a\", \"b\"], \"balance\": -20},"
                              " {\"id\": 2, \"name\": \"Lee \\\"Boss\\\"\", \"rate\": 0.0, \"ok\": false}]",
                              0, NULL);
    cr_assert(rows);
    struct csv c = {0};
    csv_from_json(&c, rows, (const char *const[]){"id", "name", "rate", "whole", "ok", "note", "missing", "tags",
                                                   "balance", NULL});
    cr_assert_str_eq(c.buf, "id,name,rate,whole,ok,note,missing,tags,balance\r\n"
                            "1,'=cmd,66.7,5.0,true,,,\"[\"\"a\"\",\"\"b\"\"]\",-20\r\n"
                            "2,\"Lee \"\"Boss\"\"\",0.0,,false,,,,\r\n");
    csv_free(&c);
    /* fields appended to a row already started */
    csv_text(&c, "total");
    csv_fields_json(&c, json_array_get(rows, 0), (const char *const[]){"id", "balance", NULL});
    csv_end_row(&c);
    cr_assert_str_eq(c.buf, "total,1,-20\r\n");
    csv_free(&c);
    json_decref(rows);
}

Test(csv, grows_past_its_first_buffer)
{
    struct csv c = {0};
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 3; i++) csv_text(&c, big);
    csv_end_row(&c);
    cr_assert_eq(c.len, 3 * (sizeof big - 1) + 2 + 2);
    cr_assert_eq(strlen(c.buf), c.len);
    csv_free(&c);
}

/* ----------------------------------------------------------- over HTTP */

/* ?name= becomes the file name; JSON or CSV as the caller asks. */
static void export(struct req *r)
{
    int csv = req_format_csv(r);
    if (csv < 0) return;
    if (!csv) {
        reply_json(r, 200, json_pack("{s:s}", "format", "json"));
        return;
    }
    struct csv c = {0};
    csv_header(&c, (const char *const[]){"a", "b", NULL});
    csv_int(&c, -1);
    csv_text(&c, "-1");
    csv_end_row(&c);
    reply_csv(r, req_query(r, "name"), &c);
}

static const struct route routes[] = {
    {"GET", "/api/v1/csvtest/export", export, PERM_PUBLIC, 0, "format,name"},
    {0},
};

static void start(void)
{
    srv_start_with(routes, NULL);
}

TestSuite(csv_http, .init = start, .fini = srv_stop);

Test(csv_http, format_query_and_accept_header)
{
    struct resp *r = api("GET", "/api/v1/csvtest/export?format=csv&name=report-2026-03-14.csv", NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "text/csv; charset=utf-8");
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), "attachment; filename=\"report-2026-03-14.csv\"");
    cr_assert_str_eq(r->body, "a,b\r\n-1,'-1\r\n");
    cr_assert_eq(r->len, strlen("a,b\r\n-1,'-1\r\n"));
    cr_assert_null(r->json);
    resp_free(r);

    r = api("GET", "/api/v1/csvtest/export", NULL, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(jstr(r->json, "format"), "json", "JSON by default");
    resp_free(r);
    r = api("GET", "/api/v1/csvtest/export?format=json", NULL, NULL);
    cr_assert_str_eq(jstr(r->json, "format"), "json");
    resp_free(r);

    const char *accept_csv[] = {"Accept: text/csv", NULL};
    r = api_h("GET", "/api/v1/csvtest/export", NULL, NULL, accept_csv);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "text/csv; charset=utf-8");
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), "attachment; filename=\"export.csv\"", "a default name");
    resp_free(r);
    r = api_h("GET", "/api/v1/csvtest/export?format=json", NULL, NULL, accept_csv);
    cr_assert_str_eq(jstr(r->json, "format"), "json", "?format= wins over Accept");
    resp_free(r);
    const char *accept_json[] = {"Accept: application/json, */*", NULL};
    r = api_h("GET", "/api/v1/csvtest/export", NULL, NULL, accept_json);
    cr_assert_str_eq(jstr(r->json, "format"), "json");
    resp_free(r);

    r = api("GET", "/api/v1/csvtest/export?format=xml", NULL, NULL);
    cr_assert_eq(r->status, 400);
    cr_assert_str_eq(resp_error_code(r), "validation_failed");
    cr_assert_str_eq(resp_error_field(r), "format");
    resp_free(r);
    const char *es[] = {"Accept-Language: es", NULL};
    r = api_h("GET", "/api/v1/csvtest/export?format=CSV", NULL, NULL, es);
    cr_assert_eq(r->status, 400);
    cr_assert_str_eq(resp_error_str(r, "message"), "el campo format debe ser json o csv", "%s", r->body);
    resp_free(r);
}

Test(csv_http, the_file_name_cannot_break_the_header)
{
    struct resp *r = api("GET", "/api/v1/csvtest/export?format=csv&name=a%22%0D%0AX-Evil:%201%3B%2F..%2Fb.csv",
                         NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), "attachment; filename=\"a___X-Evil__1__.._b.csv\"");
    cr_assert_null(resp_header(r, "X-Evil"));
    resp_free(r);
}
