/*
 * s3: a provider that keeps each named byte string as one object in a bucket
 * of any S3-compatible endpoint, through libcurl.
 *
 * Options (be_option key/values):
 *   endpoint     http[s]://host[:port], no path            (required)
 *   bucket       the bucket, which must already exist       (required)
 *   access_key, secret_key                                  (required)
 *   region       signing region                             (us-east-1)
 *   prefix       prepended to every name: "<prefix><name>"  ("")
 *   path_style   true: http://host/bucket/key; false: http://bucket.host/key (true)
 *   timeout_ms   connect timeout, and the per-attempt budget of a request:
 *                timeout_ms plus 1 s per MiB of body       (30000)
 *   retries      extra attempts after the first             (3)
 *   ca_file      PEM bundle to verify the endpoint's certificate against;
 *                verification is always on for https
 *
 * Design notes:
 *  1. Every request is SigV4-signed (common/sigv4_sign.c) with host,
 *     x-amz-content-sha256 and x-amz-date; a retry is signed afresh. Puts send
 *     UNSIGNED-PAYLOAD: hashing first would mean reading the stream twice,
 *     and the stream cannot be rewound. The shards are sealed (AES-GCM) above
 *     this layer, so the payload hash would add no integrity anyway.
 *  2. Bodies stream: put() feeds curl from the cn_stream in CURLOPT_READFUNCTION
 *     with Content-Length = size; get() writes straight into the caller's
 *     buffer and aborts as soon as the endpoint sends more than asked. Only
 *     list() buffers a response, a page of at most 1000 keys, capped.
 *     (Transfers, retries and the handle pool are backends/curl_pool.c's,
 *     shared with the Azure driver.)
 *  3. Retries (exponential backoff with jitter, 100 ms doubling to 2 s) on
 *     transport errors and time-outs, 5xx (503 SlowDown included) and 429.
 *     A put is retried only while its stream has not been read from: a
 *     cn_stream cannot be restarted, so once curl has pulled a byte a failed
 *     put is final (-CN_EIO) and the caller, who owns the data, decides.
 *  4. S3 makes a PUT atomic: a put aborted before Content-Length bytes were
 *     sent leaves no object, and there are no temporaries, so sweep() has
 *     nothing to do. Some test servers (s3rver 3.7.1) keep the truncated
 *     body instead; no delete is sent after a failed put (it could remove a
 *     good earlier copy), and a truncated shard fails get() past its end and
 *     the authentication of sealing above this layer.
 *  5. Easy handles are pooled (up to S3_POOL_MAX idle) so that connections
 *     and TLS sessions are reused; a handle is used by one thread at a time,
 *     the pool is under a mutex, and a handle that saw a transport error is
 *     thrown away rather than pooled.
 *  6. Status mapping: 403 → -CN_EACCESS; anything else that is not the
 *     expected success (after retries, where they apply) → -CN_EIO. A get of
 *     a missing name is -CN_EIO (like posix); a delete of one succeeds.
 *
 * Not done here: multipart upload (shards are bounded by the segment size),
 * virtual-hosted addressing of bucket names that are not DNS-safe, proxies,
 * checking Content-Range (sealed shards are authenticated above this layer).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../common/err.h"
#include "../common/sigv4_sign.h"
#include "../common/util.h"
#include "be.h"
#include "beint.h"

#define S3_MAX_NAME 200
#define S3_MAX_PREFIX 200
#define S3_LIST_BODY_MAX (8u << 20) /* one ListObjectsV2 page; 1000 keys fit many times */
#define S3_URL_MAX 2048

typedef struct s3_provider {
    be_provider base;
    be__http http;  /* timeout_ms, retries, ca_file and the handle pool */
    char *base_url; /* scheme://host[:port], with "bucket." in front when virtual-hosted */
    char *host;     /* the Host header sent and signed */
    char *bucket, *region, *access_key, *secret_key, *prefix;
    int path_style;
} s3_provider;

/* One logical request: the shared transfer record, then what S3 signs. */
typedef struct s3_call {
    be__call base;
    s3_provider *p;
    const char *name;  /* object name (without the provider prefix); NULL: the bucket */
    const char *query; /* canonical query string, "" if none */
    const char *range; /* Range header value or NULL */
} s3_call;

