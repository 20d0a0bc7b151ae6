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
 *  1. Every request is SigV4-signed (backends/sigv4_client.c) with host,
 *     x-amz-content-sha256 and x-amz-date; a retry is signed afresh. Puts send
 *     UNSIGNED-PAYLOAD: hashing first would mean reading the stream twice,
 *     and the stream cannot be rewound. The shards are sealed (AES-GCM) above
 *     this layer, so the payload hash would add no integrity anyway.
 *  2. Bodies stream: put() feeds curl from the cn_stream in CURLOPT_READFUNCTION
 *     with Content-Length = size; get() writes straight into the caller's
 *     buffer and aborts as soon as the endpoint sends more than asked. Only
 *     list() buffers a response, a page of at most 1000 keys, capped.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../common/err.h"
#include "../common/util.h"
#include "be.h"
#include "beint.h"

#define S3_MAX_NAME 200
#define S3_MAX_PREFIX 200
#define S3_POOL_MAX 8
#define S3_LIST_BODY_MAX (8u << 20) /* one ListObjectsV2 page; 1000 keys fit many times */
#define S3_BACKOFF_BASE_MS 100
#define S3_BACKOFF_MAX_MS 2000
#define S3_DEFAULT_TIMEOUT_MS 30000
#define S3_DEFAULT_RETRIES 3
#define S3_URL_MAX 2048

typedef struct s3_provider {
    be_provider base;
    char *base_url; /* scheme://host[:port], with "bucket." in front when virtual-hosted */
    char *host;     /* the Host header sent and signed */
    char *bucket, *region, *access_key, *secret_key, *prefix, *ca_file;
    int path_style;
    long timeout_ms;
    int retries;
    pthread_mutex_t lock;
    CURL *idle[S3_POOL_MAX];
    size_t n_idle;
} s3_provider;

/* One logical request, possibly sent several times. */
typedef struct s3_call {
    /* in */
    const char *method; /* GET, PUT, DELETE, HEAD */
    const char *name;   /* object name (without the provider prefix); NULL: the bucket */
    const char *query;  /* canonical query string, "" if none */
    const char *range;  /* Range header value or NULL */
    cn_stream *src;     /* PUT body */
    uint64_t size;
    uint8_t *buf; /* GET: at most len bytes land here */
    size_t len;
    cn_buf *body; /* GET into a capped buffer instead */
    /* out, for the last attempt */
    CURL *h;
    long status;
    uint64_t got;  /* response body bytes kept */
    uint64_t sent; /* bytes read from src, over all attempts */
    int src_rc;    /* the stream's own error, which wins */
    int overflow;  /* the response body was larger than asked */
    curl_off_t content_length;
} s3_call;

static pthread_once_t s3_once = PTHREAD_ONCE_INIT;
static int s3_init_rc;

static void s3_global_init(void)
{
    s3_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -CN_EINTERNAL;
    xmlInitParser();
}

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

/* ---- the handle pool ---- */

static CURL *handle_take(s3_provider *p)
{
    CURL *h = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->n_idle > 0)
        h = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    return h != NULL ? h : curl_easy_init();
}

