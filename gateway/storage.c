/*
 * storage: the providers and placements sections of the configuration,
 * turned into the seal_config that the object layer opens its vault with.
 *
 *   providers:
 *     disk0: {driver: posix, path: /srv/disk0}
 *     s3a:   {driver: s3, endpoint: "http://127.0.0.1:9100", bucket: b, access_key: .., secret_key: ..}
 *   placements:
 *     STANDARD: {scheme: "2+1", providers: [disk0, disk1, s3a]}
 *     COLD:     {scheme: r2, providers: [disk0, s3a], segment_size: 4M, quorum: 2}
 *
 * Every key of a provider other than driver is handed to its driver as an
 * option (backends/<driver>.c documents them). Neither section: the
 * embedded default of obj_config (three local disks, RS 2+1, sealed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "gwint.h"

static int prov_add(gw_storage *st, const gw_entry *e)
{
    size_t cap = st->n_prov;
    seal_provider_cfg *p = NULL;

    for (size_t i = 0; i < st->n_prov; i++)
        if (strcmp(st->prov[i].id, e->name) == 0)
            return (int)i;
    if (cn_grow(&st->prov, &cap, st->n_prov, sizeof(*st->prov), 4) != 0)
        return -CN_ENOMEM;
    p = &st->prov[st->n_prov];
    memset(p, 0, sizeof(*p));
    p->id = e->name;
    p->driver = "posix";
    return (int)st->n_prov++;
}

static int prov_set(gw_storage *st, const gw_entry *e)
{
    int i = prov_add(st, e);
    seal_provider_cfg *p = NULL;
    size_t cap = 0;
    be_option *o = NULL;

    if (i < 0)
        return i;
    p = &st->prov[i];
    if (strcmp(e->key, "driver") == 0) {
        p->driver = e->value;
        return 0;
    }
    cap = p->n_opts;
    o = (be_option *)p->opts;
    if (cn_grow(&o, &cap, p->n_opts, sizeof(*o), 4) != 0)
        return -CN_ENOMEM;
    o[p->n_opts++] = (be_option){.key = e->key, .value = e->value};
    p->opts = o;
    return 0;
}

static seal_class_cfg *class_get(gw_storage *st, const char *name)
{
    size_t cap = st->n_cls;

    for (size_t i = 0; i < st->n_cls; i++)
        if (strcmp(st->cls[i].name, name) == 0)
            return &st->cls[i];
    if (cn_grow(&st->cls, &cap, st->n_cls, sizeof(*st->cls), 4) != 0)
        return NULL;
    memset(&st->cls[st->n_cls], 0, sizeof(st->cls[0]));
    st->cls[st->n_cls].name = name;
    return &st->cls[st->n_cls++];
}

/* "a,b,c" into the class's provider list (the strings point into a copy). */
static int class_providers(gw_storage *st, seal_class_cfg *c, const char *list)
{
    char *copy = strdup(list), **names = NULL;
    size_t n = 0, cap = 0;

    if (copy == NULL || cn_grow(&st->strings, &st->cap_strings, st->n_strings, sizeof(char *), 8) != 0) {
        free(copy);
        return -CN_ENOMEM;
    }
    st->strings[st->n_strings++] = copy;
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
        if (cn_grow(&names, &cap, n, sizeof(*names), 4) != 0)
            return -CN_ENOMEM;
        names[n++] = t;
    }
    free((void *)c->providers);
    c->providers = (const char *const *)names;
    c->n_providers = n;
    return 0;
}

static int class_set(gw_storage *st, const gw_entry *e, char *err, size_t errcap)
{
    seal_class_cfg *c = class_get(st, e->name);
    char *end = NULL;
    unsigned long long n = 0;

    if (c == NULL)
        return -CN_ENOMEM;
    if (strcmp(e->key, "scheme") == 0) {
        c->scheme = e->value;
        return 0;
    }
    if (strcmp(e->key, "providers") == 0)
        return class_providers(st, c, e->value);
    n = strtoull(e->value, &end, 10);
    if (strcmp(e->key, "quorum") == 0 && end != e->value && *end == '\0' && n <= SEAL_MAX_SHARDS) {
        c->quorum = (int)n;
        return 0;
    }
    if (strcmp(e->key, "segment_size") == 0 && end != e->value && n <= (64ull << 20) &&
        (*end == '\0' || strcmp(end, "K") == 0 || strcmp(end, "M") == 0)) {
        c->segment_size = (uint32_t)(n << (*end == 'K' ? 10 : *end == 'M' ? 20 : 0));
        return 0;
    }
    snprintf(err, errcap, "placements.%s.%s: unknown key or bad value '%s' (scheme, providers, segment_size, quorum)",
             e->name, e->key, e->value);
    return -CN_EINVALID_ARGUMENT;
}

int gw_storage_build(const gw_config *c, gw_storage *st, char *err, size_t errcap)
{
    int rc = 0;

    memset(st, 0, sizeof(*st));
    for (size_t i = 0; rc >= 0 && i < c->n_entries; i++) {
        const gw_entry *e = &c->entries[i];
        rc = strcmp(e->section, "providers") == 0 ? prov_set(st, e) : class_set(st, e, err, errcap);
    }
    if (rc < 0) {
        gw_storage_dispose(st);
        return rc;
    }
    st->cfg = (seal_config){.providers = st->prov,
                            .n_providers = st->n_prov,
                            .classes = st->cls,
                            .n_classes = st->n_cls,
                            .default_class = c->default_class[0] != '\0' ? c->default_class : NULL};
    return 0;
}

const seal_config *gw_storage_config(const gw_storage *st)
{
    return st->n_prov == 0 && st->n_cls == 0 ? NULL : &st->cfg;
}

void gw_storage_dispose(gw_storage *st)
{
    for (size_t i = 0; i < st->n_prov; i++)
        free((void *)st->prov[i].opts);
    for (size_t i = 0; i < st->n_cls; i++)
        free((void *)st->cls[i].providers);
    for (size_t i = 0; i < st->n_strings; i++)
        free(st->strings[i]);
    free(st->prov);
    free(st->cls);
    free(st->strings);
    memset(st, 0, sizeof(*st));
}