static int object_name_valid(const char *name)
{
    return be_name_valid(name, S3_MAX_NAME);
}

static int bucket_valid(const char *b)
{
    size_t i = 0, n = b != NULL ? strlen(b) : 0;

    if (n < 3 || n > 63)
        return 0;
    for (i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == '-'))
            return 0;
    return 1;
}

/* ---- one attempt ---- */

/* Canonical URI: "/bucket/<prefix><name>" path-style, "/<prefix><name>" virtual. */
static int build_path(const s3_provider *p, const char *name, char *out, size_t cap)
{
    char key[S3_MAX_PREFIX + S3_MAX_NAME + 1];
    char enc[3 * sizeof(key) + 1];
    int n = 0;

    if (name == NULL) {
        n = p->path_style ? snprintf(out, cap, "/%s", p->bucket) : snprintf(out, cap, "/");
    } else {
        snprintf(key, sizeof(key), "%s%s", p->prefix, name);
        cn_uri_encode(enc, key, strlen(key), 1);
        n = p->path_style ? snprintf(out, cap, "/%s/%s", p->bucket, enc) : snprintf(out, cap, "/%s", enc);
    }
    return n < 0 || (size_t)n >= cap ? -CN_EINVALID_ARGUMENT : 0;
}

/* be__sign_fn: the URL and SigV4-signed headers of one attempt (note 1). */
static int sign(be__call *bc, char *url, size_t cap, struct curl_slist **hdrs)
{
    s3_call *c = (s3_call *)bc;
    s3_provider *p = c->p;
    char path[S3_URL_MAX], date[32], auth[CN_SIGV4_AUTH_MAX];
    const char *payload = bc->src != NULL ? CN_UNSIGNED_PAYLOAD : CN_SHA256_EMPTY;
    cn_sigv4_header sh[3];
    cn_sigv4_req sr;
    int rc = 0, n = 0;

    rc = build_path(p, c->name, path, sizeof(path));
    if (rc != 0)
        return rc;
    n = snprintf(url, cap, "%s%s%s%s", p->base_url, path, c->query[0] != '\0' ? "?" : "", c->query);
    if (n < 0 || (size_t)n >= cap)
        return -CN_EINVALID_ARGUMENT;

    cn_time_amz(date, cn_now());
    sh[0] = (cn_sigv4_header){"host", p->host};
    sh[1] = (cn_sigv4_header){"x-amz-content-sha256", payload};
    sh[2] = (cn_sigv4_header){"x-amz-date", date};
    sr = (cn_sigv4_req){.method = bc->method,
                        .path = path,
                        .query = c->query,
                        .payload_hash = payload,
                        .amz_date = date,
                        .headers = sh,
                        .n_headers = 3};
    rc = cn_sigv4_authorization(auth, sizeof(auth), p->access_key, p->secret_key, p->region, &sr);
    if (rc == 0)
        rc = be__add_header(hdrs, "Host", p->host);
    if (rc == 0)
        rc = be__add_header(hdrs, "x-amz-date", date);
    if (rc == 0)
        rc = be__add_header(hdrs, "x-amz-content-sha256", payload);
    if (rc == 0)
        rc = be__add_header(hdrs, "Authorization", auth);
    if (rc == 0 && c->range != NULL)
        rc = be__add_header(hdrs, "Range", c->range);
    return rc;
}

static int perform(s3_provider *p, s3_call *c)
{
    c->p = p;
    c->base.sign = sign;
    return be__perform(&p->http, &c->base);
}

/* ---- the driver ---- */

