/*
 * list: ListObjects (V1 and V2 share it): latest non-marker versions in
 * binary key order, with prefix, delimiter, start-after and max-keys.
 *
 * The walk is a range scan of the versions_list partial index from a lower
 * bound `lo` (inclusive) to the prefix's end (exclusive):
 *
 *   lo = max(prefix, start_after + "\0")         keys hold no NUL, so
 *                                                "\0" is the next possible key
 *   row = first key >= lo
 *     no delimiter after the prefix:  emit the version, go on scanning
 *     delimiter at i:                 emit common prefix key[0..i+dlen) once,
 *                                     lo = prefix_end(that prefix), restart
 *                                     the scan there (seek, never scan the
 *                                     thousands of keys inside the prefix)
 *   stop at max_keys; one more row means truncated.
 *
 * A start_after that is itself a common prefix (the NextMarker of a previous
 * page) skips the whole prefix, so a prefix is never returned twice across
 * pages. Everything runs in one read snapshot. The walk itself
 * (obj__list_walk) serves ListMultipartUploads too (mpu_list.c).
 *
 * Not done: fetch-owner / attrs in listings (items carry no attrs).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "obj_int.h"

#define LIST_MAX 1000

int obj__keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

size_t obj__prefix_end(const char *p, size_t len, char *out)
{
    while (len > 0 && (unsigned char)p[len - 1] == 0xff)
        len--;
    if (len == 0)
        return 0;
    memcpy(out, p, len);
    out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
    out[len] = '\0';
    return len;
}

size_t obj__common_prefix(const char *key, size_t klen, size_t plen, const char *delim, size_t dlen)
{
    size_t i = 0;

    if (delim == NULL || dlen == 0 || klen < plen + dlen)
        return 0;
    for (i = plen; i + dlen <= klen; i++)
        if (memcmp(key + i, delim, dlen) == 0)
            return i + dlen;
    return 0;
}

int obj__list_start(obj__bound *b, const char *prefix, const char *start_after, const char *delim)
{
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    size_t slen = start_after != NULL ? strlen(start_after) : 0;
    size_t dlen = delim != NULL ? strlen(delim) : 0;
    char cand[OBJ_MAX_KEY + 2];
    size_t clen = 0;

    memset(b, 0, sizeof(*b));
    if (plen > OBJ_MAX_KEY || slen > OBJ_MAX_KEY)
        return -CN_EINVALID_ARGUMENT;
    if (plen > 0)
        memcpy(b->lo, prefix, plen);
    b->lo_len = plen;
    b->hi_len = obj__prefix_end(prefix != NULL ? prefix : "", plen, b->hi);
    if (slen == 0)
        return 0;
    if (slen >= plen && memcmp(start_after, prefix != NULL ? prefix : "", plen) == 0 &&
        obj__common_prefix(start_after, slen, plen, delim, dlen) == slen) {
        clen = obj__prefix_end(start_after, slen, cand);
        if (clen == 0) {
            b->empty = 1;
            return 0;
        }
    } else {
        memcpy(cand, start_after, slen);
        cand[slen] = '\0';
        clen = slen + 1; /* the byte after is the NUL: the smallest key > start_after */
    }
    if (obj__keycmp(cand, clen, b->lo, b->lo_len) > 0) {
        memcpy(b->lo, cand, clen);
        b->lo_len = clen;
    }
    return 0;
}

int obj__list_past_hi(const obj__bound *b, const char *key, size_t klen)
{
    return b->hi_len != 0 && obj__keycmp(key, klen, b->hi, b->hi_len) >= 0;
}

int obj__strv_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return -CN_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (cn_grow(v, cap, *n, sizeof(**v), 16) != 0) {
        free(copy);
        return -CN_ENOMEM;
    }
    (*v)[(*n)++] = copy;
    return 0;
}

/* One range scan from w->b.lo; returns 1 when it stopped at a common prefix
 * (caller restarts from the new lo), 0 when the walk is complete. */
