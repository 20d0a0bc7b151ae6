/*
 * loadgen.c: cairn-bench, the load generator behind `make bench`.
 *
 * Drives a fixed number of concurrent PUT or GET requests of one object size
 * against one endpoint and prints one line: ops/s, MiB/s, p50, p99, errors.
 *
 *  1. libcurl's multi interface, one multi handle per thread (one thread by
 *     default): 64 requests in flight cost one poll loop, not 64 stacks, so
 *     the client leaves as much of this 2-core machine as it can to the
 *     server under test.
 *  2. Requests are SigV4-signed (path-style, us-east-1) with UNSIGNED-PAYLOAD:
 *     hashing the body would measure the client, not the server. The signing
 *     key is derived once per day, so a request costs one SHA-256 and one HMAC.
 *  3. PUT bodies are random bytes made once at start (so that no layer can
 *     compress them), copied once per connection slot, and stamped with the
 *     request number every 4 KiB before each PUT: cairn addresses content by
 *     hash, and identical bodies would let it skip writes. GET bodies are
 *     counted in the write callback and dropped: a 64 MiB GET costs no memory.
 *  4. Latency is taken per request with CLOCK_MONOTONIC, from the hand-off to
 *     curl to completion; all samples are kept and sorted once at the end.
 *  5. A transport error, a non-2xx status or a GET body of the wrong length is
 *     an error: the run still prints its line, then exits 1. The first few
 *     errors are described on stderr.
 *
 * It does not retry, check content, use multipart upload or send
 * `Expect: 100-continue` (a real client's extra round trip is not what a
 * throughput figure is about; the end-to-end tests cover it).
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REGION "us-east-1"
#define URL_MAX 2048
#define PEEK_MAX 240     /* bytes of an error body shown on stderr */
#define ERRORS_SHOWN 5   /* errors described on stderr per run */
#define STAMP_EVERY 4096 /* bytes between two request-number stamps in a PUT body */

enum op { OP_PUT, OP_GET };

struct config {
    const char *endpoint, *access_key, *secret_key, *bucket, *prefix, *url_template;
    char host[256]; /* host[:port] of the endpoint, as curl sends it in Host */
    enum op op;
    size_t size;
    int concurrency, threads;
    uint64_t count, keys;
    double duration, timeout;
    bool create_bucket, anonymous, prefill;
    unsigned char *body; /* random PUT payload, size bytes; each slot copies it */
};

/* One phase (the prefill or the measured run), shared by its threads. */
struct run {
    const struct config *cfg;
    enum op op;
    uint64_t count;            /* requests to issue; 0 = until the deadline */
    uint64_t deadline_ns;      /* monotonic; 0 = none */
    atomic_uint_fast64_t next; /* number of the next request */
    atomic_int shown;          /* errors described so far */
};

struct stats {
    uint64_t ok, errors, bytes;
    double *lat_ms;
    size_t n, cap;
};

/* SigV4 signing key, cached for the day it was derived for. */
struct signer {
    char day[9];
    unsigned char key[32];
};

struct worker {
    struct run *run;
    int slots;
    pthread_t tid;
    CURLM *multi;
    struct signer signer;
    struct stats st;
};

struct xfer {
    struct worker *w;
    CURL *easy;
    struct curl_slist *hdrs;
    unsigned char *body; /* this slot's PUT payload, restamped per request */
    uint64_t n, start_ns, bytes;
    size_t peek_len;
    char url[URL_MAX];
    char errbuf[CURL_ERROR_SIZE];
    char peek[PEEK_MAX + 1];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static void hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &len);
}

static void derive_key(const struct config *c, const char *day, unsigned char key[32])
{
    char secret[300];
    snprintf(secret, sizeof secret, "AWS4%s", c->secret_key);
    hmac(secret, strlen(secret), day, key);
    hmac(key, 32, REGION, key);
    hmac(key, 32, "s3", key);
    hmac(key, 32, "aws4_request", key);
}

