/*
 * policy: the AWS bucket-policy language - the document and its statements:
 * parse, validate, lifetime. Conditions are in policy_cond.c, evaluation in
 * policy_eval.c; the three share policy_int.h.
 *
 * Design notes
 *
 *  1. The document. An object of Version ("2012-10-17" or "2008-10-17",
 *     optional as in AWS), Id (a string) and Statement (one object or a
 *     non-empty array of them). A statement holds Sid, Effect ("Allow" or
 *     "Deny"), exactly one of Principal / NotPrincipal, of Action /
 *     NotAction, of Resource / NotResource, and optionally Condition. Any
 *     other element is refused by name; element names are case-sensitive.
 *     Sids, when given, are unique, so that the Sid an access-log line
 *     names is one statement. Duplicate JSON keys are refused (jansson's
 *     JSON_REJECT_DUPLICATES): a policy must not mean two things. The
 *     document is at most AUTH_POLICY_MAX_BYTES (S3's 20 KiB), which also
 *     bounds everything parsing builds from it.
 *
 *  2. Principals. "*" or {"AWS": v}, v being "*", a cairn user
 *     ("arn:aws:iam::cairn:user/NAME" or the bare NAME), a cairn group
 *     ("arn:aws:iam::cairn:group/NAME") or an array of these. "*" is
 *     everyone, anonymous included; a user matches by exact name; a group
 *     matches any user in it. Other principal types (Service, Federated,
 *     CanonicalUser), other ARNs (a foreign account, an assumed role) and
 *     wildcards inside a name are refused rather than never matching: a
 *     Deny that silently matches nobody is worse than an error. A string
 *     Principal other than "*" is refused, as AWS does.
 *
 *  3. Actions. "*", or "s3:" and a name; a name without wildcards must be in
 *     the table below (matched case-insensitively, as AWS does), a name with
 *     '*' or '?' must match at least one entry of it. The table is the S3
 *     actions that apply to a bucket or to its objects, plus
 *     ListAllMyBuckets, after AWS's Service Authorization Reference; extend
 *     it when a new action is needed (an action cairn adds of its own
 *     included).
 *
 *  4. Resources. "arn:aws:s3:::BUCKET" or "arn:aws:s3:::BUCKET/..." for the
 *     bucket named at parse time, wildcards allowed after the slash only:
 *     anything else is AWS's "Policy has invalid resource". Matching is
 *     case-sensitive, as keys are.
 *
 *  5. Conditions (policy_cond.c). Operators String{,Not}Equals,
 *     String{,Not}EqualsIgnoreCase, String{,Not}Like, Numeric{Equals,
 *     NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals},
 *     the same six for Date, Bool, IpAddress, NotIpAddress, each with an
 *     IfExists form, and Null. Set operators (ForAnyValue:, ForAllValues:)
 *     are refused: no supported key has several values. Keys: aws:CurrentTime,
 *     aws:EpochTime, aws:SourceIp, aws:SecureTransport, aws:username,
 *     aws:userid, aws:PrincipalType, s3:prefix, s3:delimiter, s3:max-keys,
 *     s3:VersionId, named case-insensitively. Any other key is refused: a
 *     key the gateway never supplies would be absent from every request,
 *     so a Deny conditioned on it would never fire. An operator must suit
 *     its key (Numeric: s3:max-keys, aws:EpochTime; Date: aws:CurrentTime,
 *     aws:EpochTime; Bool: aws:SecureTransport; IpAddress: aws:SourceIp;
 *     String and Null: any key), which is stricter than AWS, where such a
 *     condition is accepted and then never matches. Values are a string,
 *     number or boolean, or a non-empty array of them, and are checked
 *     when parsed (numbers, dates, CIDRs, booleans).
 *
 *  6. Absent keys and negation, as AWS documents them. Keys under one
 *     operator, and operators, are AND-ed; the values of one key are
 *     OR-ed. A negated operator (StringNotEquals, StringNotEqualsIgnoreCase,
 *     StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress) is
 *     exactly the negation of its positive form: true when the request's
 *     value matches none of the values (a NOR). A key absent from the
 *     request makes a positive operator false and a negated one true;
 *     ...IfExists makes either true; Null tests presence alone. A request
 *     value that cannot be read as the operator's type (an unparsable
 *     source address) counts as matching no value, so a Deny with
 *     NotIpAddress still fires on it. Which keys are present: aws:username
 *     only for an authenticated user; aws:userid is the user name, or
 *     "anonymous" (AWS's value for anonymous requests); aws:PrincipalType is
 *     "User" or "Anonymous"; aws:SourceIp unless the caller gives no
 *     address; aws:CurrentTime, aws:EpochTime, aws:SecureTransport always;
 *     the s3: keys when the caller lists them.
 *
 *  7. Policy variables ("${aws:username}") are not supported. Under Version
 *     2012-10-17, where AWS would substitute them, a Resource or string
 *     condition value containing "${" is refused; under 2008-10-17 (or no
 *     Version) it is literal text, as in AWS.
 *
 *  8. Evaluation (policy_eval.c): a statement applies when its principal,
 *     action, resource and every condition match (each Not... inverted).
 *     The first Deny that applies decides; otherwise the first Allow;
 *     otherwise nothing is decided and the caller's other rules speak.
 *     '*' matches any run of characters and '?' exactly one UTF-8
 *     character, in actions (ASCII case folded), resources and StringLike.
 *     Case folding is ASCII only, in StringEqualsIgnoreCase too.
 *
 *  9. Memory: everything a policy holds is carved from one arena and freed
 *     with it; the parsed policy is never written again, so evaluating it
 *     needs no lock. auth_policy_eval() allocates nothing.
 *
 * Not done: policy variables (7); principals outside cairn (2); the
 * s3:ExistingObjectTag/, s3:x-amz-*, aws:Referer and other keys (5);
 * checking that an action applies to the resources it is paired with (AWS's
 * "Action does not apply to any resource(s) in statement").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/err.h"
#include "../common/util.h"
#include "policy_int.h"

#define ARN_S3 "arn:aws:s3:::"
#define ARN_USER "arn:aws:iam::cairn:user/"
#define ARN_GROUP "arn:aws:iam::cairn:group/"
#define ARENA_CHUNK 4096

/* note 3 */
static const char *const s3_actions[] = {
    "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention",
    "s3:CreateBucket",
    "s3:CreateBucketMetadataTableConfiguration",
    "s3:DeleteBucket",
    "s3:DeleteBucketMetadataTableConfiguration",
    "s3:DeleteBucketOwnershipControls",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucketWebsite",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:GetAccelerateConfiguration",
    "s3:GetAnalyticsConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketMetadataTableConfiguration",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetIntelligentTieringConfiguration",
    "s3:GetInventoryConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetMetricsConfiguration",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectAttributes",
    "s3:GetObjectLegalHold",
    "s3:GetObjectLineage", /* cairn: GET ?lineage (docs/LINEAGE.md) */
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectTorrent",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectVersionTorrent",
    "s3:GetReplicationConfiguration",
    "s3:InitiateReplication",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PutAccelerateConfiguration",
    "s3:PutAnalyticsConfiguration",
    "s3:PutBucketAcl",
    "s3:PutBucketCORS",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketRequestPayment",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketWebsite",
    "s3:PutEncryptionConfiguration",
    "s3:PutIntelligentTieringConfiguration",
    "s3:PutInventoryConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutMetricsConfiguration",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:PutReplicationConfiguration",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
    "s3:RestoreObject",
};

