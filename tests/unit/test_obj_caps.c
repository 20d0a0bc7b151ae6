/*
 * Capabilities in the object layer (obj/caps.c): who may grant, children
 * never wider than their parents, revocation reaching every descendant
 * through the chain, listing, and the key each capability gets.
 */
#include "../../common/util.h"
#include "test_obj_helpers.h"

static char dir[128];
static obj_store *st;

static void setup(void)
{
    setup_test_store(&st, dir, sizeof(dir), NULL, 0, 0);
    cr_assert_eq(obj_bucket_create(st, "other", "bob", NULL), 0);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(caps, .init = setup, .fini = teardown);

static obj_cap prefix_cap(const char *prefix, unsigned perms)
{
    obj_cap c;

    memset(&c, 0, sizeof(c));
    snprintf(c.bucket, sizeof(c.bucket), "bkt");
    c.kind = OBJ_CAP_PREFIX;
    c.target_len = strlen(prefix);
    memcpy(c.target, prefix, c.target_len);
    c.perms = perms;
    return c;
}

static void make(const char *creator, obj_cap *c, char principal[32])
{
    char secret[OBJ_CAP_SECRET_LEN + 1];

    cr_assert_eq(obj_cap_create(st, creator, c, secret), 0);
    snprintf(principal, 32, "cap:%s", c->id);
}

Test(caps, owner_grants_and_the_key_signs_as_the_capability)
{
    obj_cap c = prefix_cap("photos/", OBJ_CAP_READ | OBJ_CAP_LIST);
    char secret[OBJ_CAP_SECRET_LEN + 1], got[128], principal[128];

    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), 0);
    cr_assert_eq(strlen(c.id), OBJ_CAP_ID_LEN);
    cr_assert_str_eq(c.grantor, "alice");
    cr_assert_str_eq(c.parent, "");
    cr_assert_eq(obj_key_lookup(st, c.access_key, got, sizeof(got), principal, sizeof(principal)), 0);
    cr_assert_str_eq(got, secret);
    cr_assert_eq(strncmp(principal, "cap:", 4), 0);
    cr_assert_str_eq(principal + 4, c.id);
}

Test(caps, only_the_owner_may_grant)
{
    obj_cap c = prefix_cap("", OBJ_CAP_READ);
    char secret[OBJ_CAP_SECRET_LEN + 1];

    cr_assert_eq(obj_cap_create(st, "bob", &c, secret), -CN_EACCESS);
    snprintf(c.bucket, sizeof(c.bucket), "nosuch");
    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), -CN_ENO_BUCKET);
}

Test(caps, malformed_grants_refused)
{
    obj_cap c = prefix_cap("a/", 0);
    char secret[OBJ_CAP_SECRET_LEN + 1];

    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), -CN_EINVALID_ARGUMENT, "no permission");
    c = prefix_cap("a/", OBJ_CAP_READ);
    c.kind = OBJ_CAP_VERSION;
    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), -CN_EINVALID_ARGUMENT, "version without id");
    snprintf(c.version_id, sizeof(c.version_id), "v1");
    c.perms = OBJ_CAP_READ | OBJ_CAP_WRITE;
    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), -CN_EINVALID_ARGUMENT, "a version is read-only");
    c = prefix_cap("a/", OBJ_CAP_READ);
    c.expires_ms = 1000;
    cr_assert_eq(obj_cap_create(st, "alice", &c, secret), -CN_EINVALID_ARGUMENT, "expired at birth");
}

