/*
 * Unit tests of obj/users.c and obj/groups.c: names, the built-in root,
 * users and groups (create, get, list, delete), memberships, random access
 * keys (format, lookup, list without secrets, disable, enable, delete), a
 * user who owns a bucket, the guard on root's last key, and that no key
 * outlives its user: deleted with it, and refused by the lookup even if a
 * row were left behind. Also the upgrade of a store made before users.
 */
#include <sqlite3.h>

#include "../../common/util.h"
#include "test_obj_helpers.h"

static char dir[128];
static obj_store *st;

static void setup(void)
{
    make_tmpdir(dir, sizeof(dir));
    open_test_store(&st, dir, 0);
}

static void teardown(void)
{
    teardown_test_store(&st, dir);
}

TestSuite(users, .init = setup, .fini = teardown);

static int lookup(const char *ak, char *secret, size_t cap, char *principal, size_t pcap)
{
    return obj_key_lookup(st, ak, secret, cap, principal, pcap);
}

static int lookup_ok(const char *ak, const char *want_secret, const char *want_user)
{
    char secret[64], principal[OBJ_NAME_MAX + 1];
    int rc = lookup(ak, secret, sizeof(secret), principal, sizeof(principal));

    if (rc == 0) {
        cr_assert_str_eq(secret, want_secret);
        cr_assert_str_eq(principal, want_user);
    }
    return rc;
}

static void db_exec(const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/meta.db", dir);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(users, names)
{
    char max[OBJ_NAME_MAX + 2];

    memset(max, 'a', sizeof(max));
    max[OBJ_NAME_MAX] = '\0';
    cr_assert_eq(obj_principal_name_valid("alice"), 0);
    cr_assert_eq(obj_principal_name_valid("A.b_c-d@example.com"), 0);
    cr_assert_eq(obj_principal_name_valid("0"), 0);
    cr_assert_eq(obj_principal_name_valid(max), 0);
    max[OBJ_NAME_MAX] = 'a';
    max[OBJ_NAME_MAX + 1] = '\0';
    cr_assert_eq(obj_principal_name_valid(max), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(obj_principal_name_valid(""), -CN_EINVALID_ARGUMENT);
    cr_assert_eq(obj_principal_name_valid(NULL), -CN_EINVALID_ARGUMENT);
    const char *bad[] = {"a b", "a/b", "a:b", "a\tb", "caf\xc3\xa9", "a*", "a+b", "a%20", "..\\x"};
    for (size_t i = 0; i < CN_ARRAY_SIZE(bad); i++) {
        cr_assert_eq(obj_principal_name_valid(bad[i]), -CN_EINVALID_ARGUMENT, "%s", bad[i]);
        cr_assert_eq(obj_user_create(st, bad[i]), -CN_EINVALID_ARGUMENT, "%s", bad[i]);
        cr_assert_eq(obj_group_create(st, bad[i]), -CN_EINVALID_ARGUMENT, "%s", bad[i]);
    }
}

Test(users, root_is_built_in)
{
    obj_user u;

    cr_assert_eq(obj_user_get(st, OBJ_ROOT_USER, &u), 0);
    cr_assert_str_eq(u.name, "root");
    cr_assert_gt(u.created, 0);
    cr_assert_eq(obj_user_create(st, "root"), -CN_EEXISTS);
    cr_assert_eq(obj_user_delete(st, "root"), -CN_ECONFLICT);
    cr_assert_eq(obj_user_get(st, "root", &u), 0);
    /* still there after a reopen, and only once */
    obj_store_close(st);
    open_test_store(&st, dir, 0);
    cr_assert_eq(obj_user_get(st, "root", &u), 0);
}

Test(users, create_get_list_delete)
{
    obj_user u, *v = NULL;
    size_t n = 0;

    cr_assert_eq(obj_user_get(st, "alice", &u), -CN_ENO_USER);
    cr_assert_eq(obj_user_create(st, "bob"), 0);
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_user_create(st, "alice"), -CN_EEXISTS);
    cr_assert_eq(obj_user_create(st, "Alice"), 0, "names are case-sensitive");
    cr_assert_eq(obj_user_get(st, "alice", &u), 0);
    cr_assert_str_eq(u.name, "alice");
    cr_assert_leq(labs((long)(u.created - cn_now())), 5);
    cr_assert_eq(obj_user_list(st, &v, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(v[0].name, "Alice");
    cr_assert_str_eq(v[1].name, "alice");
    cr_assert_str_eq(v[2].name, "bob");
    cr_assert_str_eq(v[3].name, "root");
    free(v);
    cr_assert_eq(obj_user_delete(st, "alice"), 0);
    cr_assert_eq(obj_user_delete(st, "alice"), -CN_ENO_USER);
    cr_assert_eq(obj_user_delete(st, "no such"), -CN_ENO_USER);
    cr_assert_eq(obj_user_get(st, "alice", &u), -CN_ENO_USER);
    cr_assert_eq(obj_user_list(st, &v, &n), 0);
    cr_assert_eq(n, 3);
    free(v);
}

Test(users, owner_of_a_bucket_is_not_deleted)
{
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_bucket_create(st, "alices-bucket", "alice", NULL), 0);
    cr_assert_eq(obj_user_delete(st, "alice"), -CN_ECONFLICT);
    cr_assert_eq(obj_bucket_delete(st, "alices-bucket"), 0);
    cr_assert_eq(obj_user_delete(st, "alice"), 0);
}

Test(users, random_keys)
{
    char ak[OBJ_ACCESS_KEY_LEN + 1], sk[OBJ_SECRET_KEY_LEN + 1], ak2[OBJ_ACCESS_KEY_LEN + 1],
        sk2[OBJ_SECRET_KEY_LEN + 1];
    obj_key_info k, *v = NULL;
    size_t n = 0;

    cr_assert_eq(obj_user_key_create(st, "alice", ak, sk), -CN_ENO_USER);
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_user_key_create(st, "alice", ak, sk), 0);
    cr_assert_eq(strlen(ak), 20);
    cr_assert_eq(strncmp(ak, "AKIA", 4), 0);
    cr_assert_eq(strspn(ak, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 20);
    cr_assert_eq(strlen(sk), 40);
    cr_assert_eq(strspn(sk, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 40);
    cr_assert_eq(obj_user_key_create(st, "alice", ak2, sk2), 0);
    cr_assert_str_neq(ak, ak2);
    cr_assert_str_neq(sk, sk2);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), 0);
    cr_assert_eq(lookup_ok(ak2, sk2, "alice"), 0);

    cr_assert_eq(obj_key_get(st, ak, &k), 0);
    cr_assert_str_eq(k.access_key, ak);
    cr_assert_str_eq(k.user, "alice");
    cr_assert_eq(k.disabled, 0);
    cr_assert_eq(obj_key_list(st, "alice", &v, &n), 0);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(v[i].user, "alice");
        cr_assert(strcmp(v[i].access_key, ak) == 0 || strcmp(v[i].access_key, ak2) == 0);
    }
    free(v);
    cr_assert_eq(obj_key_list(st, "nobody", &v, &n), -CN_ENO_USER);
    cr_assert_null(v);
    cr_assert_eq(obj_key_list(st, "root", &v, &n), 0);
    cr_assert_eq(n, 0, "this store has no root key");
    free(v);
    cr_assert_eq(obj_key_list(st, NULL, &v, &n), 0);
    cr_assert_eq(n, 2);
    free(v);
}