const char *auth_policy_action_name(const char *name)
{
    size_t i;

    for (i = 0; i < CN_ARRAY_SIZE(s3_actions); i++)
        if (strcasecmp(s3_actions[i], name) == 0)
            return s3_actions[i];
    return NULL;
}

/* ---- the arena (note 9) ---- */

struct pol_chunk {
    pol_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

void *auth__pol_alloc(auth_policy *p, size_t n)
{
    const size_t align = sizeof(max_align_t);
    pol_chunk *c = p->arena;
    void *mem = NULL;

    if (n > AUTH_POLICY_MAX_BYTES * (size_t)64)
        return NULL; /* far beyond what 20 KiB of JSON can ask for */
    n = n == 0 ? align : (n + align - 1) / align * align;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = calloc(1, sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
        /* A large block goes behind the current chunk, whose free space
         * the next small allocations still use. */
        if (p->arena != NULL && n > ARENA_CHUNK) {
            c->next = p->arena->next;
            p->arena->next = c;
        } else {
            c->next = p->arena;
            p->arena = c;
        }
    }
    mem = (char *)c->data + c->used;
    c->used += n;
    return mem;
}

char *auth__pol_strdup(auth_policy *p, const char *s, size_t n)
{
    char *d = auth__pol_alloc(p, n + 1);

    if (d != NULL)
        memcpy(d, s, n); /* the arena is zeroed: d[n] is already NUL */
    return d;
}

auth_policy *auth_policy_ref(auth_policy *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void auth_policy_unref(auth_policy *p)
{
    pol_chunk *c = NULL;

    if (p == NULL || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    while (p->arena != NULL) {
        c = p->arena;
        p->arena = c->next;
        free(c);
    }
    free(p);
}

/* ---- reasons ---- */

int auth__pol_clip(const char *s)
{
    size_t n = strlen(s);

    if (n <= 80)
        return (int)n;
    n = 80;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

int auth__pol_fail(pol_parser *ps, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (ps->why == NULL || ps->whycap == 0)
        return -CN_EMALFORMED_POLICY;
    if (ps->stmt >= 0 && ps->sid != NULL)
        n = snprintf(ps->why, ps->whycap, "Statement[%d] (Sid \"%.*s\"): ", ps->stmt, auth__pol_clip(ps->sid), ps->sid);
    else if (ps->stmt >= 0)
        n = snprintf(ps->why, ps->whycap, "Statement[%d]: ", ps->stmt);
    if (n < 0 || (size_t)n >= ps->whycap)
        return -CN_EMALFORMED_POLICY;
    va_start(ap, fmt);
    vsnprintf(ps->why + n, ps->whycap - (size_t)n, fmt, ap);
    va_end(ap);
    return -CN_EMALFORMED_POLICY;
}

/* ---- statement elements ---- */

/* A string or a non-empty array of strings, copied into the arena. */
static int str_list(pol_parser *ps, json_t *v, const char *field, const char ***out, size_t *n)
{
    size_t i = 0, count = json_is_array(v) ? json_array_size(v) : 1;
    const char **arr = NULL;

    if (!json_is_string(v) && !json_is_array(v))
        return auth__pol_fail(ps, "%s must be a string or an array of strings", field);
    if (count == 0)
        return auth__pol_fail(ps, "%s must not be an empty array", field);
    arr = auth__pol_alloc(ps->p, count * sizeof(*arr));
    if (arr == NULL)
        return -CN_ENOMEM;
    for (i = 0; i < count; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(e))
            return auth__pol_fail(ps, "%s must be a string or an array of strings", field);
        arr[i] = auth__pol_strdup(ps->p, json_string_value(e), json_string_length(e));
        if (arr[i] == NULL)
            return -CN_ENOMEM;
    }
    *out = arr;
    *n = count;
    return 0;
}

/* Exactly one of name and Not<name>; *v is the one present. */
static int pick(pol_parser *ps, json_t *st, const char *name, json_t **v, int *negated)
{
    char not_name[32];
    json_t *pos = json_object_get(st, name), *neg = NULL;

    snprintf(not_name, sizeof(not_name), "Not%s", name);
    neg = json_object_get(st, not_name);
    if (pos != NULL && neg != NULL)
        return auth__pol_fail(ps, "%s and %s cannot both be present", name, not_name);
    if (pos == NULL && neg == NULL)
        return auth__pol_fail(ps, "Missing required field %s", name);
    *v = pos != NULL ? pos : neg;
    *negated = neg != NULL;
    return 0;
}

static int principal_add(pol_parser *ps, pol_principal *pp, const char *s)
{
    const char *name = s;
    int group = 0;

    if (strcmp(s, "*") == 0) {
        pp->any = 1;
        return 0;
    }
    if (strncmp(s, ARN_USER, strlen(ARN_USER)) == 0) {
        name = s + strlen(ARN_USER);
    } else if (strncmp(s, ARN_GROUP, strlen(ARN_GROUP)) == 0) {
        name = s + strlen(ARN_GROUP);
        group = 1;
    } else if (strncmp(s, "arn:", 4) == 0) {
        return auth__pol_fail(ps,
                              "Invalid principal in policy: \"%.*s\" (use \"*\", arn:aws:iam::cairn:user/NAME, "
                              "arn:aws:iam::cairn:group/NAME or a user name)",
                              auth__pol_clip(s), s);
    }
    if (*name == '\0')
        return auth__pol_fail(ps, "Invalid principal in policy: \"%.*s\" (no name)", auth__pol_clip(s), s);
    if (strpbrk(name, "*?") != NULL)
        return auth__pol_fail(ps, "Invalid principal in policy: \"%.*s\" (no wildcards in a principal but \"*\")",
                              auth__pol_clip(s), s);
    if (group)
        pp->groups[pp->n_groups++] = name;
    else
        pp->users[pp->n_users++] = name;
    return 0;
}

/* note 2 */
static int parse_principal(pol_parser *ps, json_t *v, pol_principal *pp)
{
    const char *k = NULL, **names = NULL;
    json_t *e = NULL, *aws = NULL;
    size_t i = 0, n = 0;
    int rc = 0;

    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") == 0) {
            pp->any = 1;
            return 0;
        }
        return auth__pol_fail(ps,
                              "Invalid principal in policy: \"%.*s\" (a string Principal must be \"*\"; "
                              "name users as {\"AWS\": [...]})",
                              auth__pol_clip(json_string_value(v)), json_string_value(v));
    }
    if (!json_is_object(v))
        return auth__pol_fail(ps, "Principal must be \"*\" or an object");
    json_object_foreach(v, k, e)
    {
        if (strcmp(k, "AWS") != 0)
            return auth__pol_fail(ps, "Unsupported principal type \"%.*s\" (only \"AWS\")", auth__pol_clip(k), k);
    }
    aws = json_object_get(v, "AWS");
    if (aws == NULL)
        return auth__pol_fail(ps, "Principal must name at least one principal under \"AWS\"");
    rc = str_list(ps, aws, "Principal \"AWS\"", &names, &n);
    if (rc < 0)
        return rc;
    pp->users = auth__pol_alloc(ps->p, n * sizeof(*pp->users));
    pp->groups = auth__pol_alloc(ps->p, n * sizeof(*pp->groups));
    if (pp->users == NULL || pp->groups == NULL)
        return -CN_ENOMEM;
    for (i = 0; i < n && rc == 0; i++)
        rc = principal_add(ps, pp, names[i]);
    return rc;
}

/* note 3 */
static int check_action(pol_parser *ps, const char *a)
{
    size_t i;

    if (strcmp(a, "*") == 0)
        return 0;
    if (strncasecmp(a, "s3:", 3) != 0)
        return auth__pol_fail(ps, "Policy has invalid action: \"%.*s\" (only s3: actions apply to a bucket)",
                              auth__pol_clip(a), a);
    if (strpbrk(a, "*?") == NULL) {
        if (auth_policy_action_name(a) == NULL)
            return auth__pol_fail(ps, "Policy has invalid action: \"%.*s\"", auth__pol_clip(a), a);
        return 0;
    }
    for (i = 0; i < CN_ARRAY_SIZE(s3_actions); i++)
        if (auth__pol_glob(a, s3_actions[i], 1))
            return 0;
    return auth__pol_fail(ps, "Policy has invalid action: \"%.*s\" matches no S3 action", auth__pol_clip(a), a);
}

/* note 4 */
static int check_resource(pol_parser *ps, const char *r)
{
    size_t pl = strlen(ARN_S3), bl = strlen(ps->bucket);

    if (strncmp(r, ARN_S3, pl) != 0 || strncmp(r + pl, ps->bucket, bl) != 0 ||
        (r[pl + bl] != '\0' && r[pl + bl] != '/'))
        return auth__pol_fail(ps,
                              "Policy has invalid resource: \"%.*s\" (a policy of bucket %s may name only "
                              "arn:aws:s3:::%s and arn:aws:s3:::%s/...)",
                              auth__pol_clip(r), r, ps->bucket, ps->bucket, ps->bucket);
    if (ps->variables && strstr(r, "${") != NULL)
        return auth__pol_fail(ps, "Resource \"%.*s\": " POL_VARIABLES_REFUSED, auth__pol_clip(r), r);
    return 0;
}

static int parse_actions(pol_parser *ps, json_t *js, pol_stmt *st)
{
    json_t *v = NULL;
    size_t i = 0;
    int rc = pick(ps, js, "Action", &v, &st->not_action);

    if (rc == 0)
        rc = str_list(ps, v, st->not_action ? "NotAction" : "Action", &st->actions, &st->n_actions);
    for (i = 0; rc == 0 && i < st->n_actions; i++)
        rc = check_action(ps, st->actions[i]);
    return rc;
}

static int parse_resources(pol_parser *ps, json_t *js, pol_stmt *st)
{
    json_t *v = NULL;
    size_t i = 0;
    int rc = pick(ps, js, "Resource", &v, &st->not_resource);

    if (rc == 0)
        rc = str_list(ps, v, st->not_resource ? "NotResource" : "Resource", &st->resources, &st->n_resources);
    for (i = 0; rc == 0 && i < st->n_resources; i++)
        rc = check_resource(ps, st->resources[i]);
    return rc;
}

/* The Sid, unique among the statements parsed before this one. */
static int parse_sid(pol_parser *ps, json_t *js, pol_stmt *st)
{
    json_t *v = json_object_get(js, "Sid");
    int i;

    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return auth__pol_fail(ps, "Sid must be a string");
    st->sid = auth__pol_strdup(ps->p, json_string_value(v), json_string_length(v));
    if (st->sid == NULL)
        return -CN_ENOMEM;
    ps->sid = st->sid;
    for (i = 0; i < ps->stmt; i++)
        if (ps->p->stmts[i].sid != NULL && strcmp(ps->p->stmts[i].sid, st->sid) == 0)
            return auth__pol_fail(ps, "Statement IDs (SID) in a single policy must be unique");
    return 0;
}

static int parse_effect(pol_parser *ps, json_t *js, pol_stmt *st)
{
    json_t *v = json_object_get(js, "Effect");
    const char *e = json_string_value(v);

    if (v == NULL)
        return auth__pol_fail(ps, "Missing required field Effect");
    if (e == NULL)
        return auth__pol_fail(ps, "Invalid effect: must be the string \"Allow\" or \"Deny\"");
    if (strcmp(e, "Allow") != 0 && strcmp(e, "Deny") != 0)
        return auth__pol_fail(ps, "Invalid effect: \"%.*s\" (must be \"Allow\" or \"Deny\")", auth__pol_clip(e), e);
    st->deny = strcmp(e, "Deny") == 0;
    return 0;
}

static int parse_statement(pol_parser *ps, json_t *js, pol_stmt *st)
{
    static const char *const fields[] = {"Sid",       "Effect",   "Principal",   "NotPrincipal", "Action",
                                         "NotAction", "Resource", "NotResource", "Condition"};
    const char *k = NULL;
    json_t *v = NULL;
    size_t i = 0;
    int rc = 0;

    if (!json_is_object(js))
        return auth__pol_fail(ps, "a statement must be an object");
    rc = parse_sid(ps, js, st);
    if (rc < 0)
        return rc;
    json_object_foreach(js, k, v)
    {
        for (i = 0; i < CN_ARRAY_SIZE(fields) && strcmp(k, fields[i]) != 0; i++)
            ;
        if (i == CN_ARRAY_SIZE(fields))
            return auth__pol_fail(ps, "Unknown field %.*s", auth__pol_clip(k), k);
    }
    rc = parse_effect(ps, js, st);
    if (rc == 0)
        rc = pick(ps, js, "Principal", &v, &st->not_principal);
    if (rc == 0)
        rc = parse_principal(ps, v, &st->principal);
    if (rc == 0)
        rc = parse_actions(ps, js, st);
    if (rc == 0)
        rc = parse_resources(ps, js, st);
    v = json_object_get(js, "Condition");
    if (rc == 0 && v != NULL)
        rc = auth__pol_conditions(ps, st, v);
    return rc;
}

/* ---- the document (note 1) ---- */

static int parse_version(pol_parser *ps, json_t *doc)
{
    json_t *v = json_object_get(doc, "Version");
    const char *s = json_string_value(v);

    if (v == NULL)
        return 0;
    if (s == NULL)
        return auth__pol_fail(ps, "Invalid policy Version: must be the string \"2012-10-17\" or \"2008-10-17\"");
    if (strcmp(s, "2012-10-17") != 0 && strcmp(s, "2008-10-17") != 0)
        return auth__pol_fail(ps, "Invalid policy Version: \"%.*s\" (must be \"2012-10-17\" or \"2008-10-17\")",
                              auth__pol_clip(s), s);
    ps->variables = strcmp(s, "2012-10-17") == 0;
    return 0;
}

static int parse_document(pol_parser *ps, json_t *doc)
{
    const char *k = NULL;
    json_t *v = NULL, *stmts = NULL;
    size_t i = 0, n = 0;
    int rc = 0;

    if (!json_is_object(doc))
        return auth__pol_fail(ps, "Policies must be a JSON object");
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Id") != 0 && strcmp(k, "Statement") != 0)
            return auth__pol_fail(ps, "Unknown field %.*s", auth__pol_clip(k), k);
    }
    rc = parse_version(ps, doc);
    if (rc < 0)
        return rc;
    v = json_object_get(doc, "Id");
    if (v != NULL && !json_is_string(v))
        return auth__pol_fail(ps, "Id must be a string");
    stmts = json_object_get(doc, "Statement");
    if (stmts == NULL)
        return auth__pol_fail(ps, "Missing required field Statement");
    if (!json_is_object(stmts) && !json_is_array(stmts))
        return auth__pol_fail(ps, "Statement must be an object or an array of objects");
    n = json_is_array(stmts) ? json_array_size(stmts) : 1;
    if (n == 0)
        return auth__pol_fail(ps, "Statement must not be an empty array");
    ps->p->stmts = auth__pol_alloc(ps->p, n * sizeof(*ps->p->stmts));
    if (ps->p->stmts == NULL)
        return -CN_ENOMEM;
    for (i = 0; i < n && rc == 0; i++) {
        ps->stmt = (int)i;
        ps->sid = NULL;
        rc = parse_statement(ps, json_is_array(stmts) ? json_array_get(stmts, i) : stmts, &ps->p->stmts[i]);
    }
    ps->p->n_stmts = n;
    return rc;
}

