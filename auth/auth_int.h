/*
 * auth_int: what the files of auth/ share among themselves and nobody else
 * includes (in the manner of SQLite's btreeInt.h). Functions carry the auth__
 * prefix: exported for the linker, private to the module.
 */
#ifndef CN_AUTH_INT_H
#define CN_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"

/* Largest secret the lookup callback may return, NUL included. */
#define AUTH__SECRET_CAP 256
/* Longest single query parameter value auth ever decodes (credentials, dates). */
#define AUTH__PARAM_CAP 1024

/* --- crypto, over OpenSSL --- */
void auth__sha256(uint8_t out[32], const void *p, size_t n);
void auth__sha256_hex(char out[65], const void *p, size_t n);
void auth__hmac_sha256(uint8_t out[32], const void *key, size_t klen, const void *msg, size_t n);

/* --- request access --- */

/* First header called name (lower-case); sets *len. NULL when absent. */
const char *auth__header(const cn_request *req, const char *name, size_t *len);

/* One raw "name=value" parameter of a query string. */
typedef struct auth__param {
    const char *name, *value;
    size_t name_len, value_len;
    int has_eq; /* "name=" rather than bare "name" */
} auth__param;

/* Walks a query string: *cursor starts at the query; returns 1 and fills p for
 * each non-empty parameter, 0 at the end. */
int auth__query_next(const char **cursor, auth__param *p);

/* Percent-decodes the first parameter called name into out. Returns the value
 * length, -1 if absent, -2 if malformed or longer than outcap-1. */
int auth__query_get(const char *query, const char *name, char *out, size_t outcap, int plus_is_space);

/* Strict "20130524T000000Z". 0 or -1. */
int auth__parse_amz_date(const char *s, size_t n, time_t *out);

/* Copies at most cap-1 bytes and NUL-terminates; -1 if it did not fit. */
int auth__copy(char *dst, size_t cap, const char *src, size_t n);

/* Exactly 64 hex digits, stored lower-case. 0 or -1. */
int auth__hex64(char out[65], const char *s, size_t n);

/* Sets out->payload (and payload_sha256) from an x-amz-content-sha256 value;
 * presigned requests may not stream. 0 or -CN_EINVALID_ARGUMENT. */
int auth__payload_mode(const char *s, size_t n, int presigned, auth_result *out);
/* Sets out->decoded_length from x-amz-decoded-content-length. 0,
 * -CN_EMISSING_LENGTH when absent, -CN_EINVALID_ARGUMENT when malformed. */
int auth__decoded_length(const cn_request *req, auth_result *out);

/* --- the signature forms, each filling out on success --- */
int auth__v4_header(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, auth_result *out);
int auth__v4_query(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, auth_result *out);
int auth__v2_header(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, const char *vhost_bucket,
                    auth_result *out);
int auth__v2_query(const cn_request *req, time_t now, auth_secret_fn lookup, void *arg, const char *vhost_bucket,
                   auth_result *out);

#endif