Test(users, disable_enable_delete)
{
    char ak[OBJ_ACCESS_KEY_LEN + 1], sk[OBJ_SECRET_KEY_LEN + 1];
    obj_key_info k;

    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_user_key_create(st, "alice", ak, sk), 0);
    cr_assert_eq(obj_key_set_disabled(st, ak, 1), 0);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), -CN_ENOKEY_ID, "a disabled key is refused at once");
    cr_assert_eq(obj_key_get(st, ak, &k), 0);
    cr_assert_eq(k.disabled, 1);
    cr_assert_eq(obj_key_set_disabled(st, ak, 1), 0, "disabling twice is harmless");
    cr_assert_eq(obj_key_set_disabled(st, ak, 0), 0);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), 0);
    cr_assert_eq(obj_key_delete(st, ak), 0);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_get(st, ak, &k), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_delete(st, ak), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_set_disabled(st, ak, 1), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_set_disabled(st, "", 1), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_delete(st, NULL), -CN_ENOKEY_ID);
}

Test(users, root_keeps_one_enabled_key)
{
    char ak2[OBJ_ACCESS_KEY_LEN + 1], sk2[OBJ_SECRET_KEY_LEN + 1];

    cr_assert_eq(obj_key_create(st, "root", "AKIDROOT1", "root-secret"), 0);
    cr_assert_eq(obj_key_set_disabled(st, "AKIDROOT1", 1), -CN_ECONFLICT);
    cr_assert_eq(obj_key_delete(st, "AKIDROOT1"), -CN_ECONFLICT);
    cr_assert_eq(lookup_ok("AKIDROOT1", "root-secret", "root"), 0);
    cr_assert_eq(obj_user_key_create(st, "root", ak2, sk2), 0);
    cr_assert_eq(obj_key_set_disabled(st, "AKIDROOT1", 1), 0);
    cr_assert_eq(obj_key_delete(st, ak2), -CN_ECONFLICT, "now the last enabled one");
    cr_assert_eq(obj_key_delete(st, "AKIDROOT1"), 0, "a disabled key may go");
    cr_assert_eq(lookup_ok(ak2, sk2, "root"), 0);
}

