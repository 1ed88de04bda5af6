/* qr.c -- pickup: an admin marks a group the supplier accepted as ready for
 * collection, which issues one QR token per counted contribution; the trader
 * fetches their code (SVG, PNG or JSON); the supplier's staff (or an admin)
 * scan it once at the counter.
 *
 * Tokens. token = HMAC-SHA256 under the server key (crypto_keyed_hash,
 * context "groupbuy.qr") of "<contribution id>:<nonce>", as 64 lowercase hex
 * characters; the nonce is 32 random bytes (hex) stored on the contribution
 * with the SHA-256 of the token text (qr_token_hash). Why: the trader can
 * fetch the same code again (another device, a lost screenshot) because the
 * server recomputes it, yet the database alone cannot reveal a token: a copy
 * of it holds only nonces and hashes, and the key lives outside it. A scan
 * hashes the text it got and looks the hash up, so forged, malformed and
 * unknown tokens are all just "no such hash".
 *
 * Choices where the spec is silent:
 *   - tokens are issued only for counted contributions (active, paid, no
 *     refund started); marking ready is one-shot (a second call is 409
 *     invalid_state, since supplier_status is no longer supplier_accepted);
 *     the supplier order is marked admin-verified with qr_codes_generated;
 *     each trader gets one in-app notification per group;
 *   - GET qr-code picks, for a trader with several contributions in the
 *     group, the one given by ?contribution_id=, else the oldest not yet
 *     collected, else the oldest; a collected code can still be fetched (the
 *     JSON says is_collected); answers carry Cache-Control: no-store;
 *   - pictures: error correction M, 4-module quiet zone, SVG as one path in
 *     module units (viewBox) drawn 8 px per module, PNG 1-bit greyscale at
 *     8 px per module;
 *   - a scan by a supplier's staff of another supplier's code answers 404
 *     like an unknown code (nothing is revealed), and both are audited as
 *     groupbuy.qr.rejected in their own transaction with the first 12 hex
 *     characters of the SHA-256 of what was scanned (never the text);
 *   - a scan of a group not ready is 409 not_ready, of a contribution whose
 *     refund started 409 refunded, a second scan 409 already_collected with
 *     the first collection time in the error details;
 *   - audit summaries say "qr_issued" (core audit redacts keys containing
 *     "token" or "code"). */