/* Appends the SigV4 header set for METHOD on PATH (already URI-encoded). */
static int sign(const struct config *c, struct signer *s, const char *method, const char *path,
                struct curl_slist **hdrs)
{
    char date[17], canon[URL_MAX + 512], sts[256], hash[65], sig[65], line[512];
    unsigned char md[32];
    struct tm tm;
    time_t t = time(NULL);

    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    if (memcmp(s->day, date, 8) != 0) {
        memcpy(s->day, date, 8);
        s->day[8] = '\0';
        derive_key(c, s->day, s->key);
    }
    snprintf(canon, sizeof canon,
             "%s\n%s\n\nhost:%s\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:%s\n\n"
             "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
             method, path, c->host, date);
    SHA256((const unsigned char *)canon, strlen(canon), md);
    hex(md, 32, hash);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/" REGION "/s3/aws4_request\n%s", date, s->day, hash);
    hmac(s->key, 32, sts, md);
    hex(md, 32, sig);

    snprintf(line, sizeof line,
             "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/" REGION "/s3/aws4_request, "
             "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
             c->access_key, s->day, sig);
    *hdrs = curl_slist_append(*hdrs, line);
    snprintf(line, sizeof line, "x-amz-date: %s", date);
    *hdrs = curl_slist_append(*hdrs, line);
    *hdrs = curl_slist_append(*hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    return *hdrs ? 0 : -ENOMEM;
}

/* Percent-encodes IN as SigV4 wants a path: all but unreserved bytes and '/'. */
static int uri_encode(const char *in, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (o + 4 > cap)
            return -ENAMETOOLONG;
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = digits[*p >> 4];
            out[o++] = digits[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* Object number N's URL and canonical path (which starts at the path of the URL). */
static int object_url(const struct config *c, const char *bucket_key, char *url, const char **path)
{
    char enc[URL_MAX];
    size_t elen = strlen(c->endpoint);
    int rc = uri_encode(bucket_key, enc, sizeof enc);
    if (rc < 0)
        return rc;
    if ((size_t)snprintf(url, URL_MAX, "%s/%s", c->endpoint, enc) >= URL_MAX)
        return -ENAMETOOLONG;
    *path = url + elen;
    return 0;
}

/* Expands "{n}" in the template once, for plain HTTP servers such as nginx. */
static int template_url(const char *tmpl, uint64_t n, char *url)
{
    const char *at = strstr(tmpl, "{n}");
    int len = at ? snprintf(url, URL_MAX, "%.*s%" PRIu64 "%s", (int)(at - tmpl), tmpl, n, at + 3)
                 : snprintf(url, URL_MAX, "%s", tmpl);
    return len < URL_MAX ? 0 : -ENAMETOOLONG;
}

/* Makes BODY unique to request N in every STAMP_EVERY bytes (see note 3). */
static void stamp(unsigned char *body, size_t size, uint64_t n)
{
    for (size_t off = 0; off + sizeof n <= size; off += STAMP_EVERY)
        memcpy(body + off, &n, sizeof n);
}

/* Points X's handle at request N for OP, signed unless anonymous. */
static int prepare(struct xfer *x, const struct config *c, struct signer *s, enum op op, uint64_t n)
{
    char bucket_key[URL_MAX];
    const char *path = NULL;
    char *url = x->url;
    struct curl_slist **hdrs = &x->hdrs;
    CURL *easy = x->easy;
    uint64_t obj = op == OP_GET && c->keys ? n % c->keys : n;
    int rc;

    if (c->url_template) {
        rc = template_url(c->url_template, obj, url);
    } else {
        snprintf(bucket_key, sizeof bucket_key, "%s/%s%08" PRIu64, c->bucket, c->prefix, obj);
        rc = object_url(c, bucket_key, url, &path);
    }
    if (rc < 0)
        return rc;
    /* No Expect: 100-continue round trip (see the top of the file). */
    *hdrs = curl_slist_append(NULL, "Expect:");
    if (op == OP_PUT) {
        *hdrs = curl_slist_append(*hdrs, "Content-Type: application/octet-stream");
        stamp(x->body, c->size, n);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PUT");
        /* curl sends straight from our buffer: no read callback, no copy of ours. */
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->size);
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
    }
    if (!c->anonymous && !c->url_template) {
        rc = sign(c, s, op == OP_PUT ? "PUT" : "GET", path, hdrs);
        if (rc < 0)
            return rc;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *hdrs);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * nmemb, room = PEEK_MAX - x->peek_len;

    /* Keep the start of the body only: it explains a failed request. */
    if (room > 0) {
        size_t take = len < room ? len : room;
        memcpy(x->peek + x->peek_len, data, take);
        x->peek_len += take;
        x->peek[x->peek_len] = '\0';
    }
    x->bytes += len;
    return len;
}

static int setup_xfer(struct xfer *x, struct worker *w)
{
    const struct config *c = w->run->cfg;
    CURL *e = curl_easy_init();

    x->w = w;
    x->easy = e;
    if (c->body) {
        x->body = malloc(c->size ? c->size : 1);
        if (x->body)
            memcpy(x->body, c->body, c->size);
    }
    if (!e || (c->body && !x->body))
        return -ENOMEM;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
    if (c->size >= (1u << 20)) {
        /* Large bodies: fewer, bigger reads and writes per request. */
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
    }
    return 0;
}

/* Takes the next request number, or returns false when the phase is over. */
static bool next_request(struct run *r, uint64_t *n)
{
    if (r->deadline_ns && now_ns() >= r->deadline_ns)
        return false;
    *n = atomic_fetch_add(&r->next, 1);
    return r->count == 0 || *n < r->count;
}

static void stats_add(struct stats *st, double ms)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 4096;
        double *p = realloc(st->lat_ms, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "cairn-bench: out of memory for latency samples\n");
            exit(2);
        }
        st->lat_ms = p;
        st->cap = cap;
    }
    st->lat_ms[st->n++] = ms;
}

