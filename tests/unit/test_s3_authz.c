/*
 * test_s3_authz: the authorization chain (s3api/authz.c) with its policy
 * step (authz_policy.c, policy_cache.c) and canned-ACL step (authz_acl.c,
 * acl.c), and Put/Get/DeleteBucketPolicy (bucket_policy.c), through
 * s3_handle() against a real store. Unlike the e2e suite, these can sign as
 * a second user ("bob"), come from any address and over TLS, and read the
 * deny reason the access log gets.
 */
#include "test_s3_helpers.h"

static s3t t;
static char reason[128]; /* deny_reason of the last request */

static void setup(void)
{
    s3t_open(&t);
    cr_assert_eq(s3_policy_cache_create(&t.ctx.policies), 0);
}

static void teardown(void)
{
    s3_policy_cache_destroy(t.ctx.policies);
    s3t_close(&t);
}

TestSuite(s3_authz, .init = setup, .fini = teardown);

/* One request as who ("" anonymous, NULL alice); its status, its body into
 * out (may be NULL, cap 4096) and its deny reason into reason. */
static int req_as(const char *who, const char *method, const char *path, const char *query, const char *body,
                  const char *const *hdrs, char *out)
{
    cn_response res;
    int status;

    t.principal = who;
    s3t_do(&t, method, path, query, hdrs, body, body != NULL ? strlen(body) : 0, AUTH_PAYLOAD_UNSIGNED, 0, &res);
    status = res.status;
    snprintf(reason, sizeof(reason), "%s", res.deny_reason);
    if (out != NULL)
        snprintf(out, 4096, "%s", s3t_body(&res));
    cn_res_dispose(&res); /* closes a GET's stream too */
    t.principal = NULL;
    return status;
}

static int as(const char *who, const char *method, const char *path)
{
    const char *q = strchr(path, '?');
    char p[256];

    if (q == NULL)
        return req_as(who, method, path, "", NULL, NULL, NULL);
    snprintf(p, sizeof(p), "%.*s", (int)(q - path), path);
    return req_as(who, method, p, q + 1, NULL, NULL, NULL);
}

static void put_policy(const char *json)
{
    int st = req_as(NULL, "PUT", "/bkt", "policy", json, NULL, NULL);

    cr_assert_eq(st, 204, "PutBucketPolicy %s", json);
}

static void put_obj(const char *path, const char *acl)
{
    const char *const hdrs[] = {"x-amz-acl", acl, NULL};

    cr_assert_eq(req_as(NULL, "PUT", path, "", "data", acl != NULL ? hdrs : NULL, NULL), 200, "%s", path);
}

#define ARN "arn:aws:s3:::bkt"
#define POLICY(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define ALLOW_ANON_GET_PUB                                                                                             \
    "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"" ARN "/pub/*\"}"

/* ---- Put/Get/DeleteBucketPolicy ---- */

Test(s3_authz, policy_round_trip)
{
    static const char doc[] = POLICY(ALLOW_ANON_GET_PUB);
    char body[4096];

    cr_expect_eq(req_as(NULL, "GET", "/bkt", "policy", NULL, NULL, body), 404);
    cr_expect(strstr(body, "<Code>NoSuchBucketPolicy</Code>") != NULL, "%s", body);
    cr_expect(strstr(body, "<BucketName>bkt</BucketName>") != NULL, "%s", body);
    put_policy(doc);
    cr_expect_eq(req_as(NULL, "GET", "/bkt", "policy", NULL, NULL, body), 200);
    cr_expect_str_eq(body, doc);
    cr_expect_eq(req_as(NULL, "DELETE", "/bkt", "policy", NULL, NULL, NULL), 204);
    cr_expect_eq(req_as(NULL, "GET", "/bkt", "policy", NULL, NULL, NULL), 404);
}

Test(s3_authz, malformed_policy_changes_nothing)
{
    static const char good[] = POLICY(ALLOW_ANON_GET_PUB);
    char body[4096];

    put_policy(good);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt", "policy",
                        POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObjetc\","
                               "\"Resource\":\"" ARN "/*\"}"),
                        NULL, body),
                 400);
    cr_expect(strstr(body, "<Code>MalformedPolicy</Code>") != NULL, "%s", body);
    cr_expect(strstr(body, "s3:GetObjetc") != NULL, "the parser's reason is the message: %s", body);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt", "policy", "", NULL, NULL), 400, "an empty body");
    cr_expect_eq(req_as(NULL, "GET", "/bkt", "policy", NULL, NULL, body), 200);
    cr_expect_str_eq(body, good);
}

