/*
 * seal: the pipeline between the object layer and the providers. A blob's
 * bytes are cut into segments; each segment is split into k data fragments,
 * m parity fragments are computed (Reed-Solomon over ISA-L, or copies for
 * replication), and every fragment is encrypted and authenticated with
 * AES-256-GCM under the blob's own random key before it is appended to its
 * shard: one provider object per fragment index, on the placement's
 * providers in order. docs/FORMAT.md specifies the bytes.
 *
 * The object layer keeps, per blob, a layout (seal_ref): the placement, the
 * scheme, the segment size, the providers holding each shard and the blob
 * key wrapped by the master key. Providers see opaque shard
 * names derived from the blob key and ciphertext; never bucket names, keys,
 * content hashes or the blob's locator.
 *
 * A vault (seal_vault) owns the provider handles and the placements read
 * from the configuration, and measures each provider's latency online so
 * that reads prefer the fastest shards. It is created once, shared by every
 * worker thread, and destroyed after they have stopped.
 */
#ifndef CN_SEAL_H
#define CN_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "../backends/be.h"
#include "../common/http.h"
#include "../common/masterkey.h"

#define SEAL_MAX_SHARDS 20 /* k + m, k <= 16, m <= 4 */
#define SEAL_NAME_MAX 63   /* placement and provider names */
/* seal_ref_format() output, NUL included: the worst case is 20 providers of
 * 63 characters and a 63-character class (about 1.5 KiB). */
#define SEAL_LAYOUT_MAX 1600
#define SEAL_DEFAULT_SEGMENT (1u << 20)

/* ---- configuration ---- */

typedef struct seal_provider_cfg {
    const char *id;     /* unique, [A-Za-z0-9_-] */
    const char *driver; /* "posix", "s3", "azure" */
    const be_option *opts;
    size_t n_opts;
} seal_provider_cfg;

typedef struct seal_class_cfg {
    const char *name;   /* the storage class clients name with x-amz-storage-class */
    const char *scheme; /* "plain" (one provider, no sealing), "rN", or "k+m" */
    const char *const *providers;
    size_t n_providers;    /* plain: 1; rN: N; k+m: k+m */
    uint32_t segment_size; /* 0: SEAL_DEFAULT_SEGMENT */
    int quorum;            /* shards durable before a write is acknowledged; 0: default */
} seal_class_cfg;

typedef struct seal_config {
    const seal_provider_cfg *providers;
    size_t n_providers;
    const seal_class_cfg *classes;
    size_t n_classes;
    const char *default_class; /* NULL: the first class */
} seal_config;

typedef struct seal_vault seal_vault;

enum {
    SEAL_VAULT_NO_SWEEP = 1 << 0, /* another process may be writing: leave provider temporaries alone */
};

/* Creates every provider (and sweeps its temporaries) and checks every
 * placement: known providers, a scheme that fits their number, k <= 16,
 * m <= 4, a quorum between k and k+m. mk wraps blob keys and must outlive
 * the vault. A reason goes into err. -CN_EINVALID_ARGUMENT, or a provider's
 * error. */
int seal_vault_create(seal_vault **out, const seal_config *cfg, const cn_mkey *mk, unsigned flags, char *err,
                      size_t errcap);
void seal_vault_destroy(seal_vault *v);
/* 1 if a placement of that name exists. */
int seal_vault_has_class(const seal_vault *v, const char *name);
/* The class used when none is asked for. */
const char *seal_vault_default_class(const seal_vault *v);
/* Swaps the key that wraps new blob keys (cairn key rotate; single-threaded). */
void seal_vault_set_master(seal_vault *v, const cn_mkey *mk);

/* ---- a blob's layout ---- */

typedef struct seal_ref {
    char cls[SEAL_NAME_MAX + 1];
    int plain;        /* one provider, no encryption: the shard is the blob */
    int k, m;         /* plain: 1, 0 */
    uint32_t segment; /* segment size */
    int quorum;       /* shards a put needs (seal_ref_new only; not stored) */
    uint64_t size;
    uint8_t id[16];                                /* blob id: bound into every fragment, never reused */
    char locator[40];                              /* the object layer's name of the blob */
    char prov[SEAL_MAX_SHARDS][SEAL_NAME_MAX + 1]; /* provider id of each shard */
    uint8_t wrapped[32 + CN_MKEY_OVERHEAD];        /* the blob key under the master key */
    size_t wrapped_len;
} seal_ref;

/* A new layout for a blob of size bytes named locator (32 hex digits) in
 * placement cls (NULL: the default), with a fresh random key.
 * -CN_EINVALID_STORAGE_CLASS for an unknown class. */
int seal_ref_new(seal_vault *v, const char *cls, const char *locator, uint64_t size, seal_ref *out);
/* The layout as one line of text for the metadata store, and back. */
int seal_ref_format(const seal_ref *r, char *out, size_t cap);
int seal_ref_parse(seal_ref *r, const char *locator, uint64_t size, const char *text);
/* Re-wraps r's blob key from old_mk to new_mk (cairn key rotate). */
int seal_ref_rewrap(seal_ref *r, const cn_mkey *old_mk, const cn_mkey *new_mk);

/* ---- writing, reading, deleting ---- */

/* Streams exactly r->size bytes of src into the shards, all in parallel.
 * Succeeds once at least the placement's quorum of shards is durable;
 * *missing gets the bit of every shard that could not be written (to be
 * repaired). On failure some shards may exist: seal_delete() them. */
int seal_put(seal_vault *v, const seal_ref *r, cn_stream *src, uint32_t *missing);

typedef struct seal_reader seal_reader;

/* A reader of one blob; cheap until the first read. */
int seal_reader_open(seal_vault *v, const seal_ref *r, seal_reader **out);
/* Fills exactly len bytes from blob offset off, fetching only the segments
 * they touch from the k best shards; a shard that fails or does not
 * authenticate is skipped for another. -CN_EIO when fewer than k good
 * shards remain: never unauthenticated bytes. */
int seal_read(seal_reader *rd, uint64_t off, void *buf, size_t len);
/* Shards found missing or bad so far (bit i: shard i). */
uint32_t seal_reader_bad(const seal_reader *rd);
void seal_reader_close(seal_reader *rd);

/* Deletes every shard (missing ones are fine). */
int seal_delete(seal_vault *v, const seal_ref *r);

/* ---- verification and repair ---- */

/* Reads and authenticates the header and every fragment of every shard;
 * *bad gets the shards missing, truncated or failing authentication. An
 * error only when the blob key cannot be opened. */
int seal_verify(seal_vault *v, const seal_ref *r, uint32_t *bad);
/* Rewrites the shards in mask from the others (whole shards, same names and
 * bytes as the original write). -CN_EIO if the blob cannot be rebuilt. */
int seal_repair(seal_vault *v, const seal_ref *r, uint32_t mask);

#endif