/* Starts the next request on X; false when there is none left. */
static bool start(struct xfer *x)
{
    struct run *r = x->w->run;
    int rc;

    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    if (!next_request(r, &x->n))
        return false;
    x->bytes = 0;
    x->peek_len = 0;
    x->errbuf[0] = '\0';
    rc = prepare(x, r->cfg, &x->w->signer, r->op, x->n);
    if (rc < 0) {
        fprintf(stderr, "cairn-bench: cannot build request %" PRIu64 ": %s\n", x->n, strerror(-rc));
        exit(2);
    }
    x->start_ns = now_ns();
    if (curl_multi_add_handle(x->w->multi, x->easy) != CURLM_OK) {
        fprintf(stderr, "cairn-bench: curl_multi_add_handle failed\n");
        exit(2);
    }
    return true;
}

static void describe_error(struct xfer *x, CURLcode res, long status)
{
    struct run *r = x->w->run;
    const char *method = r->op == OP_PUT ? "PUT" : "GET";

    if (atomic_fetch_add(&r->shown, 1) >= ERRORS_SHOWN)
        return;
    if (res != CURLE_OK)
        fprintf(stderr, "cairn-bench: %s %s: %s\n", method, x->url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    else if (status / 100 != 2)
        fprintf(stderr, "cairn-bench: %s %s: HTTP %ld: %s\n", method, x->url, status, x->peek);
    else
        fprintf(stderr, "cairn-bench: %s %s: %" PRIu64 " body bytes, expected %zu\n", method, x->url, x->bytes,
                r->cfg->size);
}

static void finish(struct xfer *x, CURLcode res)
{
    struct run *r = x->w->run;
    struct stats *st = &x->w->st;
    long status = 0;
    bool ok;

    stats_add(st, (double)(now_ns() - x->start_ns) / 1e6);
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    ok = res == CURLE_OK && status / 100 == 2 && (r->op == OP_PUT || x->bytes == r->cfg->size);
    if (!ok) {
        st->errors++;
        describe_error(x, res, status);
        return;
    }
    st->ok++;
    st->bytes += r->op == OP_PUT ? r->cfg->size : x->bytes;
}

/* Runs SLOTS transfers at a time on one multi handle until the phase ends. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct xfer *xs = calloc((size_t)w->slots, sizeof *xs);
    int active = 0;

    w->multi = curl_multi_init();
    if (!xs || !w->multi) {
        fprintf(stderr, "cairn-bench: out of memory\n");
        exit(2);
    }
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->slots);
    for (int i = 0; i < w->slots; i++) {
        if (setup_xfer(&xs[i], w) < 0) {
            fprintf(stderr, "cairn-bench: out of memory\n");
            exit(2);
        }
        active += start(&xs[i]);
    }
    while (active > 0) {
        int running, left;
        curl_multi_perform(w->multi, &running);
        for (;;) {
            CURLMsg *m = curl_multi_info_read(w->multi, &left);
            struct xfer *x;
            char *priv = NULL;
            CURLcode res;
            if (!m)
                break;
            if (m->msg != CURLMSG_DONE)
                continue;
            /* M is invalid once the handle is removed: read it first. */
            res = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            x = (struct xfer *)priv;
            curl_multi_remove_handle(w->multi, x->easy);
            finish(x, res);
            if (!start(x))
                active--;
        }
        if (active > 0)
            curl_multi_poll(w->multi, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < w->slots; i++) {
        curl_slist_free_all(xs[i].hdrs);
        curl_easy_cleanup(xs[i].easy);
        free(xs[i].body);
    }
    curl_multi_cleanup(w->multi);
    free(xs);
    return NULL;
}