Test(s3_authz, policy_too_large_is_refused_before_reading)
{
    char *big = malloc(AUTH_POLICY_MAX_BYTES + 2);
    char body[4096];

    memset(big, ' ', AUTH_POLICY_MAX_BYTES + 1);
    big[AUTH_POLICY_MAX_BYTES + 1] = '\0';
    cr_expect_eq(req_as(NULL, "PUT", "/bkt", "policy", big, NULL, body), 400);
    cr_expect(strstr(body, "<Code>MalformedPolicy</Code>") != NULL, "%s", body);
    cr_expect(strstr(body, "maximum allowed document size") != NULL, "%s", body);
    free(big);
}

Test(s3_authz, only_the_owner_manages_the_policy)
{
    cr_expect_eq(req_as("bob", "PUT", "/bkt", "policy", POLICY(ALLOW_ANON_GET_PUB), NULL, NULL), 403);
    cr_expect_str_eq(reason, "implicit: no grant");
    cr_expect_eq(as("", "GET", "/bkt?policy"), 403);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"bob\"},\"Action\":\"s3:*BucketPolicy\","
                      "\"Resource\":\"" ARN "\"}"));
    cr_expect_eq(as("bob", "GET", "/bkt?policy"), 200, "granted by the policy itself");
    cr_expect_eq(as("carol", "GET", "/bkt?policy"), 403);
    cr_expect_eq(as("bob", "DELETE", "/bkt?policy"), 204);
}

/* ---- the policy step ---- */

Test(s3_authz, deny_reasons_name_the_statement)
{
    put_obj("/bkt/secret/x", NULL);
    put_policy(POLICY("{\"Sid\":\"NoSecrets\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                      "\"Resource\":\"" ARN "/secret/*\"}"));
    cr_expect_eq(as(NULL, "GET", "/bkt/secret/x"), 403, "a Deny beats ownership");
    cr_expect_str_eq(reason, "policy: statement NoSecrets denies");
    put_policy(POLICY(ALLOW_ANON_GET_PUB ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                                         "\"Resource\":\"" ARN "/secret/*\"}"));
    cr_expect_eq(as(NULL, "GET", "/bkt/secret/x"), 403);
    cr_expect_str_eq(reason, "policy: statement 1 denies");
    cr_expect_eq(as("", "GET", "/bkt/other"), 403);
    cr_expect_str_eq(reason, "implicit: no grant");
    cr_expect_eq(as("", "GET", "/"), 403);
    cr_expect_str_eq(reason, "anonymous: service operations need credentials");
}

Test(s3_authz, second_user_by_name_and_arn)
{
    put_obj("/bkt/k", NULL);
    cr_expect_eq(as("bob", "GET", "/bkt/k"), 403);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"bob\",\"arn:aws:iam::cairn:user/dave\"]},"
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"" ARN "/*\"}"));
    cr_expect_eq(as("bob", "GET", "/bkt/k"), 200);
    cr_expect_eq(as("dave", "GET", "/bkt/k"), 200);
    cr_expect_eq(as("carol", "GET", "/bkt/k"), 403);
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    cr_expect_eq(req_as("bob", "PUT", "/bkt/k", "", "x", NULL, NULL), 403, "GetObject only");
}

Test(s3_authz, groups_are_empty_until_there_is_a_groups_table)
{
    put_obj("/bkt/k", NULL);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::cairn:group/readers\"},"
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"" ARN "/*\"}"));
    cr_expect_eq(as("bob", "GET", "/bkt/k"), 403);
}

Test(s3_authz, a_new_policy_replaces_the_cached_one)
{
    put_obj("/bkt/pub/a", NULL);
    put_obj("/bkt/priv/b", NULL);
    put_policy(POLICY(ALLOW_ANON_GET_PUB));
    cr_expect_eq(as("", "GET", "/bkt/pub/a"), 200);
    cr_expect_eq(as("", "GET", "/bkt/pub/a"), 200, "from the cache");
    cr_expect_eq(as("", "GET", "/bkt/priv/b"), 403);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                      "\"Resource\":\"" ARN "/priv/*\"}"));
    cr_expect_eq(as("", "GET", "/bkt/pub/a"), 403);
    cr_expect_eq(as("", "GET", "/bkt/priv/b"), 200);
    cr_expect_eq(as(NULL, "DELETE", "/bkt?policy"), 204);
    cr_expect_eq(as("", "GET", "/bkt/priv/b"), 403);
}

