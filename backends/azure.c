/*
 * azure: a provider that keeps each named byte string as one block blob in a
 * container of an Azure Blob Storage account, through libcurl.
 *
 * Options (be_option key/values):
 *   endpoint     the account URL: https://ACCOUNT.blob.core.windows.net, or
 *                path-style http://127.0.0.1:10000/devstoreaccount1 (azurite)
 *                                                           (required)
 *   account      the storage account name                   (required)
 *   key          the account key, base64                    (required)
 *   container    the container, which must already exist    (required)
 *   prefix       prepended to every name: "<prefix><name>"  ("")
 *   timeout_ms   connect timeout, and the per-attempt budget of a request:
 *                timeout_ms plus 1 s per MiB of body       (30000)
 *   retries      extra attempts after the first             (3)
 *   ca_file      PEM bundle to verify the endpoint's certificate against;
 *                verification is always on for https
 *   page_size    names per List Blobs page, 1..5000         (5000)
 *
 * Design notes:
 *  1. Every request carries x-ms-date and x-ms-version (AZ_VERSION) and is
 *     signed with Shared Key (backends/sharedkey.c); a retry is signed afresh.
 *     Shared Key does not cover the body, and needs no hash of it: puts
 *     stream. The shards are sealed (AES-GCM) above this layer, which gives
 *     the integrity a Content-MD5 would.
 *  2. put() is one Put Blob (x-ms-blob-type: BlockBlob) fed from the
 *     cn_stream with Content-Length = size. Shards are bounded by the segment
 *     size, far below the single-shot limit of Put Blob (5000 MiB for this
 *     version), so there are no Put Block / Put Block List calls, and no
 *     uncommitted blocks to clean up.
 *  3. Put Blob is atomic: the blob appears (or is replaced) only once the
 *     whole body has arrived; an aborted upload leaves nothing, so sweep() has
 *     nothing to do. No delete is sent after a failed put: it could remove a
 *     good earlier copy.
 *  4. get() is Get Blob with x-ms-range: a 206 with exactly len bytes, written
 *     straight into the caller's buffer (curl_pool.c stops at len). len 0 is
 *     Get Blob Properties, whose Content-Length is the blob's size.
 *  5. list() is List Blobs with prefix, maxresults and marker; one page at a
 *     time in a capped buffer, parsed with libxml2. Names outside the prefix
 *     option, or that this driver could not have written, are skipped.
 *  6. Transfers, retries (backoff with jitter, on transport errors, 5xx and
 *     429; a put only until its stream was read from) and the handle pool
 *     are backends/curl_pool.c's, shared with the S3 driver.
 *  7. Status mapping: 403 (AuthenticationFailed, AuthorizationFailure) →
 *     -CN_EACCESS; anything else that is not the expected success → -CN_EIO.
 *     A get of a missing name is -CN_EIO; a delete of one succeeds.
 *
 * Not done here: SAS tokens and Entra ID, Put Block lists (note 2), blob
 * names that need encoding in listings (Encoded="true": cairn never writes
 * one), proxies, checking Content-Range (sealed shards are authenticated
 * above this layer).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "be.h"
#include "beint.h"

#define AZ_VERSION "2021-08-06"
#define AZ_MAX_NAME 200
#define AZ_MAX_PREFIX 200
#define AZ_MAX_KEY 256
#define AZ_PAGE_MAX 5000
#define AZ_LIST_BODY_MAX (16u << 20) /* one List Blobs page of 5000 names, with properties */
#define AZ_URL_MAX 2048
#define AZ_QUERY_MAX 5

typedef struct az_provider {
    be_provider base;
    be__http http; /* timeout_ms, retries, ca_file and the handle pool */
    char *origin;  /* scheme://authority */
    char *root;    /* the endpoint's path ("" or "/devstoreaccount1") */
    char *account, *container, *prefix;
    uint8_t key[AZ_MAX_KEY];
    size_t key_len;
    long page_size;
} az_provider;

/* One logical request: the shared transfer record, then what Azure signs. */
typedef struct az_call {
    be__call base;
    az_provider *p;
    const char *name; /* blob name (without the provider prefix); NULL: the container */
    be__pair query[AZ_QUERY_MAX];
    size_t n_query;
    const char *range; /* x-ms-range value or NULL */
} az_call;

