/*
 * test_policy: auth/policy*.c - the bucket-policy language.
 *
 * Most cases are data: tests/vectors/policy/<area>.json, one runner. A file
 * holds a "bucket", optional "defaults" (request fields) and either
 *  - "suites": [{"name", "policy", "defaults", "requests": [...]}]: the
 *    policy must parse; each request (file defaults, then suite defaults,
 *    then its own fields, later winning) must evaluate to "expect" ("Allow",
 *    "Deny" or "None"), decided by statement "statement" / Sid "sid" when
 *    given; or
 *  - "malformed": [{"name", "policy" | "text", "reason"}]: the policy (or
 *    the raw text) must fail with -CN_EMALFORMED_POLICY and a reason
 *    containing "reason".
 * Request fields: action, resource, user (null: anonymous), groups,
 * source_ip (null: unknown), secure, now (Unix seconds), keys (an object of
 * s3: condition keys). What data cannot say well (the size cap, reference
 * counting, the matcher's cost, mutated documents) is plain C below. Run
 * from the repository root.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../auth/policy.h"
#include "../../auth/policy_int.h"
#include "../../common/err.h"

#define VEC_DIR "tests/vectors/policy"
#define MAX_GROUPS 8
#define MAX_KEYS 8

/* ---- the vector runner ---- */

typedef struct treq {
    auth_policy_req r;
    const char *groups[MAX_GROUPS];
    auth_policy_kv kv[MAX_KEYS];
} treq;