/* Runs one phase with the configured threads; merges their stats into OUT. */
static int run_phase(struct run *r, struct stats *out, double *secs)
{
    const struct config *c = r->cfg;
    int nthreads = c->threads < c->concurrency ? c->threads : c->concurrency;
    struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
    uint64_t t0 = now_ns();

    if (!ws)
        return -ENOMEM;
    for (int t = 0; t < nthreads; t++) {
        ws[t].run = r;
        ws[t].slots = c->concurrency / nthreads + (t < c->concurrency % nthreads);
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0) {
            fprintf(stderr, "cairn-bench: cannot start a thread\n");
            exit(2);
        }
    }
    memset(out, 0, sizeof *out);
    for (int t = 0; t < nthreads; t++) {
        struct stats *st = &ws[t].st;
        pthread_join(ws[t].tid, NULL);
        out->ok += st->ok;
        out->errors += st->errors;
        out->bytes += st->bytes;
        for (size_t i = 0; i < st->n; i++)
            stats_add(out, st->lat_ms[i]);
        free(st->lat_ms);
    }
    *secs = (double)(now_ns() - t0) / 1e9;
    free(ws);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const struct stats *st, double p)
{
    size_t rank;
    if (st->n == 0)
        return 0;
    rank = (size_t)ceil(p * (double)st->n);
    return st->lat_ms[rank ? rank - 1 : 0];
}

static void report(const struct config *c, struct stats *st, double secs)
{
    qsort(st->lat_ms, st->n, sizeof *st->lat_ms, cmp_double);
    printf("op=%s size=%zu conc=%d ops=%" PRIu64 " secs=%.2f ops_s=%.1f mib_s=%.1f p50_ms=%.2f p99_ms=%.2f "
           "errors=%" PRIu64 "\n",
           c->op == OP_PUT ? "put" : "get", c->size, c->concurrency, st->ok + st->errors, secs, (double)st->ok / secs,
           (double)st->bytes / secs / (1 << 20), percentile(st, 0.50), percentile(st, 0.99), st->errors);
    fflush(stdout);
}

/* PUT /bucket; an existing bucket (409) is fine. */
static int create_bucket(const struct config *c)
{
    CURL *e = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct signer s = {0};
    struct xfer x = {0}; /* only for on_body's count and peek */
    char url[URL_MAX];
    const char *path;
    long status = 0;
    int rc = -ENOMEM;

    if (!e)
        goto out;
    rc = object_url(c, c->bucket, url, &path);
    if (rc < 0)
        goto out;
    hdrs = curl_slist_append(NULL, "Expect:");
    if (!c->anonymous) {
        rc = sign(c, &s, "PUT", path, &hdrs);
        if (rc < 0)
            goto out;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
    rc = curl_easy_perform(e) == CURLE_OK ? 0 : -EIO;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc == 0 && status / 100 != 2 && status != 409)
        rc = -EIO;
    if (rc < 0)
        fprintf(stderr, "cairn-bench: cannot create bucket %s: HTTP %ld: %s\n", c->bucket, status, x.peek);
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(e);
    return rc;
}

/* A fast generator is enough: the bytes only need to be incompressible. */
static unsigned char *random_body(size_t size)
{
    unsigned char *body = malloc(size ? size : 1);
    uint64_t s = (uint64_t)now_ns() | 1;

    for (size_t i = 0; body && i < size; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        body[i] = (unsigned char)(s >> 24);
    }
    return body;
}