static int object_name_valid(const char *name)
{
    return be_name_valid(name, AZ_MAX_NAME);
}

/* 3-63 of [a-z0-9-], starting and ending with a letter or digit, no "--". */
static int container_valid(const char *c)
{
    size_t i = 0, n = c != NULL ? strlen(c) : 0;

    if (n < 3 || n > 63 || c[0] == '-' || c[n - 1] == '-' || strstr(c, "--") != NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '-'))
            return 0;
    return 1;
}

/* 3-24 of [a-z0-9]. */
static int account_valid(const char *a)
{
    size_t i = 0, n = a != NULL ? strlen(a) : 0;

    if (n < 3 || n > 24)
        return 0;
    for (i = 0; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9')))
            return 0;
    return 1;
}

/* ---- one attempt ---- */

/* URI path as sent and signed: root/container[/<prefix><name>]. */
static int build_path(const az_call *c, char *out, size_t cap)
{
    const az_provider *p = c->p;
    char blob[AZ_MAX_PREFIX + AZ_MAX_NAME + 1];
    char enc[3 * sizeof(blob) + 1];
    int n = 0;

    if (c->name == NULL) {
        n = snprintf(out, cap, "%s/%s", p->root, p->container);
    } else {
        snprintf(blob, sizeof(blob), "%s%s", p->prefix, c->name);
        cn_uri_encode(enc, blob, strlen(blob), 1);
        n = snprintf(out, cap, "%s/%s/%s", p->root, p->container, enc);
    }
    return n < 0 || (size_t)n >= cap ? -CN_EINVALID_ARGUMENT : 0;
}

/* The URL: origin, path, then the query encoded (it is signed decoded). */
static int build_url(const az_call *c, const char *path, char *url, size_t cap)
{
    char enc[3 * AZ_URL_MAX + 1];
    size_t i = 0, len = 0;
    int n = snprintf(url, cap, "%s%s", c->p->origin, path);

    for (i = 0; i < c->n_query && n >= 0 && (size_t)n < cap; i++) {
        const char *v = c->query[i].value;
        if (strlen(v) > AZ_URL_MAX)
            return -CN_EINVALID_ARGUMENT;
        cn_uri_encode(enc, v, strlen(v), 0);
        len = (size_t)n;
        n = snprintf(url + len, cap - len, "%c%s=%s", i == 0 ? '?' : '&', c->query[i].name, enc);
        n = n < 0 ? n : n + (int)len;
    }
    return n < 0 || (size_t)n >= cap ? -CN_EINVALID_ARGUMENT : 0;
}

/* be__sign_fn: the URL and Shared Key signed headers of one attempt (note 1). */
static int sign(be__call *bc, char *url, size_t cap, struct curl_slist **hdrs)
{
    az_call *c = (az_call *)bc;
    char path[AZ_URL_MAX], date[32], length[32], auth[BE__SHAREDKEY_AUTH_MAX];
    be__pair h[5];
    be__sharedkey_req r;
    size_t n = 0, i = 0;
    int rc = build_path(c, path, sizeof(path));

    if (rc == 0)
        rc = build_url(c, path, url, cap);
    if (rc != 0)
        return rc;
    cn_time_rfc1123(date, cn_now());
    h[n++] = (be__pair){"x-ms-date", date};
    h[n++] = (be__pair){"x-ms-version", AZ_VERSION};
    if (bc->src != NULL) {
        /* curl sends this Content-Length itself (CURLOPT_INFILESIZE_LARGE). */
        snprintf(length, sizeof(length), "%llu", (unsigned long long)bc->size);
        h[n++] = (be__pair){"x-ms-blob-type", "BlockBlob"};
        h[n++] = (be__pair){"content-length", length};
    }
    if (c->range != NULL)
        h[n++] = (be__pair){"x-ms-range", c->range};
    r = (be__sharedkey_req){.method = bc->method,
                            .account = c->p->account,
                            .path = path,
                            .headers = h,
                            .n_headers = n,
                            .query = c->query,
                            .n_query = c->n_query};
    rc = be__sharedkey_authorization(auth, sizeof(auth), c->p->key, c->p->key_len, &r);
    for (i = 0; rc == 0 && i < n; i++)
        if (strcmp(h[i].name, "content-length") != 0)
            rc = be__add_header(hdrs, h[i].name, h[i].value);
    if (rc == 0)
        rc = be__add_header(hdrs, "Authorization", auth);
    return rc;
}

static int perform(az_provider *p, az_call *c)
{
    c->p = p;
    c->base.sign = sign;
    return be__perform(&p->http, &c->base);
}

/* ---- the driver ---- */

static int az_put(be_provider *bp, const char *name, cn_stream *src, uint64_t size)
{
    az_provider *p = (az_provider *)bp;
    az_call c = {.base = {.method = "PUT", .src = src, .size = size}, .name = name};
    int rc = 0;

    if (!object_name_valid(name) || src == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    if (c.base.sent != size) /* cannot happen with a 201, but never claim a short put */
        return -CN_EIO;
    return c.base.status == 201 ? 0 : be__status_rc(c.base.status);
}

/* len 0: the blob must exist and off lie within it (note 4). */
static int az_get_empty(az_provider *p, const char *name, uint64_t off)
{
    az_call c = {.base = {.method = "HEAD"}, .name = name};
    int rc = perform(p, &c);

    if (rc != 0)
        return rc;
    if (c.base.status != 200)
        return be__status_rc(c.base.status);
    return c.base.content_length >= 0 && (uint64_t)c.base.content_length >= off ? 0 : -CN_EIO;
}

static int az_get(be_provider *bp, const char *name, uint64_t off, void *buf, size_t len)
{
    az_provider *p = (az_provider *)bp;
    char range[64];
    az_call c = {.base = {.method = "GET", .buf = buf, .len = len}, .name = name, .range = range};
    int rc = 0;

    if (!object_name_valid(name) || (buf == NULL && len > 0) || off > UINT64_MAX - len)
        return -CN_EINVALID_ARGUMENT;
    if (len == 0)
        return az_get_empty(p, name, off);
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    /* 206 with exactly len bytes; a 200 (range ignored) is fine only when it
     * was the whole blob from 0, since curl_pool.c refused anything beyond len. */
    if ((c.base.status == 206 || (c.base.status == 200 && off == 0)) && c.base.got == len && !c.base.overflow)
        return 0;
    return be__status_rc(c.base.status);
}

static int az_del(be_provider *bp, const char *name)
{
    az_provider *p = (az_provider *)bp;
    az_call c = {.base = {.method = "DELETE"}, .name = name};
    int rc = 0;

    if (!object_name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    return be__status_ok(c.base.status) || c.base.status == 404 ? 0 : be__status_rc(c.base.status);
}

/* ---- list (note 5) ---- */

typedef struct az_lister {
    az_provider *p;
    const char *prefix; /* as asked, without the provider prefix */
    int (*fn)(void *arg, const char *name, uint64_t size);
    void *arg;
    int stop;
    char *marker; /* where the next page starts; NULL: no more pages */
} az_lister;

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
    return NULL;
}

/* Reports one <Blob> to fn, if it is one of ours under the asked prefix. */
static void list_blob(az_lister *l, xmlNodePtr blob)
{
    size_t plen = strlen(l->p->prefix);
    xmlChar *name = xmlNodeGetContent(child(blob, "Name"));
    xmlChar *size = xmlNodeGetContent(child(child(blob, "Properties"), "Content-Length"));
    const char *key = name != NULL ? (const char *)name : "";

    if (size != NULL && strncmp(key, l->p->prefix, plen) == 0 &&
        strncmp(key + plen, l->prefix, strlen(l->prefix)) == 0 && object_name_valid(key + plen) &&
        l->fn(l->arg, key + plen, strtoull((const char *)size, NULL, 10)) != 0)
        l->stop = 1;
    xmlFree(name);
    xmlFree(size);
}

/* The page's NextMarker, malloc'd, or NULL when it was the last page. */
static int next_marker(xmlNodePtr root, char **out)
{
    xmlChar *next = xmlNodeGetContent(child(root, "NextMarker"));
    int rc = 0;

    *out = NULL;
    if (next != NULL && next[0] != '\0') {
        *out = strdup((const char *)next);
        if (*out == NULL)
            rc = -CN_ENOMEM;
    }
    xmlFree(next);
    return rc;
}

/* Walks one EnumerationResults page and moves l->marker on to its NextMarker. */
static int parse_page(az_lister *l, const cn_buf *body)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root = NULL, n = NULL;
    char *next = NULL;
    int rc = 0;

    if (body->len == 0 || body->len > INT_MAX)
        return -CN_EIO;
    doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL || strcmp((const char *)root->name, "EnumerationResults") != 0 || doc->intSubset != NULL) {
        rc = -CN_EIO;
        goto out;
    }
    n = child(root, "Blobs");
    for (n = n != NULL ? n->children : NULL; n != NULL && !l->stop; n = n->next)
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Blob") == 0)
            list_blob(l, n);
    rc = next_marker(root, &next);
    if (rc == 0 && next != NULL && l->marker != NULL && strcmp(next, l->marker) == 0)
        rc = -CN_EIO; /* the endpoint would loop forever */
    if (rc == 0) {
        free(l->marker);
        l->marker = next;
        next = NULL;
    }
out:
    free(next);
    xmlFreeDoc(doc);
    return rc;
}

