/*
 * sharedkey: Azure Storage "Shared Key" authorization for the requests that
 * backends/azure.c sends (Blob service, version 2009-09-19 and later).
 *
 *   string to sign = VERB \n Content-Encoding \n Content-Language \n
 *                    Content-Length \n Content-MD5 \n Content-Type \n Date \n
 *                    If-Modified-Since \n If-Match \n If-None-Match \n
 *                    If-Unmodified-Since \n Range \n
 *                    (x-ms-name:value \n)*          sorted by name
 *                    / account path (\n param:value(,value)*)*   sorted by name
 *   Authorization  = "SharedKey " account ":" base64(HMAC-SHA256(key, string to sign))
 *
 * Design notes:
 *  1. A standard header that was not sent is an empty line; Content-Length
 *     "0" is one too (version 2015-02-21 and later).
 *  2. The canonicalized resource is "/" account followed by the URI path as
 *     sent, so a path-style endpoint (azurite: /devstoreaccount1/container)
 *     names the account twice, as the service expects.
 *  3. Query parameter names are lower-cased; values are signed decoded, as
 *     the service decodes them; a name given twice is one line of its values
 *     sorted and joined by commas.
 *  4. Header values are signed as given: the caller sends no folded or
 *     padded values, so there is no whitespace to collapse here.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../common/err.h"
#include "../common/util.h"
#include "beint.h"

#define SK_MAX_PAIRS 16
#define SK_STS_MAX (16u << 10)

/* The standard headers of the string to sign, in their order. */
static const char *const standard[] = {
    "content-encoding",  "content-language", "content-length", "content-md5",         "content-type", "date",
    "if-modified-since", "if-match",         "if-none-match",  "if-unmodified-since", "range",
};

static int lower_name(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if ((*s >= 'A' && *s <= 'Z') || *s == ':' || *s == '\n')
            return 0;
    return 1;
}

static const char *header_value(const be__sharedkey_req *r, const char *name)
{
    size_t i = 0;

    for (i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return "";
}

/* Names compared as lower case, then values: the order of note 3. */
static int pair_cmp(const be__pair *a, const be__pair *b)
{
    int c = strcasecmp(a->name, b->name);

    return c != 0 ? c : strcmp(a->value, b->value);
}

/* Insertion sort of pointers into src: at most SK_MAX_PAIRS entries. */
static void sort_pairs(const be__pair **out, const be__pair *src, size_t n)
{
    size_t i = 0, j = 0;

    for (i = 0; i < n; i++) {
        for (j = i; j > 0 && pair_cmp(out[j - 1], &src[i]) > 0; j--)
            out[j] = out[j - 1];
        out[j] = &src[i];
    }
}

static int valid_req(const be__sharedkey_req *r)
{
    size_t i = 0, j = 0;

    if (r == NULL || r->method == NULL || r->method[0] == '\0' || r->account == NULL || r->account[0] == '\0' ||
        r->path == NULL || r->path[0] != '/' || r->n_headers > SK_MAX_PAIRS || r->n_query > SK_MAX_PAIRS ||
        (r->n_headers > 0 && r->headers == NULL) || (r->n_query > 0 && r->query == NULL))
        return 0;
    for (i = 0; i < r->n_headers; i++) {
        if (!lower_name(r->headers[i].name) || r->headers[i].value == NULL || strchr(r->headers[i].value, '\n'))
            return 0;
        for (j = 0; j < i; j++)
            if (strcmp(r->headers[i].name, r->headers[j].name) == 0)
                return 0;
    }
    for (i = 0; i < r->n_query; i++)
        if (r->query[i].name == NULL || r->query[i].name[0] == '\0' || r->query[i].value == NULL)
            return 0;
    return 1;
}

static int put_headers(cn_buf *out, const be__sharedkey_req *r)
{
    const be__pair *sorted[SK_MAX_PAIRS];
    const char *v = NULL;
    size_t i = 0;
    int rc = cn_buf_printf(out, "%s\n", r->method);

    for (i = 0; rc == 0 && i < CN_ARRAY_SIZE(standard); i++) {
        v = header_value(r, standard[i]);
        if (strcmp(standard[i], "content-length") == 0 && strcmp(v, "0") == 0)
            v = ""; /* note 1 */
        rc = cn_buf_printf(out, "%s\n", v);
    }
    sort_pairs(sorted, r->headers, r->n_headers);
    for (i = 0; rc == 0 && i < r->n_headers; i++)
        if (strncmp(sorted[i]->name, "x-ms-", 5) == 0)
            rc = cn_buf_printf(out, "%s:%s\n", sorted[i]->name, sorted[i]->value);
    return rc;
}

static int put_resource(cn_buf *out, const be__sharedkey_req *r)
{
    const be__pair *sorted[SK_MAX_PAIRS];
    const char *n = NULL;
    size_t i = 0;
    int rc = cn_buf_printf(out, "/%s%s", r->account, r->path);

    sort_pairs(sorted, r->query, r->n_query);
    for (i = 0; rc == 0 && i < r->n_query; i++) {
        if (i > 0 && strcasecmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            rc = cn_buf_printf(out, ",%s", sorted[i]->value);
            continue;
        }
        rc = cn_buf_puts(out, "\n");
        for (n = sorted[i]->name; rc == 0 && *n != '\0'; n++) {
            char ch = *n >= 'A' && *n <= 'Z' ? (char)(*n - 'A' + 'a') : *n;
            rc = cn_buf_append(out, &ch, 1);
        }
        if (rc == 0)
            rc = cn_buf_printf(out, ":%s", sorted[i]->value);
    }
    return rc;
}

int be__sharedkey_string_to_sign(cn_buf *out, const be__sharedkey_req *r)
{
    int rc = 0;

    if (out == NULL || !valid_req(r))
        return -CN_EINVALID_ARGUMENT;
    cn_buf_reset(out);
    rc = put_headers(out, r);
    if (rc == 0)
        rc = put_resource(out, r);
    return rc;
}

int be__sharedkey_authorization(char *out, size_t cap, const uint8_t *key, size_t key_len, const be__sharedkey_req *r)
{
    uint8_t md[32];
    char sig[45];
    unsigned int md_len = sizeof(md);
    cn_buf sts;
    int rc = 0, n = 0;

    if (out == NULL || key == NULL || key_len == 0 || key_len > 1024)
        return -CN_EINVALID_ARGUMENT;
    cn_buf_init(&sts, SK_STS_MAX);
    rc = be__sharedkey_string_to_sign(&sts, r);
    if (rc != 0)
        goto out;
    if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)sts.data, sts.len, md, &md_len) == NULL ||
        md_len != sizeof(md)) {
        rc = -CN_EINTERNAL;
        goto out;
    }
    cn_base64(sig, md, sizeof(md));
    n = snprintf(out, cap, "SharedKey %s:%s", r->account, sig);
    if (n < 0 || (size_t)n >= cap)
        rc = -CN_ETOOLARGE;
out:
    cn_buf_dispose(&sts);
    return rc;
}