static void handle_give(s3_provider *p, CURL *h, int healthy)
{
    if (h == NULL)
        return;
    if (healthy) {
        pthread_mutex_lock(&p->lock);
        if (p->n_idle < S3_POOL_MAX) {
            p->idle[p->n_idle++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&p->lock);
    }
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* ---- curl callbacks ---- */

static int status_ok(long s)
{
    return s >= 200 && s < 300;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
    s3_call *c = arg;
    size_t n = size * nmemb;
    long status = 0;

    /* Error documents are dropped: never let them land in the caller's buffer. */
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (!status_ok(status))
        return n;
    if (c->body != NULL) {
        if (cn_buf_append(c->body, data, n) != 0) {
            c->overflow = 1;
            return 0; /* CURLE_WRITE_ERROR */
        }
    } else {
        if (c->buf == NULL || n > c->len - c->got) {
            c->overflow = 1;
            return 0;
        }
        memcpy(c->buf + c->got, data, n);
    }
    c->got += n;
    return n;
}

static size_t on_read(char *dst, size_t size, size_t nitems, void *arg)
{
    s3_call *c = arg;
    size_t want = size * nitems;
    uint64_t left = c->size - c->sent;
    long got = 0;

    if ((uint64_t)want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    got = c->src->read(c->src, dst, want);
    if (got < 0) {
        c->src_rc = (int)got;
        return CURL_READFUNC_ABORT;
    }
    if (got == 0) { /* the stream ended before size bytes */
        c->src_rc = -CN_EINCOMPLETE_BODY;
        return CURL_READFUNC_ABORT;
    }
    if ((size_t)got > want) {
        c->src_rc = -CN_EINTERNAL;
        return CURL_READFUNC_ABORT;
    }
    c->sent += (uint64_t)got;
    return (size_t)got;
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

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[BE__SIGV4_AUTH_MAX + 64];
    struct curl_slist *l = NULL;

    snprintf(line, sizeof(line), "%s: %s", name, value);
    l = curl_slist_append(*list, line);
    if (l == NULL)
        return -CN_ENOMEM;
    *list = l;
    return 0;
}

static int is_put(const s3_call *c)
{
    return c->src != NULL;
}

/* Sends c once. Returns 0 when an HTTP response arrived (c->status set),
 * otherwise -CN_EIO with *cc the transport error. */
static int attempt(s3_provider *p, CURL *h, s3_call *c, CURLcode *cc)
{
    char path[S3_URL_MAX], url[S3_URL_MAX], date[32], auth[BE__SIGV4_AUTH_MAX];
    const char *payload = is_put(c) ? BE__UNSIGNED_PAYLOAD : BE__SHA256_EMPTY;
    be__sigv4_header sh[3];
    be__sigv4_req sr;
    struct curl_slist *hdrs = NULL;
    uint64_t bytes = is_put(c) ? c->size : (c->body != NULL ? S3_LIST_BODY_MAX / 8 : c->len);
    long budget_ms = 0;
    int rc = 0, n = 0;

    *cc = CURLE_OK;
    c->h = h;
    c->status = 0;
    c->got = 0;
    c->overflow = 0;
    c->content_length = -1;
    if (c->body != NULL)
        cn_buf_reset(c->body);
    rc = build_path(p, c->name, path, sizeof(path));
    if (rc != 0)
        return rc;
    n = snprintf(url, sizeof(url), "%s%s%s%s", p->base_url, path, c->query[0] != '\0' ? "?" : "", c->query);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -CN_EINVALID_ARGUMENT;

    cn_time_amz(date, cn_now());
    sh[0] = (be__sigv4_header){"host", p->host};
    sh[1] = (be__sigv4_header){"x-amz-content-sha256", payload};
    sh[2] = (be__sigv4_header){"x-amz-date", date};
    sr = (be__sigv4_req){.method = c->method,
                         .path = path,
                         .query = c->query,
                         .payload_hash = payload,
                         .amz_date = date,
                         .headers = sh,
                         .n_headers = 3};
    rc = be__sigv4_authorization(auth, sizeof(auth), p->access_key, p->secret_key, p->region, &sr);
    if (rc == 0)
        rc = add_header(&hdrs, "Host", p->host);
    if (rc == 0)
        rc = add_header(&hdrs, "x-amz-date", date);
    if (rc == 0)
        rc = add_header(&hdrs, "x-amz-content-sha256", payload);
    if (rc == 0)
        rc = add_header(&hdrs, "Authorization", auth);
    if (rc == 0 && c->range != NULL)
        rc = add_header(&hdrs, "Range", c->range);
    /* No Expect: 100-continue: on a loopback or LAN endpoint the extra round
     * trip costs more than the rare early rejection saves. */
    if (rc == 0)
        rc = add_header(&hdrs, "Expect", "");
    if (rc != 0)
        goto out;

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
    /* A per-attempt budget that grows with the body: timeout_ms plus 1 s per MiB. */
    budget_ms = p->timeout_ms + (long)((bytes >> 20) * 1000);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, budget_ms);
    if (p->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (is_put(c)) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->size);
        if (c->size >= (1u << 20))
            curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
    } else if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    }

    *cc = curl_easy_perform(h);
    if (*cc != CURLE_OK) {
        rc = -CN_EIO;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &c->content_length);
out:
    /* The handle keeps pointers into this frame; drop them before returning. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

/* Transport errors worth another attempt: the network or the peer, not us. */
static int transport_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return 0;
    default:
        return 1;
    }
}