Test(users, key_cap)
{
    char ak[OBJ_ACCESS_KEY_LEN + 1], sk[OBJ_SECRET_KEY_LEN + 1];

    cr_assert_eq(obj_user_create(st, "many"), 0);
    for (int i = 0; i < OBJ_USER_MAX_KEYS; i++)
        cr_assert_eq(obj_user_key_create(st, "many", ak, sk), 0);
    cr_assert_eq(obj_user_key_create(st, "many", ak, sk), -CN_ETOOLARGE);
    cr_assert_str_eq(ak, "");
}

Test(users, delete_takes_keys_and_memberships)
{
    char ak[OBJ_ACCESS_KEY_LEN + 1], sk[OBJ_SECRET_KEY_LEN + 1];
    char **names = NULL;
    size_t n = 0;
    obj_key_info k;

    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_group_create(st, "staff"), 0);
    cr_assert_eq(obj_group_add(st, "staff", "alice"), 0);
    cr_assert_eq(obj_user_key_create(st, "alice", ak, sk), 0);
    cr_assert_eq(obj_user_delete(st, "alice"), 0);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), -CN_ENOKEY_ID);
    cr_assert_eq(obj_key_get(st, ak, &k), -CN_ENOKEY_ID);
    cr_assert_eq(obj_group_members(st, "staff", &names, &n), 0);
    cr_assert_eq(n, 0);
    obj_names_free(names, n);
    /* a new user of the same name starts with nothing */
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(lookup_ok(ak, sk, "alice"), -CN_ENOKEY_ID);
    cr_assert_eq(obj_user_groups(st, "alice", &names, &n), 0);
    cr_assert_eq(n, 0);
    obj_names_free(names, n);
}

/* The lookup's own check: a key row whose user is gone (written behind the
 * store's back, while it runs) authenticates nothing. */
Test(users, key_of_missing_user_refused)
{
    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_key_create(st, "alice", "AKIDALICE", "alice-secret"), 0);
    cr_assert_eq(lookup_ok("AKIDALICE", "alice-secret", "alice"), 0);
    db_exec("DELETE FROM users WHERE name = 'alice'");
    cr_assert_eq(lookup_ok("AKIDALICE", "alice-secret", "alice"), -CN_ENOKEY_ID);
    /* and a reopen does not bring the user back */
    obj_store_close(st);
    open_test_store(&st, dir, 0);
    cr_assert_eq(lookup_ok("AKIDALICE", "alice-secret", "alice"), -CN_ENOKEY_ID);
}

/* A store made before version 6 gets a user for every principal with a key. */
Test(users, upgrade_makes_users_of_key_holders)
{
    obj_user u;

    cr_assert_eq(obj_key_create(st, "root", "AKIDROOT", "root-secret"), 0);
    obj_store_close(st);
    st = NULL;
    db_exec("INSERT INTO access_keys(access_key, secret, principal, created) "
            "  SELECT 'AKIDCAROL', secret, 'carol', 7 FROM access_keys WHERE access_key = 'AKIDROOT';"
            "DROP TABLE users; DROP TABLE groups; DROP TABLE memberships;"
            "UPDATE meta_info SET v = 5 WHERE k = 'schema';");
    open_test_store(&st, dir, 0);
    cr_assert_eq(obj_user_get(st, "carol", &u), 0);
    cr_assert_eq(u.created, 7);
    cr_assert_eq(obj_user_get(st, "root", &u), 0);
    /* carol's row holds root's sealed secret, bound to AKIDROOT: it does not open */
    cr_assert_eq(lookup_ok("AKIDCAROL", "root-secret", "carol"), -CN_EINTERNAL);
    cr_assert_eq(lookup_ok("AKIDROOT", "root-secret", "root"), 0);
}

TestSuite(groups, .init = setup, .fini = teardown);

