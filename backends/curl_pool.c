/*
 * curl_pool: the libcurl plumbing shared by the HTTP provider drivers
 * (backends/s3.c, backends/azure.c): a pool of easy handles, the transfer
 * callbacks, one attempt of a request and the retry loop around it. What a
 * request looks like on the wire (URL, headers, signature) is the driver's,
 * through the be__call's sign function; judging the final status is the
 * driver's too.
 *
 * Design notes:
 *  1. Bodies stream: a put feeds curl from the cn_stream in
 *     CURLOPT_READFUNCTION with Content-Length = size; a get writes straight
 *     into the caller's buffer and aborts as soon as the endpoint sends more
 *     than asked. Only a capped cn_buf (a listing page) buffers a response.
 *     Error documents are dropped, never written to the caller's buffer.
 *  2. Retries (exponential backoff with jitter, 100 ms doubling to 2 s) on
 *     transport errors and time-outs, 5xx and 429. A put is retried only
 *     while its stream has not been read from: a cn_stream cannot be
 *     restarted, so once curl has pulled a byte a failed put is final
 *     (-CN_EIO) and the caller, who owns the data, decides.
 *  3. Easy handles are pooled (up to BE__POOL_MAX idle) so that connections
 *     and TLS sessions are reused; a handle that saw a transport error is
 *     thrown away rather than pooled.
 *  4. Each attempt has a budget of timeout_ms plus 1 s per MiB of body, so
 *     that a stalled endpoint costs bounded time whatever the shard size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "../common/err.h"
#include "../common/util.h"
#include "beint.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 2000
#define URL_MAX 2048
#define HEADER_LINE_MAX 2048

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -CN_EINTERNAL;
    /* The drivers parse listings with libxml2; its init is not thread-safe. */
    xmlInitParser();
}

int be__http_init(be__http *h)
{
    pthread_once(&global_once, global_init);
    if (global_rc != 0)
        return global_rc;
    memset(h, 0, sizeof(*h));
    if (pthread_mutex_init(&h->lock, NULL) != 0)
        return -CN_EINTERNAL;
    h->timeout_ms = BE__DEFAULT_TIMEOUT_MS;
    h->retries = BE__DEFAULT_RETRIES;
    return 0;
}

void be__http_dispose(be__http *h)
{
    size_t i = 0;

    for (i = 0; i < h->n_idle; i++)
        curl_easy_cleanup(h->idle[i]);
    h->n_idle = 0;
    pthread_mutex_destroy(&h->lock);
    free(h->ca_file);
    h->ca_file = NULL;
}

int be__opt_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
        *out = 0;
    else
        return -CN_EINVALID_ARGUMENT;
    return 0;
}

int be__opt_long(const char *s, long lo, long hi, long *out)
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

int be__opt_dup(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst == NULL ? -CN_ENOMEM : 0;
}

int be__http_option(be__http *h, const char *k, const char *v)
{
    long n = 0;
    int rc = 0;

    if (strcmp(k, "timeout_ms") == 0)
        return be__opt_long(v, 1, 3600000, &h->timeout_ms);
    if (strcmp(k, "ca_file") == 0)
        return be__opt_dup(&h->ca_file, v);
    if (strcmp(k, "retries") != 0)
        return BE__DECLINED;
    rc = be__opt_long(v, 0, 20, &n);
    if (rc == 0)
        h->retries = (int)n;
    return rc;
}

/* ---- the handle pool (note 3) ---- */

static CURL *handle_take(be__http *h)
{
    CURL *e = NULL;

    pthread_mutex_lock(&h->lock);
    if (h->n_idle > 0)
        e = h->idle[--h->n_idle];
    pthread_mutex_unlock(&h->lock);
    return e != NULL ? e : curl_easy_init();
}

static void handle_give(be__http *h, CURL *e, int healthy)
{
    if (e == NULL)
        return;
    if (healthy) {
        pthread_mutex_lock(&h->lock);
        if (h->n_idle < BE__POOL_MAX) {
            h->idle[h->n_idle++] = e;
            e = NULL;
        }
        pthread_mutex_unlock(&h->lock);
    }
    if (e != NULL)
        curl_easy_cleanup(e);
}

/* ---- curl callbacks (note 1) ---- */

static int status_ok(long s)
{
    return s >= 200 && s < 300;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
    be__call *c = arg;
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
    be__call *c = arg;
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

int be__add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[HEADER_LINE_MAX];
    struct curl_slist *l = NULL;
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);

    if (n < 0 || (size_t)n >= sizeof(line))
        return -CN_EINVALID_ARGUMENT;
    l = curl_slist_append(*list, line);
    if (l == NULL)
        return -CN_ENOMEM;
    *list = l;
    return 0;
}

static int is_put(const be__call *c)
{
    return c->src != NULL;
}

static void set_method(CURL *e, be__call *c)
{
    if (is_put(c)) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, c);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->size);
        if (c->size >= (1u << 20))
            curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
    } else if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    }
}

/* Sends c once. Returns 0 when an HTTP response arrived (c->status set),
 * sign's error, or -CN_EIO with *cc the transport error. */
static int attempt(be__http *h, CURL *e, be__call *c, CURLcode *cc)
{
    char url[URL_MAX];
    struct curl_slist *hdrs = NULL;
    uint64_t bytes = is_put(c) ? c->size : (c->body != NULL ? c->body->limit / 8 : c->len);
    int rc = 0;

    *cc = CURLE_OK;
    c->h = e;
    c->status = 0;
    c->got = 0;
    c->overflow = 0;
    c->content_length = -1;
    if (c->body != NULL)
        cn_buf_reset(c->body);
    rc = c->sign(c, url, sizeof(url), &hdrs);
    /* No Expect: 100-continue: on a loopback or LAN endpoint the extra round
     * trip costs more than the rare early rejection saves. */
    if (rc == 0)
        rc = be__add_header(&hdrs, "Expect", "");
    if (rc != 0)
        goto out;

    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms + (long)((bytes >> 20) * 1000));
    if (h->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    set_method(e, c);

    *cc = curl_easy_perform(e);
    if (*cc != CURLE_OK) {
        rc = -CN_EIO;
        goto out;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &c->content_length);
out:
    /* The handle keeps pointers into this frame; drop them before returning. */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
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
    long ms = BACKOFF_BASE_MS << (attempt_no < 5 ? attempt_no : 5);
    uint32_t r = 0;
    struct timespec ts;

    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    /* Half fixed, half random: spreads the retries of many workers apart. */
    if (cn_random(&r, sizeof(r)) == 0)
        ms = ms / 2 + (long)(r % (uint32_t)(ms / 2 + 1));
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int be__perform(be__http *h, be__call *c)
{
    CURLcode cc = CURLE_OK;
    CURL *e = NULL;
    int rc = 0, i = 0, retry = 0;

    for (i = 0;; i++) {
        e = handle_take(h);
        if (e == NULL)
            return -CN_ENOMEM;
        rc = attempt(h, e, c, &cc);
        handle_give(h, e, rc == 0);
        if (c->src_rc != 0)
            return c->src_rc;
        if (rc == 0)
            retry = c->status >= 500 || c->status == 429;
        else
            retry = rc == -CN_EIO && transport_retryable(cc);
        /* A put whose stream was read cannot be replayed (note 2). */
        if (is_put(c) && c->sent > 0)
            retry = 0;
        if (!retry || i >= h->retries)
            break;
        backoff(i);
    }
    return rc;
}