/* A string field; NULL when absent or null. */
static const char *str_field(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Fills t from o; t points into o, which must outlive it. */
static void treq_from_json(treq *t, json_t *o, const char *where)
{
    json_t *groups = json_object_get(o, "groups"), *keys = json_object_get(o, "keys"), *v = NULL;
    const char *k = NULL;
    size_t i = 0;

    memset(t, 0, sizeof(*t));
    t->r.action = str_field(o, "action");
    t->r.resource = str_field(o, "resource");
    cr_assert(t->r.action != NULL && t->r.resource != NULL, "%s: request without action or resource", where);
    t->r.user = str_field(o, "user");
    t->r.source_ip = str_field(o, "source_ip");
    t->r.secure_transport = json_is_true(json_object_get(o, "secure"));
    t->r.now_s = (int64_t)json_integer_value(json_object_get(o, "now"));
    json_array_foreach(groups, i, v)
    {
        cr_assert_lt(i, MAX_GROUPS, "%s", where);
        t->groups[t->r.n_groups++] = json_string_value(v);
    }
    t->r.groups = t->groups;
    json_object_foreach(keys, k, v)
    {
        cr_assert_lt(t->r.n_keys, MAX_KEYS, "%s", where);
        t->kv[t->r.n_keys].key = k;
        t->kv[t->r.n_keys++].value = json_string_value(v);
    }
    t->r.keys = t->kv;
}

static const char *effect_name(auth_policy_effect e)
{
    return e == AUTH_POLICY_ALLOW ? "Allow" : e == AUTH_POLICY_DENY ? "Deny" : "None";
}

static void check_request(const auth_policy *p, json_t *file, json_t *suite, json_t *rq, const char *where)
{
    json_t *merged = json_object(), *v = NULL;
    const char *sid = str_field(rq, "sid");
    auth_policy_match m;
    auth_policy_effect e;
    treq t;

    cr_assert(merged != NULL);
    json_object_update(merged, json_object_get(file, "defaults"));
    json_object_update(merged, json_object_get(suite, "defaults"));
    json_object_update(merged, rq);
    treq_from_json(&t, merged, where);
    e = auth_policy_eval(p, &t.r, &m);
    cr_expect_str_eq(effect_name(e), str_field(rq, "expect"), "%s", where);
    if (e == AUTH_POLICY_NONE)
        cr_expect(m.statement == -1 && m.sid == NULL, "%s: NONE names no statement", where);
    if (sid != NULL)
        cr_expect(m.sid != NULL && strcmp(m.sid, sid) == 0, "%s: decided by %s, not Sid %s", where,
                  m.sid != NULL ? m.sid : "(no Sid)", sid);
    v = json_object_get(rq, "statement");
    if (v != NULL)
        cr_expect_eq(m.statement, (int)json_integer_value(v), "%s: decided by statement %d", where, m.statement);
    json_decref(merged);
}

/* Parses "policy" (dumped compact) or the raw "text" of a case. */
static int parse_case(json_t *c, const char *bucket, auth_policy **p, char *why, size_t whycap)
{
    const char *text = str_field(c, "text");
    char *dumped = NULL;
    int rc = 0;

    if (text == NULL) {
        dumped = json_dumps(json_object_get(c, "policy"), JSON_COMPACT);
        cr_assert(dumped != NULL, "case without policy or text");
        text = dumped;
    }
    rc = auth_policy_parse(p, bucket, text, strlen(text), why, whycap);
    free(dumped);
    return rc;
}

static void run_suite(json_t *file, json_t *suite, const char *fname)
{
    const char *bucket = str_field(file, "bucket"), *sname = str_field(suite, "name");
    auth_policy *p = NULL;
    json_t *rq = NULL;
    char why[512], where[256];
    size_t i = 0;
    int rc = parse_case(suite, bucket, &p, why, sizeof(why));

    cr_assert_eq(rc, 0, "%s: %s: does not parse: %s", fname, sname, why);
    json_array_foreach(json_object_get(suite, "requests"), i, rq)
    {
        snprintf(where, sizeof(where), "%s: %s: %s", fname, sname, str_field(rq, "name"));
        check_request(p, file, suite, rq, where);
    }
    auth_policy_unref(p);
}

static void run_malformed(json_t *file, json_t *c, const char *fname)
{
    const char *name = str_field(c, "name"), *reason = str_field(c, "reason");
    auth_policy *p = NULL;
    char why[512];
    int rc = parse_case(c, str_field(file, "bucket"), &p, why, sizeof(why));

    cr_expect_eq(rc, -CN_EMALFORMED_POLICY, "%s: %s: parsed (rc %d)", fname, name, rc);
    cr_expect(p == NULL, "%s: %s", fname, name);
    cr_expect(reason != NULL && strstr(why, reason) != NULL, "%s: %s: reason \"%s\" lacks \"%s\"", fname, name, why,
              reason);
    auth_policy_unref(p);
}

static void run_file(const char *fname)
{
    char path[256];
    json_error_t err;
    json_t *file = NULL, *v = NULL;
    size_t i = 0;

    snprintf(path, sizeof(path), "%s/%s", VEC_DIR, fname);
    file = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    cr_assert(file != NULL, "%s: %s (line %d; run from the repository root)", path, err.text, err.line);
    cr_assert(str_field(file, "bucket") != NULL, "%s: no bucket", path);
    json_array_foreach(json_object_get(file, "suites"), i, v) run_suite(file, v, fname);
    json_array_foreach(json_object_get(file, "malformed"), i, v) run_malformed(file, v, fname);
    cr_assert(json_object_get(file, "suites") != NULL || json_object_get(file, "malformed") != NULL, "%s: empty", path);
    json_decref(file);
}

Test(policy_vectors, basics)
{
    run_file("basics.json");
}

Test(policy_vectors, principals)
{
    run_file("principals.json");
}

Test(policy_vectors, not_elements)
{
    run_file("not-elements.json");
}

Test(policy_vectors, wildcards)
{
    run_file("wildcards.json");
}

Test(policy_vectors, cond_string)
{
    run_file("cond-string.json");
}

Test(policy_vectors, cond_numeric)
{
    run_file("cond-numeric.json");
}

Test(policy_vectors, cond_date)
{
    run_file("cond-date.json");
}

Test(policy_vectors, cond_ip)
{
    run_file("cond-ip.json");
}

Test(policy_vectors, cond_bool_null)
{
    run_file("cond-bool-null.json");
}

Test(policy_vectors, cond_ifexists)
{
    run_file("cond-ifexists.json");
}

Test(policy_vectors, cond_keys)
{
    run_file("cond-keys.json");
}

Test(policy_vectors, malformed)
{
    run_file("malformed.json");
}

/* ---- what data cannot say ---- */

#define PUBLIC_READ                                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"PublicRead\",\"Effect\":\"Allow\",\"Principal\":\"*\","     \
    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::photos/*\"}]}"

static auth_policy *must_parse(const char *text)
{
    auth_policy *p = NULL;
    char why[256] = "";

    cr_assert_eq(auth_policy_parse(&p, "photos", text, strlen(text), why, sizeof(why)), 0, "%s", why);
    return p;
}

static auth_policy_req get_req(const char *resource)
{
    auth_policy_req r;

    memset(&r, 0, sizeof(r));
    r.action = "s3:GetObject";
    r.resource = resource;
    return r;
}

Test(policy, size_cap)
{
    size_t n = AUTH_POLICY_MAX_BYTES + 1, pl = strlen(PUBLIC_READ);
    char *text = malloc(n + 1), why[256];
    auth_policy *p = NULL;

    cr_assert(text != NULL);
    /* exactly at the cap (padded with white space): accepted */
    memset(text, ' ', n);
    memcpy(text, PUBLIC_READ, pl);
    text[n] = '\0';
    cr_assert_eq(auth_policy_parse(&p, "photos", text, n - 1, why, sizeof(why)), 0, "%s", why);
    auth_policy_unref(p);
    /* one byte more: refused before parsing */
    p = NULL;
    cr_assert_eq(auth_policy_parse(&p, "photos", text, n, why, sizeof(why)), -CN_EMALFORMED_POLICY);
    cr_assert(p == NULL);
    cr_assert(strstr(why, "maximum allowed document size") != NULL, "%s", why);
    free(text);
}

