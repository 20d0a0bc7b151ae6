/*
 * lineage: canonical records, their hashes and Ed25519 signatures
 * (lineage.h; the byte format is docs/LINEAGE.md, versions 1 and 2).
 *
 * Design notes:
 *  1. Every field is length-prefixed ("name len:bytes\n"), so no key, etag
 *     or region, whatever bytes it holds, can make two different records
 *     encode alike; the field order is fixed and numbers are plain decimal.
 *  2. What is signed is the record hash, not the canonical form: a verifier
 *     holding only hashes (a parent link) can still check a signature.
 *  3. User metadata and tags are not covered: tags may change after a
 *     version is written, and metadata is not part of an object's history.
 *  4. Version 2 differs from version 1 only in the sources: a count, then
 *     one derived_from line per source in ascending order, so a set of
 *     sources has exactly one encoding. Records with at most the one
 *     derived_from of a copy stay version 1, byte for byte, so every record
 *     signed before version 2 existed still verifies.
 *
 * Not done here: reading records from the store (obj/lineage.c) or from a
 * JSON document (gateway/lineage_cmd.c).
 */
#include "lineage.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyfile.h"
#include "util.h"

struct cn_rkey {
    EVP_PKEY *pk;
    char pub_hex[2 * CN_LIN_PUB_LEN + 1];
};

static int field(cn_buf *b, const char *name, const char *v, size_t n)
{
    int rc = cn_buf_printf(b, "%s %zu:", name, n);

    if (rc == 0)
        rc = cn_buf_append(b, v, n);
    if (rc == 0)
        rc = cn_buf_append(b, "\n", 1);
    return rc;
}

static int field_str(cn_buf *b, const char *name, const char *v)
{
    return field(b, name, v != NULL ? v : "", v != NULL ? strlen(v) : 0);
}

static int field_num(cn_buf *b, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int field_num(cn_buf *b, const char *name, const char *fmt, ...)
{
    char v[96];
    va_list ap;
    int n = 0;

    va_start(ap, fmt);
    n = vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= sizeof(v) ? -CN_EINTERNAL : field(b, name, v, (size_t)n);
}

/* derived_from: version 1's single line, or version 2's count and list. */
static int sources(cn_buf *b, const cn_lin_record *r)
{
    int rc = 0;

    if (r->n_sources == 0)
        return field_str(b, "derived_from", r->derived_hash);
    for (size_t i = 1; i < r->n_sources; i++)
        if (r->sources[i - 1] == NULL || r->sources[i] == NULL || strcmp(r->sources[i - 1], r->sources[i]) >= 0)
            return -CN_EINVALID_ARGUMENT;
    rc = field_num(b, "sources", "%zu", r->n_sources);
    for (size_t i = 0; rc == 0 && i < r->n_sources; i++)
        rc = field_str(b, "derived_from", r->sources[i]);
    return rc;
}

int cn_lin_canonical(const cn_lin_record *r, cn_buf *b)
{
    int rc = cn_buf_puts(b, r->n_sources > 0 ? CN_LIN_FORMAT_V2 "\n" : CN_LIN_FORMAT "\n");

    if (rc == 0)
        rc = field_str(b, "bucket", r->bucket);
    if (rc == 0)
        rc = field(b, "key", r->key, r->key_len);
    if (rc == 0)
        rc = field_str(b, "version_id", r->version_id);
    if (rc == 0)
        rc = field_str(b, "parent", r->parent_hash);
    if (rc == 0)
        rc = sources(b, r);
    if (rc == 0)
        rc = field_num(b, "size", "%" PRIu64, r->size);
    if (rc == 0)
        rc = field_str(b, "etag", r->etag);
    if (rc == 0)
        rc = field_num(b, "created_ms", "%" PRId64, r->created_ms);
    if (rc == 0)
        rc = field_num(b, "delete_marker", "%d", r->delete_marker != 0);
    if (rc == 0)
        rc = field_str(b, "region", r->region);
    if (rc == 0)
        rc = field_num(b, "extents", "%zu", r->n_ext);
    for (size_t i = 0; rc == 0 && i < r->n_ext; i++)
        rc = field_num(b, "extent", "%s %" PRIu64 " %" PRIu64, r->ext[i].sha256, r->ext[i].off, r->ext[i].len);
    return rc;
}

int cn_lin_hash(const cn_lin_record *r, char hex[CN_LIN_HASH_HEX])
{
    unsigned char md[32];
    unsigned len = 0;
    cn_buf b;
    int rc = 0;

    cn_buf_init(&b, CN_LIN_CANON_MAX);
    rc = cn_lin_canonical(r, &b);
    if (rc == 0 && EVP_Digest(b.data, b.len, md, &len, EVP_sha256(), NULL) != 1)
        rc = -CN_EINTERNAL;
    if (rc == 0)
        cn_hex(hex, md, sizeof(md));
    cn_buf_dispose(&b);
    return rc;
}

static int from_seed(cn_rkey **out, const uint8_t seed[CN_LIN_SEED_LEN])
{
    cn_rkey *k = calloc(1, sizeof(*k));
    uint8_t pub[CN_LIN_PUB_LEN];
    size_t n = sizeof(pub);

    *out = NULL;
    if (k == NULL)
        return -CN_ENOMEM;
    k->pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, CN_LIN_SEED_LEN);
    if (k->pk == NULL || EVP_PKEY_get_raw_public_key(k->pk, pub, &n) != 1 || n != sizeof(pub)) {
        cn_rkey_destroy(k);
        return -CN_EINTERNAL;
    }
    cn_hex(k->pub_hex, pub, sizeof(pub));
    *out = k;
    return 0;
}

void cn_rkey_destroy(cn_rkey *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pk);
    free(k);
}