/* Fetches and walks the page that starts at l->marker (NULL: the first). */
static int list_page(az_lister *l, const char *full_prefix, cn_buf *body)
{
    char page[24];
    az_call c = {.base = {.method = "GET", .body = body}, .name = NULL};
    int rc = 0;

    snprintf(page, sizeof(page), "%ld", l->p->page_size);
    c.query[c.n_query++] = (be__pair){"restype", "container"};
    c.query[c.n_query++] = (be__pair){"comp", "list"};
    c.query[c.n_query++] = (be__pair){"prefix", full_prefix};
    c.query[c.n_query++] = (be__pair){"maxresults", page};
    if (l->marker != NULL)
        c.query[c.n_query++] = (be__pair){"marker", l->marker};
    rc = perform(l->p, &c);
    if (rc == 0 && c.base.status != 200)
        rc = be__status_rc(c.base.status);
    if (rc == 0 && c.base.overflow)
        rc = -CN_EIO;
    if (rc == 0)
        rc = parse_page(l, body);
    return rc;
}

static int az_list(be_provider *bp, const char *prefix, int (*fn)(void *arg, const char *name, uint64_t size),
                   void *arg)
{
    az_provider *p = (az_provider *)bp;
    char full[AZ_MAX_PREFIX + AZ_MAX_NAME + 1];
    az_lister l = {.p = p, .prefix = prefix != NULL ? prefix : "", .fn = fn, .arg = arg};
    cn_buf body;
    int rc = 0;

    if (!be_name_chars_valid(l.prefix, AZ_MAX_NAME) || fn == NULL)
        return -CN_EINVALID_ARGUMENT;
    snprintf(full, sizeof(full), "%s%s", p->prefix, l.prefix);
    cn_buf_init(&body, AZ_LIST_BODY_MAX);
    /* The first page, then one per NextMarker until the last or fn stops. */
    rc = list_page(&l, full, &body);
    while (rc == 0 && !l.stop && l.marker != NULL)
        rc = list_page(&l, full, &body);
    free(l.marker);
    cn_buf_dispose(&body);
    return rc;
}

