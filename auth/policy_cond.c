/*
 * policy_cond: the Condition element of a bucket policy - its operators and
 * keys, the parsing of its values, and the test of one condition against a
 * request. The rules are design notes 5 and 6 of policy.c; in short:
 *
 *   cond(key, values) = absent    ? (IfExists || negated)
 *                     : negated   ? !any(values match the request value)
 *                     :              any(values match the request value)
 *   Null(key, b)      = (b == true) == absent, any of its values
 *
 * Invariants:
 *  1. Policy values are parsed once, at parse time, into their operator's
 *     type (number, Unix milliseconds, CIDR, boolean); a value that does
 *     not parse is a MalformedPolicy, never a silent non-match.
 *  2. Request values are text (the gateway's view of the request) and are
 *     read with the same parsers at evaluation time; one that does not
 *     parse matches no value.
 *  3. Nothing here allocates at evaluation time, and nothing reads a clock:
 *     aws:CurrentTime and aws:EpochTime are auth_policy_req.now_s.
 * Dates: ISO 8601 ("2024-05-01", "2024-05-01T12:00:00Z", with seconds,
 * fractions and a +hh:mm offset optional; no offset is UTC) or Unix seconds.
 * Numbers: an optional '-', digits, optionally '.' and digits (strtod in the
 * C locale, which cairn never changes). Addresses: IPv4 or IPv6, optionally
 * "/bits"; host bits are ignored and an IPv4-mapped IPv6 address is the IPv4
 * address, on both sides.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/err.h"
#include "../common/util.h"
#include "policy_int.h"

#define IF_EXISTS "IfExists"
#define F(fam) (1u << (fam))

static const pol_op ops[] = {
    {"StringEquals", POL_STRING, POL_EQ, 0},
    {"StringNotEquals", POL_STRING, POL_EQ, 1},
    {"StringEqualsIgnoreCase", POL_STRING, POL_EQ_ICASE, 0},
    {"StringNotEqualsIgnoreCase", POL_STRING, POL_EQ_ICASE, 1},
    {"StringLike", POL_STRING, POL_LIKE, 0},
    {"StringNotLike", POL_STRING, POL_LIKE, 1},
    {"NumericEquals", POL_NUMERIC, POL_EQ, 0},
    {"NumericNotEquals", POL_NUMERIC, POL_EQ, 1},
    {"NumericLessThan", POL_NUMERIC, POL_LT, 0},
    {"NumericLessThanEquals", POL_NUMERIC, POL_LE, 0},
    {"NumericGreaterThan", POL_NUMERIC, POL_GT, 0},
    {"NumericGreaterThanEquals", POL_NUMERIC, POL_GE, 0},
    {"DateEquals", POL_DATE, POL_EQ, 0},
    {"DateNotEquals", POL_DATE, POL_EQ, 1},
    {"DateLessThan", POL_DATE, POL_LT, 0},
    {"DateLessThanEquals", POL_DATE, POL_LE, 0},
    {"DateGreaterThan", POL_DATE, POL_GT, 0},
    {"DateGreaterThanEquals", POL_DATE, POL_GE, 0},
    {"Bool", POL_BOOL, POL_EQ, 0},
    {"IpAddress", POL_IP, POL_EQ, 0},
    {"NotIpAddress", POL_IP, POL_EQ, 1},
    {"Null", POL_NULL, POL_EQ, 0},
};

/* String and Null apply to every key; the other families where listed. */
static const pol_key keys[] = {
    {"aws:CurrentTime", POL_KEY_CURRENT_TIME, F(POL_DATE)},
    {"aws:EpochTime", POL_KEY_EPOCH_TIME, F(POL_DATE) | F(POL_NUMERIC)},
    {"aws:PrincipalType", POL_KEY_PRINCIPAL_TYPE, 0},
    {"aws:SecureTransport", POL_KEY_SECURE_TRANSPORT, F(POL_BOOL)},
    {"aws:SourceIp", POL_KEY_SOURCE_IP, F(POL_IP)},
    {"aws:userid", POL_KEY_USERID, 0},
    {"aws:username", POL_KEY_USERNAME, 0},
    {"s3:delimiter", POL_KEY_REQUEST, 0},
    {"s3:max-keys", POL_KEY_REQUEST, F(POL_NUMERIC)},
    {"s3:prefix", POL_KEY_REQUEST, 0},
    {"s3:VersionId", POL_KEY_REQUEST, 0},
};

