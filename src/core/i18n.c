/* i18n.c -- the API's human messages in the caller's language, with GNU
 * gettext from glibc.
 *
 * Catalogs: the build compiles po/<lang>.po (msgfmt --check) and embeds the
 * .mo files, so the binary stays self-contained. gettext reads catalogs only
 * from files, so i18n_init() writes them into a private temporary directory
 * for bindtextdomain(); i18n_cleanup() removes it.
 *
 * Lookups: glibc's gettext picks the catalog by the calling thread's
 * LC_MESSAGES locale, so a lookup switches only this thread to the language's
 * locale (uselocale) and back: no global setlocale(), no lock of ours, safe
 * from every I/O and worker thread at once. English needs no lookup: the
 * msgids are the English texts. */
#include "atrium.h"
#include <ftw.h>
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOMAIN "atrium"
/* Embedded catalogs are named <build>/gen/locale/<lang>/LC_MESSAGES/atrium.mo;
 * the part after this marker is their path under the bound directory. */
#define EMBED_MARK "gen/locale/"

/* A language beyond English: r->lang, and a glibc locale to look it up under
 * (its territory does not matter; gettext falls back to "es" catalogs). */
static struct language {
    const char *lang;
    const char *locale;
    locale_t loc;               /* (locale_t)0 when the locale is not installed */
} languages[] = {
    {"es", "es_ES.UTF-8", (locale_t)0},
};
#define NLANG (sizeof languages / sizeof languages[0])

static pthread_once_t locales_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[512];           /* the bound catalog directory, "" when none */
static atomic_bool ready;       /* catalogs bound: lookups may use gettext */

static void locales_init(void)
{
    /* glibc's gettext prefers $LANGUAGE over the thread's locale: an operator's
     * LANGUAGE=en_US:en would turn every Spanish lookup English. Boot is still
     * single-threaded here, so changing the environment is safe. */
    unsetenv("LANGUAGE");
    for (size_t i = 0; i < NLANG; i++) {
        languages[i].loc = newlocale(LC_MESSAGES_MASK, languages[i].locale, (locale_t)0);
        if (!languages[i].loc)
            log_warn("i18n: locale %s is not installed (scripts/setup generates it); "
                     "\"%s\" callers get English messages", languages[i].locale, languages[i].lang);
    }
}

static int write_file(const char *path, const unsigned char *data, long len)
{
    char sub[sizeof dir + 128];
    snprintf(sub, sizeof sub, "%s", path);
    for (char *s = sub + strlen(dir) + 1; (s = strchr(s, '/')); s++) {   /* mkdir -p of the parents */
        *s = 0;
        if (mkdir(sub, 0700) < 0 && access(sub, F_OK) < 0) return -1;
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, (size_t)len, f);
    return (fclose(f) == 0 && n == (size_t)len) ? 0 : -1;
}

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 ? -1 : 0;
}

static void remove_dir(void)
{
    if (dir[0] && nftw(dir, unlink_one, 8, FTW_DEPTH | FTW_PHYS) < 0)
        log_warn("i18n: could not remove %s", dir);
    dir[0] = 0;
}

/* Writes every embedded catalog under a fresh temp dir; 0 ok. */
static int write_catalogs(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/atrium-locale.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        dir[0] = 0;
        return -1;
    }
    int count = 0;
    for (const struct embedded_file *f = embedded_files; f->path; f++) {
        const char *rel = strstr(f->path, EMBED_MARK);
        if (!rel) continue;
        char path[sizeof dir + 128];
        snprintf(path, sizeof path, "%s/%s", dir, rel + strlen(EMBED_MARK));
        if (write_file(path, f->data, f->len) < 0) return -1;
        count++;
    }
    return count ? 0 : -1;
}

int i18n_init(void)
{
    pthread_once(&locales_once, locales_init);
    pthread_mutex_lock(&dir_lock);
    if (!dir[0]) {
        if (write_catalogs() < 0) {
            log_warn("i18n: cannot write the message catalogs under $TMPDIR; messages stay English");
            remove_dir();
        } else if (!bindtextdomain(DOMAIN, dir) || !bind_textdomain_codeset(DOMAIN, "UTF-8")) {
            log_warn("i18n: bindtextdomain failed; messages stay English");
            remove_dir();
        } else {
            atomic_store(&ready, true);
        }
    }
    pthread_mutex_unlock(&dir_lock);
    return 0;   /* English always works: a missing translation never stops the server */
}

void i18n_cleanup(void)
{
    pthread_mutex_lock(&dir_lock);
    atomic_store(&ready, false);
    remove_dir();
    pthread_mutex_unlock(&dir_lock);
}

const char *i18n_text(const char *lang, const char *msgid)
{
    /* "" would look up the catalog's header entry */
    if (!lang || !msgid || !*msgid || !atomic_load_explicit(&ready, memory_order_acquire)) return msgid;
    for (size_t i = 0; i < NLANG; i++) {
        if (strcmp(lang, languages[i].lang)) continue;
        if (!languages[i].loc) return msgid;
        locale_t old = uselocale(languages[i].loc);
        const char *text = dgettext(DOMAIN, msgid);
        uselocale(old);
        return text;
    }
    return msgid;
}
