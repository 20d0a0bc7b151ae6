/*
 * attrs: JSON codecs (jansson) for what versions and uploads carry besides
 * bytes: stored headers (attrs) and tags, both as JSON arrays of
 * [name, value] pairs so that order is kept as the client sent it.
 *
 * Tag rules are S3's and enforced here, once, for every path that stores
 * tags (put, copy, multipart, PutObjectTagging, PutBucketTagging).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define MAX_ATTRS_JSON (64u << 10) /* far above S3's 2 KiB of user metadata */

static int pairs_encode(const char *const *names, const char *const *values, size_t stride, size_t n, char **out)
{
    json_t *arr = json_array();
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    if (arr == NULL)
        return -CN_ENOMEM;
    for (i = 0; i < n; i++) {
        const char *k = *(const char *const *)((const char *)names + i * stride);
        const char *v = *(const char *const *)((const char *)values + i * stride);
        json_t *pair = json_pack("[ss]", k != NULL ? k : "", v != NULL ? v : "");
        if (pair == NULL || json_array_append_new(arr, pair) != 0) {
            rc = -CN_EINVALID_ARGUMENT; /* not UTF-8, or out of memory */
            goto out;
        }
    }
    *out = json_dumps(arr, JSON_COMPACT);
    if (*out == NULL)
        rc = -CN_ENOMEM;
out:
    json_decref(arr);
    return rc;
}

int obj__attrs_encode(const obj_attr *a, size_t n, char **out)
{
    int rc = 0;

    *out = NULL;
    if (n == 0)
        return 0;
    rc = pairs_encode((const char *const *)&a[0].name, (const char *const *)&a[0].value, sizeof(*a), n, out);
    if (rc == 0 && strlen(*out) > MAX_ATTRS_JSON) {
        free(*out);
        *out = NULL;
        rc = -CN_EMETADATA_TOO_LARGE;
    }
    return rc;
}

/* Calls fn for each [name, value] pair of a JSON array. */
static int pairs_decode(const char *json, size_t *count, int (*fn)(void *arg, size_t i, const char *k, const char *v),
                        void *arg)
{
    json_t *arr = NULL, *pair = NULL;
    size_t i = 0;
    int rc = 0;

    *count = 0;
    if (json == NULL || json[0] == '\0')
        return 0;
    arr = json_loads(json, 0, NULL);
    if (!json_is_array(arr)) {
        rc = -CN_EINTERNAL;
        goto out;
    }
    *count = json_array_size(arr);
    json_array_foreach(arr, i, pair)
    {
        const char *k = json_string_value(json_array_get(pair, 0));
        const char *v = json_string_value(json_array_get(pair, 1));
        if (k == NULL || v == NULL) {
            rc = -CN_EINTERNAL;
            goto out;
        }
        if (fn != NULL) {
            rc = fn(arg, i, k, v);
            if (rc != 0)
                goto out;
        }
    }
out:
    json_decref(arr);
    return rc;
}

static int attr_set(void *arg, size_t i, const char *k, const char *v)
{
    obj_attr *a = arg;

    a[i].name = strdup(k);
    a[i].value = strdup(v);
    return a[i].name != NULL && a[i].value != NULL ? 0 : -CN_ENOMEM;
}

int obj__attrs_decode(const char *json, obj_attr **out, size_t *n)
{
    obj_attr *a = NULL;
    size_t count = 0, i = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    rc = pairs_decode(json, &count, NULL, NULL);
    if (rc != 0 || count == 0)
        return rc;
    a = calloc(count, sizeof(*a));
    if (a == NULL)
        return -CN_ENOMEM;
    rc = pairs_decode(json, &count, attr_set, a);
    if (rc != 0) {
        for (i = 0; i < count; i++) {
            free(a[i].name);
            free(a[i].value);
        }
        free(a);
        return rc;
    }
    *out = a;
    *n = count;
    return 0;
}

static int tag_valid(const obj_tag *t, size_t i, const obj_tags *all)
{
    size_t kchars = 0, vchars = 0, j = 0;

    if (t->key == NULL || t->value == NULL)
        return 0;
    if (!obj__utf8_valid(t->key, strlen(t->key), &kchars) || !obj__utf8_valid(t->value, strlen(t->value), &vchars))
        return 0;
    if (kchars < 1 || kchars > 128 || vchars > 256)
        return 0;
    for (j = 0; j < i; j++)
        if (strcmp(all->v[j].key, t->key) == 0)
            return 0;
    return 1;
}

int obj__tags_encode(const obj_tags *t, size_t max, char **out)
{
    size_t i = 0;

    *out = NULL;
    if (t == NULL || t->n == 0)
        return 0;
    if (t->n > max)
        return -CN_EINVALID_TAG;
    for (i = 0; i < t->n; i++)
        if (!tag_valid(&t->v[i], i, t))
            return -CN_EINVALID_TAG;
    return pairs_encode((const char *const *)&t->v[0].key, (const char *const *)&t->v[0].value, sizeof(t->v[0]), t->n,
                        out);
}

static int tag_set(void *arg, size_t i, const char *k, const char *v)
{
    obj_tag *t = arg;

    t[i].key = strdup(k);
    t[i].value = strdup(v);
    return t[i].key != NULL && t[i].value != NULL ? 0 : -CN_ENOMEM;
}

int obj__tags_decode(const char *json, obj_tags *out)
{
    size_t count = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    rc = pairs_decode(json, &count, NULL, NULL);
    if (rc != 0 || count == 0)
        return rc;
    out->v = calloc(count, sizeof(*out->v));
    if (out->v == NULL)
        return -CN_ENOMEM;
    out->n = count;
    rc = pairs_decode(json, &count, tag_set, out->v);
    if (rc != 0)
        obj_tags_dispose(out);
    return rc;
}

int obj__tags_count(const char *json)
{
    size_t count = 0;

    if (pairs_decode(json, &count, NULL, NULL) != 0)
        return 0;
    return (int)count;
}

void obj_tags_dispose(obj_tags *t)
{
    size_t i = 0;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}