static void usage(FILE *f)
{
    fputs("usage: cairn-bench --op put|get --size BYTES[K|M] (--count N | --duration S) [options]\n"
          "  --endpoint URL        S3 endpoint, e.g. http://127.0.0.1:9000\n"
          "  --access-key AK --secret-key SK   SigV4 credentials (region " REGION ")\n"
          "  --bucket B            bucket (path-style addressing)\n"
          "  --concurrency N       requests in flight (default 1)\n"
          "  --threads N           client threads sharing them (default 1)\n"
          "  --count N             stop after N requests\n"
          "  --duration S          stop issuing requests after S seconds\n"
          "  --keys N              GET cycles over objects 0..N-1 (default 256)\n"
          "  --prefix P            key prefix (default bench-<op>-<size>-c<concurrency>/)\n"
          "  --prefill             before a GET run, PUT its N objects (not measured)\n"
          "  --create-bucket       create the bucket first (an existing one is fine)\n"
          "  --anonymous           send requests unsigned\n"
          "  --url-template URL    plain HTTP GET of URL ({n} = object number), e.g. nginx\n"
          "  --timeout S           per-request timeout (default 300)\n"
          "Prints: op size conc ops secs ops_s mib_s p50_ms p99_ms errors. Exit 1 on any error.\n",
          f);
}

/* Reads a count with an optional K, M or G suffix (powers of 1024). */
static int parse_u64(const char *s, uint64_t *out)
{
    static const char suffixes[] = "KMG";
    const char *at;
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -EINVAL;
    if (*end) {
        at = strchr(suffixes, *end & ~0x20);
        if (!at || end[1])
            return -EINVAL;
        v <<= 10 * (at - suffixes + 1);
    }
    *out = v;
    return 0;
}

enum kind { K_STR, K_SIZE, K_U64, K_INT, K_SECS, K_FLAG, K_OP };

/* The options, as a table: name, how to read the value, where it goes. */
static const struct flag {
    const char *name;
    enum kind kind;
    size_t off;
} flags[] = {
    {"endpoint", K_STR, offsetof(struct config, endpoint)},
    {"access-key", K_STR, offsetof(struct config, access_key)},
    {"secret-key", K_STR, offsetof(struct config, secret_key)},
    {"bucket", K_STR, offsetof(struct config, bucket)},
    {"prefix", K_STR, offsetof(struct config, prefix)},
    {"url-template", K_STR, offsetof(struct config, url_template)},
    {"op", K_OP, offsetof(struct config, op)},
    {"size", K_SIZE, offsetof(struct config, size)},
    {"count", K_U64, offsetof(struct config, count)},
    {"keys", K_U64, offsetof(struct config, keys)},
    {"concurrency", K_INT, offsetof(struct config, concurrency)},
    {"threads", K_INT, offsetof(struct config, threads)},
    {"duration", K_SECS, offsetof(struct config, duration)},
    {"timeout", K_SECS, offsetof(struct config, timeout)},
    {"prefill", K_FLAG, offsetof(struct config, prefill)},
    {"create-bucket", K_FLAG, offsetof(struct config, create_bucket)},
    {"anonymous", K_FLAG, offsetof(struct config, anonymous)},
};
#define NFLAGS (sizeof flags / sizeof flags[0])

static int set_flag(struct config *c, const struct flag *f, const char *arg)
{
    void *field = (char *)c + f->off;
    uint64_t v;
    char *end;

    switch (f->kind) {
    case K_STR:
        *(const char **)field = arg;
        return 0;
    case K_FLAG:
        *(bool *)field = true;
        return 0;
    case K_OP:
        if (strcmp(arg, "put") != 0 && strcmp(arg, "get") != 0)
            return -EINVAL;
        *(enum op *)field = strcmp(arg, "put") == 0 ? OP_PUT : OP_GET;
        return 0;
    case K_SECS:
        *(double *)field = strtod(arg, &end);
        return *end || *(double *)field <= 0 ? -EINVAL : 0;
    case K_SIZE:
    case K_U64:
    case K_INT:
        if (parse_u64(arg, &v) < 0 || (f->kind == K_INT && (v < 1 || v > 4096)))
            return -EINVAL;
        if (f->kind == K_INT)
            *(int *)field = (int)v;
        else if (f->kind == K_SIZE)
            *(size_t *)field = (size_t)v;
        else
            *(uint64_t *)field = v;
        return 0;
    }
    return -EINVAL;
}

