/*
 * vault: the providers and placements of the configuration, the online
 * latency of every provider, and blob layouts (seal_ref) with their text
 * form in the metadata store.
 *
 * Design notes:
 *  1. Providers are created once and shared; a layout names its providers
 *     by id, so a blob stays readable after its placement is changed or
 *     removed from the configuration, as long as the providers stay.
 *  2. Latency is an exponentially weighted average (1/5 weight to the newest
 *     sample) of get() times in microseconds; a failure counts as a 1 s
 *     answer, so a dead provider sinks to the end of the order and comes
 *     back as soon as it answers well again (it still serves when needed).
 *  3. A layout's text is one line, fields separated by single spaces:
 *       1 <class> <scheme> <segment> <prov,prov,...> <wrapped-key-hex>
 *     with scheme "plain" or "<k>+<m>" and "-" for the key of a plain
 *     layout. The leading 1 is the layout version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "sealint.h"

#define LAT_FAIL_US 1e6
/* A parity shard must be much faster than a data shard to be read in its
 * place: reading parity costs a decode and a copy, and local disks differ
 * by noise only. Its latency counts twice, plus 2 ms. */
#define PARITY_FACTOR 2.0
#define PARITY_EXTRA_US 2000.0

static int id_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > SEAL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static ssize_t prov_index(const seal_vault *v, const char *id)
{
    for (size_t i = 0; i < v->n_prov; i++)
        if (strcmp(v->prov[i].p->id, id) == 0)
            return (ssize_t)i;
    return -1;
}

static int make_providers(seal_vault *v, const seal_config *cfg, unsigned flags, char *err, size_t errcap)
{
    v->prov = calloc(cfg->n_providers ? cfg->n_providers : 1, sizeof(*v->prov));
    if (v->prov == NULL)
        return -CN_ENOMEM;
    for (size_t i = 0; i < cfg->n_providers; i++) {
        const seal_provider_cfg *pc = &cfg->providers[i];
        const be_driver *d = be_driver_find(pc->driver != NULL ? pc->driver : "");
        int rc = 0;
        if (!id_valid(pc->id) || prov_index(v, pc->id) >= 0) {
            snprintf(err, errcap, "provider '%s': the id must be unique, 1-63 of [A-Za-z0-9_-]", pc->id);
            return -CN_EINVALID_ARGUMENT;
        }
        if (d == NULL) {
            snprintf(err, errcap, "provider '%s': unknown driver '%s' (posix, s3, azure)", pc->id,
                     pc->driver ? pc->driver : "");
            return -CN_EINVALID_ARGUMENT;
        }
        rc = d->create(&v->prov[v->n_prov].p, pc->id, pc->opts, pc->n_opts);
        if (rc == 0)
            v->n_prov++;
        if (rc == 0 && !(flags & SEAL_VAULT_NO_SWEEP))
            rc = d->sweep(v->prov[v->n_prov - 1].p);
        if (rc != 0) {
            snprintf(err, errcap, "provider '%s' (%s): %s", pc->id, d->name, cn_err_info(rc)->message);
            return rc;
        }
    }
    return 0;
}

/* "plain", "rN" (1+(N-1)) or "k+m": digits and the one sign, nothing else. */
static int parse_scheme(const char *s, seal__class *c)
{
    int a = 0, b = 0, used = 0;

    if (strcmp(s, "plain") != 0 && strspn(s + (s[0] == 'r'), "0123456789+") != strlen(s + (s[0] == 'r')))
        return -CN_EINVALID_ARGUMENT;
    if (s[0] == '+' || strstr(s, "++") != NULL)
        return -CN_EINVALID_ARGUMENT;

    if (strcmp(s, "plain") == 0) {
        c->plain = 1;
        c->k = 1;
        return 0;
    }
    if (sscanf(s, "r%d%n", &a, &used) == 1 && s[used] == '\0' && a >= 1 && a <= SEAL_RS_MAX_M + 1) {
        c->k = 1;
        c->m = a - 1;
        return 0;
    }
    if (sscanf(s, "%d+%d%n", &a, &b, &used) == 2 && s[used] == '\0' && a >= 1 && a <= SEAL_RS_MAX_K && b >= 0 &&
        b <= SEAL_RS_MAX_M) {
        c->k = a;
        c->m = b;
        return 0;
    }
    return -CN_EINVALID_ARGUMENT;
}

