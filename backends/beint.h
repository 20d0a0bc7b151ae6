/*
 * beint: helpers shared by the provider drivers inside backends/ only (in the
 * manner of SQLite's btreeInt.h). Nothing outside backends/ includes this
 * file; the layer above sees be.h alone.
 */
#ifndef CN_BEINT_H
#define CN_BEINT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/http.h"

/* A request header or query parameter, as the signers take them. */
typedef struct be__pair {
    const char *name;
    const char *value;
} be__pair;

/* ---- backends/sharedkey.c: Azure Storage Shared Key ---- */

/* Room for a whole "SharedKey account:signature" value. */
#define BE__SHAREDKEY_AUTH_MAX 128

typedef struct be__sharedkey_req {
    const char *method;
    const char *account;
    const char *path; /* URI path as sent: already URI-encoded, starts with '/' */
    /* Every header sent that takes part in the signature (at most 16, names
     * lower-case and unique, values trimmed): the standard ones by name
     * (content-length, content-type, range, ...) and all x-ms-* ones. Any
     * order; others are ignored. */
    const be__pair *headers;
    size_t n_headers;
    /* Query parameters, values not URI-encoded (as the service decodes
     * them); at most 16; any order; a repeated name is one line of values. */
    const be__pair *query;
    size_t n_query;
} be__sharedkey_req;

/* The Shared Key string to sign (Blob service, version 2009-09-19 and later,
 * Content-Length "0" signed as empty as from 2015-02-21) into out, which is
 * reset first. 0, -CN_EINVALID_ARGUMENT or -CN_ETOOLARGE. Pure. */
int be__sharedkey_string_to_sign(cn_buf *out, const be__sharedkey_req *r);

/* The Authorization header value "SharedKey account:base64(HMAC-SHA256(key,
 * string to sign))" into out; key is the decoded account key. 0,
 * -CN_EINVALID_ARGUMENT or -CN_ETOOLARGE. Pure: no clock, no I/O. */
int be__sharedkey_authorization(char *out, size_t cap, const uint8_t *key, size_t key_len, const be__sharedkey_req *r);

/* ---- backends/curl_pool.c: the libcurl plumbing of the HTTP drivers ---- */

#define BE__POOL_MAX 8
#define BE__DEFAULT_TIMEOUT_MS 30000
#define BE__DEFAULT_RETRIES 3

/* What every HTTP driver keeps: the options they share and a pool of idle
 * easy handles (a handle is used by one thread at a time; the pool is under
 * the mutex). Embedded in the driver's provider; owns ca_file and the
 * handles. */
typedef struct be__http {
    long timeout_ms; /* connect timeout; per-attempt budget: this plus 1 s per MiB of body */
    int retries;     /* extra attempts after the first */
    char *ca_file;   /* PEM bundle for https, or NULL for the system's */
    pthread_mutex_t lock;
    CURL *idle[BE__POOL_MAX];
    size_t n_idle;
} be__http;

/* Initialises libcurl and libxml2 once per process, then h with the
 * defaults. 0, or -CN_EINTERNAL (h then needs no dispose). */
int be__http_init(be__http *h);
void be__http_dispose(be__http *h);
/* be__http_option's "not mine, pass on" (nginx's NGX_DECLINED). */
#define BE__DECLINED 1
/* Takes one of the shared options (timeout_ms, retries, ca_file): 0, a
 * negative CN_E* for a bad value, or BE__DECLINED for any other key. */
int be__http_option(be__http *h, const char *k, const char *v);

typedef struct be__call be__call;

/* Fills url (cap bytes) and appends the request's headers, signed, to *hdrs
 * for one attempt: every attempt is signed afresh, the time being part of
 * the signature. 0 or a negative CN_E*, which ends the call unretried. */
typedef int (*be__sign_fn)(be__call *c, char *url, size_t cap, struct curl_slist **hdrs);

/* One logical request, possibly sent several times. A driver embeds it as
 * the first member of its own call record and finds that again in sign. */
struct be__call {
    /* in */
    const char *method; /* GET, PUT, DELETE, HEAD */
    be__sign_fn sign;
    cn_stream *src; /* PUT body: exactly size bytes */
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
};

/* Sends c, retrying with exponential backoff and jitter (100 ms doubling to
 * 2 s) on transport errors and time-outs, 5xx and 429; a put only while its
 * stream has not been read from. 0 when a final HTTP response arrived: the
 * caller judges c->status. Otherwise the stream's error, sign's error, or
 * -CN_EIO. */
int be__perform(be__http *h, be__call *c);

/* Appends "name: value" to *list. 0 or -CN_ENOMEM. */
int be__add_header(struct curl_slist **list, const char *name, const char *value);

/* Option value parsers shared by the drivers: 0 or -CN_EINVALID_ARGUMENT
 * (-CN_ENOMEM for be__opt_dup, which replaces *dst). */
int be__opt_bool(const char *s, int *out);
int be__opt_long(const char *s, long lo, long hi, long *out);
int be__opt_dup(char **dst, const char *v);

/* The drivers' reading of an HTTP status: 2xx is success; 403 is
 * -CN_EACCESS, anything else -CN_EIO. */
static inline int be__status_ok(long s)
{
    return s >= 200 && s < 300;
}

static inline int be__status_rc(long status)
{
    return status == 403 ? -CN_EACCESS : -CN_EIO;
}

#endif
