/* main.c -- the atrium command line: serve, migrate, seed, backup, restore,
 * user, audit, jobs, config, version. Each command has --help. */
#include "atrium.h"
#include "openapi.h"
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const char *config_file;

static bool want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

/* Value of "--name VALUE" or "--name=VALUE" in argv, else NULL. */
static const char *flag(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], name) && i + 1 < argc) return argv[i + 1];
        if (!strncmp(argv[i], name, n) && argv[i][n] == '=') return argv[i] + n + 1;
    }
    return NULL;
}

static bool has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name)) return true;
    return false;
}

/* The n-th argument that is not a flag or a flag's value. */
static const char *positional(int argc, char **argv, int n)
{
    static const char *valued[] = {"--to", "--seed", "--password", "--email", "--scope", "--config", "--display-name",
                                   "--orders", "--stores-per-region", NULL};
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            for (const char **v = valued; *v; v++)
                if (!strcmp(argv[i], *v)) i++;
            continue;
        }
        if (n-- == 0) return argv[i];
    }
    return NULL;
}

static struct db *open_migrated(void)
{
    struct db *db = db_thread();
    if (!db || migrate_all(db) < 0) {
        char *name = backup_db_name(cfg.db);    /* a URL's password masked */
        fprintf(stderr, "atrium: cannot open or migrate %s\n", name);
        free(name);
        return NULL;
    }
    return db;
}

/* Without ATRIUM_DB the default ./data/atrium.db depends on where atrium is
 * started. `make run` starts it from the checkout (scripts/run), so a binary
 * that lives in <checkout>/build/ (or build-asan/) uses <checkout>/data/atrium.db wherever it
 * is called from, and says so; an installed binary keeps ./data/atrium.db. */