static int s3_put(be_provider *bp, const char *name, cn_stream *src, uint64_t size)
{
    s3_provider *p = (s3_provider *)bp;
    s3_call c = {.base = {.method = "PUT", .src = src, .size = size}, .name = name, .query = ""};
    int rc = 0;

    if (!object_name_valid(name) || src == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    if (c.base.sent != size) /* cannot happen with a 200, but never claim a short put */
        return -CN_EIO;
    return c.base.status == 200 ? 0 : be__status_rc(c.base.status);
}

static int s3_get(be_provider *bp, const char *name, uint64_t off, void *buf, size_t len)
{
    s3_provider *p = (s3_provider *)bp;
    char range[64];
    s3_call c = {.base = {.method = "GET", .buf = buf, .len = len}, .name = name, .query = ""};
    int rc = 0;

    if (!object_name_valid(name) || (buf == NULL && len > 0) || off > UINT64_MAX - len)
        return -CN_EINVALID_ARGUMENT;
    if (len == 0) {
        /* No empty Range exists: ask for the size and check that off is inside. */
        c.base.method = "HEAD";
        rc = perform(p, &c);
        if (rc != 0)
            return rc;
        if (c.base.status != 200)
            return be__status_rc(c.base.status);
        return c.base.content_length >= 0 && (uint64_t)c.base.content_length >= off ? 0 : -CN_EIO;
    }
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
    c.range = range;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    /* 206 with exactly len bytes; a 200 (Range ignored) is fine only when it
     * was the whole object from 0, since on_write refused anything beyond len. */
    if ((c.base.status == 206 || (c.base.status == 200 && off == 0)) && c.base.got == len && !c.base.overflow)
        return 0;
    return c.base.status == 403 ? -CN_EACCESS : -CN_EIO;
}

static int s3_del(be_provider *bp, const char *name)
{
    s3_provider *p = (s3_provider *)bp;
    s3_call c = {.base = {.method = "DELETE"}, .name = name, .query = ""};
    int rc = 0;

    if (!object_name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    return be__status_ok(c.base.status) || c.base.status == 404 ? 0 : be__status_rc(c.base.status);
}

static const char *child_text(xmlNodePtr n, xmlChar **hold)
{
    *hold = xmlNodeGetContent(n);
    return *hold != NULL ? (const char *)*hold : "";
}

/* Walks one ListObjectsV2 page. *next gets the continuation token (malloc'd)
 * when the listing is truncated. */
static int parse_page(s3_provider *p, const cn_buf *body, const char *prefix, int (*fn)(void *, const char *, uint64_t),
                      void *arg, int *stop, char **next)
{
    size_t plen = strlen(p->prefix);
    xmlDocPtr doc = NULL;
    xmlNodePtr root = NULL, n = NULL, k = NULL;
    int rc = 0, truncated = 0;

    *next = NULL;
    if (body->len == 0 || body->len > INT_MAX)
        return -CN_EIO;
    doc = xmlReadMemory(body->data, (int)body->len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL || strcmp((const char *)root->name, "ListBucketResult") != 0 || doc->intSubset != NULL) {
        rc = -CN_EIO;
        goto out;
    }
    for (n = root->children; n != NULL && rc == 0; n = n->next) {
        xmlChar *t = NULL;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "IsTruncated") == 0) {
            truncated = strcmp(child_text(n, &t), "true") == 0;
        } else if (strcmp((const char *)n->name, "NextContinuationToken") == 0) {
            free(*next);
            *next = strdup(child_text(n, &t));
            if (*next == NULL)
                rc = -CN_ENOMEM;
        } else if (strcmp((const char *)n->name, "Contents") == 0 && !*stop) {
            const char *key = NULL;
            xmlChar *kt = NULL, *st = NULL;
            uint64_t size = 0;
            for (k = n->children; k != NULL; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                    continue;
                if (strcmp((const char *)k->name, "Key") == 0 && kt == NULL)
                    key = child_text(k, &kt);
                else if (strcmp((const char *)k->name, "Size") == 0 && st == NULL)
                    size = strtoull(child_text(k, &st), NULL, 10);
            }
            /* Only names this provider could have written, under the asked prefix. */
            if (key != NULL && strncmp(key, p->prefix, plen) == 0 && strncmp(key + plen, prefix, strlen(prefix)) == 0 &&
                object_name_valid(key + plen) && fn(arg, key + plen, size) != 0)
                *stop = 1;
            xmlFree(kt);
            xmlFree(st);
        }
        xmlFree(t);
    }
    if (rc == 0 && truncated && (*next == NULL || (*next)[0] == '\0'))
        rc = -CN_EIO; /* truncated without a way on: never report a partial listing as whole */
    if (rc == 0 && !truncated) {
        free(*next);
        *next = NULL;
    }
out:
    if (rc != 0) {
        free(*next);
        *next = NULL;
    }
    xmlFreeDoc(doc);
    return rc;
}

