/*
 * keys: access keys, under their user and on their own (docs/ADMIN.md).
 *
 *   POST   users/NAME/keys       create   201 {"access_key", "secret_key", "user", "created"}
 *   GET    users/NAME/keys       list     200 {"user", "keys": [{"access_key", "user", "created", "disabled"}]}
 *   GET    keys/AK               show     200 {"access_key", "user", "created", "disabled"}
 *   POST   keys/AK/disable       disable  200 the key, "disabled": true
 *   POST   keys/AK/enable        enable   200 the key, "disabled": false
 *   DELETE keys/AK               delete   200 {"access_key", "user", "deleted": true}
 *
 * The secret leaves the gateway once, in the answer to its creation, and
 * is wiped from this file's buffers afterwards (the response body holding
 * it is freed with the response). A disabled or deleted key is refused by
 * the very next request that uses it: obj_key_lookup() reads the store
 * every time.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admint.h"

static int explain(admin__op *op, int rc, const char *what)
{
    if (rc == -CN_ENOKEY_ID)
        return admin__fail(op, rc, "access key %s does not exist", what);
    if (rc == -CN_ENO_USER)
        return admin__fail(op, rc, "user %s does not exist", what);
    if (rc == -CN_ETOOLARGE)
        return admin__fail(op, rc, "user %s has %d access keys already", what, OBJ_USER_MAX_KEYS);
    if (rc == -CN_ECONFLICT)
        return admin__fail(op, rc, "the last enabled access key of root cannot be disabled or deleted");
    return rc;
}

int admin__key_create(admin__op *op)
{
    const char *user = op->seg[1];
    char ak[OBJ_ACCESS_KEY_LEN + 1], sk[OBJ_SECRET_KEY_LEN + 1];
    obj_key_info k;
    int rc = obj_user_key_create(op->ctx->store, user, ak, sk);

    if (rc == 0)
        rc = obj_key_get(op->ctx->store, ak, &k);
    if (rc == 0) {
        admin__log(op, "created access key %s for user %s", ak, user);
        rc = admin__reply(op, 201,
                          json_pack("{s:s, s:s, s:s, s:o}", "access_key", ak, "secret_key", sk, "user", user, "created",
                                    admin__time(k.created)));
    }
    OPENSSL_cleanse(sk, sizeof(sk));
    return rc != 0 ? explain(op, rc, user) : 0;
}

int admin__key_list(admin__op *op)
{
    const char *user = op->seg[1];
    obj_key_info *k = NULL;
    size_t n = 0;
    json_t *a = NULL;
    int rc = obj_key_list(op->ctx->store, user, &k, &n);

    if (rc == 0)
        a = json_array();
    if (rc == 0 && a == NULL)
        rc = -CN_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (json_array_append_new(a, admin__key(&k[i])) != 0)
            rc = -CN_ENOMEM;
    free(k);
    if (rc != 0) {
        json_decref(a);
        return explain(op, rc, user);
    }
    return admin__reply(op, 200, json_pack("{s:s, s:o}", "user", user, "keys", a));
}

int admin__key_show(admin__op *op)
{
    obj_key_info k;
    int rc = obj_key_get(op->ctx->store, op->seg[1], &k);

    return rc != 0 ? explain(op, rc, op->seg[1]) : admin__reply(op, 200, admin__key(&k));
}

static int set_disabled(admin__op *op, int disabled)
{
    const char *ak = op->seg[1];
    obj_key_info k;
    int rc = obj_key_set_disabled(op->ctx->store, ak, disabled);

    if (rc == 0)
        rc = obj_key_get(op->ctx->store, ak, &k);
    if (rc != 0)
        return explain(op, rc, ak);
    admin__log(op, "%s access key %s of user %s", disabled ? "disabled" : "enabled", ak, k.user);
    return admin__reply(op, 200, admin__key(&k));
}

int admin__key_disable(admin__op *op)
{
    return set_disabled(op, 1);
}

int admin__key_enable(admin__op *op)
{
    return set_disabled(op, 0);
}

int admin__key_delete(admin__op *op)
{
    const char *ak = op->seg[1];
    obj_key_info k;
    int rc = obj_key_get(op->ctx->store, ak, &k);

    if (rc == 0)
        rc = obj_key_delete(op->ctx->store, ak);
    if (rc != 0)
        return explain(op, rc, ak);
    admin__log(op, "deleted access key %s of user %s", ak, k.user);
    return admin__reply(op, 200, json_pack("{s:s, s:s, s:b}", "access_key", ak, "user", k.user, "deleted", 1));
}
