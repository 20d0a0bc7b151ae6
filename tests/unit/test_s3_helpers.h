/*
 * Helpers for the s3api tests that run whole operations through s3_handle()
 * against a real object store in a temp dir: building a cn_request (with an
 * authenticated principal, as auth would hand it over), plain and
 * aws-chunked (unsigned, with trailer) bodies, and reading the response.
 * Header-only (static), like test_obj_helpers.h, which it builds on.
 */
#ifndef CN_TEST_S3_HELPERS_H
#define CN_TEST_S3_HELPERS_H

#include <stdarg.h>

#include "../../common/util.h"
#include "../../s3api/s3int.h"
#include "test_obj_helpers.h"

#define S3T_MAX_HEADERS 16

typedef struct s3t {
    char dir[128];
    obj_store *store;
    s3_ctx ctx;
    volatile int aborted; /* what the gateway sets when the client goes away */
    /* Who signs the next requests: NULL is "alice" (the owner of "bkt"),
     * "" is anonymous; and where they come from. */
    const char *principal;
    const char *source_ip; /* NULL: "127.0.0.1" */
    int is_tls;
} s3t;

static inline void s3t_open(s3t *t)
{
    obj_config cfg;

    memset(t, 0, sizeof(*t));
    make_tmpdir(t->dir, sizeof(t->dir));
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = t->dir;
    cfg.region = "us-east-1";
    cfg.gc_grace_seconds = 1;
    cr_assert_eq(obj_store_open(&t->store, &cfg), 0);
    cr_assert_eq(obj_bucket_create(t->store, "bkt", "alice", NULL), 0);
    t->ctx.store = t->store;
    t->ctx.cfg.region = "us-east-1";
}

static inline void s3t_close(s3t *t)
{
    obj_store_close(t->store);
    rm_rf(t->dir);
}

/* One request. hdrs: name, value, name, value, ..., NULL (lower-case names).
 * payload AUTH_PAYLOAD_UNSIGNED_TRAILER takes an aws-chunked body whose
 * decoded length is decoded. res must be disposed by the caller. */
static inline void s3t_do(s3t *t, const char *method, const char *path, const char *query, const char *const *hdrs,
                          const void *body, size_t len, auth_payload payload, uint64_t decoded, cn_response *res)
{
    cn_header h[S3T_MAX_HEADERS];
    cn_request req;
    auth_result ar;
    size_t n = 0;

    memset(&req, 0, sizeof(req));
    memset(&ar, 0, sizeof(ar));
    for (; hdrs != NULL && hdrs[2 * n] != NULL; n++) {
        cr_assert_lt(n, S3T_MAX_HEADERS);
        h[n].name = (char *)hdrs[2 * n];
        h[n].value = (char *)hdrs[2 * n + 1];
        h[n].name_len = strlen(h[n].name);
        h[n].value_len = strlen(h[n].value);
    }
    req.method = (char *)method;
    req.path = (char *)path;
    req.query = (char *)(query != NULL ? query : "");
    req.host = "localhost:9000";
    req.headers = h;
    req.n_headers = n;
    req.body = body;
    req.body_len = len;
    req.aborted = &t->aborted;
    snprintf(req.request_id, sizeof(req.request_id), "TEST");
    snprintf(req.source_ip, sizeof(req.source_ip), "%s", t->source_ip != NULL ? t->source_ip : "127.0.0.1");
    req.is_tls = t->is_tls;
    if (t->principal == NULL || t->principal[0] != '\0') {
        ar.kind = AUTH_V4_HEADER;
        snprintf(ar.access_key, sizeof(ar.access_key), "AKIDTEST");
        snprintf(ar.principal, sizeof(ar.principal), "%s", t->principal != NULL ? t->principal : "alice");
    }
    ar.payload = payload;
    ar.decoded_length = decoded;
    cn_res_init(res);
    s3_handle(&t->ctx, &req, &ar, res);
}

static inline const char *s3t_header(const cn_response *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

static inline const char *s3t_body(const cn_response *res)
{
    return res->body.data != NULL ? res->body.data : "";
}

/* Drains and closes a GET's stream into a malloc'd buffer of *len bytes. */
static inline uint8_t *s3t_drain(cn_response *res, size_t *len)
{
    uint8_t *buf = malloc(res->stream_len + 1);
    size_t got = 0;
    long n = 0;

    cr_assert_not_null(res->stream);
    while ((n = res->stream->read(res->stream, buf + got, res->stream_len - got)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0);
    res->stream->close(res->stream);
    res->stream = NULL;
    *len = got;
    return buf;
}

/* data as one aws-chunked chunk, then the final chunk and one trailer line
 * ("name:value"; none when trailer is NULL). malloc'd, length in *len. */
static inline char *s3t_chunked(const void *data, size_t n, const char *trailer, size_t *len)
{
    size_t cap = n + 128 + (trailer != NULL ? strlen(trailer) : 0);
    char *b = malloc(cap);
    int k = snprintf(b, cap, "%zx\r\n", n);

    memcpy(b + k, data, n);
    k += (int)n;
    k += snprintf(b + k, cap - (size_t)k, "\r\n0\r\n%s%s\r\n", trailer != NULL ? trailer : "",
                  trailer != NULL ? "\r\n" : "");
    *len = (size_t)k;
    return b;
}

#endif
