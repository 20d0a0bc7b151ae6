/*
 * store: opening and closing the object layer, and recovery after a crash.
 *
 * Open order matters: the metadata store is opened (SQLite replays its
 * WAL), the master key is loaded and checked against the store (keys.c),
 * the vault is made (seal/: every provider created and swept of the
 * temporaries of interrupted puts; the master key wraps blob keys), the
 * region key is loaded or made (lineage.c), then
 * every pending blob intent is resolved by deleting its shards and its row. Only then may workers write, so recovery
 * never races a put.
 *
 * Owns: the metadata store and the vault. obj_store_close() must
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

/* The embedded default (obj.h, obj_config.seal). */
typedef struct default_seal {
    char path[4][PATH_MAX];
    be_option opt[4];
    seal_provider_cfg prov[4];
    const char *names[3];
    seal_class_cfg cls;
    seal_config cfg;
} default_seal;

static void default_seal_init(default_seal *d, const char *data_dir)
{
    static const char *const ids[] = {"default", "local0", "local1", "local2"};

    memset(d, 0, sizeof(*d));
    for (int i = 0; i < 4; i++) {
        snprintf(d->path[i], sizeof(d->path[i]), "%s/%s", data_dir, i == 0 ? "blobs" : ids[i]);
        d->opt[i] = (be_option){.key = "path", .value = d->path[i]};
        d->prov[i] = (seal_provider_cfg){.id = ids[i], .driver = "posix", .opts = &d->opt[i], .n_opts = 1};
        if (i > 0)
            d->names[i - 1] = ids[i];
    }
    d->cls = (seal_class_cfg){.name = "STANDARD", .scheme = "2+1", .providers = d->names, .n_providers = 3};
    d->cfg = (seal_config){.providers = d->prov, .n_providers = 4, .classes = &d->cls, .n_classes = 1};
}

static int open_vault(obj_store *s, const obj_config *cfg)
{
    default_seal *d = NULL;
    char err[512] = "";
    int rc = 0;

    if (cfg->seal == NULL && (d = malloc(sizeof(*d))) == NULL)
        return -CN_ENOMEM;
    if (d != NULL)
        default_seal_init(d, cfg->data_dir);
    rc = seal_vault_create(&s->vault, d != NULL ? &d->cfg : cfg->seal, s->mkey, cfg->attach ? SEAL_VAULT_NO_SWEEP : 0,
                           err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "cairn: storage: %s\n", err[0] ? err : cn_err_info(rc)->message);
    free(d);
    return rc;
}

int obj_store_recover(obj_store *s)
{
    return obj__blob_recover(s);
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
    snprintf(path, sizeof(path), "%s/meta.db", cfg->data_dir);
    rc = obj__meta_open(&s->meta, path);
    if (rc == 0)
        rc = obj__keys_open(s, cfg, path);
    if (rc == 0)
        rc = open_vault(s, cfg);
    if (rc == 0)
        rc = obj__lineage_open(s, cfg);
    if (rc == 0 && !cfg->attach)
        rc = obj__blob_recover(s);
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
    seal_vault_destroy(s->vault);
    cn_mkey_destroy(s->mkey);
    free(s->mkey_file);
    cn_rkey_destroy(s->rkey);
    free(s->rkey_file);
    free(s);
}