static void backoff(int attempt_no)
{
    long ms = S3_BACKOFF_BASE_MS << (attempt_no < 5 ? attempt_no : 5);
    uint32_t r = 0;
    struct timespec ts;

    if (ms > S3_BACKOFF_MAX_MS)
        ms = S3_BACKOFF_MAX_MS;
    /* Half fixed, half random: spreads the retries of many workers apart. */
    if (cn_random(&r, sizeof(r)) == 0)
        ms = ms / 2 + (long)(r % (uint32_t)(ms / 2 + 1));
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Sends c with retries (note 3). 0 when a final HTTP response arrived: the
 * caller judges c->status. Otherwise the stream's error, or -CN_EIO. */
static int perform(s3_provider *p, s3_call *c)
{
    CURLcode cc = CURLE_OK;
    CURL *h = NULL;
    int rc = 0, i = 0, retry = 0;

    for (i = 0;; i++) {
        h = handle_take(p);
        if (h == NULL)
            return -CN_ENOMEM;
        rc = attempt(p, h, c, &cc);
        handle_give(p, h, rc == 0);
        if (c->src_rc != 0)
            return c->src_rc;
        if (rc == 0)
            retry = c->status >= 500 || c->status == 429;
        else
            retry = rc == -CN_EIO && transport_retryable(cc);
        /* A put whose stream was read cannot be replayed (note 3). */
        if (is_put(c) && c->sent > 0)
            retry = 0;
        if (!retry || i >= p->retries)
            break;
        backoff(i);
    }
    return rc;
}

static int status_rc(long status)
{
    return status == 403 ? -CN_EACCESS : -CN_EIO;
}

/* ---- the driver ---- */

static int s3_put(be_provider *bp, const char *name, cn_stream *src, uint64_t size)
{
    s3_provider *p = (s3_provider *)bp;
    s3_call c = {.method = "PUT", .name = name, .query = "", .src = src, .size = size};
    int rc = 0;

    if (!object_name_valid(name) || src == NULL)
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    if (c.sent != size) /* cannot happen with a 200, but never claim a short put */
        return -CN_EIO;
    return c.status == 200 ? 0 : status_rc(c.status);
}

static int s3_get(be_provider *bp, const char *name, uint64_t off, void *buf, size_t len)
{
    s3_provider *p = (s3_provider *)bp;
    char range[64];
    s3_call c = {.method = "GET", .name = name, .query = "", .buf = buf, .len = len};
    int rc = 0;

    if (!object_name_valid(name) || (buf == NULL && len > 0) || off > UINT64_MAX - len)
        return -CN_EINVALID_ARGUMENT;
    if (len == 0) {
        /* No empty Range exists: ask for the size and check that off is inside. */
        c.method = "HEAD";
        rc = perform(p, &c);
        if (rc != 0)
            return rc;
        if (c.status != 200)
            return status_rc(c.status);
        return c.content_length >= 0 && (uint64_t)c.content_length >= off ? 0 : -CN_EIO;
    }
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
    c.range = range;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    /* 206 with exactly len bytes; a 200 (Range ignored) is fine only when it
     * was the whole object from 0, since on_write refused anything beyond len. */
    if ((c.status == 206 || (c.status == 200 && off == 0)) && c.got == len && !c.overflow)
        return 0;
    return c.status == 403 ? -CN_EACCESS : -CN_EIO;
}

static int s3_del(be_provider *bp, const char *name)
{
    s3_provider *p = (s3_provider *)bp;
    s3_call c = {.method = "DELETE", .name = name, .query = ""};
    int rc = 0;

    if (!object_name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = perform(p, &c);
    if (rc != 0)
        return rc;
    return status_ok(c.status) || c.status == 404 ? 0 : status_rc(c.status);
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
    s3_call c = {.method = "GET", .name = NULL};
    int rc = 0, stop = 0;

    if (prefix == NULL)
        prefix = "";
    if (!be_name_chars_valid(prefix, S3_MAX_NAME) || fn == NULL)
        return -CN_EINVALID_ARGUMENT;
    snprintf(full, sizeof(full), "%s%s", p->prefix, prefix);
    cn_uri_encode(enc_prefix, full, strlen(full), 0);
    cn_buf_init(&body, S3_LIST_BODY_MAX);
    cn_buf_init(&query, 8192);
    c.body = &body;
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
        if (rc == 0 && c.status != 200)
            rc = status_rc(c.status);
        if (rc == 0 && c.overflow)
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
    s3_call c = {.method = "HEAD", .name = NULL, .query = ""};
    int rc = perform(p, &c);

    if (rc != 0)
        return rc;
    return c.status == 200 ? 0 : status_rc(c.status);
}

static int s3_sweep(be_provider *bp)
{
    (void)bp; /* note 4: nothing is ever left half-written */
    return 0;
}

static void s3_destroy(be_provider *bp)
{
    s3_provider *p = (s3_provider *)bp;
    size_t i = 0;

    if (p == NULL)
        return;
    for (i = 0; i < p->n_idle; i++)
        curl_easy_cleanup(p->idle[i]);
    pthread_mutex_destroy(&p->lock);
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
    free(p->ca_file);
    free(p);
}

static int parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
        *out = 0;
    else
        return -CN_EINVALID_ARGUMENT;
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = 0;

    if (s[0] == '\0')
        return -CN_EINVALID_ARGUMENT;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return -CN_EINVALID_ARGUMENT;
    *out = v;
    return 0;
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

static int dup_opt(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst == NULL ? -CN_ENOMEM : 0;
}

static int s3_create(be_provider **out, const char *id, const be_option *opts, size_t n_opts)
{
    s3_provider *p = NULL;
    const char *endpoint = NULL;
    long v = 0;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    pthread_once(&s3_once, s3_global_init);
    if (s3_init_rc != 0)
        return s3_init_rc;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -CN_ENOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return -CN_EINTERNAL;
    }
    p->base.driver = &be_s3_driver;
    snprintf(p->base.id, sizeof(p->base.id), "%s", id != NULL ? id : "s3");
    p->path_style = 1;
    p->timeout_ms = S3_DEFAULT_TIMEOUT_MS;
    p->retries = S3_DEFAULT_RETRIES;
    for (i = 0; i < n_opts && rc == 0; i++) {
        const char *k = opts[i].key, *val = opts[i].value;
        if (k == NULL || val == NULL)
            rc = -CN_EINVALID_ARGUMENT;
        else if (strcmp(k, "endpoint") == 0)
            endpoint = val;
        else if (strcmp(k, "bucket") == 0)
            rc = dup_opt(&p->bucket, val);
        else if (strcmp(k, "region") == 0)
            rc = dup_opt(&p->region, val);
        else if (strcmp(k, "access_key") == 0)
            rc = dup_opt(&p->access_key, val);
        else if (strcmp(k, "secret_key") == 0)
            rc = dup_opt(&p->secret_key, val);
        else if (strcmp(k, "prefix") == 0)
            rc = dup_opt(&p->prefix, val);
        else if (strcmp(k, "ca_file") == 0)
            rc = dup_opt(&p->ca_file, val);
        else if (strcmp(k, "path_style") == 0)
            rc = parse_bool(val, &p->path_style);
        else if (strcmp(k, "timeout_ms") == 0)
            rc = parse_long(val, 1, 3600000, &p->timeout_ms);
        else if (strcmp(k, "retries") == 0) {
            rc = parse_long(val, 0, 20, &v);
            p->retries = (int)v;
        } else
            rc = -CN_EINVALID_ARGUMENT; /* unknown keys fail rather than being ignored */
    }
    if (rc == 0 && p->region == NULL)
        rc = dup_opt(&p->region, "us-east-1");
    if (rc == 0 && p->prefix == NULL)
        rc = dup_opt(&p->prefix, "");
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