static int s3_list(be_provider *bp, const char *prefix, int (*fn)(void *arg, const char *name, uint64_t size),
                   void *arg)
{
    s3_provider *p = (s3_provider *)bp;
    char full[S3_MAX_PREFIX + S3_MAX_NAME + 1];
    char enc_prefix[3 * sizeof(full) + 1];
    char *token = NULL, *next = NULL, *enc_token = NULL;
    cn_buf body, query;
    s3_call c = {.base = {.method = "GET"}, .name = NULL};
    int rc = 0, stop = 0;

    if (prefix == NULL)
        prefix = "";
    if (!be_name_chars_valid(prefix, S3_MAX_NAME) || fn == NULL)
        return -CN_EINVALID_ARGUMENT;
    snprintf(full, sizeof(full), "%s%s", p->prefix, prefix);
    cn_uri_encode(enc_prefix, full, strlen(full), 0);
    cn_buf_init(&body, S3_LIST_BODY_MAX);
    cn_buf_init(&query, 8192);
    c.base.body = &body;
    while (!stop) {
        cn_buf_reset(&query);
        /* Canonical order: parameters sorted by name. */
        if (token != NULL) {
            free(enc_token);
            enc_token = malloc(3 * strlen(token) + 1);
            if (enc_token == NULL) {
                rc = -CN_ENOMEM;
                break;
            }
            cn_uri_encode(enc_token, token, strlen(token), 0);
            rc = cn_buf_printf(&query, "continuation-token=%s&", enc_token);
        }
        if (rc == 0)
            rc = cn_buf_printf(&query, "list-type=2&prefix=%s", enc_prefix);
        if (rc != 0)
            break;
        c.query = query.data;
        rc = perform(p, &c);
        if (rc == 0 && c.base.status != 200)
            rc = be__status_rc(c.base.status);
        if (rc == 0 && c.base.overflow)
            rc = -CN_EIO;
        if (rc == 0)
            rc = parse_page(p, &body, prefix, fn, arg, &stop, &next);
        if (rc != 0 || next == NULL)
            break;
        if (token != NULL && strcmp(token, next) == 0) {
            rc = -CN_EIO; /* the endpoint would loop forever */
            break;
        }
        free(token);
        token = next;
        next = NULL;
    }
    free(next);
    free(token);
    free(enc_token);
    cn_buf_dispose(&body);
    cn_buf_dispose(&query);
    return rc;
}

static int s3_health(be_provider *bp)
{
    s3_provider *p = (s3_provider *)bp;
    s3_call c = {.base = {.method = "HEAD"}, .name = NULL, .query = ""};
    int rc = perform(p, &c);

    if (rc != 0)
        return rc;
    return c.base.status == 200 ? 0 : be__status_rc(c.base.status);
}

static int s3_sweep(be_provider *bp)
{
    (void)bp; /* note 4: nothing is ever left half-written */
    return 0;
}

static void s3_destroy(be_provider *bp)
{
    s3_provider *p = (s3_provider *)bp;

    if (p == NULL)
        return;
    be__http_dispose(&p->http);
    free(p->base_url);
    free(p->host);
    free(p->bucket);
    free(p->region);
    free(p->access_key);
    if (p->secret_key != NULL) {
        memset(p->secret_key, 0, strlen(p->secret_key));
        free(p->secret_key);
    }
    free(p->prefix);
    free(p);
}

