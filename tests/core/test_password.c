/* test_password.c -- the password policy (each reason, in its order), the
 * embedded common-password list, and argon2id hashing. No server needed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "atrium.h"

#define LIST "src/core/data/common-passwords.txt"

static void expect(const char *password, const char *username, const char *email, const char *want)
{
    const char *got = auth_password_problem(password, username, email);
    if (!want) cr_assert_null(got, "'%s' (user %s, email %s) should pass, got %s", password, username, email, got);
    else cr_assert(got && !strcmp(got, want), "'%s' (user %s, email %s): expected %s, got %s", password, username,
                   email, want, got ? got : "NULL");
}

Test(password, too_short)
{
    expect("", NULL, NULL, "password_too_short");
    expect("Ab3$xyz", NULL, NULL, "password_too_short");             /* 7 */
    expect("\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1", NULL, NULL,
           "password_too_short");                                     /* 7 code points, 14 bytes */
    expect("\xc3\xb1" "a\xc3\xb1" "b\xc3\xb1" "c\xc3\xb1" "d", NULL, NULL, NULL);   /* 8 code points */
    expect("1234567", NULL, NULL, "password_too_short");              /* length is checked first */
}

Test(password, all_digits)
{
    expect("98234175", NULL, NULL, "password_all_digits");
    expect("12345678901234567890", NULL, NULL, "password_all_digits");
    expect("12345678", NULL, NULL, "password_all_digits");            /* before "common" */
    expect("9823417a", NULL, NULL, NULL);
}

Test(password, common)
{
    expect("password123", NULL, NULL, "password_common");
    expect("iloveyou", NULL, NULL, "password_common");
    expect("PassWord123", NULL, NULL, "password_common");             /* case-insensitive */
    expect("ILOVEYOU", NULL, NULL, "password_common");
    expect("password123", "maria", "maria@example.com", "password_common");   /* before "similar" */
}

Test(password, similar)
{
    expect("Maria2024!x", "maria", NULL, "password_similar");         /* contains the username */
    expect("mariaa...", "maria", NULL, "password_similar");
    expect("xx-MARIA-xx", "Maria", NULL, "password_similar");         /* case-insensitive */
    expect("Zebra-jdoe-81", "someone", "JDoe@example.com", "password_similar");   /* email local part */
    expect("califragil", "supercalifragilistic", NULL, "password_similar");      /* username contains it */
    expect("Chr1st0pher", "christopher", NULL, "password_similar");  /* distance 2 */
    expect("kristofferr", "christopher", NULL, NULL);                 /* distance > 3 */
    expect("al-Zebra-Quantum", "al", NULL, NULL);                     /* names under 3 chars are ignored */
    expect("Zebra-Quantum-81", "maria", "maria@example.com", NULL);
}

Test(password, good_passwords_pass)
{
    expect("Correct-Horse-42", "bob", "bob@example.com", NULL);
    expect("Zebra-Quantum-81", NULL, NULL, NULL);
    expect("tr3s tigres tristes", "maria", "maria.lopez@example.es", NULL);
}

/* Every entry of 8+ characters that is not all digits must be refused as
 * common: the list is loaded whole and the binary search finds each one. */
Test(password, common_list_loaded)
{
    const struct embedded_file *f = embed_find(LIST);
    cr_assert_not_null(f, "%s is embedded", LIST);
    char *copy = strdup((const char *)f->data), *save = NULL;
    size_t lines = 0, checked = 0;
    for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        lines++;
        size_t n = strlen(line);
        if (n < 8 || strspn(line, "0123456789") == n) continue;
        const char *got = auth_password_problem(line, NULL, NULL);
        cr_assert(got && !strcmp(got, "password_common"), "list entry '%s' -> %s", line, got ? got : "NULL");
        checked++;
    }
    free(copy);
    cr_assert_geq(lines, 10000, "the list has %zu entries", lines);
    cr_assert_geq(checked, 1000);
}

Test(password, argon2id_hash_and_verify)
{
    char hash[128], again[128];
    cfg.pwhash_ops = 1;
    cfg.pwhash_mem = 8192;
    cr_assert_eq(auth_hash_password("Correct-Horse-42", hash), 0);
    cr_assert(!strncmp(hash, "$argon2id$", 10), "argon2id hash: %s", hash);
    cr_assert_null(strstr(hash, "Correct-Horse-42"));
    cr_assert(auth_verify_password(hash, "Correct-Horse-42"));
    cr_assert_not(auth_verify_password(hash, "correct-horse-42"));
    cr_assert_not(auth_verify_password(hash, ""));
    cr_assert_not(auth_verify_password("not a hash", "Correct-Horse-42"));
    cr_assert_eq(auth_hash_password("Correct-Horse-42", again), 0);
    cr_assert_str_neq(hash, again, "each hash has its own salt");
}