static int walk_scan(obj__conn *c, obj__walk *w, int *rc)
{
    size_t plen = w->prefix != NULL ? strlen(w->prefix) : 0;
    size_t dlen = w->delimiter != NULL ? strlen(w->delimiter) : 0;
    sqlite3_stmt *st = NULL;
    int step = 0;

    *rc = obj__stmt(c, w->sql, &st);
    if (*rc != 0)
        return 0;
    sqlite3_bind_text(st, 1, w->bucket, -1, SQLITE_STATIC);
    obj__bind_key(st, 2, w->b.lo, w->b.lo_len);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = sqlite3_column_blob(st, w->key_col);
        size_t klen = (size_t)sqlite3_column_bytes(st, w->key_col), cp = 0;
        if (obj__list_past_hi(&w->b, key, klen))
            break;
        if (w->skip != NULL && w->skip(w->arg, st, key, klen))
            continue;
        if ((int)w->n >= w->max) {
            w->truncated = 1;
            break;
        }
        cp = obj__common_prefix(key, klen, plen, w->delimiter, dlen);
        if (cp == 0)
            *rc = w->take(w->arg, st);
        else
            *rc = obj__strv_push(&w->prefixes, &w->n_prefixes, &w->cap_prefixes, key, cp);
        if (*rc != 0)
            return 0;
        w->n++;
        w->last_prefix = cp != 0;
        if (cp == 0)
            continue;
        w->b.lo_len = obj__prefix_end(key, cp, w->b.lo);
        return w->b.lo_len != 0;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        *rc = obj__sqlerr(c, step, w->what);
    return 0;
}

int obj__list_walk(obj__conn *c, obj__walk *w)
{
    int rc = obj__bucket_exists(c, w->bucket);

    if (rc != 0 || w->max == 0 || w->b.empty)
        return rc;
    while (walk_scan(c, w, &rc) && rc == 0) {
        /* restarted past a common prefix: scan again from the new lo */
    }
    return rc;
}

typedef struct list_ctx {
    const obj_list_args *a;
    obj_list_result *out;
    obj__walk w;
    size_t cap_items;
} list_ctx;

static int take_item(void *arg, sqlite3_stmt *st)
{
    list_ctx *l = arg;
    obj_list_result *r = l->out;
    if (cn_grow(&r->items, &l->cap_items, r->n_items, sizeof(r->items[0]), 16) != 0)
        return -CN_ENOMEM;
    if (obj__ver_from_row(st, l->a->bucket, 0, &r->items[r->n_items]) != 0)
        return -CN_ENOMEM;
    r->n_items++;
    return 0;
}

static int list_read(obj__conn *c, void *arg)
{
    list_ctx *l = arg;
    obj_list_result *r = l->out;
    const char *last = NULL;
    int rc = obj__list_walk(c, &l->w);

    r->prefixes = l->w.prefixes;
    r->n_prefixes = l->w.n_prefixes;
    r->truncated = l->w.truncated;
    if (rc != 0 || !r->truncated || l->w.n == 0)
        return rc;
    /* the next page starts after the last entry, row or common prefix */
    last = l->w.last_prefix ? r->prefixes[r->n_prefixes - 1] : r->items[r->n_items - 1].key;
    r->next_marker = strdup(last);
    return r->next_marker != NULL ? 0 : -CN_ENOMEM;
}

int obj_list(obj_store *s, const obj_list_args *a, obj_list_result *out)
{
    list_ctx l = {.a = a, .out = out};
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (a->bucket == NULL)
        return -CN_ENO_BUCKET;
    l.w = (obj__walk){
        .sql = "SELECT " OBJ__VCOLS " FROM versions WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0 "
               "AND key >= ?2 ORDER BY key",
        .what = "list",
        .key_col = 1,
        .bucket = a->bucket,
        .prefix = a->prefix,
        .delimiter = a->delimiter,
        .max = a->max_keys < 0 || a->max_keys > LIST_MAX ? LIST_MAX : a->max_keys,
        .take = take_item,
        .arg = &l,
    };
    rc = obj__list_start(&l.w.b, a->prefix, a->start_after, a->delimiter);
    if (rc == 0)
        rc = obj__meta_read(s->meta, list_read, &l);
    if (rc != 0)
        obj_list_dispose(out);
    return rc;
}

void obj__list_free(obj_version *items, size_t n_items, char **prefixes, size_t n_prefixes)
{
    for (size_t i = 0; i < n_items; i++)
        obj_version_dispose(&items[i]);
    for (size_t i = 0; i < n_prefixes; i++)
        free(prefixes[i]);
    free(items);
    free(prefixes);
}

void obj_list_dispose(obj_list_result *r)
{
    if (r == NULL)
        return;
    obj__list_free(r->items, r->n_items, r->prefixes, r->n_prefixes);
    free(r->next_marker);
    memset(r, 0, sizeof(*r));
}