int auth_policy_parse(auth_policy **out, const char *bucket, const char *json, size_t len, char *why, size_t whycap)
{
    pol_parser ps = {.bucket = bucket, .stmt = -1, .why = why, .whycap = whycap};
    auth_policy *p = NULL;
    json_t *doc = NULL;
    json_error_t jerr;
    int rc = 0;

    *out = NULL;
    if (why != NULL && whycap > 0)
        why[0] = '\0';
    if (len > AUTH_POLICY_MAX_BYTES)
        return auth__pol_fail(&ps, "Policy exceeds the maximum allowed document size (%d bytes)",
                              AUTH_POLICY_MAX_BYTES);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -CN_ENOMEM;
    atomic_init(&p->refs, 1);
    ps.p = p;
    doc = json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL && json_error_code(&jerr) == json_error_out_of_memory)
        rc = -CN_ENOMEM;
    else if (doc == NULL)
        rc = auth__pol_fail(&ps, "Policies must be valid JSON: %.*s (line %d, column %d)", auth__pol_clip(jerr.text),
                            jerr.text, jerr.line, jerr.column);
    else
        rc = parse_document(&ps, doc);
    json_decref(doc);
    if (rc < 0) {
        auth_policy_unref(p);
        return rc;
    }
    *out = p;
    return 0;
}