#define KEY_LIST                                                                                                       \
    "aws:CurrentTime, aws:EpochTime, aws:PrincipalType, aws:SecureTransport, aws:SourceIp, aws:userid, "               \
    "aws:username, s3:delimiter, s3:max-keys, s3:prefix, s3:VersionId"

/* ---- value parsers, for policy values and request values alike ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits at s. */
static int fixed(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int parse_number(const char *s, double *out)
{
    const char *p = s;

    if (*p == '-')
        p++;
    if (!is_digit(*p))
        return -1;
    while (is_digit(*p))
        p++;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return -1;
        while (is_digit(*p))
            p++;
    }
    if (*p != '\0' || p - s > 64)
        return -1;
    *out = strtod(s, NULL);
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcasecmp(s, "true") == 0)
        *out = 1;
    else if (strcasecmp(s, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), and back. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* "Thh:mm[:ss[.fff...]]" then "Z", "+hh:mm", "+hhmm" (or '-') or nothing.
 * Returns the end, or NULL. */
static const char *parse_clock(const char *p, int64_t *secs, int *ms)
{
    int h = 0, mi = 0, s = 0, oh = 0, om = 0, digits = 0, sign = 1;

    if (!fixed(p, 2, &h) || p[2] != ':' || !fixed(p + 3, 2, &mi) || h > 23 || mi > 59)
        return NULL;
    p += 5;
    if (*p == ':') {
        if (!fixed(p + 1, 2, &s) || s > 59)
            return NULL;
        p += 3;
        if (*p == '.') {
            if (!is_digit(*++p))
                return NULL;
            for (; is_digit(*p); p++, digits++)
                if (digits < 3)
                    *ms = *ms * 10 + (*p - '0');
            for (; digits < 3; digits++)
                *ms *= 10;
        }
    }
    *secs = (int64_t)h * 3600 + mi * 60 + s;
    if (*p == 'Z')
        return p + 1;
    if (*p != '+' && *p != '-')
        return p;
    sign = *p == '-' ? -1 : 1;
    if (!fixed(p + 1, 2, &oh) || oh > 23)
        return NULL;
    p += 3;
    if (*p == ':')
        p++;
    if (!fixed(p, 2, &om) || om > 59)
        return NULL;
    *secs -= sign * ((int64_t)oh * 3600 + om * 60);
    return p + 2;
}

/* An ISO 8601 date or time, or Unix seconds, as Unix milliseconds. */
static int parse_date(const char *s, int64_t *out)
{
    int y = 0, m = 0, d = 0, ms = 0;
    int64_t secs = 0;
    const char *p = s;

    while (is_digit(*p))
        p++;
    if (*p == '\0' && p != s && p - s <= 12) {
        *out = strtoll(s, NULL, 10) * 1000;
        return 0;
    }
    if (!fixed(s, 4, &y) || s[4] != '-' || !fixed(s + 5, 2, &m) || s[7] != '-' || !fixed(s + 8, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    p = s + 10;
    if (*p == 'T')
        p = parse_clock(p + 1, &secs, &ms);
    if (p == NULL || *p != '\0')
        return -1;
    *out = (days_from_civil(y, m, d) * 86400 + secs) * 1000 + ms;
    return 0;
}

static void mask_host_bits(pol_cidr *c)
{
    size_t i, len = c->v6 ? 16 : 4;

    for (i = 0; i < len; i++) {
        int keep = (int)c->bits - (int)i * 8;
        if (keep <= 0)
            c->addr[i] = 0;
        else if (keep < 8)
            c->addr[i] &= (uint8_t)(0xFF << (8 - keep));
    }
}

/* "a.b.c.d", "v6" or either with "/bits" (allow_prefix only). */
static int parse_ip(const char *s, pol_cidr *out, int allow_prefix)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
    char buf[64];
    int bits = 0, max = 0;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(buf) || (slash != NULL && !allow_prefix))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->v6 = 0;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->v6 = 1;
    else
        return -1;
    max = out->v6 ? 128 : 32;
    bits = max;
    if (slash != NULL) {
        n = strlen(slash + 1);
        if (n == 0 || n > 3 || strspn(slash + 1, "0123456789") != n)
            return -1;
        bits = atoi(slash + 1);
        if (bits > max)
            return -1;
    }
    out->bits = (uint8_t)bits;
    if (out->v6 && bits >= 96 && memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->v6 = 0;
        out->bits = (uint8_t)(bits - 96);
    }
    mask_host_bits(out);
    return 0;
}

/* ---- parsing a Condition element ---- */

static const pol_op *op_find(const char *name, int *if_exists)
{
    size_t i, n = strlen(name), sl = strlen(IF_EXISTS);

    *if_exists = n > sl && strcmp(name + n - sl, IF_EXISTS) == 0;
    if (*if_exists)
        n -= sl;
    for (i = 0; i < CN_ARRAY_SIZE(ops); i++)
        if (strlen(ops[i].name) == n && strncmp(ops[i].name, name, n) == 0)
            return *if_exists && ops[i].family == POL_NULL ? NULL : &ops[i];
    return NULL;
}

static const pol_key *key_find(const char *name)
{
    size_t i;

    for (i = 0; i < CN_ARRAY_SIZE(keys); i++)
        if (strcasecmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* The text of a JSON scalar; NULL for anything else. */
static const char *scalar_text(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    return buf;
}

static int parse_value(pol_parser *ps, const pol_cond *c, json_t *v, pol_value *out)
{
    char buf[64];
    const char *s = scalar_text(v, buf, sizeof(buf));
    int rc = 0;

    if (s == NULL)
        return auth__pol_fail(ps, "Condition %s: %s: values must be strings, numbers or booleans", c->op->name,
                              c->key->name);
    out->s = auth__pol_strdup(ps->p, s, strlen(s));
    if (out->s == NULL)
        return -CN_ENOMEM;
    switch (c->op->family) {
    case POL_STRING:
        if (ps->variables && strstr(s, "${") != NULL)
            return auth__pol_fail(ps, "Condition %s: %s: \"%.*s\": " POL_VARIABLES_REFUSED, c->op->name, c->key->name,
                                  auth__pol_clip(s), s);
        return 0;
    case POL_NUMERIC:
        if (json_is_number(v))
            out->u.num = json_number_value(v);
        else
            rc = parse_number(s, &out->u.num);
        break;
    case POL_DATE:
        rc = parse_date(s, &out->u.ms);
        break;
    case POL_BOOL:
    case POL_NULL:
        rc = parse_bool(s, &out->u.b);
        break;
    case POL_IP:
        rc = parse_ip(s, &out->u.ip, 1);
        break;
    }
    if (rc < 0)
        return auth__pol_fail(ps, "Condition %s: %s: invalid value \"%.*s\"", c->op->name, c->key->name,
                              auth__pol_clip(s), s);
    return 0;
}

static int parse_cond(pol_parser *ps, pol_cond *c, const char *key, json_t *vals)
{
    size_t i, n = json_is_array(vals) ? json_array_size(vals) : 1;
    int rc = 0;

    c->key = key_find(key);
    if (c->key == NULL)
        return auth__pol_fail(ps, "Condition %s: unsupported condition key \"%.*s\" (cairn supports " KEY_LIST ")",
                              c->op->name, auth__pol_clip(key), key);
    if (c->op->family != POL_STRING && c->op->family != POL_NULL && !(c->key->families & F(c->op->family)))
        return auth__pol_fail(ps, "Condition operator %s does not apply to key %s", c->op->name, c->key->name);
    if (n == 0)
        return auth__pol_fail(ps, "Condition %s: %s: no values", c->op->name, c->key->name);
    c->vals = auth__pol_alloc(ps->p, n * sizeof(*c->vals));
    if (c->vals == NULL)
        return -CN_ENOMEM;
    c->n_vals = n;
    for (i = 0; i < n && rc == 0; i++)
        rc = parse_value(ps, c, json_is_array(vals) ? json_array_get(vals, i) : vals, &c->vals[i]);
    return rc;
}

static int parse_block(pol_parser *ps, pol_stmt *st, const char *name, json_t *block)
{
    const pol_op *op = NULL;
    const char *key = NULL;
    json_t *vals = NULL;
    int if_exists = 0, rc = 0;

    if (strncmp(name, "ForAnyValue:", 12) == 0 || strncmp(name, "ForAllValues:", 13) == 0)
        return auth__pol_fail(ps,
                              "Condition operator %.*s: set operators are not supported (no supported key has "
                              "several values)",
                              auth__pol_clip(name), name);
    op = op_find(name, &if_exists);
    if (op == NULL)
        return auth__pol_fail(ps, "Unknown condition operator %.*s", auth__pol_clip(name), name);
    json_object_foreach(block, key, vals)
    {
        pol_cond *c = &st->conds[st->n_conds++];
        c->op = op;
        c->if_exists = if_exists;
        rc = parse_cond(ps, c, key, vals);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int auth__pol_conditions(pol_parser *ps, pol_stmt *st, json_t *cond)
{
    const char *name = NULL;
    json_t *block = NULL;
    size_t n = 0;
    int rc = 0;

    if (!json_is_object(cond))
        return auth__pol_fail(ps, "Condition must be an object");
    json_object_foreach(cond, name, block)
    {
        if (!json_is_object(block))
            return auth__pol_fail(ps, "Condition %.*s must be an object of keys and values", auth__pol_clip(name),
                                  name);
        n += json_object_size(block);
    }
    st->conds = auth__pol_alloc(ps->p, n * sizeof(*st->conds));
    if (st->conds == NULL)
        return -CN_ENOMEM;
    json_object_foreach(cond, name, block)
    {
        rc = parse_block(ps, st, name, block);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- evaluation ---- */

static void format_time(char *buf, size_t cap, int64_t t)
{
    int64_t days = t / 86400, secs = t % 86400, y = 0;
    int m = 0, d = 0;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

/* The request's value of key k (note 6 of policy.c): 1 and *out, or 0 when
 * the key is absent. buf holds values made up on the spot. */
static int key_value(const pol_key *k, const auth_policy_req *r, char *buf, size_t cap, const char **out)
{
    size_t i;

    *out = buf;
    switch (k->id) {
    case POL_KEY_CURRENT_TIME:
        format_time(buf, cap, r->now_s);
        return 1;
    case POL_KEY_EPOCH_TIME:
        snprintf(buf, cap, "%lld", (long long)r->now_s);
        return 1;
    case POL_KEY_PRINCIPAL_TYPE:
        *out = r->user != NULL ? "User" : "Anonymous";
        return 1;
    case POL_KEY_SECURE_TRANSPORT:
        *out = r->secure_transport ? "true" : "false";
        return 1;
    case POL_KEY_SOURCE_IP:
        *out = r->source_ip;
        return r->source_ip != NULL;
    case POL_KEY_USERID:
        *out = r->user != NULL ? r->user : "anonymous";
        return 1;
    case POL_KEY_USERNAME:
        *out = r->user;
        return r->user != NULL;
    case POL_KEY_REQUEST:
        for (i = 0; i < r->n_keys; i++) {
            if (r->keys[i].key != NULL && r->keys[i].value != NULL && strcasecmp(r->keys[i].key, k->name) == 0) {
                *out = r->keys[i].value;
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

/* a <cmp> b, given their order (-1, 0, 1). */
static int ordered(pol_cmp cmp, int order)
{
    switch (cmp) {
    case POL_LT:
        return order < 0;
    case POL_LE:
        return order <= 0;
    case POL_GT:
        return order > 0;
    case POL_GE:
        return order >= 0;
    default:
        return order == 0;
    }
}

static int string_matches(pol_cmp cmp, const char *v, const char *pattern)
{
    if (cmp == POL_LIKE)
        return auth__pol_glob(pattern, v, 0);
    if (cmp == POL_EQ_ICASE)
        return strcasecmp(v, pattern) == 0;
    return strcmp(v, pattern) == 0;
}

static int cidr_contains(const pol_cidr *net, const pol_cidr *a)
{
    int full = net->bits / 8, rem = net->bits % 8;
    uint8_t mask = (uint8_t)(0xFF << (8 - rem));

    if (net->v6 != a->v6 || memcmp(net->addr, a->addr, (size_t)full) != 0)
        return 0;
    return rem == 0 || (net->addr[full] & mask) == (a->addr[full] & mask);
}

/* 1 if the request value v matches any of c's values (invariant 2). */
static int any_value(const pol_cond *c, const char *v)
{
    const pol_value *pv = c->vals;
    size_t i, n = c->n_vals;
    pol_cidr ip;
    double num = 0;
    int64_t ms = 0;
    int b = 0, hit = 0;

    memset(&ip, 0, sizeof(ip));
    if ((c->op->family == POL_NUMERIC && parse_number(v, &num) < 0) ||
        (c->op->family == POL_DATE && parse_date(v, &ms) < 0) || (c->op->family == POL_BOOL && parse_bool(v, &b) < 0) ||
        (c->op->family == POL_IP && parse_ip(v, &ip, 0) < 0))
        return 0;
    for (i = 0; i < n && !hit; i++) {
        switch (c->op->family) {
        case POL_STRING:
            hit = string_matches(c->op->cmp, v, pv[i].s);
            break;
        case POL_NUMERIC:
            hit = ordered(c->op->cmp, (num > pv[i].u.num) - (num < pv[i].u.num));
            break;
        case POL_DATE:
            hit = ordered(c->op->cmp, (ms > pv[i].u.ms) - (ms < pv[i].u.ms));
            break;
        case POL_BOOL:
            hit = b == pv[i].u.b;
            break;
        case POL_IP:
            hit = cidr_contains(&pv[i].u.ip, &ip);
            break;
        case POL_NULL:
            break;
        }
    }
    return hit;
}

int auth__pol_cond_eval(const pol_cond *c, const auth_policy_req *r)
{
    char buf[64];
    const char *v = NULL;
    int present = key_value(c->key, r, buf, sizeof(buf), &v);
    size_t i;

    if (c->op->family == POL_NULL) {
        for (i = 0; i < c->n_vals; i++)
            if (c->vals[i].u.b == !present)
                return 1;
        return 0;
    }
    if (!present)
        return c->if_exists || c->op->negated;
    return c->op->negated ? !any_value(c, v) : any_value(c, v);
}

int auth_cidr_valid(const char *cidr)
{
    pol_cidr c;

    return cidr != NULL && parse_ip(cidr, &c, 1) == 0;
}

int auth_cidr_match(const char *cidr, const char *ip)
{
    pol_cidr net, a;

    return cidr != NULL && ip != NULL && parse_ip(cidr, &net, 1) == 0 && parse_ip(ip, &a, 0) == 0 &&
           cidr_contains(&net, &a);
}
