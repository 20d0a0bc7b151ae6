/*
 * job: one S3 request's trip from an event loop to the worker pool and back.
 *
 *   loop: on_req ──copy request──▶ pool: handle (auth + s3api|admin) ──message──▶ loop: respond
 *                                                                             │
 *                      ┌──── pool: read_chunk ◀── proceed ◀──────────────────┘ (stream)
 *                      └──message──▶ loop: h2o_send(chunk) ──▶ proceed ...  until FINAL
 *
 * Invariants:
 *  1. Workers never touch the h2o_req_t or its pool. Everything they need is
 *     copied into the job on the loop thread, except the body, which is read
 *     in place (it can be gigabytes in h2o's spill file).
 *  2. The request can die before the job is done (HTTP/2 reset, connection
 *     loss). job_req_gone(), the request pool's dispose hook, runs on the loop
 *     thread; it clears job->req, and waits until no worker is reading the
 *     body (body_busy), because h2o frees the body right after the hook. It
 *     frees the job unless a task is in flight, in which case the message
 *     handler frees it on arrival. in_flight and req are loop-thread-only.
 *  3. One h2o_send at a time: the next chunk is read only when h2o calls
 *     proceed, and the chunk buffer stays valid until then.
 *  4. A path-style request under ADMIN_PATH_PREFIX goes to the admin API
 *     (admin/admin.h) instead of s3api, after the same authentication; its
 *     errors, authentication's included, are JSON. Under a virtual-hosted
 *     bucket the same path is an object key, and stays S3.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../auth/auth.h"
#include "../common/err.h"
#include "../common/util.h"
#include "job.h"

#define CHUNK (1u << 20)
/* Streams up to this size are read on the worker that handled the request
 * and sent in one piece: a small GET then costs one trip through the pool,
 * not two. */
#define INLINE_STREAM (256u << 10)
/* Request headers other than user metadata (which s3api bounds at 2 KB, as
 * S3 does) may not exceed this; h2o alone would accept 400 KB. */
#define HEADER_LIMIT (16u << 10)

typedef enum { PHASE_HANDLE, PHASE_READ } phase;

typedef struct job {
    gw_task task;
    h2o_multithread_message_t msg;
    h2o_generator_t gen;
    gw_loop *loop;
    h2o_req_t *req; /* NULL once the request is gone */
    phase phase;
    int in_flight;
    /* body guard (invariant 2) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int body_busy;
    volatile int aborted;
    cn_request in;
    cn_response out;
    char *arena;         /* one block for every string in `in` */
    size_t header_bytes; /* excluding x-amz-meta-* */
    /* streaming */
    char *chunk;
    size_t chunk_len;
    long read_rc;
    uint64_t remaining;
    int stream_broken; /* a small stream failed while read on the worker */
} job;

static atomic_uint_fast64_t request_seq;
atomic_int gw__jobs_in_flight;

static void job_free(job *j)
{
    cn_res_dispose(&j->out);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j->chunk);
    free(j->in.headers);
    free(j->arena);
    free(j);
    atomic_fetch_sub(&gw__jobs_in_flight, 1);
}

/* ---- copying the request (loop thread) ---- */

static size_t trimmed(const char *s, size_t n, const char **start)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *start = s;
    return n;
}

static char *put_str(char **cur, const char *s, size_t n)
{
    char *p = *cur;

    memcpy(p, s, n);
    p[n] = '\0';
    *cur += n + 1;
    return p;
}

static void copy_peer(h2o_req_t *req, cn_request *in)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);

    strcpy(in->source_ip, "unknown");
    if (len == 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, in->source_ip, sizeof(in->source_ip));
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, in->source_ip, sizeof(in->source_ip));
}

/* h2o consumes Content-Length instead of listing it, but clients sign it;
 * put it back, with the length h2o received (equal to the header's value,
 * since h2o waits for all of it). */
