/*
 * http: the transport-neutral request and response that pass between the
 * gateway (which speaks h2o) and s3api/auth (which must not).
 *
 * The gateway copies everything it needs out of the h2o request on the event
 * loop thread into memory the job owns, because workers may never touch an
 * h2o_req_t. The body is the exception: it stays in h2o's buffer and is read
 * in place; see gateway/job.c for the guard that keeps it alive.
 */
#ifndef CN_HTTP_H
#define CN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct cn_header {
    char *name;  /* always lower-case, NUL-terminated */
    char *value; /* NUL-terminated, surrounding whitespace trimmed */
    size_t name_len, value_len;
} cn_header;

typedef struct cn_stream cn_stream;

/* A readable byte stream; read returns bytes (0 at end) or a negative CN_E*. */
struct cn_stream {
    long (*read)(cn_stream *s, void *buf, size_t n);
    void (*close)(cn_stream *s); /* frees the stream */
};

typedef struct cn_request {
    char *method; /* "GET", ... */
    char *path;   /* raw request-target path, still percent-encoded, no query */
    char *query;  /* raw query string without '?', "" if none */
    char *host;   /* authority (Host header), may include :port */
    cn_header *headers;
    size_t n_headers;
    const uint8_t *body; /* NULL when the request had no body */
    uint64_t body_len;
    volatile int *aborted; /* set by the loop thread if the client went away */
    char source_ip[64];
    int is_tls;
    char request_id[24];
    uint64_t start_us;
} cn_request;

/* Response produced by a worker. Either body (small, in memory) or stream. */
typedef struct cn_response {
    int status;
    cn_header *headers;
    size_t n_headers, cap_headers;
    cn_buf body;
    cn_stream *stream; /* when non-NULL, body is ignored and stream_len bytes follow */
    uint64_t stream_len;
    int no_body;             /* HEAD, 304: headers only, content-length still sent */
    uint64_t content_length; /* for no_body responses */
    /* for metrics and the access log */
    const char *op_name;
    uint64_t bytes_in;
    char deny_reason[128];  /* "<step>: <why>" when authorization refused the request */
    char principal[136];    /* who the request was authenticated as ("" anonymous) */
    char *bucket, *key;     /* as routed (malloc'd; NULL when none) */
    const char *error_code; /* the S3 error code of an error response */
} cn_response;

/* Header lookup on a request; name must be lower-case. NULL if absent. */
const cn_header *cn_req_header(const cn_request *r, const char *name);
/* Copies a header value as a NUL-terminated string; NULL if absent. */
const char *cn_req_header_str(const cn_request *r, const char *name);

void cn_res_init(cn_response *res);
void cn_res_dispose(cn_response *res);
/* Adds a header (name must be lower-case). Copies both. 0 or -CN_ENOMEM. */
int cn_res_add_header(cn_response *res, const char *name, const char *value);
int cn_res_add_headerf(cn_response *res, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Looks up a raw query parameter by name, percent-decoding the value into out.
 * Returns value length, -1 if absent or if the value is malformed or does not
 * fit; a parameter without '=' has value "". */
int cn_query_get(const char *query, const char *name, char *out, size_t outcap);
int cn_query_has(const char *query, const char *name);

#endif
