/*
 * Unit tests of admin/: admin_handle() against a real store, with the
 * authenticated principal handed over as the gateway would (the signature
 * itself is auth/'s, tested in test_sigv4.c; end to end in
 * tests/e2e/test_admin.py). Which paths are admin paths, who may use the
 * API, routing (404, 405, names in the path), bodies (JSON, names, signed
 * payload, size), the error documents, and the answers of each resource.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include "../../admin/admin.h"
#include "../../common/sigv4_sign.h"
#include "../../common/util.h"
#include "test_obj_helpers.h"

static char dir[128];
static obj_store *st;
static admin_ctx ctx;
static int logged;

static void count_log(const char *fmt, ...)
{
    (void)fmt;
    logged++;
}

static void setup(void)
{
    make_tmpdir(dir, sizeof(dir));
    open_test_store(&st, dir, 0);
    ctx.store = st;
    ctx.log = count_log;
    logged = 0;
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(admin, .init = setup, .fini = teardown);

typedef struct call {
    const char *method, *path, *body, *who;
    auth_kind kind;          /* AUTH_V4_HEADER unless set */
    auth_payload payload;    /* AUTH_PAYLOAD_SIGNED unless set */
    const char *signed_body; /* the body whose hash was signed, if not body */
} call;

/* Runs c; returns the status, the JSON answer in *doc (NULL if none). */
static int run(call c, json_t **doc)
{
    cn_request req;
    cn_response res;
    auth_result ar;
    const char *hashed = c.signed_body != NULL ? c.signed_body : (c.body != NULL ? c.body : "");
    int status = 0;

    memset(&req, 0, sizeof(req));
    memset(&ar, 0, sizeof(ar));
    req.method = (char *)c.method;
    req.path = (char *)c.path;
    req.query = "";
    req.host = "127.0.0.1:9000";
    req.body = (const uint8_t *)c.body;
    req.body_len = c.body != NULL ? strlen(c.body) : 0;
    snprintf(req.request_id, sizeof(req.request_id), "REQ1");
    ar.kind = c.who == NULL ? AUTH_ANONYMOUS : (c.kind != AUTH_ANONYMOUS ? c.kind : AUTH_V4_HEADER);
    snprintf(ar.principal, sizeof(ar.principal), "%s", c.who != NULL ? c.who : "");
    ar.payload = c.payload ? c.payload : AUTH_PAYLOAD_SIGNED;
    cn_sha256_hex(ar.payload_sha256, hashed, strlen(hashed));
    cn_res_init(&res);
    admin_handle(&ctx, &req, &ar, &res);
    status = res.status;
    *doc = res.body.len > 0 ? json_loadb(res.body.data, res.body.len, 0, NULL) : NULL;
    cr_assert_not_null(*doc, "every answer is JSON: %.*s", (int)res.body.len, res.body.data);
    cr_assert(res.n_headers >= 1 && strcmp(res.headers[0].value, "application/json") == 0);
    cn_res_dispose(&res);
    return status;
}

/* The error code of an answer that must be an error of this status. */
static void expect_error(call c, int status, const char *code)
{
    json_t *doc = NULL;
    int got = run(c, &doc);

    cr_assert_eq(got, status, "%s %s: %d %s", c.method, c.path, got, json_dumps(doc, 0));
    cr_assert_str_eq(json_string_value(json_object_get(doc, "error")), code, "%s %s", c.method, c.path);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "request_id")), "REQ1");
    cr_assert_gt(strlen(json_string_value(json_object_get(doc, "message"))), 0);
    json_decref(doc);
}

static json_t *expect_ok(call c, int status)
{
    json_t *doc = NULL;
    int got = run(c, &doc);

    cr_assert_eq(got, status, "%s %s: %d %s", c.method, c.path, got, json_dumps(doc, 0));
    return doc;
}

#define ROOT(m, p, b) ((call){.method = (m), .path = (p), .body = (b), .who = "root"})

Test(admin, admin_paths)
{
    cr_assert(admin_is_admin_path("/_cairn/admin/users"));
    cr_assert(admin_is_admin_path("/_cairn/admin/"));
    cr_assert(admin_is_admin_path("/_cairn/admin"));
    cr_assert(!admin_is_admin_path("/_cairn/adminx"));
    cr_assert(!admin_is_admin_path("/_cairn/"));
    cr_assert(!admin_is_admin_path("/bucket/_cairn/admin/users"));
    cr_assert(!admin_is_admin_path("/"));
    cr_assert(!admin_is_admin_path(NULL));
}

