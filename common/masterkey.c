/*
 * masterkey: the gateway master key and AES-256-GCM sealing of small
 * secrets under it (the record format is drawn in masterkey.h).
 *
 * Invariants:
 *  - The key's bytes live in a cn_mkey (wiped by cn_mkey_destroy()) and in
 *    its file, nowhere else: temporaries are wiped with OPENSSL_cleanse(),
 *    and no message built here contains the key, its text, or a plaintext.
 *  - A key file is never partially written where it is looked for: it is
 *    written and fsync'd under a temporary name, then linked into place (a
 *    link, unlike a rename, never replaces a file another process made in
 *    the meantime), and the directory is fsync'd (common/keyfile.c).
 *  - cn_mkey_open() returns plaintext only after the GCM tag has verified.
 *
 * Not done here: deciding where the key comes from or whether a missing file
 * may be created (obj/keys.c decides, per store); locking the key in memory.
 */
#include "masterkey.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyfile.h"
#include "util.h"

#define OFF_ID 1
#define OFF_NONCE (OFF_ID + CN_MKEY_ID_LEN)
#define OFF_CT (OFF_NONCE + CN_MKEY_NONCE_LEN)
#define B64_LEN 44 /* padded base64 of 32 bytes */

struct cn_mkey {
    uint8_t key[CN_MKEY_LEN];
    uint8_t id[CN_MKEY_ID_LEN];
    char id_hex[2 * CN_MKEY_ID_LEN + 1];
    /* Fetched once: EVP_aes_256_gcm() would fetch implicitly, under a lock,
     * on every record, and every SigV4 request opens one. */
    EVP_CIPHER *gcm;
};

static const char id_label[] = "cairn master key id v1";