static int make_class(seal_vault *v, const seal_class_cfg *cc, seal__class *c, char *err, size_t errcap)
{
    size_t n = 0;

    if (!id_valid(cc->name) || parse_scheme(cc->scheme != NULL ? cc->scheme : "", c) != 0) {
        snprintf(err, errcap,
                 "placement '%s': a name of [A-Za-z0-9_-] and a scheme plain, rN (N <= 5) or k+m "
                 "(k <= 16, m <= 4) are required",
                 cc->name);
        return -CN_EINVALID_ARGUMENT;
    }
    snprintf(c->name, sizeof(c->name), "%s", cc->name);
    n = (size_t)(c->k + c->m);
    if (cc->n_providers != n) {
        snprintf(err, errcap, "placement '%s': scheme %s needs %zu providers, %zu given", cc->name, cc->scheme, n,
                 cc->n_providers);
        return -CN_EINVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        ssize_t p = prov_index(v, cc->providers[i]);
        if (p < 0) {
            snprintf(err, errcap, "placement '%s': unknown provider '%s'", cc->name, cc->providers[i]);
            return -CN_EINVALID_ARGUMENT;
        }
        for (size_t j = 0; j < i; j++)
            if (c->prov[j] == (size_t)p) {
                /* two shards on one provider: one failure would take both */
                snprintf(err, errcap, "placement '%s': provider '%s' is listed twice", cc->name, cc->providers[i]);
                return -CN_EINVALID_ARGUMENT;
            }
        c->prov[i] = (size_t)p;
    }
    c->segment = cc->segment_size != 0 ? cc->segment_size : SEAL_DEFAULT_SEGMENT;
    /* One shard beyond k survives one more failure before repair; half the parity keeps writes up with m/2 down. */
    c->quorum = cc->quorum != 0 ? cc->quorum : c->k + c->m / 2;
    if (c->plain)
        c->quorum = 1;
    if (c->quorum < c->k || c->quorum > c->k + c->m || c->segment < 4096 || c->segment > (64u << 20)) {
        snprintf(err, errcap, "placement '%s': quorum must be within [k, k+m], segment_size within [4K, 64M]",
                 cc->name);
        return -CN_EINVALID_ARGUMENT;
    }
    return 0;
}

static const seal__class *class_find(const seal_vault *v, const char *name)
{
    for (size_t i = 0; i < v->n_cls; i++)
        if (strcmp(v->cls[i].name, name) == 0)
            return &v->cls[i];
    return NULL;
}

static int make_classes(seal_vault *v, const seal_config *cfg, char *err, size_t errcap)
{
    v->cls = calloc(cfg->n_classes ? cfg->n_classes : 1, sizeof(*v->cls));
    if (v->cls == NULL)
        return -CN_ENOMEM;
    if (cfg->n_classes == 0) {
        snprintf(err, errcap, "no placement is configured");
        return -CN_EINVALID_ARGUMENT;
    }
    for (size_t i = 0; i < cfg->n_classes; i++) {
        int rc = make_class(v, &cfg->classes[i], &v->cls[i], err, errcap);
        if (rc != 0)
            return rc;
        if (class_find(v, v->cls[i].name) != NULL) {
            snprintf(err, errcap, "placement '%s' is defined twice", v->cls[i].name);
            return -CN_EINVALID_ARGUMENT;
        }
        v->n_cls++;
        if (cfg->default_class != NULL && strcmp(cfg->default_class, v->cls[i].name) == 0)
            v->def = i;
    }
    if (cfg->default_class != NULL && !seal_vault_has_class(v, cfg->default_class)) {
        snprintf(err, errcap, "default placement '%s' is not configured", cfg->default_class);
        return -CN_EINVALID_ARGUMENT;
    }
    return 0;
}