Test(s3_authz, a_recreated_bucket_never_sees_an_old_policy)
{
    cr_expect_eq(as(NULL, "PUT", "/fresh"), 200);
    put_obj("/fresh/pub/a", NULL);
    cr_expect_eq(req_as(NULL, "PUT", "/fresh", "policy",
                        POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                               "\"Resource\":\"arn:aws:s3:::fresh/*\"}"),
                        NULL, NULL),
                 204);
    cr_expect_eq(as("", "GET", "/fresh/pub/a"), 200);
    cr_expect_eq(as(NULL, "DELETE", "/fresh/pub/a"), 204);
    cr_expect_eq(as(NULL, "DELETE", "/fresh"), 204);
    cr_expect_eq(as(NULL, "PUT", "/fresh"), 200);
    put_obj("/fresh/pub/a", NULL);
    cr_expect_eq(as("", "GET", "/fresh/pub/a"), 403, "the old policy went with the old bucket");
}

Test(s3_authz, without_a_cache_every_request_parses)
{
    s3_policy_cache *c = t.ctx.policies;

    t.ctx.policies = NULL;
    put_obj("/bkt/pub/a", NULL);
    put_policy(POLICY(ALLOW_ANON_GET_PUB));
    cr_expect_eq(as("", "GET", "/bkt/pub/a"), 200);
    cr_expect_eq(as("", "GET", "/bkt/x"), 403);
    t.ctx.policies = c;
}

Test(s3_authz, a_stored_policy_that_no_longer_parses_fails_closed)
{
    char body[4096];

    put_obj("/bkt/k", NULL);
    cr_assert_eq(obj_bucket_policy_set(t.store, "bkt", "{\"Statement\": 42}", 17), 0);
    cr_expect_eq(as(NULL, "GET", "/bkt/k"), 403);
    cr_expect(strncmp(reason, "policy: stored policy does not parse", 36) == 0, "%s", reason);
    cr_expect_eq(req_as(NULL, "GET", "/bkt", "policy", NULL, NULL, body), 200, "the owner can still read it");
    cr_expect_str_eq(body, "{\"Statement\": 42}");
    cr_expect_eq(as(NULL, "DELETE", "/bkt?policy"), 204);
    cr_expect_eq(as(NULL, "GET", "/bkt/k"), 200);
}

Test(s3_authz, the_owner_is_never_locked_out_of_the_policy)
{
    put_policy(POLICY("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"" ARN "\",\"" ARN
                      "/*\"]}"));
    cr_expect_eq(as(NULL, "GET", "/bkt"), 403);
    cr_expect_eq(as(NULL, "GET", "/bkt?policy"), 200);
    put_policy(POLICY(ALLOW_ANON_GET_PUB));
    cr_expect_eq(as(NULL, "GET", "/bkt"), 200);
}

#define ALLOW_ANON_GET_IF(cond)                                                                                        \
    POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"" ARN                 \
           "/*\",\"Condition\":" cond "}")

Test(s3_authz, source_ip_and_transport)
{
    put_obj("/bkt/k", NULL);
    put_policy(ALLOW_ANON_GET_IF("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"));
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    t.source_ip = "10.1.2.3";
    cr_expect_eq(as("", "GET", "/bkt/k"), 200);
    t.source_ip = "::ffff:10.1.2.3";
    cr_expect_eq(as("", "GET", "/bkt/k"), 200, "an IPv4-mapped address is its IPv4 address");
    /* No address known: a Deny on NotIpAddress still fires (fails closed). */
    t.source_ip = "unknown";
    put_policy(POLICY("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"" ARN
                      "/*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"127.0.0.0/8\"}}}"));
    cr_expect_eq(as(NULL, "GET", "/bkt/k"), 403);
    t.source_ip = NULL;
    cr_expect_eq(as(NULL, "GET", "/bkt/k"), 200);
    put_policy(ALLOW_ANON_GET_IF("{\"Bool\":{\"aws:SecureTransport\":\"true\"}}"));
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    t.is_tls = 1;
    cr_expect_eq(as("", "GET", "/bkt/k"), 200);
    t.is_tls = 0;
}

