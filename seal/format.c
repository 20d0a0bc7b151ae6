/*
 * format: the bytes of a shard (docs/FORMAT.md, version 1), the fragment
 * cipher and the blob keys.
 *
 * Design notes:
 *  1. A blob key (32 random bytes) is used for one blob only, and sealed in
 *     the metadata under the master key with the additional data
 *     "cairn-blob-key-v1:<locator>". Two subkeys come from it by HMAC-SHA256:
 *     "cairn-seal-enc-v1" encrypts, "cairn-seal-name-v1" names shards, so a
 *     provider cannot link the shards of one blob by their names.
 *  2. Every fragment is AES-256-GCM with IV = be32(segment) || be32(shard) ||
 *     be32(0): unique under a key that serves one blob, and the same
 *     fragment is always sealed to the same bytes, so a repaired shard is
 *     identical to the original. The additional data is the first 48 bytes
 *     of the shard's header (format version, k, m, shard index, segment
 *     size, blob size, blob id) followed by be32(segment): a fragment moved
 *     to another shard, segment or blob, or of another scheme, does not
 *     authenticate. A truncated shard fails its ranged get or its tag. The
 *     blob id is authenticated but not written: the stored header has zeros
 *     in its place, so the shards of a blob cannot be linked by content.
 *  3. The header authenticates itself the same way (empty plaintext, IV
 *     segment 0xffffffff, which no segment reaches), so a scrub can tell a
 *     shard's format and parameters before trusting any fragment.
 *  4. Plain layouts (one provider, no sealing) have no header: the shard is
 *     the blob, named by its locator, as blobs were stored before sealing.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "sealint.h"

#define KEY_AAD "cairn-blob-key-v1:"
#define HDR_SEGMENT 0xffffffffu

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p + 4, (uint32_t)v);
}

static int subkey(const uint8_t key[32], const char *label, uint8_t out[32])
{
    unsigned n = 0;

    return HMAC(EVP_sha256(), key, 32, (const uint8_t *)label, strlen(label), out, &n) != NULL ? 0 : -CN_EINTERNAL;
}

int seal__keys_open(const cn_mkey *mk, const seal_ref *r, seal__keys *out)
{
    char aad[64];
    uint8_t key[32];
    size_t n = 0;
    int rc = 0;

    snprintf(aad, sizeof(aad), KEY_AAD "%s", r->locator);
    rc = cn_mkey_open(mk, aad, strlen(aad), r->wrapped, r->wrapped_len, key, sizeof(key), &n);
    if (rc == 0 && n != sizeof(key))
        rc = -CN_EINTERNAL;
    if (rc == 0)
        rc = subkey(key, "cairn-seal-enc-v1", out->enc);
    if (rc == 0)
        rc = subkey(key, "cairn-seal-name-v1", out->name);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

void seal__keys_wipe(seal__keys *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
}

int seal__wrap(const cn_mkey *mk, seal_ref *r, const uint8_t key[32])
{
    char aad[64];

    snprintf(aad, sizeof(aad), KEY_AAD "%s", r->locator);
    return cn_mkey_seal(mk, aad, strlen(aad), key, 32, r->wrapped, sizeof(r->wrapped), &r->wrapped_len);
}

void seal__shard_name(const seal__keys *k, const seal_ref *r, int i, char out[SEAL__NAME_LEN + 1])
{
    uint8_t msg[8] = {'s', 'h', 'a', 'r', 'd', 0, 0, (uint8_t)i};
    uint8_t mac[32];
    unsigned n = 0;

    if (r->plain) {
        snprintf(out, SEAL__NAME_LEN + 1, "%s", r->locator);
        return;
    }
    HMAC(EVP_sha256(), k->name, sizeof(k->name), msg, sizeof(msg), mac, &n);
    cn_hex(out, mac, SEAL__NAME_LEN / 2);
}

/* Bytes 0..47 of shard i's header; with_id puts the blob id at 32..47, as
 * the additional data of every tag has it. The stored header has zeros
 * there: providers never see an id that would link a blob's shards. */
static void header_fields(const seal_ref *r, int i, uint8_t h[48], int with_id)
{
    memset(h, 0, 48);
    memcpy(h, SEAL__MAGIC, 8);
    h[8] = 0;
    h[9] = SEAL__VERSION;
    h[10] = (uint8_t)r->k;
    h[11] = (uint8_t)r->m;
    h[12] = (uint8_t)i;
    be32(h + 16, r->segment);
    be64(h + 20, r->size);
    if (with_id)
        memcpy(h + 32, r->id, 16);
}