static int az_health(be_provider *bp)
{
    az_provider *p = (az_provider *)bp;
    az_call c = {.base = {.method = "HEAD"}, .name = NULL, .query = {{"restype", "container"}}, .n_query = 1};
    int rc = perform(p, &c);

    if (rc != 0)
        return rc;
    return c.base.status == 200 ? 0 : be__status_rc(c.base.status);
}

static int az_sweep(be_provider *bp)
{
    (void)bp; /* note 3: nothing is ever left half-written */
    return 0;
}

static void az_destroy(be_provider *bp)
{
    az_provider *p = (az_provider *)bp;

    if (p == NULL)
        return;
    be__http_dispose(&p->http);
    OPENSSL_cleanse(p->key, sizeof(p->key));
    free(p->origin);
    free(p->root);
    free(p->account);
    free(p->container);
    free(p->prefix);
    free(p);
}

/* ---- create ---- */

/* endpoint = http[s]://authority[/path][/]; sets origin and root. */
static int parse_endpoint(az_provider *p, const char *endpoint)
{
    const char *auth = NULL, *path = NULL;
    size_t alen = 0, plen = 0, i = 0;

    if (strncmp(endpoint, "http://", 7) == 0)
        auth = endpoint + 7;
    else if (strncmp(endpoint, "https://", 8) == 0)
        auth = endpoint + 8;
    else
        return -CN_EINVALID_ARGUMENT;
    alen = strcspn(auth, "/");
    path = auth + alen;
    plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    if (alen == 0 || alen > 255)
        return -CN_EINVALID_ARGUMENT;
    for (i = 0; i < alen; i++)
        if (auth[i] == '@' || auth[i] == '?' || auth[i] == '#' || auth[i] <= ' ' || auth[i] == 0x7f)
            return -CN_EINVALID_ARGUMENT;
    p->origin = strndup(endpoint, (size_t)(path - endpoint));
    p->root = strndup(path, plen);
    if (p->origin == NULL || p->root == NULL)
        return -CN_ENOMEM;
    /* The account segment of a path-style endpoint: signed, so kept simple. */
    return be_name_chars_valid(p->root, 255) && strstr(p->root, "//") == NULL ? 0 : -CN_EINVALID_ARGUMENT;
}