Test(caps, children_are_never_wider)
{
    obj_cap parent = prefix_cap("photos/", OBJ_CAP_READ | OBJ_CAP_LIST), c;
    char secret[OBJ_CAP_SECRET_LEN + 1], pp[32], cp[32];

    parent.expires_ms = (int64_t)(cn_now_us() / 1000) + 3600 * 1000;
    make("alice", &parent, pp);
    c = prefix_cap("photos/2026/", OBJ_CAP_READ);
    c.expires_ms = parent.expires_ms - 1000;
    make(pp, &c, cp);
    cr_assert_str_eq(c.parent, parent.id);
    cr_assert_str_eq(c.grantor, "alice");

    c = prefix_cap("docs/", OBJ_CAP_READ);
    c.expires_ms = parent.expires_ms;
    cr_expect_eq(obj_cap_create(st, pp, &c, secret), -CN_EACCESS, "another prefix");
    c = prefix_cap("photos/x", OBJ_CAP_READ | OBJ_CAP_WRITE);
    c.expires_ms = parent.expires_ms;
    cr_expect_eq(obj_cap_create(st, pp, &c, secret), -CN_EACCESS, "more permissions");
    c = prefix_cap("photos/x", OBJ_CAP_READ);
    cr_expect_eq(obj_cap_create(st, pp, &c, secret), -CN_EACCESS, "no expiry under an expiring parent");
    c.expires_ms = parent.expires_ms + 1;
    cr_expect_eq(obj_cap_create(st, pp, &c, secret), -CN_EACCESS, "a later expiry");
    c = prefix_cap("", OBJ_CAP_READ);
    c.kind = OBJ_CAP_BUCKET;
    c.expires_ms = parent.expires_ms;
    cr_expect_eq(obj_cap_create(st, pp, &c, secret), -CN_EACCESS, "the whole bucket");
}

Test(caps, revoking_a_parent_reaches_the_grandchild)
{
    obj_cap a = prefix_cap("p/", OBJ_CAP_READ | OBJ_CAP_LIST), b = prefix_cap("p/q/", OBJ_CAP_READ),
            c = prefix_cap("p/q/r", OBJ_CAP_READ), chain[OBJ_CAP_MAX_DEPTH];
    char ap[32], bp[32], cp[32];
    size_t n = 0;

    make("alice", &a, ap);
    make(ap, &b, bp);
    make(bp, &c, cp);
    cr_assert_eq(obj_cap_chain(st, c.id, chain, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(chain[0].id, c.id);
    cr_assert_str_eq(chain[2].id, a.id);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(chain[i].revoked_ms, 0);

    cr_assert_eq(obj_cap_revoke(st, a.id, "bob"), -CN_EACCESS, "not the grantor");
    cr_assert_eq(obj_cap_revoke(st, a.id, cp), -CN_EACCESS, "a grandchild cannot revoke its ancestor");
    cr_assert_eq(obj_cap_revoke(st, a.id, "alice"), 0);
    cr_assert_eq(obj_cap_chain(st, c.id, chain, &n), 0);
    cr_assert_neq(chain[2].revoked_ms, 0, "the root of the chain is revoked");
    cr_assert_eq(obj_cap_revoke(st, "0000000000000000", "alice"), -CN_ENOT_FOUND);
}

Test(caps, a_capability_revokes_its_descendants)
{
    obj_cap a = prefix_cap("p/", OBJ_CAP_READ), b = prefix_cap("p/q/", OBJ_CAP_READ), chain[OBJ_CAP_MAX_DEPTH];
    char ap[32], bp[32];
    size_t n = 0;

    make("alice", &a, ap);
    make(ap, &b, bp);
    cr_assert_eq(obj_cap_revoke(st, b.id, ap), 0);
    cr_assert_eq(obj_cap_chain(st, b.id, chain, &n), 0);
    cr_assert_neq(chain[0].revoked_ms, 0);
    cr_assert_eq(chain[1].revoked_ms, 0, "the parent stays live");
}

Test(caps, listing_shows_the_tree)
{
    obj_cap a = prefix_cap("p/", OBJ_CAP_READ), b = prefix_cap("p/q/", OBJ_CAP_READ),
            c = prefix_cap("x/", OBJ_CAP_READ);
    obj_cap *list = NULL;
    char ap[32], bp[32], cp[32];
    size_t n = 0;

    make("alice", &a, ap);
    make(ap, &b, bp);
    make("alice", &c, cp);
    cr_assert_eq(obj_cap_list(st, "alice", &list, &n), 0);
    cr_assert_eq(n, 3, "a user sees every capability of its chains");
    free(list);
    cr_assert_eq(obj_cap_list(st, ap, &list, &n), 0);
    cr_assert_eq(n, 2, "a capability sees itself and its descendants");
    free(list);
    cr_assert_eq(obj_cap_list(st, "bob", &list, &n), 0);
    cr_assert_eq(n, 0);
    free(list);
}