/* AES-256-GCM of n bytes of in (n may be 0) with IV (j, i) and additional
 * data aad; enc selects the direction. Decryption checks tag and returns
 * -CN_EIO on mismatch. */
static int gcm(const seal__keys *k, int enc, uint32_t j, int i, const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t n, uint8_t *out, uint8_t tag[SEAL__TAG])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t iv[12] = {0}, none[SEAL__TAG];
    int len = 0, rc = -CN_EINTERNAL;

    be32(iv, j);
    be32(iv + 4, (uint32_t)i);
    if (c == NULL || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc, iv, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &len, aad, (int)aad_len) != 1)
        goto out;
    if (n > 0 && EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL__TAG, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(c, n > 0 ? out + n : none, &len) != 1) {
        rc = enc ? -CN_EINTERNAL : -CN_EIO;
        goto out;
    }
    rc = enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL__TAG, tag) != 1 ? -CN_EINTERNAL : 0;
out:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int seal__header(const seal__keys *k, const seal_ref *r, int i, uint8_t out[SEAL__HDR])
{
    uint8_t aad[48];

    header_fields(r, i, aad, 1);
    header_fields(r, i, out, 0);
    return gcm(k, 1, HDR_SEGMENT, i, aad, sizeof(aad), NULL, 0, NULL, out + 48);
}

int seal__header_check(const seal__keys *k, const seal_ref *r, int i, const uint8_t hdr[SEAL__HDR])
{
    uint8_t want[48], aad[48], tag[SEAL__TAG];

    header_fields(r, i, want, 0);
    if (memcmp(want, hdr, 48) != 0)
        return -CN_EIO;
    header_fields(r, i, aad, 1);
    memcpy(tag, hdr + 48, SEAL__TAG);
    return gcm(k, 0, HDR_SEGMENT, i, aad, sizeof(aad), NULL, 0, NULL, tag);
}

static void frag_aad(const seal_ref *r, int i, uint64_t j, uint8_t aad[52])
{
    header_fields(r, i, aad, 1);
    be32(aad + 48, (uint32_t)j);
}

int seal__frag_seal(const seal__keys *k, const seal_ref *r, int i, uint64_t j, const uint8_t *pt, size_t flen,
                    uint8_t *out)
{
    uint8_t aad[52];

    frag_aad(r, i, j, aad);
    return gcm(k, 1, (uint32_t)j, i, aad, sizeof(aad), pt, flen, out, out + flen);
}

int seal__frag_open(const seal__keys *k, const seal_ref *r, int i, uint64_t j, const uint8_t *in, size_t flen,
                    uint8_t *pt)
{
    uint8_t aad[52], tag[SEAL__TAG];
    int rc = 0;

    frag_aad(r, i, j, aad);
    memcpy(tag, in + flen, SEAL__TAG);
    rc = gcm(k, 0, (uint32_t)j, i, aad, sizeof(aad), in, flen, pt, tag);
    if (rc != 0)
        OPENSSL_cleanse(pt, flen);
    return rc;
}

uint64_t seal__nseg(const seal_ref *r)
{
    return (r->size + r->segment - 1) / r->segment;
}

size_t seal__seglen(const seal_ref *r, uint64_t j)
{
    uint64_t left = r->size - j * r->segment;

    return (size_t)(left < r->segment ? left : r->segment);
}

size_t seal__flen(const seal_ref *r, uint64_t j)
{
    return (seal__seglen(r, j) + (size_t)r->k - 1) / (size_t)r->k;
}

uint64_t seal__frag_off(const seal_ref *r, uint64_t j)
{
    size_t full = (r->segment + (size_t)r->k - 1) / (size_t)r->k;

    return SEAL__HDR + j * (uint64_t)(full + SEAL__TAG);
}

uint64_t seal__shard_size(const seal_ref *r)
{
    uint64_t n = seal__nseg(r);

    if (r->plain)
        return r->size;
    return n == 0 ? SEAL__HDR : seal__frag_off(r, n - 1) + seal__flen(r, n - 1) + SEAL__TAG;
}
