/*
 * policy: the AWS bucket-policy language. A policy document is parsed and
 * validated once, when PutBucketPolicy stores it (or when the bucket's state
 * is loaded), and then evaluated against each request of that bucket.
 *
 * Pure: no I/O, no clock, no global state. The caller supplies the request's
 * principal, action, resource, time and condition keys.
 *
 * What evaluation answers, and what it leaves to the caller:
 *  - AUTH_POLICY_DENY: a statement with "Effect": "Deny" applies. Nothing
 *    else may grant the request (not ownership, not an ACL).
 *  - AUTH_POLICY_ALLOW: no Deny applies and an Allow does.
 *  - AUTH_POLICY_NONE: no statement applies; the caller decides with what
 *    else it knows (ownership, ACLs, capabilities), like AWS's implicit deny.
 *
 * Ownership: auth_policy_parse() returns a policy holding one reference;
 * auth_policy_ref() adds one and auth_policy_unref() drops one, freeing the
 * policy with the last. A policy is immutable once parsed: any number of
 * threads may evaluate it at once, each holding a reference (say, a bucket
 * cache swaps in a new policy on PutBucketPolicy while requests still
 * evaluate the old one).
 */
#ifndef CN_AUTH_POLICY_H
#define CN_AUTH_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* S3's cap on a bucket policy document, in bytes. */
#define AUTH_POLICY_MAX_BYTES (20 * 1024)

typedef struct auth_policy auth_policy;

/* Parses and validates the policy document json[0..len) of bucket (the
 * bucket name alone, not an ARN: every Resource must name this bucket or
 * objects in it). Returns 0 and *out (one reference), or:
 *  -CN_EMALFORMED_POLICY with a one-line reason in why, meant to be sent
 *   back as the S3 error message ("Statement[1] (Sid \"Public\"): Policy has
 *   invalid action: \"s3:GetObjetc\"");
 *  -CN_ENOMEM.
 * why may be NULL; a reason longer than whycap-1 bytes is cut short. The
 * language accepted, and what is refused, is described at the top of
 * auth/policy.c. */
int auth_policy_parse(auth_policy **out, const char *bucket, const char *json, size_t len, char *why, size_t whycap);

/* Adds a reference; returns p. */
auth_policy *auth_policy_ref(auth_policy *p);
/* Drops a reference, freeing the policy with the last one. NULL is a no-op. */
void auth_policy_unref(auth_policy *p);

/* A request condition key and its value, e.g. {"s3:prefix", "photos/"}. */
typedef struct auth_policy_kv {
    const char *key; /* matched case-insensitively, as AWS does */
    const char *value;
} auth_policy_kv;

/* The request, as the policy sees it. Strings are NUL-terminated and only
 * read during auth_policy_eval(). */
typedef struct auth_policy_req {
    const char *action;        /* "s3:GetObject"; matched case-insensitively */
    const char *resource;      /* "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key" */
    const char *user;          /* the user name (auth_result.principal); NULL or "" when anonymous */
    const char *const *groups; /* the user's groups, n_groups of them */
    size_t n_groups;
    const char *source_ip; /* the peer's address, "192.0.2.1" or "2001:db8::1",
                              no brackets or port; NULL if unknown */
    int secure_transport;  /* non-zero when the request came over TLS */
    int64_t now_s;         /* the request time, Unix seconds */
    /* The s3: condition keys of this request: s3:prefix, s3:delimiter,
     * s3:max-keys, s3:VersionId. A key not listed is absent from the request,
     * which is not the same as present and empty (see auth/policy.c, note 6).
     * The aws: keys come from the fields above, never from this list. */
    const auth_policy_kv *keys;
    size_t n_keys;
} auth_policy_req;

typedef enum auth_policy_effect {
    AUTH_POLICY_NONE = 0, /* no statement applies */
    AUTH_POLICY_ALLOW,    /* an Allow applies and no Deny does */
    AUTH_POLICY_DENY,     /* a Deny applies */
} auth_policy_effect;

/* Which statement decided, for the access log. */
typedef struct auth_policy_match {
    int statement;   /* index in the policy's Statement array; -1 for NONE */
    const char *sid; /* that statement's Sid, NULL if it has none; points into
                        the policy and lives as long as it does */
} auth_policy_match;

/* Evaluates r against p: the first Deny that applies decides; failing that,
 * the first Allow; failing that, AUTH_POLICY_NONE. p NULL (a bucket without
 * a policy) is AUTH_POLICY_NONE. m, when not NULL, says which statement
 * decided. Never fails and never allocates: a request value that cannot be
 * read (an unparsable source_ip, a non-numeric s3:max-keys) matches no
 * policy value. r->action and r->resource must not be NULL. */
auth_policy_effect auth_policy_eval(const auth_policy *p, const auth_policy_req *r, auth_policy_match *m);

/* The S3 action called name (case-insensitively, "s3:getobject"), spelled
 * as AWS does ("s3:GetObject"); NULL if policies know no such action. The
 * table is the one parsing validates Action and NotAction against. */
const char *auth_policy_action_name(const char *name);

/* Address ranges, as the IpAddress condition reads them ("10.0.0.0/8",
 * "2001:db8::/32", a bare address is /32 or /128; IPv4-mapped IPv6 is
 * IPv4). Also used by capabilities' source ranges. */
int auth_cidr_valid(const char *cidr);
/* 1 if the address ip lies in cidr; 0 otherwise or when either is malformed. */
int auth_cidr_match(const char *cidr, const char *ip);

#endif