Test(policy, no_policy_decides_nothing)
{
    auth_policy_req r = get_req("arn:aws:s3:::photos/a");
    auth_policy_match m = {7, "x"};

    cr_assert_eq(auth_policy_eval(NULL, &r, &m), AUTH_POLICY_NONE);
    cr_assert_eq(m.statement, -1);
    cr_assert_null(m.sid);
    cr_assert_eq(auth_policy_eval(NULL, &r, NULL), AUTH_POLICY_NONE);
}

Test(policy, references)
{
    auth_policy *p = must_parse(PUBLIC_READ);
    auth_policy_req r = get_req("arn:aws:s3:::photos/a");
    auth_policy_match m;

    cr_assert_eq(auth_policy_ref(p), p);
    auth_policy_unref(p);
    /* still alive: the parse's own reference remains (ASan would object) */
    cr_assert_eq(auth_policy_eval(p, &r, &m), AUTH_POLICY_ALLOW);
    cr_assert_str_eq(m.sid, "PublicRead");
    cr_assert_eq(m.statement, 0);
    auth_policy_unref(p);
    auth_policy_unref(NULL);
}

Test(policy, reason_buffer)
{
    const char *bad = "{\"Statement\":[{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
                      "\"Resource\":\"arn:aws:s3:::photos/*\"},{\"Sid\":\"Second\",\"Principal\":\"*\"}]}";
    auth_policy *p = NULL;
    char why[256], tiny[8];

    /* no buffer at all */
    cr_assert_eq(auth_policy_parse(&p, "photos", bad, strlen(bad), NULL, 0), -CN_EMALFORMED_POLICY);
    /* a reason names the statement by index and Sid */
    cr_assert_eq(auth_policy_parse(&p, "photos", bad, strlen(bad), why, sizeof(why)), -CN_EMALFORMED_POLICY);
    cr_assert_str_eq(why, "Statement[1] (Sid \"Second\"): Missing required field Effect");
    /* cut short, still terminated */
    memset(tiny, 'x', sizeof(tiny));
    cr_assert_eq(auth_policy_parse(&p, "photos", bad, strlen(bad), tiny, sizeof(tiny)), -CN_EMALFORMED_POLICY);
    cr_assert_eq(strlen(tiny), sizeof(tiny) - 1);
    /* the S3 error behind the code */
    cr_assert_str_eq(cn_err_info(-CN_EMALFORMED_POLICY)->code, "MalformedPolicy");
    cr_assert_eq(cn_err_info(-CN_EMALFORMED_POLICY)->status, 400);
}

Test(policy, long_values_are_clipped_in_reasons)
{
    char text[1024], why[512];
    auth_policy *p = NULL;

    snprintf(text, sizeof(text),
             "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
             "\"Resource\":\"arn:aws:s3:::other/%0300d\"}}",
             0);
    cr_assert_eq(auth_policy_parse(&p, "photos", text, strlen(text), why, sizeof(why)), -CN_EMALFORMED_POLICY);
    cr_assert(strstr(why, "Policy has invalid resource") != NULL, "%s", why);
    cr_assert_lt(strlen(why), 300, "%s", why);
}

Test(policy, action_names)
{
    cr_assert_str_eq(auth_policy_action_name("s3:getobject"), "s3:GetObject");
    cr_assert_str_eq(auth_policy_action_name("S3:LISTBUCKET"), "s3:ListBucket");
    cr_assert_str_eq(auth_policy_action_name("s3:ListAllMyBuckets"), "s3:ListAllMyBuckets");
    cr_assert_null(auth_policy_action_name("s3:GetObjects"));
    cr_assert_null(auth_policy_action_name("s3:*"));
    cr_assert_null(auth_policy_action_name("GetObject"));
    cr_assert_null(auth_policy_action_name(""));
}

