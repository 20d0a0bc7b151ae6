/*
 * util: small pure helpers shared by every layer (hex, base64, time, URI
 * coding, constant-time compare). No allocation unless stated.
 */
#ifndef CN_UTIL_H
#define CN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Lower-case hex; out must hold 2*n+1 bytes. */
void cn_hex(char *out, const uint8_t *in, size_t n);
/* Returns bytes decoded or -1; accepts upper and lower case. */
int cn_unhex(uint8_t *out, size_t outcap, const char *in, size_t n);
/* Standard base64 with padding; out must hold 4*((n+2)/3)+1 bytes. Returns length. */
size_t cn_base64(char *out, const uint8_t *in, size_t n);
/* Returns bytes decoded or -1 on malformed input. */
int cn_unbase64(uint8_t *out, size_t outcap, const char *in, size_t n);

/* Percent-decodes in place semantics into out (outcap >= n+1). Returns length or -1
 * on a malformed escape. If plus_is_space, '+' decodes to ' ' (form encoding). */
int cn_uri_decode(char *out, size_t outcap, const char *in, size_t n, int plus_is_space);
/* AWS-style URI encoding (RFC 3986 unreserved kept); if keep_slash, '/' is kept.
 * out must hold 3*n+1 bytes. Returns length. */
size_t cn_uri_encode(char *out, const char *in, size_t n, int keep_slash);

/* Constant-time equality of two byte strings (lengths compared first). */
int cn_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Time formats used by S3. out must hold 32 bytes. */
void cn_time_iso8601(char *out, time_t t); /* 2006-02-03T16:45:09.000Z */
void cn_time_rfc1123(char *out, time_t t); /* Fri, 03 Feb 2006 16:45:09 GMT */
void cn_time_amz(char *out, time_t t);     /* 20060203T164509Z */
/* Parses RFC 1123, RFC 850, asctime, ISO 8601 and x-amz-date forms. -1 on failure. */
int cn_time_parse(const char *s, size_t n, time_t *out);

/* Current wall clock, in seconds and in microseconds. */
time_t cn_now(void);
uint64_t cn_now_us(void);
uint64_t cn_monotonic_us(void);

/* Fills buf with cryptographically random bytes (OpenSSL RAND_bytes); 0 or -CN_EINTERNAL. */
int cn_random(void *buf, size_t n);
/* n random symbols of alphabet (2 to 256 distinct characters, each equally
 * likely) and a NUL into out (n+1 bytes): access keys, secrets. 0 or
 * -CN_EINTERNAL. */
int cn_random_token(char *out, size_t n, const char *alphabet);

/* Case-insensitive prefix test on a length-delimited string. */
int cn_strncase_prefix(const char *s, size_t n, const char *prefix);

#endif