Test(s3_authz, username_and_userid)
{
    put_obj("/bkt/k", NULL);
    put_policy(ALLOW_ANON_GET_IF("{\"StringEquals\":{\"aws:username\":\"bob\"}}"));
    cr_expect_eq(as("bob", "GET", "/bkt/k"), 200);
    cr_expect_eq(as("carol", "GET", "/bkt/k"), 403);
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    put_policy(ALLOW_ANON_GET_IF("{\"StringEquals\":{\"aws:userid\":\"anonymous\"}}"));
    cr_expect_eq(as("", "GET", "/bkt/k"), 200);
    cr_expect_eq(as("bob", "GET", "/bkt/k"), 403);
}

#define ALLOW_ANON_LIST_IF(action, cond)                                                                               \
    POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"" action "\",\"Resource\":\"" ARN                   \
           "\",\"Condition\":" cond "}")

Test(s3_authz, listing_keys_come_from_the_query)
{
    put_policy(ALLOW_ANON_LIST_IF("s3:ListBucket", "{\"StringLike\":{\"s3:prefix\":\"home/bob/*\"},"
                                                   "\"StringEquals\":{\"s3:delimiter\":\"/\"},"
                                                   "\"NumericLessThanEquals\":{\"s3:max-keys\":\"100\"}}"));
    cr_expect_eq(as("", "GET", "/bkt?prefix=home/bob/&delimiter=/&max-keys=10"), 200);
    cr_expect_eq(as("", "GET", "/bkt?list-type=2&prefix=home%2Fbob%2Fdocs&delimiter=%2F&max-keys=100"), 200);
    cr_expect_eq(as("", "GET", "/bkt?prefix=home/alice/&delimiter=/&max-keys=10"), 403);
    cr_expect_eq(as("", "GET", "/bkt?prefix=home/bob/&delimiter=-&max-keys=10"), 403);
    cr_expect_eq(as("", "GET", "/bkt?prefix=home/bob/&delimiter=/&max-keys=101"), 403);
    cr_expect_eq(as("", "GET", "/bkt?prefix=home/bob/&delimiter=/"), 403, "absent max-keys");
    cr_expect_eq(as("", "GET", "/bkt?versions&prefix=home/bob/&delimiter=/&max-keys=10"), 403,
                 "ListBucketVersions is another action");
    put_policy(ALLOW_ANON_LIST_IF("s3:ListBucketVersions", "{\"StringLike\":{\"s3:prefix\":\"home/bob/*\"}}"));
    cr_expect_eq(as("", "GET", "/bkt?versions&prefix=home/bob/"), 200);
    cr_expect_eq(as("", "GET", "/bkt?versions"), 403);
}

Test(s3_authz, object_requests_take_no_listing_keys)
{
    put_obj("/bkt/k", NULL);
    put_policy(ALLOW_ANON_GET_IF("{\"StringEquals\":{\"s3:prefix\":\"x\"}}"));
    cr_expect_eq(as("", "GET", "/bkt/k?prefix=x"), 403);
}

Test(s3_authz, version_forms_of_actions)
{
    const s3_az_req get = {.action = "s3:GetObject", .version_id = "v1"};
    const s3_az_req del = {.action = "s3:DeleteObject", .version_id = "v1"};
    const s3_az_req tag = {.action = "s3:PutObjectTagging", .version_id = "v1"};
    const s3_az_req put = {.action = "s3:PutObject", .version_id = "v1"};
    const s3_az_req plain = {.action = "s3:GetObject"};

    cr_expect_str_eq(s3__az_action(&get), "s3:GetObjectVersion");
    cr_expect_str_eq(s3__az_action(&del), "s3:DeleteObjectVersion");
    cr_expect_str_eq(s3__az_action(&tag), "s3:PutObjectVersionTagging");
    cr_expect_str_eq(s3__az_action(&put), "s3:PutObject");
    cr_expect_str_eq(s3__az_action(&plain), "s3:GetObject");
}

Test(s3_authz, version_id_is_a_condition_key_and_picks_the_action)
{
    char body[4096], vid[64] = "", q[96];

    cr_assert_eq(req_as(NULL, "PUT", "/bkt", "versioning",
                        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", NULL, NULL),
                 200);
    put_obj("/bkt/k", NULL);
    cr_assert_eq(req_as(NULL, "GET", "/bkt", "versions", NULL, NULL, body), 200);
    cr_assert_eq(sscanf(strstr(body, "<VersionId>"), "<VersionId>%32[A-Za-z0-9_-]", vid), 1);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObjectVersion\","
                      "\"Resource\":\"" ARN "/*\",\"Condition\":{\"Null\":{\"s3:VersionId\":\"false\"}}}"));
    snprintf(q, sizeof(q), "/bkt/k?versionId=%s", vid);
    cr_expect_eq(as("", "GET", q), 200);
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    cr_expect_eq(as("", "GET", "/bkt/k?versionId="), 400, "an empty version id is refused as before");
}