static void set_err(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errcap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static int from_bytes(cn_mkey **out, const uint8_t key[CN_MKEY_LEN])
{
    cn_mkey *k = calloc(1, sizeof(*k));
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;

    *out = NULL;
    if (k == NULL)
        return -CN_ENOMEM;
    memcpy(k->key, key, CN_MKEY_LEN);
    k->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (k->gcm == NULL || HMAC(EVP_sha256(), k->key, CN_MKEY_LEN, (const unsigned char *)id_label, sizeof(id_label) - 1,
                               mac, &mac_len) == NULL) {
        cn_mkey_destroy(k);
        return -CN_EINTERNAL;
    }
    memcpy(k->id, mac, CN_MKEY_ID_LEN);
    cn_hex(k->id_hex, k->id, CN_MKEY_ID_LEN);
    *out = k;
    return 0;
}

void cn_mkey_destroy(cn_mkey *k)
{
    if (k == NULL)
        return;
    EVP_CIPHER_free(k->gcm);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

const char *cn_mkey_id(const cn_mkey *k)
{
    return k->id_hex;
}

int cn_mkey_generate(cn_mkey **out)
{
    uint8_t b[CN_MKEY_LEN];
    int rc = cn_random(b, sizeof(b));

    *out = NULL;
    if (rc == 0)
        rc = from_bytes(out, b);
    OPENSSL_cleanse(b, sizeof(b));
    return rc;
}

int cn_mkey_from_text(cn_mkey **out, const char *text, char *err, size_t errcap)
{
    uint8_t b[CN_MKEY_LEN];
    size_t n = text != NULL ? strlen(text) : 0;
    int got = -1, rc = 0;

    *out = NULL;
    if (n == 2 * CN_MKEY_LEN)
        got = cn_unhex(b, sizeof(b), text, n);
    else if (n == B64_LEN)
        got = cn_unbase64(b, sizeof(b), text, n);
    if (got != CN_MKEY_LEN) {
        set_err(err, errcap, "a master key is 64 hex digits or the padded base64 of 32 bytes (%zu characters given)",
                n);
        rc = -CN_EINVALID_ARGUMENT;
    } else {
        rc = from_bytes(out, b);
        if (rc != 0)
            set_err(err, errcap, "cannot set up AES-256-GCM");
    }
    OPENSSL_cleanse(b, sizeof(b));
    return rc;
}

int cn_mkey_write_file(const cn_mkey *k, const char *path, char *err, size_t errcap)
{
    return cn_keyfile_write(path, k->key, CN_MKEY_LEN, "master key", err, errcap);
}

static int create_file(cn_mkey **out, const char *path, char *err, size_t errcap)
{
    cn_mkey *k = NULL;
    int rc = cn_mkey_generate(&k);

    if (rc != 0) {
        set_err(err, errcap, "cannot generate a master key for %s", path);
        return rc;
    }
    rc = cn_mkey_write_file(k, path, err, errcap);
    if (rc != 0) {
        cn_mkey_destroy(k);
        return rc;
    }
    *out = k;
    return 0;
}

int cn_mkey_load_file(cn_mkey **out, const char *path, int create, int *created, char *err, size_t errcap)
{
    uint8_t b[CN_MKEY_LEN];
    int missing = 0, rc = 0;

    *out = NULL;
    if (created != NULL)
        *created = 0;
    rc = cn_keyfile_read(path, b, sizeof(b), "master key", &missing, err, errcap);
    if (rc != 0 && missing && create) {
        rc = create_file(out, path, err, errcap);
        if (rc == 0 && created != NULL)
            *created = 1;
        if (rc != -CN_ECONFLICT)
            return rc;
        /* another process made it first: use theirs */
        rc = cn_keyfile_read(path, b, sizeof(b), "master key", NULL, err, errcap);
    }
    if (rc == 0) {
        rc = from_bytes(out, b);
        if (rc != 0)
            set_err(err, errcap, "cannot set up AES-256-GCM for %s", path);
    }
    OPENSSL_cleanse(b, sizeof(b));
    return rc;
}

int cn_mkey_seal(const cn_mkey *k, const void *aad, size_t aad_len, const void *pt, size_t n, uint8_t *out, size_t cap,
                 size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *nonce = out + OFF_NONCE, *ct = out + OFF_CT;
    int len = 0, rc = -CN_EINTERNAL;

    *out_len = 0;
    if (n > INT_MAX - CN_MKEY_OVERHEAD || aad_len > INT_MAX || cap < n + CN_MKEY_OVERHEAD)
        return -CN_ETOOLARGE;
    out[0] = CN_MKEY_VERSION;
    memcpy(out + OFF_ID, k->id, CN_MKEY_ID_LEN);
    if (cn_random(nonce, CN_MKEY_NONCE_LEN) != 0)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex2(ctx, k->gcm, k->key, nonce, NULL) != 1)
        goto out;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1)
        goto out;
    if (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CN_MKEY_TAG_LEN, ct + n) != 1)
        goto out;
    *out_len = n + CN_MKEY_OVERHEAD;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx); /* wipes its copy of the key schedule */
    return rc;
}

int cn_mkey_open(const cn_mkey *k, const void *aad, size_t aad_len, const uint8_t *rec, size_t n, uint8_t *out,
                 size_t cap, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    size_t pn = n >= CN_MKEY_OVERHEAD ? n - CN_MKEY_OVERHEAD : 0;
    int len = 0, rc = -CN_EINTERNAL;

    *out_len = 0;
    if (n < CN_MKEY_OVERHEAD || n > INT_MAX || aad_len > INT_MAX || rec[0] != CN_MKEY_VERSION)
        goto out;
    if (memcmp(rec + OFF_ID, k->id, CN_MKEY_ID_LEN) != 0) {
        rc = -CN_EACCESS;
        goto out;
    }
    if (pn > cap) {
        rc = -CN_ETOOLARGE;
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex2(ctx, k->gcm, k->key, rec + OFF_NONCE, NULL) != 1)
        goto out;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1)
        goto out;
    if (pn > 0 && EVP_DecryptUpdate(ctx, out, &len, rec + OFF_CT, (int)pn) != 1)
        goto out;
    /* OpenSSL copies the tag; the cast only satisfies the ctrl signature */
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CN_MKEY_TAG_LEN, (void *)(rec + OFF_CT + pn)) != 1 ||
        EVP_DecryptFinal_ex(ctx, out + pn, &len) != 1)
        goto out;
    *out_len = pn;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (rc != 0 && out != NULL && cap > 0)
        OPENSSL_cleanse(out, cap); /* GCM decrypts before it verifies */
    return rc;
}