static int parse_args(int argc, char **argv, struct config *c)
{
    struct option opts[NFLAGS + 2] = {{0}};
    bool have_op = false;
    int ch;

    for (size_t i = 0; i < NFLAGS; i++)
        opts[i] =
            (struct option){flags[i].name, flags[i].kind == K_FLAG ? no_argument : required_argument, NULL, (int)i};
    opts[NFLAGS] = (struct option){"help", no_argument, NULL, 'h'};
    *c = (struct config){.concurrency = 1, .threads = 1, .keys = 256, .timeout = 300};
    for (;;) {
        ch = getopt_long(argc, argv, "", opts, NULL);
        if (ch == -1)
            break;
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if ((size_t)ch >= NFLAGS)
            return -EINVAL; /* getopt has said what is wrong */
        if (set_flag(c, &flags[ch], optarg) < 0) {
            fprintf(stderr, "cairn-bench: bad value for --%s: %s\n", flags[ch].name, optarg);
            return -EINVAL;
        }
        have_op |= flags[ch].kind == K_OP;
    }
    if (optind != argc || !have_op || (c->count == 0 && c->duration <= 0))
        return -EINVAL;
    if (c->url_template)
        return c->op == OP_GET && !c->prefill && !c->create_bucket ? 0 : -EINVAL;
    if (!c->endpoint || !c->bucket || (!c->anonymous && (!c->access_key || !c->secret_key)))
        return -EINVAL;
    return 0;
}

/* Derives what the options imply: the Host header, the default prefix. */
static int finish_config(struct config *c)
{
    static char prefix[64];
    const char *h;
    size_t len;

    if (c->url_template)
        return 0;
    h = strstr(c->endpoint, "://");
    h = h ? h + 3 : c->endpoint;
    len = strcspn(h, "/");
    if (len == 0 || len >= sizeof c->host || h[len] != '\0')
        return -EINVAL; /* an endpoint with a path is not supported */
    memcpy(c->host, h, len);
    c->host[len] = '\0';
    if (!c->prefix) {
        snprintf(prefix, sizeof prefix, "bench-%s-%zu-c%d/", c->op == OP_PUT ? "put" : "get", c->size, c->concurrency);
        c->prefix = prefix;
    }
    return strlen(c->prefix) < 512 && strlen(c->bucket) < 256 ? 0 : -ENAMETOOLONG;
}

/* PUTs the objects a GET run reads, unmeasured; any error fails the bench. */
static int prefill(const struct config *c)
{
    struct run r = {.cfg = c, .op = OP_PUT, .count = c->keys};
    struct stats st;
    double secs;
    int rc = run_phase(&r, &st, &secs);

    free(st.lat_ms);
    if (rc == 0 && st.errors)
        rc = -EIO;
    if (rc < 0)
        fprintf(stderr, "cairn-bench: prefill failed (%" PRIu64 " errors)\n", st.errors);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct run r = {0};
    struct stats st;
    double secs;

    if (parse_args(argc, argv, &cfg) < 0 || finish_config(&cfg) < 0) {
        usage(stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    if (cfg.op == OP_PUT || cfg.prefill) {
        cfg.body = random_body(cfg.size);
        if (!cfg.body)
            return 2;
    }
    if (cfg.create_bucket && create_bucket(&cfg) < 0)
        return 1;
    if (cfg.prefill && prefill(&cfg) < 0)
        return 1;
    r.cfg = &cfg;
    r.op = cfg.op;
    r.count = cfg.count;
    if (cfg.duration > 0)
        r.deadline_ns = now_ns() + (uint64_t)(cfg.duration * 1e9);
    if (run_phase(&r, &st, &secs) < 0)
        return 2;
    report(&cfg, &st, secs);
    free(st.lat_ms);
    free(cfg.body);
    curl_global_cleanup();
    return st.errors ? 1 : 0;
}
