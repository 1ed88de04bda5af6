/* crypto.c -- libsodium wrappers: sealed text fields (XChaCha20-Poly1305 under
 * ATRIUM_ENCRYPTION_KEY), random tokens, SHA-256, UUIDs.
 *
 * Without ATRIUM_ENCRYPTION_KEY a key is created once in a file beside the
 * database (mode 0600, never in the repository) so development and tests work
 * offline; production sets the variable. */
#include "atrium.h"
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

static unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;

static void load_key(void)
{
    if (sodium_init() < 0) return;
    if (cfg.enc_key_set) {
        memcpy(key, cfg.enc_key, sizeof key);
        key_ok = true;
        return;
    }
    char *copy = xstrdup(cfg.db ? cfg.db : "./data/atrium.db");
    char *path = xasprintf("%s/encryption.key", dirname(copy));
    free(copy);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        key_ok = read(fd, key, sizeof key) == (ssize_t)sizeof key;
        close(fd);
    } else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0) {
        randombytes_buf(key, sizeof key);
        key_ok = write(fd, key, sizeof key) == (ssize_t)sizeof key;
        close(fd);
        log_warn("ATRIUM_ENCRYPTION_KEY is not set: created a key file beside the database");
    }
    if (!key_ok) log_error("no encryption key: set ATRIUM_ENCRYPTION_KEY");
    free(path);
}

char *crypto_seal_text(const char *plain)
{
    pthread_once(&key_once, load_key);
    if (!key_ok) return NULL;
    size_t plen = strlen(plain);
    size_t clen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *buf = xmalloc(clen);
    randombytes_buf(buf, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
                                               (const unsigned char *)plain, plen, NULL, 0, NULL, buf, key);
    size_t b64len = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
    char *out = xmalloc(b64len);
    sodium_bin2base64(out, b64len, buf, clen, sodium_base64_VARIANT_ORIGINAL);
    free(buf);
    return out;
}

char *crypto_open_text(const char *sealed)
{
    pthread_once(&key_once, load_key);
    if (!key_ok || !sealed) return NULL;
    size_t cap = strlen(sealed), clen = 0;
    unsigned char *buf = xmalloc(cap + 1);
    char *out = NULL;
    if (sodium_base642bin(buf, cap, sealed, strlen(sealed), NULL, &clen, NULL, sodium_base64_VARIANT_ORIGINAL) ||
        clen < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
        goto out;
    size_t mlen = clen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES - crypto_aead_xchacha20poly1305_ietf_ABYTES;
    out = xmalloc(mlen + 1);
    unsigned long long got;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &got, NULL,
                                                   buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                   clen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, 0,
                                                   buf, key) != 0) {
        free(out);
        out = NULL;
        goto out;
    }
    out[got] = 0;
out:
    free(buf);
    return out;
}

void crypto_random_token(char *out, size_t bytes)
{
    unsigned char raw[64];
    if (bytes > sizeof raw) bytes = sizeof raw;
    randombytes_buf(raw, bytes);
    sodium_bin2hex(out, bytes * 2 + 1, raw, bytes);
}

void crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int crypto_keyed_hash(const char *context, const void *msg, size_t len, unsigned char out[32])
{
    pthread_once(&key_once, load_key);
    if (!key_ok) return -1;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)context, strlen(context) + 1);
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, out);
    return 0;
}

int crypto_hmac_sha256_hex(const char *secret, const void *msg, size_t len, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    return 0;
}

bool crypto_str_equal(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}