#include "groupbuy.h"
#include <png.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define QR_SCALE 8
#define QR_QUIET 4

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t jint(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* ----------------------------------------------------------------- tokens */

int groupbuy_qr_token(int64_t contribution_id, const char *nonce, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[32];
    char msg[160];
    if (!nonce) return -1;
    int n = snprintf(msg, sizeof msg, "%lld:%s", (long long)contribution_id, nonce);
    if (n < 0 || (size_t)n >= sizeof msg || crypto_keyed_hash("groupbuy.qr", msg, (size_t)n, mac) < 0) return -1;
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[64] = 0;
    return 0;
}

static int issue_token(struct db *db, int64_t contribution_id)
{
    char nonce[65], token[65], hash[65];
    crypto_random_token(nonce, 32);
    if (groupbuy_qr_token(contribution_id, nonce, token) < 0) return -1;
    crypto_sha256_hex(token, 64, hash);
    return db_exec(db, "UPDATE groupbuy_contributions SET qr_token_hash = $2, qr_nonce = $3, qr_issued_at = " GB_NOW_SQL
                       ", updated_at = " GB_NOW_SQL " WHERE id = $1 AND qr_token_hash IS NULL",
                   DB_I(contribution_id), DB_S(hash), DB_S(nonce)) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ mark ready */

static int notify_ready(struct db *db, int64_t group_id)
{
    json_t *rows = db_json_all(db, "SELECT c.trader_id, SUM(c.quantity) AS quantity, p.name AS product_name, "
                                   "p.unit, g.pickup_location FROM groupbuy_contributions c "
                                   "JOIN groupbuy_groups g ON g.id = c.group_id "
                                   "JOIN groupbuy_products p ON p.id = g.product_id "
                                   "WHERE c.group_id = $1 AND c.qr_token_hash IS NOT NULL "
                                   "GROUP BY c.trader_id, p.name, p.unit, g.pickup_location ORDER BY c.trader_id",
                               DB_I(group_id));
    json_t *row;
    size_t i;
    int rc = rows ? 0 : -1;
    json_array_foreach (rows, i, row) {
        char title[800];
        snprintf(title, sizeof title, "Ready for collection: %s at %s", jstr(row, "product_name"),
                 jstr(row, "pickup_location"));
        json_t *data = json_deep_copy(row);
        json_object_del(data, "trader_id");
        json_object_set_new(data, "group_id", json_integer(group_id));
        if ((rc = notify_user(db, json_integer_value(json_object_get(row, "trader_id")),
                              "groupbuy.ready_for_collection", title, data)) < 0)
            break;
    }
    json_decref(rows);
    return rc;
}

static int issue_all(struct db *db, int64_t group_id, int *issued)
{
    json_t *ids = db_json_all(db, "SELECT c.id FROM " GB_COUNTED " c WHERE c.group_id = $1"
                                  " AND c.qr_token_hash IS NULL ORDER BY c.id", DB_I(group_id));
    json_t *row;
    size_t i;
    int rc = ids ? 0 : -1;
    json_array_foreach (ids, i, row) {
        if ((rc = issue_token(db, json_integer_value(json_object_get(row, "id")))) < 0) break;
        (*issued)++;
    }
    json_decref(ids);
    return rc;
}

/* The work of groupbuy_mark_ready; r (may be NULL) only gives the audit row
 * its request id. */
static int mark_ready(struct db *db, struct req *r, int64_t group_id, int64_t actor_id, int *issued)
{
    int rc = -1, n;
    int64_t one = 0;
    *issued = 0;
    if (db_begin(db) < 0) return -1;
    n = db_exec(db, "UPDATE groupbuy_groups SET supplier_status = 'ready_for_collection', ready_for_collection_at = "
                    GB_NOW_SQL ", updated_at = " GB_NOW_SQL " WHERE id = $1 AND status = 'completed' "
                    "AND supplier_status = 'supplier_accepted'", DB_I(group_id));
    if (n == 0) {
        n = db_int(db, &one, "SELECT 1 FROM groupbuy_groups WHERE id = $1", DB_I(group_id));
        rc = n < 0 ? -1 : n == 1 ? 0 : -3;
        goto out;
    }
    if (n != 1 ||
        db_exec(db, "UPDATE groupbuy_supplier_orders SET admin_verification_status = 'verified', admin_verified_at = "
                    GB_NOW_SQL ", admin_verified_by = NULLIF($2, 0), qr_codes_generated = 1, updated_at = " GB_NOW_SQL
                    " WHERE group_id = $1", DB_I(group_id), DB_I(actor_id)) != 1 ||
        issue_all(db, group_id, issued) < 0 || notify_ready(db, group_id) < 0)
        goto out;
    json_t *summary = json_pack("{s:i}", "qr_issued", *issued);
    if (groupbuy_audit(db, r, actor_id, "groupbuy.group.marked_ready", "group", group_id, summary) < 0 ||
        groupbuy_emit(db, group_id, "group.ready_for_collection",
                      json_pack("{s:I, s:i}", "group_id", (json_int_t)group_id, "qr_tokens_issued", *issued)) < 0)
        goto out;
    rc = 1;
out:
    if (rc == -1) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db) < 0 ? -1 : rc;
}

int groupbuy_mark_ready(struct db *db, int64_t group_id, int64_t actor_id, int *issued)
{
    return mark_ready(db, NULL, group_id, actor_id, issued);
}

void groupbuy_admin_mark_ready(struct req *r)
{
    int64_t id = r->param_int[0];
    int issued = 0, rc;
    json_t *g = NULL;
    char *status = NULL;
    if (req_no_fields(r) < 0) return;
    if (db_begin(r->db) < 0) goto fail;
    rc = mark_ready(r->db, r, id, r->user.id, &issued);
    if (rc == -3 || rc == 0) {
        if (rc == 0) status = db_text(r->db, "SELECT COALESCE(supplier_status, status) FROM groupbuy_groups "
                                             "WHERE id = $1", DB_I(id));
        db_rollback(r->db);
        if (rc == -3) reply_not_found(r);
        else reply_error(r, 409, "invalid_state", "group %lld is %s, not accepted by its supplier", (long long)id,
                         status ? status : "?");
        free(status);
        return;
    }
    if (rc < 0 || !(g = groupbuy_group_json(r->db, id)) || db_commit(r->db) < 0) goto rollback;
    json_object_set_new(g, "qr_tokens_issued", json_integer(issued));
    reply_json(r, 200, g);
    return;
rollback:
    db_rollback(r->db);
    json_decref(g);
fail:
    reply_db_error(r);
}

/* -------------------------------------------------------------- pictures */

static bool dark(const QRcode *q, int x, int y)
{
    return x >= 0 && y >= 0 && x < q->width && y < q->width && (q->data[y * q->width + x] & 1);
}

/* One path of horizontal runs, in module units; malloc'd. */
static char *qr_svg(const QRcode *q, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    int size = q->width + 2 * QR_QUIET;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return NULL;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
               "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
            size, size, size * QR_SCALE, size * QR_SCALE, size, size);
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width;) {
            int run = 0;
            while (dark(q, x + run, y)) run++;
            if (run) fprintf(f, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
            x += run ? run : 1;
        }
    }
    fputs("\"/></svg>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

struct membuf {
    unsigned char *data;
    size_t len, cap;
};

static void membuf_write(png_structp png, png_bytep data, png_size_t n)
{
    struct membuf *b = png_get_io_ptr(png);
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void membuf_flush(png_structp png)
{
}

static void png_rows(png_structp png, const QRcode *q, unsigned char *row, size_t rowbytes, int px)
{
    for (int y = 0; y < px; y++) {
        memset(row, 0xff, rowbytes);
        for (int x = 0; x < px; x++)
            if (dark(q, x / QR_SCALE - QR_QUIET, y / QR_SCALE - QR_QUIET))
                row[x >> 3] &= (unsigned char)~(0x80u >> (x & 7));
        png_write_row(png, row);
    }
}

/* 1-bit greyscale, 8 px per module; malloc'd. */
static unsigned char *qr_png(const QRcode *q, size_t *len)
{
    int px = (q->width + 2 * QR_QUIET) * QR_SCALE;
    size_t rowbytes = ((size_t)px + 7) / 8;
    unsigned char *row = xmalloc(rowbytes), *out = NULL;
    struct membuf *b = xcalloc(1, sizeof *b);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) goto out;
    png_set_write_fn(png, b, membuf_write, membuf_flush);
    png_set_IHDR(png, info, (png_uint_32)px, (png_uint_32)px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_rows(png, q, row, rowbytes, px);
    png_write_end(png, NULL);
    out = b->data;
    *len = b->len;
    b->data = NULL;
out:
    png_destroy_write_struct(&png, &info);
    free(b->data);
    free(b);
    free(row);
    return out;
}

/* --------------------------------------------------------- GET qr-code */

/* The caller's contribution with a token in the group (see the header), or
 * NULL (no reply sent) when there is none. */
static json_t *own_contribution(struct req *r, int64_t group_id, int64_t contribution_id)
{
    return db_json_one(r->db, "SELECT c.id AS contribution_id, c.group_id, c.quantity, p.name AS product_name, p.unit, "
                              "g.pickup_location, c.is_collected AS is_collected__bool, c.collected_at, c.qr_nonce, "
                              "c.qr_token_hash FROM groupbuy_contributions c "
                              "JOIN groupbuy_groups g ON g.id = c.group_id "
                              "JOIN groupbuy_products p ON p.id = g.product_id "
                              "WHERE c.group_id = $1 AND c.trader_id = $2 AND c.qr_token_hash IS NOT NULL "
                              "AND ($3 = 0 OR c.id = $3) ORDER BY c.is_collected, c.id LIMIT 1",
                       DB_I(group_id), DB_I(r->user.id), DB_I(contribution_id));
}

/* ?format= and ?contribution_id=; replies 400 and returns -1 when bad. */
static int qr_query(struct req *r, const char **format, int64_t *contribution_id)
{
    *format = req_query(r, "format");
    if (!*format) *format = "svg";
    if (strcmp(*format, "svg") && strcmp(*format, "png") && strcmp(*format, "json")) {
        reply_invalid(r, "format", "must be svg, png or json");
        return -1;
    }
    if (req_query_int(r, "contribution_id", 0, contribution_id) < 0) return -1;
    if (req_query(r, "contribution_id") && *contribution_id < 1) {
        reply_invalid(r, "contribution_id", "must be a positive integer");
        return -1;
    }
    return 0;
}

/* 404 / 409 not_ready for the group; -1 after a reply. */
static int require_ready(struct req *r, int64_t group_id)
{
    char *status = db_text(r->db, "SELECT COALESCE(supplier_status, status) FROM groupbuy_groups WHERE id = $1",
                           DB_I(group_id));
    int rc = -1;
    if (!status) reply_not_found(r);
    else if (strcmp(status, "ready_for_collection"))
        reply_error(r, 409, "not_ready", "group %lld is %s, not ready for collection", (long long)group_id, status);
    else rc = 0;
    free(status);
    return rc;
}

static void reply_picture(struct req *r, const char *format, json_t *c, const char *token)
{
    QRcode *q = QRcode_encodeString(token, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    size_t len = 0;
    char *svg = NULL;
    unsigned char *png = NULL;
    if (!q) goto fail;
    if (!strcmp(format, "png")) {
        if (!(png = qr_png(q, &len))) goto fail;
        reply_raw(r, 200, "image/png", png, len);
    } else {
        if (!(svg = qr_svg(q, &len))) goto fail;
        if (!strcmp(format, "svg")) {
            reply_raw(r, 200, "image/svg+xml", svg, len);
        } else {
            json_t *out = json_deep_copy(c);
            json_object_del(out, "qr_nonce");
            json_object_del(out, "qr_token_hash");
            json_object_set_new(out, "token", json_string(token));
            json_object_set_new(out, "svg", json_stringn(svg, len));
            reply_json(r, 200, out);
        }
    }
    reply_header(r, "Cache-Control", "no-store");
    goto out;
fail:
    log_error("groupbuy: cannot render a QR code");
    reply_db_error(r);
out:
    QRcode_free(q);
    free(svg);
    free(png);
}

void groupbuy_qr_code(struct req *r)
{
    int64_t group_id = r->param_int[0], contribution_id;
    const char *format;
    char token[65], hash[65];
    json_t *c = NULL;
    if (qr_query(r, &format, &contribution_id) < 0 || require_ready(r, group_id) < 0) return;
    if (!(c = own_contribution(r, group_id, contribution_id))) {
        reply_error(r, 404, "not_found", "you have no QR code in group %lld", (long long)group_id);
        return;
    }
    if (groupbuy_qr_token(jint(c, "contribution_id"), jstr(c, "qr_nonce"), token) < 0) goto fail;
    crypto_sha256_hex(token, 64, hash);
    if (!crypto_str_equal(hash, jstr(c, "qr_token_hash"))) {
        log_error("groupbuy: QR token of contribution %lld does not match its hash (server key changed?)",
                  (long long)jint(c, "contribution_id"));
        goto fail;
    }
    reply_picture(r, format, c, token);
    json_decref(c);
    return;
fail:
    json_decref(c);
    reply_db_error(r);
}

/* ----------------------------------------------------------------- verify */

static int collect(struct db *db, struct req *r, int64_t contribution_id, int64_t actor_id)
{
    json_t *c = NULL;
    int rc = -1, n;
    if (db_begin(db) < 0) return -1;
    n = db_exec(db, "UPDATE groupbuy_contributions SET is_collected = 1, collected_at = " GB_NOW_SQL
                    ", collected_by = NULLIF($2, 0), updated_at = " GB_NOW_SQL " WHERE id = $1 AND is_collected = 0 "
                    "AND qr_token_hash IS NOT NULL AND status = 'active' AND refund_status IS NULL AND group_id IN "
                    "(SELECT id FROM groupbuy_groups WHERE supplier_status = 'ready_for_collection')",
                DB_I(contribution_id), DB_I(actor_id));
    if (n <= 0) {
        rc = n;
        goto out;
    }
    if (!(c = db_json_one(db, "SELECT group_id, trader_id, quantity, collected_at FROM groupbuy_contributions "
                              "WHERE id = $1", DB_I(contribution_id))))
        goto out;
    int64_t group_id = jint(c, "group_id");
    json_t *summary = json_deep_copy(c);
    if (groupbuy_audit(db, r, actor_id, "groupbuy.qr.verified", "contribution", contribution_id, summary) < 0)
        goto out;
    json_object_del(c, "trader_id");
    json_object_set_new(c, "contribution_id", json_integer(contribution_id));
    if (groupbuy_emit(db, group_id, "contribution.collected", json_incref(c)) < 0) goto out;
    rc = 1;
out:
    json_decref(c);
    if (rc == -1) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db) < 0 ? -1 : rc;
}

int groupbuy_qr_collect(struct db *db, int64_t contribution_id, int64_t actor_id)
{
    return collect(db, NULL, contribution_id, actor_id);
}

/* An audited refusal, in its own transaction, then 404. */
static void reject_scan(struct req *r, int64_t contribution_id, const char *reason, const char *hash)
{
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%s", hash);
    if (db_begin(r->db) < 0 ||
        audit_write(r->db, r, "groupbuy", "groupbuy.qr.rejected", contribution_id ? "contribution" : NULL,
                    contribution_id, json_pack("{s:s, s:s}", "reason", reason, "sha256_prefix", prefix)) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    reply_error(r, 404, "not_found", "unknown QR code");
}

/* Inside the transaction: 409 unless the contribution can be collected now;
 * -1 after a reply. */
static int require_collectable(struct req *r, int64_t contribution_id)
{
    json_t *s = db_json_one(r->db, "SELECT COALESCE(g.supplier_status, g.status) AS state, c.refund_status, "
                                   "c.is_collected, c.collected_at FROM groupbuy_contributions c "
                                   "JOIN groupbuy_groups g ON g.id = c.group_id WHERE c.id = $1",
                            DB_I(contribution_id));
    int rc = -1;
    if (!s) reply_db_error(r);
    else if (strcmp(jstr(s, "state"), "ready_for_collection"))
        reply_error(r, 409, "not_ready", "the group is %s, not ready for collection", jstr(s, "state"));
    else if (json_is_string(json_object_get(s, "refund_status")))
        reply_error(r, 409, "refunded", "this contribution is being refunded (%s)", jstr(s, "refund_status"));
    else if (jint(s, "is_collected"))
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:s}]}}", "error", "code", "already_collected",
                                     "message", tr(r, "this QR code was already collected"), "details", "field",
                                     "token", "problem", tr(r, "already collected"), "collected_at",
                                     jstr(s, "collected_at")));
    else rc = 0;
    json_decref(s);
    return rc;
}