static void copy_content_length(cn_request *in, char **cur, h2o_req_t *req)
{
    char v[24];
    int n;

    if (req->entity.base == NULL || cn_req_header(in, "content-length") != NULL)
        return;
    n = snprintf(v, sizeof(v), "%zu", req->entity.len);
    in->headers[in->n_headers].name = put_str(cur, "content-length", 14);
    in->headers[in->n_headers].name_len = 14;
    in->headers[in->n_headers].value = put_str(cur, v, (size_t)n);
    in->headers[in->n_headers].value_len = (size_t)n;
    in->n_headers++;
}

static int copy_request(job *j, h2o_req_t *req)
{
    cn_request *in = &j->in;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    size_t need = req->method.len + req->path.len + req->authority.len + 64;
    char *cur;

    for (size_t i = 0; i < req->headers.size; i++)
        need += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 2;
    j->arena = malloc(need);
    in->headers = calloc(req->headers.size + 1, sizeof(cn_header));
    if (j->arena == NULL || in->headers == NULL)
        return -1;
    cur = j->arena;
    in->method = put_str(&cur, req->method.base, req->method.len);
    in->path = put_str(&cur, req->path.base, path_len);
    in->query = req->query_at != SIZE_MAX ? put_str(&cur, req->path.base + path_len + 1, req->path.len - path_len - 1)
                                          : put_str(&cur, "", 0);
    in->host = put_str(&cur, req->authority.base, req->authority.len);
    for (size_t i = 0; i < req->headers.size; i++) {
        h2o_header_t *h = &req->headers.entries[i];
        cn_header *o = &in->headers[in->n_headers++];
        const char *v;
        size_t vl = trimmed(h->value.base, h->value.len, &v);
        o->name = put_str(&cur, h->name->base, h->name->len);
        o->name_len = h->name->len;
        for (size_t k = 0; k < o->name_len; k++) /* h2o lowers tokens; be sure for the rest */
            o->name[k] = (char)((o->name[k] >= 'A' && o->name[k] <= 'Z') ? o->name[k] + 32 : o->name[k]);
        o->value = put_str(&cur, v, vl);
        o->value_len = vl;
        if (!cn_strncase_prefix(o->name, o->name_len, "x-amz-meta-"))
            j->header_bytes += o->name_len + vl;
    }
    copy_content_length(in, &cur, req);
    in->body = req->entity.base ? (const uint8_t *)req->entity.base : NULL;
    in->body_len = req->entity.base ? req->entity.len : 0;
    in->aborted = &j->aborted;
    in->is_tls = req->scheme == &H2O_URL_SCHEME_HTTPS;
    in->start_us = cn_monotonic_us();
    snprintf(in->request_id, sizeof(in->request_id), "%016llX",
             (unsigned long long)(atomic_fetch_add(&request_seq, 1) ^ ((uint64_t)time(NULL) << 32)));
    copy_peer(req, in);
    return 0;
}

/* ---- the worker side ---- */

static void deliver(job *j)
{
    h2o_multithread_send_message(&j->loop->done, &j->msg);
}

/* SigV4 scopes name a region; like S3, answer a request signed for another
 * region with the region it should have used. */
static int check_region(const auth_result *ar, char *msg, size_t cap)
{
    const char *want = gw__state.s3.cfg.region;
    const char *r = strchr(ar->scope, '/');
    size_t n;

    if ((ar->kind != AUTH_V4_HEADER && ar->kind != AUTH_V4_QUERY) || r == NULL)
        return 0;
    r++;
    n = strcspn(r, "/");
    if (n == strlen(want) && memcmp(r, want, n) == 0)
        return 0;
    snprintf(msg, cap, "The authorization %s is malformed; the region '%.*s' is wrong; expecting '%s'",
             ar->kind == AUTH_V4_HEADER ? "header" : "query parameters", (int)n, r, want);
    return ar->kind == AUTH_V4_HEADER ? -CN_EAUTHHDR : -CN_EAUTHQUERY;
}

/* Turns a small stream into an in-memory body (see INLINE_STREAM). Returns
 * -1 if the stream failed part way: it can no longer be sent from its start,
 * so the client must get a broken transfer. */