int seal_vault_create(seal_vault **out, const seal_config *cfg, const cn_mkey *mk, unsigned flags, char *err,
                      size_t errcap)
{
    seal_vault *v = calloc(1, sizeof(*v));
    int rc = 0;

    *out = NULL;
    if (v == NULL)
        return -CN_ENOMEM;
    pthread_mutex_init(&v->mu, NULL);
    v->mk = mk;
    rc = make_providers(v, cfg, flags, err, errcap);
    if (rc == 0)
        rc = make_classes(v, cfg, err, errcap);
    if (rc != 0) {
        seal_vault_destroy(v);
        return rc;
    }
    *out = v;
    return 0;
}

void seal_vault_destroy(seal_vault *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_prov; i++)
        v->prov[i].p->driver->destroy(v->prov[i].p);
    for (int k = 0; k <= SEAL_RS_MAX_K; k++)
        for (int m = 0; m <= SEAL_RS_MAX_M; m++)
            seal_rs_destroy(v->rs[k][m]);
    pthread_mutex_destroy(&v->mu);
    free(v->prov);
    free(v->cls);
    free(v);
}

int seal_vault_has_class(const seal_vault *v, const char *name)
{
    return name != NULL && class_find(v, name) != NULL;
}

const char *seal_vault_default_class(const seal_vault *v)
{
    return v->cls[v->def].name;
}

void seal_vault_set_master(seal_vault *v, const cn_mkey *mk)
{
    v->mk = mk;
}

int seal_ref_new(seal_vault *v, const char *cls, const char *locator, uint64_t size, seal_ref *out)
{
    const seal__class *c = class_find(v, cls != NULL ? cls : seal_vault_default_class(v));
    uint8_t key[32];
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (c == NULL)
        return -CN_EINVALID_STORAGE_CLASS;
    snprintf(out->cls, sizeof(out->cls), "%s", c->name);
    snprintf(out->locator, sizeof(out->locator), "%s", locator);
    out->plain = c->plain;
    out->k = c->k;
    out->m = c->m;
    out->segment = c->segment;
    out->size = size;
    out->quorum = c->quorum;
    for (int i = 0; i < c->k + c->m; i++)
        snprintf(out->prov[i], sizeof(out->prov[i]), "%s", v->prov[c->prov[i]].p->id);
    if (c->plain)
        return 0;
    if (cn_unhex(out->id, sizeof(out->id), locator, strlen(locator)) != (int)sizeof(out->id))
        return -CN_EINVALID_ARGUMENT;
    rc = cn_random(key, sizeof(key));
    if (rc == 0)
        rc = seal__wrap(v->mk, out, key);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int seal_ref_format(const seal_ref *r, char *out, size_t cap)
{
    char provs[SEAL_MAX_SHARDS * (SEAL_NAME_MAX + 1)] = "", key[2 * sizeof(r->wrapped) + 1] = "-", scheme[16];
    size_t used = 0;
    int n = 0;

    for (int i = 0; i < r->k + r->m; i++)
        used += (size_t)snprintf(provs + used, sizeof(provs) - used, "%s%s", i ? "," : "", r->prov[i]);
    if (!r->plain)
        cn_hex(key, r->wrapped, r->wrapped_len);
    if (r->plain)
        snprintf(scheme, sizeof(scheme), "plain");
    else
        snprintf(scheme, sizeof(scheme), "%d+%d", r->k, r->m);
    n = snprintf(out, cap, "1 %s %s %u %s %s", r->cls, scheme, r->segment, provs, key);
    return n > 0 && (size_t)n < cap ? 0 : -CN_ETOOLARGE;
}

static int parse_provs(seal_ref *r, char *list)
{
    int n = 0;

    for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        if (n == SEAL_MAX_SHARDS || strlen(p) > SEAL_NAME_MAX)
            return -CN_EINTERNAL;
        snprintf(r->prov[n++], sizeof(r->prov[0]), "%s", p);
    }
    return n == r->k + r->m ? 0 : -CN_EINTERNAL;
}