Test(s3_authz, delete_objects_is_authorized_key_by_key)
{
    static const char del[] = "<Delete><Object><Key>tmp/a</Key></Object><Object><Key>keep/b</Key></Object></Delete>";
    char body[4096];

    put_obj("/bkt/tmp/a", NULL);
    put_obj("/bkt/keep/b", NULL);
    put_policy(POLICY("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:DeleteObject\","
                      "\"Resource\":\"" ARN "/tmp/*\"}"));
    cr_expect_eq(req_as("", "POST", "/bkt", "delete", del, NULL, body), 200);
    cr_expect(strstr(body, "<Deleted><Key>tmp/a</Key></Deleted>") != NULL, "%s", body);
    cr_expect(strstr(body, "<Error><Key>keep/b</Key><Code>AccessDenied</Code>") != NULL, "%s", body);
    cr_expect_eq(as(NULL, "HEAD", "/bkt/tmp/a"), 404);
    cr_expect_eq(as(NULL, "HEAD", "/bkt/keep/b"), 200);
    cr_expect_eq(req_as("", "POST", "/nobucket", "delete", del, NULL, NULL), 404);
}

/* ---- canned ACLs ---- */

static void bucket_acl(const char *acl)
{
    const char *const hdrs[] = {"x-amz-acl", acl, NULL};

    cr_assert_eq(req_as(NULL, "PUT", "/bkt", "acl", NULL, hdrs, NULL), 200, "%s", acl);
}

Test(s3_authz, bucket_public_read_lists_for_anyone)
{
    put_obj("/bkt/k", NULL);
    bucket_acl("public-read");
    cr_expect_eq(as("", "GET", "/bkt"), 200);
    cr_expect_eq(as("bob", "GET", "/bkt?list-type=2"), 200);
    cr_expect_eq(as("", "HEAD", "/bkt"), 200);
    cr_expect_eq(as("", "GET", "/bkt?versions"), 200);
    cr_expect_eq(as("", "GET", "/bkt?uploads"), 200);
    cr_expect_eq(as("", "GET", "/bkt/k"), 403);
    cr_expect_eq(req_as("", "PUT", "/bkt/new", "", "x", NULL, NULL), 403);
    cr_expect_eq(as("", "GET", "/bkt?acl"), 403);
    cr_expect_eq(as("", "GET", "/bkt?location"), 403);
    cr_expect_eq(as("cap:abc", "GET", "/bkt"), 403, "the capability step still denies");
}

Test(s3_authz, bucket_authenticated_read_lists_for_users_only)
{
    bucket_acl("authenticated-read");
    cr_expect_eq(as("", "GET", "/bkt"), 403);
    cr_expect_eq(as("bob", "GET", "/bkt"), 200);
}

Test(s3_authz, bucket_public_read_write)
{
    bucket_acl("public-read-write");
    cr_expect_eq(req_as("", "PUT", "/bkt/anon", "", "x", NULL, NULL), 200);
    cr_expect_eq(as("bob", "GET", "/bkt/anon"), 403, "its object is private");
    cr_expect_eq(as(NULL, "GET", "/bkt/anon"), 200, "and the bucket owner's");
    cr_expect_eq(as("bob", "DELETE", "/bkt/anon"), 204);
    cr_expect_eq(as(NULL, "HEAD", "/bkt/anon"), 404);
    cr_expect_eq(as("", "DELETE", "/bkt/anon?versionId=null"), 403, "DeleteObjectVersion is the owner's");
    cr_expect_eq(as("", "PUT", "/bkt?acl"), 403);
}

Test(s3_authz, object_acls)
{
    put_obj("/bkt/pub", "public-read");
    put_obj("/bkt/auth", "authenticated-read");
    put_obj("/bkt/own", "bucket-owner-full-control");
    cr_expect_eq(as("", "GET", "/bkt/pub"), 200);
    cr_expect_eq(as("", "HEAD", "/bkt/pub"), 200);
    cr_expect_eq(as("", "GET", "/bkt/pub?tagging"), 403, "READ is GetObject only");
    cr_expect_eq(as("", "GET", "/bkt/auth"), 403);
    cr_expect_eq(as("bob", "GET", "/bkt/auth"), 200);
    cr_expect_eq(as("cap:abc", "GET", "/bkt/auth"), 403);
    cr_expect_eq(as("bob", "GET", "/bkt/own"), 403);
    cr_expect_eq(as("", "GET", "/bkt/missing"), 403, "no object, no grant");
    put_obj("/bkt/pub", NULL);
    cr_expect_eq(as("", "GET", "/bkt/pub"), 403, "an overwrite is private again");
}