static int drain_small_stream(cn_response *o)
{
    char *buf = NULL;
    uint64_t got = 0;
    long n = 1;

    if (o->stream == NULL || o->no_body || o->stream_len > INLINE_STREAM || (buf = malloc(o->stream_len + 1)) == NULL)
        return 0;
    while (got < o->stream_len && (n = o->stream->read(o->stream, buf + got, (size_t)(o->stream_len - got))) > 0)
        got += (uint64_t)n;
    if (got == o->stream_len && cn_buf_append(&o->body, buf, (size_t)got) == 0) {
        o->stream->close(o->stream);
        o->stream = NULL;
    }
    free(buf);
    return o->stream == NULL ? 0 : -1;
}

static void log_access(job *j, const char *access_key)
{
    const cn_response *o = &j->out;
    gw_access e = {.req = &j->in,
                   .res = o,
                   .access_key = access_key,
                   .status = o->status != 0 ? o->status : 500,
                   .bytes_out = o->no_body          ? 0
                                : o->stream != NULL ? o->stream_len
                                                    : o->body.len,
                   .latency_us = cn_monotonic_us() - j->in.start_us,
                   .error_code = o->error_code};

    gw_access_log(&e);
}

static void handle(gw_task *t)
{
    job *j = (job *)((char *)t - offsetof(job, task));
    auth_result ar;
    char vbucket[256], msg[256] = "";
    int rc, admin;

    pthread_mutex_lock(&j->mu);
    j->body_busy = !j->aborted;
    pthread_mutex_unlock(&j->mu);
    if (j->body_busy) {
        /* SigV2 signs "/bucket/key" even when the bucket is in the Host header. */
        int vhost = s3_vhost_bucket(&gw__state.s3.cfg, j->in.host, vbucket, sizeof(vbucket));
        admin = !vhost && admin_is_admin_path(j->in.path); /* invariant 4 */
        rc = j->header_bytes > HEADER_LIMIT ? -CN_EHEADERS_TOO_LARGE : 0;
        if (rc == 0)
            rc = auth_authenticate_ex(&j->in, cn_now(), obj_key_lookup, gw__state.store, vhost ? vbucket : NULL, &ar);
        if (rc == 0)
            rc = check_region(&ar, msg, sizeof(msg));
        if (rc != 0 && admin) {
            admin_error(&j->out, &j->in, rc, msg[0] ? msg : NULL);
        } else if (rc != 0) {
            s3_error(&j->out, &j->in, rc, msg[0] ? msg : NULL);
        } else if (admin) {
            admin_handle(&gw__state.admin, &j->in, &ar, &j->out);
        } else {
            s3_handle(&gw__state.s3, &j->in, &ar, &j->out);
        }
        if (rc != 0)
            snprintf(j->out.deny_reason, sizeof(j->out.deny_reason), "auth: %s", cn_err_info(rc)->code);
        if (rc == 0 && j->out.principal[0] == '\0')
            snprintf(j->out.principal, sizeof(j->out.principal), "%s", ar.principal);
        log_access(j, rc == 0 ? ar.access_key : "");
        j->stream_broken = drain_small_stream(&j->out) != 0;
        pthread_mutex_lock(&j->mu);
        j->body_busy = 0;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    deliver(j);
}

static void read_chunk(gw_task *t)
{
    job *j = (job *)((char *)t - offsetof(job, task));
    size_t want = j->remaining < CHUNK ? (size_t)j->remaining : CHUNK;
    long n = 0;

    j->chunk_len = 0;
    while (j->chunk_len < want && !j->aborted) {
        n = j->out.stream->read(j->out.stream, j->chunk + j->chunk_len, want - j->chunk_len);
        if (n <= 0)
            break;
        j->chunk_len += (size_t)n;
    }
    /* A stream that ends before the length it promised is an error: the
     * client must see a broken transfer, never a short object. */
    j->read_rc = n < 0 ? n : (j->chunk_len < want ? -CN_EIO : 0);
    deliver(j);
}

static void submit(job *j, phase p)
{
    j->phase = p;
    j->in_flight = 1;
    j->task.run = p == PHASE_HANDLE ? handle : read_chunk;
    gw_pool_submit(&j->task);
}

/* ---- back on the loop thread ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Requested Range Not Satisfiable";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    job *j = (job *)((char *)gen - offsetof(job, gen));

    (void)req;
    if (j->remaining > 0)
        submit(j, PHASE_READ);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    /* Nothing to do: the request's dispose hook releases the job. */
    (void)gen, (void)req;
}

