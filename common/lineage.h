/*
 * lineage: the canonical record of a version, its hash, and its Ed25519
 * signature by the region key (docs/LINEAGE.md gives the byte format, which
 * is version 1). Pure: no metadata store, so the same code builds records in
 * the gateway and checks them offline in `cairn lineage verify`.
 *
 * A cn_rkey (region key) is immutable after it is made and may sign from any
 * number of threads at once.
 */
#ifndef CN_LINEAGE_H
#define CN_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CN_LIN_FORMAT "cairn-lineage-v1"
#define CN_LIN_FORMAT_V2 "cairn-lineage-v2" /* several derived_from lines (a multipart of copies) */
#define CN_LIN_HASH_HEX 65                  /* 64 hex digits + NUL */
#define CN_LIN_SIG_LEN 64
#define CN_LIN_PUB_LEN 32
#define CN_LIN_SEED_LEN 32
#define CN_LIN_CANON_MAX (64u << 20) /* cap on one canonical form (10000 parts fit) */

typedef struct cn_lin_extent {
    char sha256[CN_LIN_HASH_HEX]; /* the blob's content address, hex */
    uint64_t off, len;
} cn_lin_extent;

/* The fields a record covers. Strings are NUL-terminated except key,
 * which has key_len bytes; parent_hash and derived_hash are "" when none.
 * n_sources > 0 makes the record format version 2: sources (record hashes,
 * strictly ascending) replace derived_hash, which is then ignored. */
typedef struct cn_lin_record {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *version_id;
    const char *parent_hash;
    const char *derived_hash;
    const char *const *sources;
    size_t n_sources;
    uint64_t size;
    const char *etag;
    int64_t created_ms;
    int delete_marker;
    const char *region;
    const cn_lin_extent *ext;
    size_t n_ext;
} cn_lin_record;

/* Appends the canonical form of r to out (a cn_buf capped by the caller):
 * version 1 when r has no sources, else version 2. -CN_EINVALID_ARGUMENT if
 * the sources are not strictly ascending (their order is part of the form). */
int cn_lin_canonical(const cn_lin_record *r, cn_buf *out);
/* SHA-256 of the canonical form, as 64 lower-case hex digits. */
int cn_lin_hash(const cn_lin_record *r, char hex[CN_LIN_HASH_HEX]);

typedef struct cn_rkey cn_rkey;

/* A new random key. */
int cn_rkey_generate(cn_rkey **out);
/* From its 32-byte seed as 64 hex digits (what $CAIRN_REGION_KEY holds). */
int cn_rkey_from_text(cn_rkey **out, const char *text, char *err, size_t errcap);
/* From a file of the 32 raw seed bytes, mode 0600 (common/keyfile.h); made
 * when missing if create is set (*created then set; may be NULL). */
int cn_rkey_load_file(cn_rkey **out, const char *path, int create, int *created, char *err, size_t errcap);
void cn_rkey_destroy(cn_rkey *k);
/* The public key, 64 hex digits; owned by k. */
const char *cn_rkey_public_hex(const cn_rkey *k);
/* Signs the 32 raw bytes of record hash hex. */
int cn_rkey_sign(const cn_rkey *k, const char *hash_hex, uint8_t sig[CN_LIN_SIG_LEN]);
/* 0 if sig is pub's signature of hash_hex, -CN_ESIGNATURE if not,
 * -CN_EINVALID_ARGUMENT if an input is malformed. */
int cn_lin_verify_sig(const uint8_t pub[CN_LIN_PUB_LEN], const char *hash_hex, const uint8_t *sig, size_t sig_len);

/* One record of a chain as a document presents it. record_hash and sig are
 * NULL/0 for a record written before lineage (unsigned). */
typedef struct cn_lin_entry {
    cn_lin_record rec;
    const char *record_hash;
    const uint8_t *sig;
    size_t sig_len;
} cn_lin_entry;

/* Checks a chain given newest first: each record's hash against its fields,
 * its signature under pub, and that its parent_hash names the next (older)
 * record; the oldest may name a parent that is no longer kept. 0 if all
 * hold; else -CN_ESIGNATURE with *bad the index of the first bad record and
 * *why a static reason. */
int cn_lin_verify_chain(const cn_lin_entry *e, size_t n, const uint8_t pub[CN_LIN_PUB_LEN], size_t *bad,
                        const char **why);
/* The same with the public keys of several regions: each record's signature
 * must verify under one of them (a key's history may be written by the
 * gateways of several regions). */
int cn_lin_verify_chain_keys(const cn_lin_entry *e, size_t n, const uint8_t (*pubs)[CN_LIN_PUB_LEN], size_t n_pubs,
                             size_t *bad, const char **why);

#endif