Test(s3_authz, acl_documents)
{
    char body[4096];

    bucket_acl("public-read-write");
    cr_expect_eq(req_as(NULL, "GET", "/bkt", "acl", NULL, NULL, body), 200);
    cr_expect(strstr(body, "<Owner><ID>alice</ID><DisplayName>alice</DisplayName></Owner>") != NULL, "%s", body);
    cr_expect(strstr(body, "xsi:type=\"CanonicalUser\"><ID>alice</ID><DisplayName>alice</DisplayName></Grantee>"
                           "<Permission>FULL_CONTROL</Permission>") != NULL,
              "%s", body);
    cr_expect(strstr(body, "xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>"
                           "</Grantee><Permission>READ</Permission>") != NULL,
              "%s", body);
    cr_expect(strstr(body, "AllUsers</URI></Grantee><Permission>WRITE</Permission>") != NULL, "%s", body);
    put_obj("/bkt/k", "authenticated-read");
    cr_expect_eq(req_as(NULL, "GET", "/bkt/k", "acl", NULL, NULL, body), 200);
    cr_expect(strstr(body, "AuthenticatedUsers</URI></Grantee><Permission>READ</Permission>") != NULL, "%s", body);
    cr_expect(strstr(body, "AllUsers") == NULL, "%s", body);
    cr_expect_eq(req_as(NULL, "GET", "/bkt/nope", "acl", NULL, NULL, body), 404);
}

Test(s3_authz, acl_bodies)
{
    static const char pub[] = "<AccessControlPolicy><AccessControlList>"
                              "<Grant><Grantee><ID>alice</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                              "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
                              "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>";
    static const char other[] = "<AccessControlPolicy><AccessControlList>"
                                "<Grant><Grantee><ID>alice</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                                "<Grant><Grantee><ID>bob</ID></Grantee><Permission>READ</Permission></Grant>"
                                "</AccessControlList></AccessControlPolicy>";
    static const char no_owner[] =
        "<AccessControlPolicy><AccessControlList>"
        "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
        "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>";
    const char *const canned[] = {"x-amz-acl", "private", NULL};
    char body[4096];

    put_obj("/bkt/k", NULL);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", pub, NULL, NULL), 200);
    cr_expect_eq(as("", "GET", "/bkt/k"), 200);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", other, NULL, NULL), 501);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", no_owner, NULL, NULL), 501);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", "<Nope/>", NULL, NULL), 400);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", pub, canned, body), 400, "header and body");
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "acl", NULL, NULL, NULL), 400, "neither");
    cr_expect_eq(as("", "GET", "/bkt/k"), 200, "nothing refused changed it");
    cr_expect_eq(req_as(NULL, "PUT", "/bkt", "acl", pub, NULL, NULL), 200);
    cr_expect_eq(as("", "GET", "/bkt"), 200);
}

Test(s3_authz, create_bucket_with_an_acl)
{
    const char *const pub[] = {"x-amz-acl", "public-read", NULL};
    const char *const bad[] = {"x-amz-acl", "aws-exec-read", NULL};
    const char *const grant[] = {"x-amz-grant-read", "id=bob", NULL};
    obj_bucket b;

    cr_expect_eq(req_as(NULL, "PUT", "/pubbkt", "", NULL, pub, NULL), 200);
    cr_assert_eq(obj_bucket_get(t.store, "pubbkt", &b), 0);
    cr_expect_str_eq(b.acl, "public-read");
    cr_expect_eq(as("", "GET", "/pubbkt"), 200);
    cr_expect_eq(req_as(NULL, "PUT", "/badbkt", "", NULL, bad, NULL), 501);
    cr_expect_eq(req_as(NULL, "PUT", "/badbkt", "", NULL, grant, NULL), 501);
    cr_expect_eq(obj_bucket_get(t.store, "badbkt", &b), -CN_ENO_BUCKET);
    cr_expect_eq(req_as(NULL, "PUT", "/bkt/k", "", "x", grant, NULL), 501);
}
