/*
 * Helpers shared by the auth unit tests (test_sigv4, test_sigv2,
 * test_chunked): reading a vector file, parsing a raw HTTP request into a
 * cn_request the way the gateway would hand it over, and a key lookup that
 * knows the two example credentials of AWS's documentation. Header-only
 * (static), like test_obj_helpers.h, so that every test_*.c stays one
 * self-contained binary.
 */
#ifndef CN_TEST_AUTH_HELPERS_H
#define CN_TEST_AUTH_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../auth/auth.h"
#include "../../common/err.h"
#include "../../common/util.h"

/* snprintf into an array, asserting nothing was cut off */
#define FMT(buf, ...) cr_assert_lt(snprintf(buf, sizeof(buf), __VA_ARGS__), (int)sizeof(buf))

/* AKIDEXAMPLE (the generic SigV4 suite) and AKIAIOSFODNN7EXAMPLE (the S3
 * documentation's examples) */
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

#define TREQ_MAX_HEADERS 64

/* ---- a request read from a .req file, parsed in place ---- */

typedef struct treq {
    cn_request r;
    cn_header h[TREQ_MAX_HEADERS];
    char *buf; /* the request text, which r points into; the caller frees it */
} treq;

/* The whole file, NUL-terminated (length in *len unless NULL); NULL if it
 * cannot be read. The caller frees it. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf != NULL) {
            buf[n] = '\0';
            if (len != NULL)
                *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static inline void treq_add(treq *t, char *name, char *value)
{
    cr_assert_lt(t->r.n_headers, TREQ_MAX_HEADERS);
    t->h[t->r.n_headers] = (cn_header){name, value, strlen(name), strlen(value)};
    t->r.n_headers++;
}

static inline char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Parses "METHOD target HTTP/1.1\nName: value\n...\n\nbody" like the gateway
 * would hand it over: names lower-case, values trimmed, Host moved to r.host. */
static inline void treq_parse(treq *t, char *buf, size_t len)
{
    char *sep = strstr(buf, "\n\n"), *line, *next, *sp1, *sp2, *q;

    memset(t, 0, sizeof(*t));
    t->buf = buf;
    t->r.headers = t->h;
    t->r.query = "";
    t->r.host = "";
    if (sep != NULL) {
        *sep = '\0';
        t->r.body = (const uint8_t *)sep + 2;
        t->r.body_len = len - (size_t)(sep + 2 - buf);
    }
    next = strchr(buf, '\n');
    if (next != NULL)
        *next++ = '\0';
    sp1 = strchr(buf, ' ');
    sp2 = strrchr(buf, ' ');
    cr_assert(sp1 != NULL && sp2 != NULL && sp1 != sp2, "bad request line");
    *sp1 = *sp2 = '\0';
    t->r.method = buf;
    t->r.path = sp1 + 1;
    q = strchr(t->r.path, '?');
    if (q != NULL) {
        *q = '\0';
        t->r.query = q + 1;
    }
    for (line = next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *colon = strchr(line, ':');
        cr_assert(colon != NULL, "bad header line %s", line);
        *colon = '\0';
        for (char *p = line; *p != '\0'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (strcmp(line, "host") == 0)
            t->r.host = trim(colon + 1);
        else
            treq_add(t, line, trim(colon + 1));
    }
}

/* 0, or -1 if path cannot be read. */
static inline int treq_load(treq *t, const char *path)
{
    size_t len;
    char *buf = slurp(path, &len);

    if (buf == NULL)
        return -1;
    treq_parse(t, buf, len);
    return 0;
}

static inline void treq_from(treq *t, const char *text)
{
    char *buf = strdup(text);

    cr_assert(buf != NULL);
    treq_parse(t, buf, strlen(buf));
}

/* text with its first from replaced by to, into out (cap bytes); asserts
 * that from is there and that the result fits. */
static inline void substitute(char *out, size_t cap, const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);

    cr_assert(p != NULL, "%s", from);
    cr_assert_lt(snprintf(out, cap, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from)), (int)cap);
}

/* The auth_secret_fn of the tests: AKIDEXAMPLE is "suite", AKIAIOSFODNN7EXAMPLE
 * is "alice", any other key is unknown. */
static inline int lookup(void *arg, const char *ak, char *secret, size_t cap, char *principal, size_t pcap)
{
    const char *s = NULL, *who = NULL;

    (void)arg;
    if (strcmp(ak, "AKIDEXAMPLE") == 0) {
        s = SUITE_SECRET;
        who = "suite";
    } else if (strcmp(ak, "AKIAIOSFODNN7EXAMPLE") == 0) {
        s = S3_SECRET;
        who = "alice";
    }
    if (s == NULL)
        return -CN_ENOKEY_ID;
    snprintf(secret, cap, "%s", s);
    snprintf(principal, pcap, "%s", who);
    return 0;
}

#endif
