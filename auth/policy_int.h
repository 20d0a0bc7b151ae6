/*
 * policy_int: the parsed form of a bucket policy, shared by the three files
 * of the policy language and included by nobody else:
 *   policy.c       document and statements: parse, validate, lifetime;
 *   policy_cond.c  condition operators and keys: parse values, evaluate;
 *   policy_eval.c  matching statements against a request.
 * Everything a policy holds lives in its arena and is freed with it.
 */
#ifndef CN_AUTH_POLICY_INT_H
#define CN_AUTH_POLICY_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

/* --- condition operators and keys --- */

typedef enum pol_family {
    POL_STRING,
    POL_NUMERIC,
    POL_DATE,
    POL_BOOL,
    POL_IP,
    POL_NULL,
} pol_family;

typedef enum pol_cmp {
    POL_EQ,
    POL_EQ_ICASE,
    POL_LIKE,
    POL_LT,
    POL_LE,
    POL_GT,
    POL_GE,
} pol_cmp;

typedef struct pol_op {
    const char *name; /* "StringNotLike", without IfExists */
    pol_family family;
    pol_cmp cmp;
    int negated; /* true when the key does NOT match any value (note 6) */
} pol_op;

typedef enum pol_key_id {
    POL_KEY_CURRENT_TIME,
    POL_KEY_EPOCH_TIME,
    POL_KEY_PRINCIPAL_TYPE,
    POL_KEY_SECURE_TRANSPORT,
    POL_KEY_SOURCE_IP,
    POL_KEY_USERID,
    POL_KEY_USERNAME,
    POL_KEY_REQUEST, /* an s3: key, looked up in auth_policy_req.keys */
} pol_key_id;

typedef struct pol_key {
    const char *name; /* canonical spelling, "aws:SourceIp" */
    pol_key_id id;
    unsigned families; /* 1 << pol_family that apply besides String and Null */
} pol_key;

typedef struct pol_cidr {
    uint8_t addr[16]; /* network bytes; IPv4 in the first 4 */
    uint8_t bits;
    uint8_t v6;
} pol_cidr;

typedef struct pol_value {
    const char *s; /* as written (numbers and booleans as text) */
    union {
        double num;  /* POL_NUMERIC */
        int64_t ms;  /* POL_DATE, Unix milliseconds */
        int b;       /* POL_BOOL, POL_NULL */
        pol_cidr ip; /* POL_IP */
    } u;
} pol_value;

/* One key under one operator: {"StringEquals": {"s3:prefix": ["a/", "b/"]}} */
typedef struct pol_cond {
    const pol_op *op;
    int if_exists;
    const pol_key *key;
    pol_value *vals;
    size_t n_vals;
} pol_cond;

/* --- statements and the policy --- */

typedef struct pol_principal {
    int any; /* "*" */
    const char **users;
    size_t n_users;
    const char **groups;
    size_t n_groups;
} pol_principal;

typedef struct pol_stmt {
    const char *sid; /* NULL if none */
    int deny;
    int not_principal, not_action, not_resource;
    pol_principal principal;
    const char **actions;
    size_t n_actions;
    const char **resources;
    size_t n_resources;
    pol_cond *conds;
    size_t n_conds;
} pol_stmt;

typedef struct pol_chunk pol_chunk;

struct auth_policy {
    atomic_uint refs;
    pol_chunk *arena;
    pol_stmt *stmts;
    size_t n_stmts;
};

/* --- parsing, shared between policy.c and policy_cond.c --- */

typedef struct pol_parser {
    auth_policy *p;
    const char *bucket;
    int variables; /* Version 2012-10-17: "${" opens a policy variable */
    int stmt;      /* index of the statement being parsed; -1 outside */
    const char *sid;
    char *why;
    size_t whycap;
} pol_parser;

#define POL_VARIABLES_REFUSED "policy variables (${...}) are not supported"

/* Zeroed, aligned memory from p's arena; NULL when out of memory. */
void *auth__pol_alloc(auth_policy *p, size_t n);
/* A copy of s[0..n) in the arena, NUL-terminated. */
char *auth__pol_strdup(auth_policy *p, const char *s, size_t n);
/* Writes "Statement[i] (Sid \"x\"): " and the message into why; returns
 * -CN_EMALFORMED_POLICY. */
int auth__pol_fail(pol_parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Length of s to quote in a message: at most 80 bytes, not cutting a UTF-8
 * sequence, for "%.*s". */
int auth__pol_clip(const char *s);

/* Parses a statement's Condition element into st->conds. */
int auth__pol_conditions(pol_parser *ps, pol_stmt *st, json_t *cond);

/* --- evaluation --- */

/* 1 if s matches pattern pat: '*' any run of characters, '?' exactly one
 * (UTF-8) character, everything else literally; ASCII case folded when icase. */
int auth__pol_glob(const char *pat, const char *s, int icase);
/* 1 if the condition holds for r. */
int auth__pol_cond_eval(const pol_cond *c, const auth_policy_req *r);

#endif