static void default_db(void)
{
    char exe[4096], root[4096], probe[4200];
    ssize_t n;
    if (getenv("ATRIUM_DB") || access(cfg.db, F_OK) == 0 ||
        (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
        return;
    exe[n] = 0;
    snprintf(root, sizeof root, "%s", exe);
    for (int up = 0; up < 2; up++) {            /* <root>/build/atrium -> <root> */
        char *slash = strrchr(root, '/');
        if (!slash) return;
        *slash = 0;
    }
    snprintf(probe, sizeof probe, "%s/scripts/run", root);
    if (access(probe, F_OK) < 0) return;
    snprintf(probe, sizeof probe, "%s/data/atrium.db", root);
    fprintf(stderr, "atrium: ATRIUM_DB is not set; using %s (the database of make run)\n", probe);
    free(cfg.db);
    cfg.db = xstrdup(probe);
}

/* For commands that read an existing database: never create an empty one. */
static struct db *open_existing(void)
{
    if (!db_url_is_pg(cfg.db) && access(cfg.db, F_OK) < 0) {
        fprintf(stderr, "atrium: no database at %s (set ATRIUM_DB, or create it with `atrium migrate`)\n", cfg.db);
        return NULL;
    }
    struct db *db = db_thread();
    if (!db) {
        char *name = backup_db_name(cfg.db);
        fprintf(stderr, "atrium: cannot open %s\n", name);
        free(name);
    }
    return db;
}

static void progress(int done, int total)
{
    if (!isatty(STDOUT_FILENO) || total <= 0) return;
    printf("\r  %3d%%", done * 100 / total);
    if (done >= total) printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------- commands */

static int cmd_serve(int argc, char **argv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);     /* every thread inherits it; main waits */
    if (atrium_init() < 0 || atrium_start() < 0) {
        atrium_shutdown();
        return 1;
    }
    log_json(LOG_WARN, json_pack("{s:s, s:i}", "host", cfg.listen_host, "port", http_port()),
             "atrium %s listening on http://%s:%d", ATRIUM_VERSION, cfg.listen_host, http_port());
    int sig = 0;
    sigwait(&set, &sig);
    log_json(LOG_WARN, NULL, "signal %d: shutting down", sig);
    atrium_shutdown();
    log_json(LOG_WARN, NULL, "stopped cleanly");
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    struct db *db = db_thread();
    int n = db ? migrate_all(db) : -1;
    if (n < 0) {
        fprintf(stderr, "atrium: migration failed\n");
        return 1;
    }
    printf("applied %d migration(s); schema is current\n", n);
    return 0;
}

static int cmd_seed(int argc, char **argv)
{
    const char *which = positional(argc, argv, 0);
    const char *seed = flag(argc, argv, "--seed");
    struct seed_opts opts = {.seed = seed ? (unsigned)strtoul(seed, NULL, 10) : 42,
                             .password = flag(argc, argv, "--password"),
                             .clear = has_flag(argc, argv, "--clear"),
                             .progress = isatty(STDOUT_FILENO), .argc = argc, .argv = argv};
    if (!opts.password) opts.password = "atrium-demo-pass";
    if (!which) {
        fprintf(stderr, "usage: atrium seed <app>|all [--clear] [--seed N] [--password P]\n");
        return 2;
    }
    if (strcmp(which, "all") && strcmp(which, "core") && !app_find(which)) {
        fprintf(stderr, "atrium: unknown app '%s'\n", which);
        return 2;
    }
    struct db *db = open_migrated();
    if (!db) return 1;
    return seed_run(db, which, &opts) < 0 ? 1 : 0;
}

static int cmd_backup(int argc, char **argv)
{
    char path[1024], err[512];
    const char *dir = flag(argc, argv, "--to");
    if (backup_create(cfg.db, dir ? dir : cfg.backup_dir, cfg.backup_keep_days, progress, path, sizeof path, err,
                      sizeof err) < 0) {
        fprintf(stderr, "atrium: backup failed: %s\n", err);
        return 1;
    }
    printf("%s\n", path);
    return 0;
}

static int cmd_restore(int argc, char **argv)
{
    const char *file = positional(argc, argv, 0);
    char err[512], *name = backup_db_name(cfg.db);      /* a URL's password masked */
    int rc = 0;
    if (!file) {
        fprintf(stderr, "usage: atrium restore FILE --confirm\n");
        rc = 2;
    } else if (!has_flag(argc, argv, "--confirm")) {
        fprintf(stderr, "atrium: restore replaces %s; add --confirm to go ahead\n", name);
        rc = 2;
    } else if (backup_restore(file, cfg.db, progress, err, sizeof err) < 0) {
        fprintf(stderr, "atrium: restore failed: %s\n", err);
        rc = 1;
    } else {
        printf("restored %s into %s\n", file, name);
    }
    free(name);
    return rc;
}

static int cmd_user(int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0), *name = positional(argc, argv, 1);
    if (!sub || !name) {
        fprintf(stderr, "usage: atrium user add|passwd|role USERNAME ...\n");
        return 2;
    }
    struct db *db = !strcmp(sub, "add") ? open_migrated() : open_existing();
    if (!db) return 1;
    if (!strcmp(sub, "add"))
        return user_cli_add(db, name, flag(argc, argv, "--password"), flag(argc, argv, "--email"),
                            flag(argc, argv, "--display-name"), has_flag(argc, argv, "--admin"));
    if (!strcmp(sub, "passwd")) return user_cli_passwd(db, name, flag(argc, argv, "--password"));
    if (!strcmp(sub, "role"))
        return user_cli_role(db, name, positional(argc, argv, 2), positional(argc, argv, 3),
                             flag(argc, argv, "--scope"), has_flag(argc, argv, "--remove"));
    fprintf(stderr, "atrium: unknown user command '%s'\n", sub);
    return 2;
}

static int cmd_audit(int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0);
    if (!sub || strcmp(sub, "verify")) {
        fprintf(stderr, "usage: atrium audit verify\n");
        return 2;
    }
    struct db *db = open_existing();
    if (!db) return 1;
    int64_t checked = 0, bad = audit_verify(db, &checked);
    if (bad < 0) {
        fprintf(stderr, "atrium: %s has no audit log: not an atrium database, or never migrated\n", cfg.db);
        return 1;
    }
    if (!checked) {
        fprintf(stderr, "atrium: the audit log of %s is empty: nothing to verify (is it the right database?)\n",
                cfg.db);
        return 1;
    }
    if (bad) {
        printf("audit log BROKEN at row %lld (%lld rows checked)\n", (long long)bad, (long long)checked);
        return 1;
    }
    printf("audit log intact: %lld rows verified\n", (long long)checked);
    return 0;
}

static int cmd_jobs(int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0);
    if (!sub || (strcmp(sub, "list") && strcmp(sub, "run"))) {
        fprintf(stderr, "usage: atrium jobs list | atrium jobs run NAME\n");
        return 2;
    }
    if (atrium_init() < 0) {
        atrium_shutdown();      /* removes what init made (the catalogs' temp dir) */
        return 1;
    }
    struct db *db = db_thread();
    int rc = 0;
    if (!strcmp(sub, "list")) {
        json_t *rows = db_json_all(db, "SELECT name, interval_s, datetime(next_run_at, 'unixepoch') AS next_run, "
                                       "last_status, last_result FROM jobs ORDER BY name");
        size_t i;
        json_t *v;
        printf("%-32s %-9s %-20s %-8s %s\n", "JOB", "EVERY", "NEXT RUN (UTC)", "LAST", "RESULT");
        json_array_foreach(rows, i, v)
            printf("%-32s %-9lld %-20s %-8s %s\n", json_string_value(json_object_get(v, "name")),
                   (long long)json_integer_value(json_object_get(v, "interval_s")),
                   json_string_value(json_object_get(v, "next_run")),
                   json_is_string(json_object_get(v, "last_status")) ? json_string_value(json_object_get(v, "last_status")) : "-",
                   json_is_string(json_object_get(v, "last_result")) ? json_string_value(json_object_get(v, "last_result")) : "");
        json_decref(rows);
    } else {
        const char *name = positional(argc, argv, 1);
        char *result = NULL;
        rc = name ? jobs_run(db, name, &result) : -1;
        if (!name) fprintf(stderr, "usage: atrium jobs run NAME\n");
        else if (rc < 0 && !result) fprintf(stderr, "atrium: unknown job '%s'\n", name);
        if (result) printf("%s: %s\n", rc < 0 ? "failed" : "ok", result);
        free(result);
        rc = rc < 0 ? 1 : 0;
    }
    atrium_shutdown();
    return rc;
}