int seal_ref_parse(seal_ref *r, const char *locator, uint64_t size, const char *text)
{
    char cls[SEAL_NAME_MAX + 1], scheme[16], provs[SEAL_MAX_SHARDS * (SEAL_NAME_MAX + 1)], key[160];
    seal__class c = {0};
    int ver = 0;

    memset(r, 0, sizeof(*r));
    if (sscanf(text, "%d %63s %15s %u %1279s %159s", &ver, cls, scheme, &r->segment, provs, key) != 6 || ver != 1 ||
        parse_scheme(scheme, &c) != 0 || r->segment == 0)
        return -CN_EINTERNAL;
    snprintf(r->cls, sizeof(r->cls), "%s", cls);
    snprintf(r->locator, sizeof(r->locator), "%s", locator);
    r->plain = c.plain;
    r->k = c.k;
    r->m = c.m;
    r->size = size;
    if (parse_provs(r, provs) != 0)
        return -CN_EINTERNAL;
    if (r->plain)
        return 0;
    if (cn_unhex(r->id, sizeof(r->id), locator, strlen(locator)) != (int)sizeof(r->id))
        return -CN_EINTERNAL;
    r->wrapped_len = strlen(key) / 2;
    return cn_unhex(r->wrapped, sizeof(r->wrapped), key, strlen(key)) == (int)r->wrapped_len ? 0 : -CN_EINTERNAL;
}

int seal_ref_rewrap(seal_ref *r, const cn_mkey *old_mk, const cn_mkey *new_mk)
{
    uint8_t key[32];
    char aad[64];
    size_t n = 0;
    int rc = 0;

    if (r->plain)
        return 0;
    snprintf(aad, sizeof(aad), "cairn-blob-key-v1:%s", r->locator);
    rc = cn_mkey_open(old_mk, aad, strlen(aad), r->wrapped, r->wrapped_len, key, sizeof(key), &n);
    if (rc == 0)
        rc = n == sizeof(key) ? seal__wrap(new_mk, r, key) : -CN_EINTERNAL;
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

be_provider *seal__provider(seal_vault *v, const seal_ref *r, int i, size_t *idx)
{
    ssize_t p = prov_index(v, r->prov[i]);

    if (p < 0)
        return NULL;
    if (idx != NULL)
        *idx = (size_t)p;
    return v->prov[p].p;
}

const seal_rs *seal__rs(seal_vault *v, int k, int m)
{
    seal_rs *rs = NULL;

    pthread_mutex_lock(&v->mu);
    if (v->rs[k][m] == NULL && seal_rs_create(&v->rs[k][m], k, m) != 0)
        v->rs[k][m] = NULL;
    rs = v->rs[k][m];
    pthread_mutex_unlock(&v->mu);
    return rs;
}

void seal__lat_note(seal_vault *v, size_t idx, uint64_t us, int failed)
{
    double sample = failed ? LAT_FAIL_US : (double)us;

    pthread_mutex_lock(&v->mu);
    v->prov[idx].lat_us = v->prov[idx].lat_us == 0 ? sample : 0.8 * v->prov[idx].lat_us + 0.2 * sample;
    pthread_mutex_unlock(&v->mu);
}

void seal__rank(seal_vault *v, const seal_ref *r, int order[SEAL_MAX_SHARDS])
{
    double lat[SEAL_MAX_SHARDS];
    int n = r->k + r->m;

    pthread_mutex_lock(&v->mu);
    for (int i = 0; i < n; i++) {
        ssize_t p = prov_index(v, r->prov[i]);
        lat[i] = p < 0 ? 2 * LAT_FAIL_US : v->prov[p].lat_us;
        if (i >= r->k)
            lat[i] = lat[i] * PARITY_FACTOR + PARITY_EXTRA_US;
    }
    pthread_mutex_unlock(&v->mu);
    /* insertion sort: n <= 20; stable, so ties keep data shards first */
    for (int i = 0; i < n; i++) {
        int j = i;
        order[i] = i;
        while (j > 0 && lat[order[j - 1]] > lat[order[j]]) {
            int t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
            j--;
        }
    }
}
