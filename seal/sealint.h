/*
 * sealint: what the files of seal/ share and nothing outside seal/ may see:
 * the vault's insides, the shard geometry and the fragment cipher
 * (docs/FORMAT.md). Functions are named seal__*.
 */
#ifndef CN_SEALINT_H
#define CN_SEALINT_H

#include <pthread.h>

#include "rs.h"
#include "seal.h"

#define SEAL__MAGIC "CAIRNSHD"
#define SEAL__VERSION 1
#define SEAL__HDR 64 /* shard header, its GCM tag included */
#define SEAL__TAG 16
#define SEAL__NAME_LEN 40 /* hex digits of a shard name */

typedef struct seal__prov {
    be_provider *p;
    double lat_us; /* EWMA of get latency; errors count as a slow answer */
} seal__prov;

typedef struct seal__class {
    char name[SEAL_NAME_MAX + 1];
    int plain, k, m, quorum;
    uint32_t segment;
    size_t prov[SEAL_MAX_SHARDS]; /* indexes into the vault's providers */
} seal__class;

struct seal_vault {
    const cn_mkey *mk;
    seal__prov *prov;
    size_t n_prov;
    seal__class *cls;
    size_t n_cls;
    size_t def;
    pthread_mutex_t mu; /* latencies and the code cache */
    seal_rs *rs[SEAL_RS_MAX_K + 1][SEAL_RS_MAX_M + 1];
};

/* The keys of one blob, unwrapped: fragments are encrypted under enc,
 * shard names derived from name. */
typedef struct seal__keys {
    uint8_t enc[32], name[32];
} seal__keys;

/* ---- format.c ---- */

int seal__keys_open(const cn_mkey *mk, const seal_ref *r, seal__keys *out);
void seal__keys_wipe(seal__keys *k);
/* Seals key as r's blob key under mk (r->locator set). */
int seal__wrap(const cn_mkey *mk, seal_ref *r, const uint8_t key[32]);
/* Provider object name of shard i: 40 hex digits (plain: the locator). */
void seal__shard_name(const seal__keys *k, const seal_ref *r, int i, char out[SEAL__NAME_LEN + 1]);
/* The 64-byte header of shard i, authenticated. */
int seal__header(const seal__keys *k, const seal_ref *r, int i, uint8_t out[SEAL__HDR]);
/* 0 if hdr is shard i's header, authentic; -CN_EIO otherwise. */
int seal__header_check(const seal__keys *k, const seal_ref *r, int i, const uint8_t hdr[SEAL__HDR]);
/* Encrypts fragment (shard i, segment j) of flen bytes into out (flen + 16). */
int seal__frag_seal(const seal__keys *k, const seal_ref *r, int i, uint64_t j, const uint8_t *pt, size_t flen,
                    uint8_t *out);
/* Authenticates and decrypts in (flen + 16 bytes) into pt; -CN_EIO if it is
 * not fragment (i, j) of this blob. pt is wiped on failure. */
int seal__frag_open(const seal__keys *k, const seal_ref *r, int i, uint64_t j, const uint8_t *in, size_t flen,
                    uint8_t *pt);

/* Geometry: segments, a segment's length, its fragment length, and where
 * fragment j sits in a shard. */
uint64_t seal__nseg(const seal_ref *r);
size_t seal__seglen(const seal_ref *r, uint64_t j);
size_t seal__flen(const seal_ref *r, uint64_t j);
uint64_t seal__frag_off(const seal_ref *r, uint64_t j);
uint64_t seal__shard_size(const seal_ref *r);

/* ---- vault.c ---- */

/* The provider of shard i; NULL if the configuration no longer has it. */
be_provider *seal__provider(seal_vault *v, const seal_ref *r, int i, size_t *idx);
/* The code for (k, m), made on first use. */
const seal_rs *seal__rs(seal_vault *v, int k, int m);
/* Records one get's latency (or failure) on provider idx. */
void seal__lat_note(seal_vault *v, size_t idx, uint64_t us, int failed);
/* Shard indexes of r ordered fastest first (ties: lower index first). */
void seal__rank(seal_vault *v, const seal_ref *r, int order[SEAL_MAX_SHARDS]);

/* ---- read.c (also used by repair.c) ---- */

/* Bytes seal__segment() may write into seg: k fragments, padding included. */
size_t seal__seg_cap(const seal_ref *r);
/* Plaintext of segment j into seg (seglen bytes, but writes up to k
 * fragments: room for seal__seg_cap() unless k divides seglen), skipping
 * the shards in *bad and adding those that fail; scratch holds k+m full
 * fragments with their tags. */
int seal__segment(seal_vault *v, const seal_ref *r, const seal__keys *k, uint64_t j, uint8_t *scratch, uint8_t *seg,
                  uint32_t *bad);

/* ---- write.c (also used by repair.c) ---- */

/* Writes the shards in mask from src (r->size bytes); *missing gets the
 * shards in mask that failed. */
int seal__write(seal_vault *v, const seal_ref *r, const seal__keys *k, cn_stream *src, uint32_t mask,
                uint32_t *missing);

#endif