static int cmd_config(int argc, char **argv)
{
    const char *sub = positional(argc, argv, 0);
    if (!sub || strcmp(sub, "check")) {
        fprintf(stderr, "usage: atrium config check\n");
        return 2;
    }
    config_print(stdout);
    printf("configuration is valid\n");
    return 0;
}

static int cmd_routes(int argc, char **argv)
{
    const char *app = positional(argc, argv, 0);
    bool markdown = has_flag(argc, argv, "--markdown");
    if (app) {
        if (openapi_print_routes(stdout, app, markdown) == 0) return 0;
        fprintf(stderr, "atrium: unknown app '%s'\n", app);
        return 2;
    }
    for (const struct app *const *a = atrium_apps; *a; a++) {
        printf("%s%s%s\n\n", a == atrium_apps ? "" : "\n", markdown ? "## " : "", (*a)->name);
        openapi_print_routes(stdout, (*a)->name, markdown);
    }
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    printf("atrium %s\n", ATRIUM_VERSION);
    return 0;
}

static const struct command commands[] = {
    {"serve", cmd_serve, "atrium serve [--config FILE]\n  Run the server (migrates first). SIGTERM/SIGINT stop it gracefully."},
    {"migrate", cmd_migrate, "atrium migrate\n  Apply every pending migration of the core and the enabled apps."},
    {"seed", cmd_seed, "atrium seed <app>|all [--clear] [--seed N] [--password P]\n  Fill the database with demo data and print the accounts made."},
    {"backup", cmd_backup, "atrium backup [--to DIR]\n  Online, verified, gzip-compressed backup with a .sha256 beside it\n"
                           "  (PostgreSQL: a pg_dump custom-format .pgdump)."},
    {"restore", cmd_restore, "atrium restore FILE --confirm\n  Verify FILE and swap it in; the current database is kept aside\n"
                             "  (PostgreSQL: pg_restore replaces the database's contents in one transaction)."},
    {"user", cmd_user, "atrium user add USERNAME [--password P] [--email E] [--display-name N] [--admin]\n"
                       "atrium user passwd USERNAME [--password P]\n"
                       "atrium user role USERNAME APP ROLE [--scope TYPE:ID] [--remove]\n"
                       "  Without --password the password is read from standard input."},
    {"audit", cmd_audit, "atrium audit verify\n  Recompute the audit hash chain; exits 1 naming the first bad row."},
    {"jobs", cmd_jobs, "atrium jobs list | atrium jobs run NAME\n  Show the schedule, or run one job now."},
    {"config", cmd_config, "atrium config check\n  Validate ATRIUM_* settings and print them with secrets masked."},
    {"routes", cmd_routes, "atrium routes [APP] [--markdown]\n  Print APP's endpoint table (every app's without APP) from its route table and api.json;\n"
                           "  --markdown prints the table the docs pages hold (make docs)."},
    {"version", cmd_version, "atrium version"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: atrium [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++) fprintf(out, "  %s\n", c->name);
    fprintf(out, "\n`atrium COMMAND --help` for details.\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--config")) {
        config_file = argv[i + 1];
        i += 2;
    }
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    const struct command *cmd = NULL;
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, argv[i])) cmd = c;
    if (!cmd) {
        fprintf(stderr, "atrium: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    int cargc = argc - i;
    char **cargv = argv + i;
    if (want_help(cargc, cargv)) {
        printf("usage: %s\n", cmd->usage);
        return 0;
    }
    if (!config_file) config_file = flag(cargc, cargv, "--config");
    char err[512];
    if (config_load(config_file, err, sizeof err) < 0) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return 2;
    }
    default_db();
    int rc = cmd->run(cargc, cargv);
    if (strcmp(cmd->name, "serve")) db_close_all();
    return rc;
}