/* endpoint = http[s]://authority[/]; sets base_url and host. */
static int parse_endpoint(s3_provider *p, const char *endpoint)
{
    const char *scheme = NULL, *auth = NULL;
    size_t alen = 0, i = 0;
    int n = 0;

    if (strncmp(endpoint, "http://", 7) == 0) {
        scheme = "http://";
        auth = endpoint + 7;
    } else if (strncmp(endpoint, "https://", 8) == 0) {
        scheme = "https://";
        auth = endpoint + 8;
    } else {
        return -CN_EINVALID_ARGUMENT;
    }
    alen = strcspn(auth, "/");
    if (alen == 0 || alen > 255 || (auth[alen] != '\0' && strcmp(auth + alen, "/") != 0))
        return -CN_EINVALID_ARGUMENT;
    for (i = 0; i < alen; i++)
        if (auth[i] == '@' || auth[i] == '?' || auth[i] == '#' || auth[i] <= ' ' || auth[i] == 0x7f)
            return -CN_EINVALID_ARGUMENT;
    p->host = malloc(alen + strlen(p->bucket) + 2);
    p->base_url = malloc(strlen(scheme) + alen + strlen(p->bucket) + 2);
    if (p->host == NULL || p->base_url == NULL)
        return -CN_ENOMEM;
    if (p->path_style)
        n = sprintf(p->host, "%.*s", (int)alen, auth);
    else
        n = sprintf(p->host, "%s.%.*s", p->bucket, (int)alen, auth);
    (void)n;
    sprintf(p->base_url, "%s%s", scheme, p->host);
    return 0;
}

/* One option that is not a shared one (be__http_option). */
static int s3_option(s3_provider *p, const char *k, const char *val, const char **endpoint)
{
    if (strcmp(k, "endpoint") == 0) {
        *endpoint = val;
        return 0;
    }
    if (strcmp(k, "bucket") == 0)
        return be__opt_dup(&p->bucket, val);
    if (strcmp(k, "region") == 0)
        return be__opt_dup(&p->region, val);
    if (strcmp(k, "access_key") == 0)
        return be__opt_dup(&p->access_key, val);
    if (strcmp(k, "secret_key") == 0)
        return be__opt_dup(&p->secret_key, val);
    if (strcmp(k, "prefix") == 0)
        return be__opt_dup(&p->prefix, val);
    if (strcmp(k, "path_style") == 0)
        return be__opt_bool(val, &p->path_style);
    return -CN_EINVALID_ARGUMENT; /* unknown keys fail rather than being ignored */
}

static int s3_create(be_provider **out, const char *id, const be_option *opts, size_t n_opts)
{
    s3_provider *p = NULL;
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
    p->base.driver = &be_s3_driver;
    snprintf(p->base.id, sizeof(p->base.id), "%s", id != NULL ? id : "s3");
    p->path_style = 1;
    for (i = 0; i < n_opts && rc == 0; i++) {
        if (opts[i].key == NULL || opts[i].value == NULL) {
            rc = -CN_EINVALID_ARGUMENT;
            break;
        }
        rc = be__http_option(&p->http, opts[i].key, opts[i].value);
        if (rc == BE__DECLINED)
            rc = s3_option(p, opts[i].key, opts[i].value, &endpoint);
    }
    if (rc == 0 && p->region == NULL)
        rc = be__opt_dup(&p->region, "us-east-1");
    if (rc == 0 && p->prefix == NULL)
        rc = be__opt_dup(&p->prefix, "");
    if (rc == 0 &&
        (endpoint == NULL || !bucket_valid(p->bucket) || p->access_key == NULL || p->access_key[0] == '\0' ||
         p->secret_key == NULL || p->secret_key[0] == '\0' || p->region[0] == '\0' || strchr(p->region, '/') != NULL ||
         !be_name_chars_valid(p->prefix, S3_MAX_PREFIX) || p->prefix[0] == '/' || strchr(p->access_key, '/') != NULL))
        rc = -CN_EINVALID_ARGUMENT;
    if (rc == 0)
        rc = parse_endpoint(p, endpoint);
    if (rc != 0) {
        s3_destroy(&p->base);
        return rc;
    }
    *out = &p->base;
    return 0;
}

const be_driver be_s3_driver = {
    .name = "s3",
    .version = 1,
    .caps = BE_CAP_RANGE | BE_CAP_LIST,
    .create = s3_create,
    .destroy = s3_destroy,
    .put = s3_put,
    .get = s3_get,
    .del = s3_del,
    .list = s3_list,
    .health = s3_health,
    .sweep = s3_sweep,
};