const char *cn_rkey_public_hex(const cn_rkey *k)
{
    return k->pub_hex;
}

int cn_rkey_generate(cn_rkey **out)
{
    uint8_t seed[CN_LIN_SEED_LEN];
    int rc = cn_random(seed, sizeof(seed));

    *out = NULL;
    if (rc == 0)
        rc = from_seed(out, seed);
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

int cn_rkey_from_text(cn_rkey **out, const char *text, char *err, size_t errcap)
{
    uint8_t seed[CN_LIN_SEED_LEN];
    size_t n = text != NULL ? strlen(text) : 0;
    int rc = 0;

    *out = NULL;
    if (n != 2 * CN_LIN_SEED_LEN || cn_unhex(seed, sizeof(seed), text, n) != CN_LIN_SEED_LEN) {
        snprintf(err, errcap, "a region key is its Ed25519 seed as 64 hex digits (%zu characters given)", n);
        rc = -CN_EINVALID_ARGUMENT;
    } else {
        rc = from_seed(out, seed);
    }
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

int cn_rkey_load_file(cn_rkey **out, const char *path, int create, int *created, char *err, size_t errcap)
{
    uint8_t seed[CN_LIN_SEED_LEN];
    int missing = 0, rc = cn_keyfile_read(path, seed, sizeof(seed), "region key", &missing, err, errcap);

    *out = NULL;
    if (created != NULL)
        *created = 0;
    if (rc != 0 && missing && create) {
        rc = cn_random(seed, sizeof(seed));
        if (rc == 0)
            rc = cn_keyfile_write(path, seed, sizeof(seed), "region key", err, errcap);
        if (rc == 0 && created != NULL)
            *created = 1;
        if (rc == -CN_ECONFLICT) /* another process made it first: use theirs */
            rc = cn_keyfile_read(path, seed, sizeof(seed), "region key", NULL, err, errcap);
    }
    if (rc == 0)
        rc = from_seed(out, seed);
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

int cn_rkey_sign(const cn_rkey *k, const char *hash_hex, uint8_t sig[CN_LIN_SIG_LEN])
{
    uint8_t h[32];
    size_t n = CN_LIN_SIG_LEN;
    EVP_MD_CTX *ctx = NULL;
    int rc = -CN_EINTERNAL;

    if (cn_unhex(h, sizeof(h), hash_hex, strlen(hash_hex)) != (int)sizeof(h))
        return -CN_EINVALID_ARGUMENT;
    ctx = EVP_MD_CTX_new();
    /* Ed25519 is one-shot: no digest is named (the scheme hashes itself) */
    if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pk) == 1 &&
        EVP_DigestSign(ctx, sig, &n, h, sizeof(h)) == 1 && n == CN_LIN_SIG_LEN)
        rc = 0;
    EVP_MD_CTX_free(ctx);
    return rc;
}

int cn_lin_verify_sig(const uint8_t pub[CN_LIN_PUB_LEN], const char *hash_hex, const uint8_t *sig, size_t sig_len)
{
    uint8_t h[32];
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *ctx = NULL;
    int rc = -CN_ESIGNATURE;

    if (hash_hex == NULL || cn_unhex(h, sizeof(h), hash_hex, strlen(hash_hex)) != (int)sizeof(h) ||
        sig_len != CN_LIN_SIG_LEN)
        return -CN_EINVALID_ARGUMENT;
    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, CN_LIN_PUB_LEN);
    ctx = EVP_MD_CTX_new();
    if (pk == NULL || ctx == NULL)
        rc = -CN_EINTERNAL;
    else if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, h, sizeof(h)) == 1)
        rc = 0;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return rc;
}

/* The reason e fails on its own (hash, signature), or NULL. */
static const char *entry_fault(const cn_lin_entry *e, const uint8_t (*pubs)[CN_LIN_PUB_LEN], size_t n_pubs)
{
    char hex[CN_LIN_HASH_HEX];
    size_t k = 0;

    if (e->record_hash == NULL || e->record_hash[0] == '\0' || e->sig == NULL)
        return "unsigned (written before lineage records)";
    if (cn_lin_hash(&e->rec, hex) != 0)
        return "record cannot be encoded";
    if (strcmp(hex, e->record_hash) != 0)
        return "record hash does not match its fields (record altered)";
    /* any of the regions' keys: a chain spans the regions that wrote it */
    while (k < n_pubs && cn_lin_verify_sig(pubs[k], e->record_hash, e->sig, e->sig_len) != 0)
        k++;
    return k < n_pubs ? NULL : "signature does not verify under the region key";
}

int cn_lin_verify_chain(const cn_lin_entry *e, size_t n, const uint8_t pub[CN_LIN_PUB_LEN], size_t *bad,
                        const char **why)
{
    return cn_lin_verify_chain_keys(e, n, (const uint8_t(*)[CN_LIN_PUB_LEN])pub, 1, bad, why);
}

int cn_lin_verify_chain_keys(const cn_lin_entry *e, size_t n, const uint8_t (*pubs)[CN_LIN_PUB_LEN], size_t n_pubs,
                             size_t *bad, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = e[i].rec.parent_hash != NULL ? e[i].rec.parent_hash : "";
        *bad = i;
        *why = entry_fault(&e[i], pubs, n_pubs);
        if (*why != NULL)
            return -CN_ESIGNATURE;
        /* the oldest record kept may name a parent that was deleted; an
         * unsigned next record is reported as such at its own turn */
        if (i + 1 < n && e[i + 1].record_hash != NULL && strcmp(p, e[i + 1].record_hash) != 0) {
            *why = "parent hash does not name the next older record (broken parent link)";
            return -CN_ESIGNATURE;
        }
    }
    return 0;
}