static void add_headers(job *j)
{
    h2o_req_t *req = j->req;

    for (size_t i = 0; i < j->out.n_headers; i++) {
        cn_header *h = &j->out.headers[i];
        h2o_iovec_t v = h2o_strdup(&req->pool, h->value, h->value_len);
        h2o_iovec_t n = h2o_strdup(&req->pool, h->name, h->name_len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-amz-request-id"), 0, NULL,
                          h2o_strdup(&req->pool, j->in.request_id, SIZE_MAX).base, strlen(j->in.request_id));
}

static void respond(job *j)
{
    h2o_req_t *req = j->req;
    cn_response *o = &j->out;
    int head = strcmp(j->in.method, "HEAD") == 0;
    uint64_t out_bytes = o->stream ? o->stream_len : o->body.len;

    req->res.status = o->status ? o->status : 500;
    req->res.reason = reason(req->res.status);
    add_headers(j);
    gw_metrics_record(o->op_name, req->res.status, j->in.body_len, head ? 0 : out_bytes,
                      cn_monotonic_us() - j->in.start_us);
    if (o->no_body || head) {
        req->res.content_length = o->no_body ? o->content_length : out_bytes;
        h2o_start_response(req, &j->gen);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    } else if (o->stream != NULL && o->stream_len > 0) {
        req->res.content_length = o->stream_len;
        j->remaining = o->stream_len;
        j->chunk = malloc(CHUNK);
        h2o_start_response(req, &j->gen);
        if (j->chunk == NULL || j->stream_broken)
            h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        else
            submit(j, PHASE_READ);
    } else {
        req->res.content_length = o->body.len;
        h2o_send_inline(req, o->body.data ? o->body.data : "", o->body.len);
    }
}

static void send_chunk(job *j)
{
    h2o_iovec_t iov = h2o_iovec_init(j->chunk, j->chunk_len);

    if (j->read_rc != 0) {
        gw_log("request %s: stream failed after %llu bytes: %s", j->in.request_id,
               (unsigned long long)(j->out.stream_len - j->remaining), cn_err_info(j->read_rc)->code);
        h2o_send(j->req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    j->remaining -= j->chunk_len;
    h2o_send(j->req, &iov, 1, j->remaining == 0 ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

void gw_job_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        job *j = H2O_STRUCT_FROM_MEMBER(job, msg, msg);
        h2o_linklist_unlink(&msg->link);
        j->in_flight = 0;
        if (j->req == NULL)
            job_free(j);
        else if (j->phase == PHASE_HANDLE)
            respond(j);
        else
            send_chunk(j);
    }
}

static void job_req_gone(void *p)
{
    job *j = *(job **)p;

    j->req = NULL;
    pthread_mutex_lock(&j->mu);
    j->aborted = 1;
    while (j->body_busy)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    if (!j->in_flight)
        job_free(j);
}

int gw_job_start(gw_loop *loop, h2o_req_t *req)
{
    job *j = calloc(1, sizeof(*j));
    job **guard;

    if (j == NULL)
        return -1;
    atomic_fetch_add(&gw__jobs_in_flight, 1);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    cn_res_init(&j->out);
    j->loop = loop;
    j->req = req;
    j->gen.proceed = on_proceed;
    j->gen.stop = on_stop;
    if (copy_request(j, req) != 0) {
        job_free(j);
        return -1;
    }
    guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), job_req_gone);
    *guard = j;
    submit(j, PHASE_HANDLE);
    return 0;
}