static json_t *scan_json(struct db *db, int64_t contribution_id)
{
    return db_json_one(db, "SELECT c.id AS contribution_id, c.group_id, c.trader_id, u.username AS trader_username, "
                           "u.display_name AS trader_name, c.quantity, p.name AS product_name, p.unit, "
                           "g.pickup_location, c.is_collected AS is_collected__bool, c.collected_at "
                           "FROM groupbuy_contributions c JOIN groupbuy_groups g ON g.id = c.group_id "
                           "JOIN groupbuy_products p ON p.id = g.product_id JOIN users u ON u.id = c.trader_id "
                           "WHERE c.id = $1", DB_I(contribution_id));
}

void groupbuy_admin_qr_verify(struct req *r)
{
    const char *token;
    char hash[65];
    int64_t id = 0, supplier_id = 0;
    json_t *out = NULL;
    int rc;
    if (req_unpack(r, "{s:s}", "token", &token) < 0) return;
    crypto_sha256_hex(token, strlen(token), hash);
    rc = db_int(r->db, &id, "SELECT id FROM groupbuy_contributions WHERE qr_token_hash = $1", DB_S(hash));
    if (rc < 0 || (rc == 1 && db_int(r->db, &supplier_id, "SELECT g.supplier_id FROM groupbuy_contributions c "
                                                         "JOIN groupbuy_groups g ON g.id = c.group_id WHERE c.id = $1",
                                     DB_I(id)) != 1))
        goto fail;
    if (rc == 0 || !groupbuy_can_supplier(r, "groupbuy.qr.verify", supplier_id)) {
        reject_scan(r, id, rc == 0 ? "unknown_token" : "other_supplier", hash);
        return;
    }
    if (db_begin(r->db) < 0) goto fail;
    if (require_collectable(r, id) < 0) {
        db_rollback(r->db);
        return;
    }
    if ((rc = collect(r->db, r, id, r->user.id)) != 1 || !(out = scan_json(r->db, id)) || db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(out);
        if (rc == 0) reply_error(r, 409, "already_collected", "this QR code was already collected");
        else reply_db_error(r);
        return;
    }
    reply_json(r, 200, out);
    return;
fail:
    reply_db_error(r);
}