Test(admin, who_may_use_it)
{
    json_t *doc = NULL;

    cr_assert_eq(obj_user_create(st, "alice"), 0);
    expect_error((call){.method = "GET", .path = "/_cairn/admin/users"}, 403, "AccessDenied");
    expect_error((call){.method = "GET", .path = "/_cairn/admin/users", .who = "root", .kind = AUTH_V2_HEADER}, 403,
                 "AccessDenied");
    /* not an administrator: 403 for paths that exist and paths that do not */
    expect_error((call){.method = "GET", .path = "/_cairn/admin/users", .who = "alice"}, 403, "AccessDenied");
    expect_error((call){.method = "GET", .path = "/_cairn/admin/nothing", .who = "alice"}, 403, "AccessDenied");
    expect_error((call){.method = "POST", .path = "/_cairn/admin/users", .body = "{\"name\":\"x\"}", .who = "alice"},
                 403, "AccessDenied");
    cr_assert_eq(obj_user_get(st, "x", &(obj_user){0}), -CN_ENO_USER);
    /* a member of admins may; the group must exist first */
    cr_assert_eq(obj_group_create(st, ADMIN_GROUP), 0);
    cr_assert_eq(obj_group_add(st, ADMIN_GROUP, "alice"), 0);
    doc = expect_ok((call){.method = "GET", .path = "/_cairn/admin/users", .who = "alice"}, 200);
    cr_assert_eq(json_array_size(json_object_get(doc, "users")), 2);
    json_decref(doc);
    cr_assert_eq(obj_group_remove(st, ADMIN_GROUP, "alice"), 0);
    expect_error((call){.method = "GET", .path = "/_cairn/admin/users", .who = "alice"}, 403, "AccessDenied");
    doc = expect_ok((call){.method = "GET", .path = "/_cairn/admin/users", .who = "root", .kind = AUTH_V4_QUERY}, 200);
    json_decref(doc);
}

Test(admin, routing)
{
    expect_error(ROOT("GET", "/_cairn/admin/", NULL), 404, "NoSuchResource");
    expect_error(ROOT("GET", "/_cairn/admin", NULL), 404, "NoSuchResource");
    expect_error(ROOT("GET", "/_cairn/admin/userz", NULL), 404, "NoSuchResource");
    expect_error(ROOT("GET", "/_cairn/admin//users", NULL), 404, "NoSuchResource");
    expect_error(ROOT("GET", "/_cairn/admin/users/root/keys/x/y", NULL), 404, "NoSuchResource");
    expect_error(ROOT("PATCH", "/_cairn/admin/users", NULL), 405, "MethodNotAllowed");
    expect_error(ROOT("DELETE", "/_cairn/admin/users", NULL), 405, "MethodNotAllowed");
    expect_error(ROOT("GET", "/_cairn/admin/users/bad%20name", NULL), 400, "InvalidName");
    expect_error(ROOT("GET", "/_cairn/admin/users/%zz", NULL), 400, "InvalidRequest");
    expect_error(ROOT("GET", "/_cairn/admin/users/a%00b", NULL), 400, "InvalidRequest");
    expect_error(ROOT("GET", "/_cairn/admin/keys/AK%2B", NULL), 400, "InvalidName");
    expect_error(ROOT("PUT", "/_cairn/admin/groups/g/members/a:b", NULL), 400, "InvalidName");
    json_decref(expect_ok(ROOT("GET", "/_cairn/admin/users/", NULL), 200)); /* one trailing '/' is fine */
    json_decref(expect_ok(ROOT("GET", "/_cairn/admin/users/ro%6Ft", NULL), 200));
}

Test(admin, bodies)
{
    static const char *bad_json[] = {"",
                                     "{",
                                     "[]",
                                     "\"x\"",
                                     "{\"name\":1}",
                                     "{\"nom\":\"x\"}",
                                     "{\"name\":\"x\",\"y\":1}",
                                     "{\"name\":\"a\",\"name\":\"b\"}"};
    static const char *bad_names[] = {
        "{\"name\":\"\"}", "{\"name\":\"a b\"}", "{\"name\":\"a/b\"}",
        "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"};
    char *big = malloc(70 * 1024 + 1);
    obj_user *v = NULL;
    size_t n = 0;

    for (size_t i = 0; i < CN_ARRAY_SIZE(bad_json); i++)
        expect_error(ROOT("POST", "/_cairn/admin/users", bad_json[i]), 400, "InvalidRequest");
    for (size_t i = 0; i < CN_ARRAY_SIZE(bad_names); i++) {
        expect_error(ROOT("POST", "/_cairn/admin/users", bad_names[i]), 400, "InvalidName");
        expect_error(ROOT("POST", "/_cairn/admin/groups", bad_names[i]), 400, "InvalidName");
    }
    memset(big, ' ', 70 * 1024);
    big[70 * 1024] = '\0';
    expect_error(ROOT("POST", "/_cairn/admin/users", big), 400, "EntityTooLarge");
    free(big);
    /* the payload must be signed, and be the body that was */
    expect_error((call){.method = "POST",
                        .path = "/_cairn/admin/users",
                        .body = "{\"name\":\"u1\"}",
                        .who = "root",
                        .payload = AUTH_PAYLOAD_UNSIGNED},
                 403, "AccessDenied");
    expect_error((call){.method = "POST",
                        .path = "/_cairn/admin/users",
                        .body = "{\"name\":\"u2\"}",
                        .who = "root",
                        .signed_body = "{\"name\":\"u3\"}"},
                 400, "XAmzContentSHA256Mismatch");
    cr_assert_eq(obj_user_list(st, &v, &n), 0);
    cr_assert_eq(n, 1, "nothing but root");
    free(v);
    cr_assert_eq(logged, 0, "no change, nothing logged");
}