Test(policy, glob)
{
    static const struct {
        const char *pat, *s;
        int icase, want;
    } cases[] = {
        {"", "", 0, 1},
        {"", "a", 0, 0},
        {"*", "", 0, 1},
        {"*", "anything/at/all", 0, 1},
        {"a*b*c", "axxbyyc", 0, 1},
        {"a*b*c", "axxbyy", 0, 0},
        {"a*c", "abcbc", 0, 1},
        {"*.jpg", "x.jpg.png", 0, 0},
        {"*.jpg", "x.png.jpg", 0, 1},
        {"?", "", 0, 0},
        {"?", "\xc3\xa9", 0, 1},  /* one two-byte character */
        {"??", "\xc3\xa9", 0, 0}, /* is not two characters */
        {"a?c",
         "a\xe2\x82\xac"
         "c",
         0, 1}, /* nor is a three-byte one */
        {"**a", "a", 0, 1},
        {"a*", "a", 0, 1},
        {"S3:Get*", "s3:getobject", 1, 1},
        {"S3:Get*", "s3:getobject", 0, 0},
        {"photos/A*", "photos/a", 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(auth__pol_glob(cases[i].pat, cases[i].s, cases[i].icase), cases[i].want, "\"%s\" ~ \"%s\"",
                     cases[i].pat, cases[i].s);
}

/* A pattern built to make a naive backtracking matcher exponential, against
 * a long key: must still finish at once (bounded by pattern x subject). */
Test(policy, glob_cost_is_bounded, .timeout = 5)
{
    char pat[64], *s = malloc(100001);
    int i;

    cr_assert(s != NULL);
    memset(s, 'a', 100000);
    s[100000] = '\0';
    strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*b");
    for (i = 0; i < 10; i++)
        cr_assert_eq(auth__pol_glob(pat, s, 0), 0);
    free(s);
}

/* Every byte of a valid policy, damaged in turn and at random: the parser
 * must answer 0 or -CN_EMALFORMED_POLICY with a reason, and whatever parsed
 * must evaluate (ASan/UBSan watch both). */
Test(policy, mutated_documents)
{
    static const char base[] =
        "{\"Version\":\"2012-10-17\",\"Id\":\"x\",\"Statement\":[{\"Sid\":\"A\",\"Effect\":\"Deny\",\"NotPrincipal\":"
        "{\"AWS\":[\"alice\",\"arn:aws:iam::cairn:group/ops\"]},\"NotAction\":[\"s3:Get*\",\"s3:List?ucket\"],"
        "\"Resource\":[\"arn:aws:s3:::photos\",\"arn:aws:s3:::photos/*\"],\"Condition\":{\"IpAddressIfExists\":"
        "{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},\"DateLessThan\":{\"aws:CurrentTime\":"
        "\"2030-01-01T00:00:00Z\"},\"NumericLessThanEquals\":{\"s3:max-keys\":\"1000\"},\"StringNotLike\":"
        "{\"s3:prefix\":\"a?b*\"},\"Bool\":{\"aws:SecureTransport\":false},\"Null\":{\"aws:username\":\"false\"}}}]}";
    static const char bytes[] = "{}[]\":,*?/ -0.aZ\\";
    const char *groups[] = {"ops"};
    auth_policy_kv kv[] = {{"s3:prefix", "axb"}, {"s3:max-keys", "10"}};
    auth_policy_req r = get_req("arn:aws:s3:::photos/a");
    char text[sizeof(base)], why[256];
    uint32_t x = 2463534242u;
    size_t i, round;

    r.user = "bob";
    r.groups = groups;
    r.n_groups = 1;
    r.source_ip = "10.1.2.3";
    r.now_s = 1717243200;
    r.keys = kv;
    r.n_keys = 2;
    for (round = 0; round < 4 * (sizeof(base) - 1); round++) {
        auth_policy *p = NULL;
        int rc;
        memcpy(text, base, sizeof(base));
        for (i = 0; i < 1 + round % 3; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            text[i == 0 ? round % (sizeof(base) - 1) : x % (sizeof(base) - 1)] = bytes[(x >> 8) % (sizeof(bytes) - 1)];
        }
        why[0] = '\0';
        rc = auth_policy_parse(&p, "photos", text, strlen(text), why, sizeof(why));
        cr_assert(rc == 0 || rc == -CN_EMALFORMED_POLICY, "rc %d for %s", rc, text);
        if (rc == 0) {
            auth_policy_eval(p, &r, NULL);
            auth_policy_unref(p);
        } else {
            cr_assert(why[0] != '\0', "no reason for %s", text);
        }
    }
}
