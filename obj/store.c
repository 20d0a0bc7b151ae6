/*
 * store: opening and closing the object layer, and recovery after a crash.
 *
 * Open order matters: the provider is created and swept (temporaries of
 * interrupted puts), the metadata store is opened (SQLite replays its WAL),
 * the master key is loaded and checked against the store (keys.c), the
 * region key is loaded or made (lineage.c), then
 * every pending blob intent is resolved by deleting its provider object
 * and its row. Only then may workers write, so recovery never races a put.
 *
 * Owns: the metadata store and the provider handle. obj_store_close() must
 * be called after every worker has stopped using the store.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/util.h"
#include "obj_int.h"

#define DEFAULT_GRACE_S 60

int64_t obj__now_ms(void)
{
    return (int64_t)(cn_now_us() / 1000);
}

void obj__col_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    size_t n = v != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

char *obj__col_dup(sqlite3_stmt *st, int col)
{
    const void *v = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *out = malloc(n + 1);

    if (out == NULL)
        return NULL;
    if (n > 0)
        memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

static int open_provider(obj_store *s, const obj_config *cfg)
{
    const be_driver *d = be_driver_find(cfg->provider != NULL ? cfg->provider : "posix");
    char path[PATH_MAX];
    be_option opt = {.key = "path", .value = cfg->provider_path};
    int rc = 0;

    if (d == NULL)
        return -CN_EINVALID_ARGUMENT;
    if (opt.value == NULL) {
        snprintf(path, sizeof(path), "%s/blobs", cfg->data_dir);
        opt.value = path;
    }
    rc = d->create(&s->prov, "default", &opt, 1);
    if (rc == 0)
        rc = d->sweep(s->prov);
    return rc;
}

int obj_store_recover(obj_store *s)
{
    int rc = s->prov->driver->sweep(s->prov);

    if (rc == 0)
        rc = obj__blob_recover(s);
    return rc;
}

int obj_store_open(obj_store **out, const obj_config *cfg)
{
    obj_store *s = NULL;
    char path[PATH_MAX];
    int rc = 0;

    *out = NULL;
    if (cfg == NULL || cfg->data_dir == NULL)
        return -CN_EINVALID_ARGUMENT;
    if (mkdir(cfg->data_dir, 0755) != 0 && access(cfg->data_dir, W_OK) != 0)
        return -CN_EIO;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -CN_ENOMEM;
    snprintf(s->region, sizeof(s->region), "%s", cfg->region != NULL ? cfg->region : "us-east-1");
    s->gc_grace_ms = (int64_t)(cfg->gc_grace_seconds != 0 ? cfg->gc_grace_seconds : DEFAULT_GRACE_S) * 1000;
    s->inline_max = cfg->inline_max == 0 ? OBJ_INLINE_DEFAULT : cfg->inline_max == OBJ_INLINE_OFF ? 0 : cfg->inline_max;
    rc = open_provider(s, cfg);
    if (rc != 0)
        goto out;
    snprintf(path, sizeof(path), "%s/meta.db", cfg->data_dir);
    rc = obj__meta_open(&s->meta, path);
    if (rc == 0)
        rc = obj__keys_open(s, cfg, path);
    if (rc == 0)
        rc = obj__lineage_open(s, cfg);
    if (rc == 0)
        rc = obj__blob_recover(s);
out:
    if (rc != 0)
        obj_store_close(s);
    else
        *out = s;
    return rc;
}

void obj_store_close(obj_store *s)
{
    if (s == NULL)
        return;
    obj__meta_close(s->meta);
    if (s->prov != NULL)
        s->prov->driver->destroy(s->prov);
    cn_mkey_destroy(s->mkey);
    free(s->mkey_file);
    cn_rkey_destroy(s->rkey);
    free(s->rkey_file);
    free(s);
}