Test(groups, create_get_list_delete)
{
    obj_group g, *v = NULL;
    size_t n = 0;

    cr_assert_eq(obj_group_list(st, &v, &n), 0);
    cr_assert_eq(n, 0, "no group is built in");
    free(v);
    cr_assert_eq(obj_group_create(st, "admins"), 0);
    cr_assert_eq(obj_group_create(st, "admins"), -CN_EEXISTS);
    cr_assert_eq(obj_group_create(st, "staff"), 0);
    cr_assert_eq(obj_group_create(st, "root"), 0, "groups and users are apart");
    cr_assert_eq(obj_group_get(st, "staff", &g), 0);
    cr_assert_str_eq(g.name, "staff");
    cr_assert_eq(obj_group_get(st, "nope", &g), -CN_ENO_GROUP);
    cr_assert_eq(obj_group_get(st, "bad name", &g), -CN_ENO_GROUP);
    cr_assert_eq(obj_group_list(st, &v, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(v[0].name, "admins");
    cr_assert_str_eq(v[2].name, "staff");
    free(v);
    cr_assert_eq(obj_group_delete(st, "staff"), 0);
    cr_assert_eq(obj_group_delete(st, "staff"), -CN_ENO_GROUP);
    cr_assert_eq(obj_group_get(st, "staff", &g), -CN_ENO_GROUP);
}

Test(groups, membership)
{
    char **names = NULL;
    size_t n = 0;
    int member = -1;

    cr_assert_eq(obj_user_create(st, "alice"), 0);
    cr_assert_eq(obj_user_create(st, "bob"), 0);
    cr_assert_eq(obj_group_create(st, "staff"), 0);
    cr_assert_eq(obj_group_create(st, "admins"), 0);
    cr_assert_eq(obj_group_add(st, "staff", "nobody"), -CN_ENO_USER);
    cr_assert_eq(obj_group_add(st, "nogroup", "alice"), -CN_ENO_GROUP);
    cr_assert_eq(obj_group_add(st, "staff", "bob"), 0);
    cr_assert_eq(obj_group_add(st, "staff", "alice"), 0);
    cr_assert_eq(obj_group_add(st, "staff", "alice"), 0, "adding twice is harmless");
    cr_assert_eq(obj_group_add(st, "admins", "alice"), 0);
    cr_assert_eq(obj_group_members(st, "staff", &names, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "alice");
    cr_assert_str_eq(names[1], "bob");
    obj_names_free(names, n);
    cr_assert_eq(obj_group_members(st, "nogroup", &names, &n), -CN_ENO_GROUP);
    cr_assert_eq(obj_user_groups(st, "alice", &names, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "admins");
    cr_assert_str_eq(names[1], "staff");
    obj_names_free(names, n);
    cr_assert_eq(obj_user_groups(st, "nobody", &names, &n), -CN_ENO_USER);
    cr_assert_eq(obj_user_in_group(st, "alice", "admins", &member), 0);
    cr_assert_eq(member, 1);
    cr_assert_eq(obj_user_in_group(st, "bob", "admins", &member), 0);
    cr_assert_eq(member, 0);
    cr_assert_eq(obj_user_in_group(st, "bad name", "admins", &member), 0);
    cr_assert_eq(member, 0);

    cr_assert_eq(obj_group_remove(st, "admins", "bob"), -CN_ENO_USER, "not a member");
    cr_assert_eq(obj_group_remove(st, "admins", "alice"), 0);
    cr_assert_eq(obj_user_in_group(st, "alice", "admins", &member), 0);
    cr_assert_eq(member, 0);
    /* deleting a group deletes its memberships */
    cr_assert_eq(obj_group_delete(st, "staff"), 0);
    cr_assert_eq(obj_user_groups(st, "bob", &names, &n), 0);
    cr_assert_eq(n, 0);
    obj_names_free(names, n);
    cr_assert_eq(obj_group_create(st, "staff"), 0);
    cr_assert_eq(obj_group_members(st, "staff", &names, &n), 0);
    cr_assert_eq(n, 0, "a new group of the same name starts empty");
    obj_names_free(names, n);
}

Test(groups, cap_per_user)
{
    char name[32];

    cr_assert_eq(obj_user_create(st, "joiner"), 0);
    for (int i = 0; i <= OBJ_USER_MAX_GROUPS; i++) {
        snprintf(name, sizeof(name), "g%03d", i);
        cr_assert_eq(obj_group_create(st, name), 0);
        cr_assert_eq(obj_group_add(st, name, "joiner"), i < OBJ_USER_MAX_GROUPS ? 0 : -CN_ETOOLARGE);
    }
    cr_assert_eq(obj_group_add(st, "g000", "joiner"), 0, "a member already is no new membership");
}