static int parse_key(az_provider *p, const char *b64)
{
    int n = cn_unbase64(p->key, sizeof(p->key), b64, strlen(b64));

    if (n <= 0)
        return -CN_EINVALID_ARGUMENT;
    p->key_len = (size_t)n;
    return 0;
}

/* One option that is not a shared one (be__http_option). */
static int az_option(az_provider *p, const char *k, const char *val, const char **endpoint)
{
    if (strcmp(k, "endpoint") == 0) {
        *endpoint = val;
        return 0;
    }
    if (strcmp(k, "account") == 0)
        return be__opt_dup(&p->account, val);
    if (strcmp(k, "key") == 0)
        return parse_key(p, val);
    if (strcmp(k, "container") == 0)
        return be__opt_dup(&p->container, val);
    if (strcmp(k, "prefix") == 0)
        return be__opt_dup(&p->prefix, val);
    if (strcmp(k, "page_size") == 0)
        return be__opt_long(val, 1, AZ_PAGE_MAX, &p->page_size);
    return -CN_EINVALID_ARGUMENT; /* unknown keys fail rather than being ignored */
}

static int az_create(be_provider **out, const char *id, const be_option *opts, size_t n_opts)
{
    az_provider *p = NULL;
    const char *endpoint = NULL;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -CN_ENOMEM;
    rc = be__http_init(&p->http);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->base.driver = &be_azure_driver;
    snprintf(p->base.id, sizeof(p->base.id), "%s", id != NULL ? id : "azure");
    p->page_size = AZ_PAGE_MAX;
    for (i = 0; i < n_opts && rc == 0; i++) {
        if (opts[i].key == NULL || opts[i].value == NULL) {
            rc = -CN_EINVALID_ARGUMENT;
            break;
        }
        rc = be__http_option(&p->http, opts[i].key, opts[i].value);
        if (rc == BE__DECLINED)
            rc = az_option(p, opts[i].key, opts[i].value, &endpoint);
    }
    if (rc == 0 && p->prefix == NULL)
        rc = be__opt_dup(&p->prefix, "");
    if (rc == 0 &&
        (endpoint == NULL || !account_valid(p->account) || p->key_len == 0 || !container_valid(p->container) ||
         !be_name_chars_valid(p->prefix, AZ_MAX_PREFIX) || p->prefix[0] == '/'))
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0)
        rc = parse_endpoint(p, endpoint);
    if (rc != 0) {
        az_destroy(&p->base);
        return rc;
    }
    *out = &p->base;
    return 0;
}

const be_driver be_azure_driver = {
    .name = "azure",
    .version = 1,
    .caps = BE_CAP_RANGE | BE_CAP_LIST,
    .create = az_create,
    .destroy = az_destroy,
    .put = az_put,
    .get = az_get,
    .del = az_del,
    .list = az_list,
    .health = az_health,
    .sweep = az_sweep,
};