Test(admin, users_and_keys)
{
    json_t *doc = NULL, *k = NULL;
    char ak[32], path[128];

    doc = expect_ok(ROOT("POST", "/_cairn/admin/users", "{\"name\":\"alice\"}"), 201);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "name")), "alice");
    json_decref(doc);
    expect_error(ROOT("POST", "/_cairn/admin/users", "{\"name\":\"alice\"}"), 409, "EntityAlreadyExists");
    k = expect_ok(ROOT("POST", "/_cairn/admin/users/alice/keys", NULL), 201);
    snprintf(ak, sizeof(ak), "%s", json_string_value(json_object_get(k, "access_key")));
    cr_assert_eq(strlen(json_string_value(json_object_get(k, "secret_key"))), 40);
    json_decref(k);

    doc = expect_ok(ROOT("GET", "/_cairn/admin/users/alice", NULL), 200);
    k = json_array_get(json_object_get(doc, "keys"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(k, "access_key")), ak);
    cr_assert_null(json_object_get(k, "secret_key"), "a secret is shown once");
    cr_assert(json_is_false(json_object_get(k, "disabled")));
    json_decref(doc);

    snprintf(path, sizeof(path), "/_cairn/admin/keys/%s/disable", ak);
    doc = expect_ok(ROOT("POST", path, NULL), 200);
    cr_assert(json_is_true(json_object_get(doc, "disabled")));
    json_decref(doc);
    cr_assert_eq(obj_key_lookup(st, ak, NULL, 0, NULL, 0), -CN_ENOKEY_ID);
    snprintf(path, sizeof(path), "/_cairn/admin/keys/%s", ak);
    json_decref(expect_ok(ROOT("DELETE", path, NULL), 200));
    expect_error(ROOT("DELETE", path, NULL), 404, "NoSuchAccessKey");
    expect_error(ROOT("GET", "/_cairn/admin/users/bob/keys", NULL), 404, "NoSuchUser");

    /* a bucket's owner is not deleted, and the message names the bucket */
    cr_assert_eq(obj_bucket_create(st, "alices-photos", "alice", NULL), 0);
    {
        json_t *e = NULL;
        cr_assert_eq(run(ROOT("DELETE", "/_cairn/admin/users/alice", NULL), &e), 409);
        cr_assert(strstr(json_string_value(json_object_get(e, "message")), "alices-photos") != NULL);
        json_decref(e);
    }
    cr_assert_eq(obj_bucket_delete(st, "alices-photos"), 0);
    json_decref(expect_ok(ROOT("DELETE", "/_cairn/admin/users/alice", NULL), 200));
    expect_error(ROOT("DELETE", "/_cairn/admin/users/root", NULL), 409, "Conflict");
    cr_assert_eq(logged, 5, "create user, create key, disable, delete key, delete user");
}

Test(admin, groups)
{
    json_t *doc = NULL;

    cr_assert_eq(obj_user_create(st, "bob"), 0);
    json_decref(expect_ok(ROOT("POST", "/_cairn/admin/groups", "{\"name\":\"staff\"}"), 201));
    expect_error(ROOT("POST", "/_cairn/admin/groups", "{\"name\":\"staff\"}"), 409, "EntityAlreadyExists");
    json_decref(expect_ok(ROOT("PUT", "/_cairn/admin/groups/staff/members/bob", NULL), 200));
    json_decref(expect_ok(ROOT("PUT", "/_cairn/admin/groups/staff/members/bob", NULL), 200));
    expect_error(ROOT("PUT", "/_cairn/admin/groups/staff/members/carol", NULL), 404, "NoSuchUser");
    expect_error(ROOT("PUT", "/_cairn/admin/groups/nope/members/bob", NULL), 404, "NoSuchGroup");
    doc = expect_ok(ROOT("GET", "/_cairn/admin/groups", NULL), 200);
    cr_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(json_object_get(doc, "groups"), 0), "members"), 0)),
                     "bob");
    json_decref(doc);
    json_decref(expect_ok(ROOT("DELETE", "/_cairn/admin/groups/staff/members/bob", NULL), 200));
    expect_error(ROOT("DELETE", "/_cairn/admin/groups/staff/members/bob", NULL), 404, "NoSuchMember");
    json_decref(expect_ok(ROOT("DELETE", "/_cairn/admin/groups/staff", NULL), 200));
    expect_error(ROOT("GET", "/_cairn/admin/groups/staff", NULL), 404, "NoSuchGroup");
}

Test(admin, error_before_handling)
{
    cn_request req;
    cn_response res;
    json_t *doc = NULL;

    memset(&req, 0, sizeof(req));
    req.path = "/_cairn/admin/users";
    snprintf(req.request_id, sizeof(req.request_id), "REQ2");
    cn_res_init(&res);
    admin_error(&res, &req, -CN_ESIGNATURE, NULL);
    cr_assert_eq(res.status, 403);
    doc = json_loadb(res.body.data, res.body.len, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "error")), "SignatureDoesNotMatch");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "request_id")), "REQ2");
    json_decref(doc);
    cn_res_dispose(&res);
}
