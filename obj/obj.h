/*
 * obj: the object layer. Buckets, keys (named histories), versions (immutable
 * entries) whose bytes are extents over immutable blobs, multipart uploads,
 * tags, and the access keys of users. Metadata lives in SQLite (obj/meta.c);
 * blob bytes live on providers (backends/be.h).
 *
 * Invariants (DESIGN.md):
 *  - A version is immutable once committed. Overwriting a key in an
 *    unversioned bucket replaces its "null" version; the old version's blob
 *    references are dropped in the same transaction.
 *  - A blob is addressed by the SHA-256 of its plaintext and stored once;
 *    identical content shares one blob (reference counted). Users never see
 *    blob ids; providers see only an opaque locator.
 *  - A write is acknowledged (the function returns 0) only after its bytes are
 *    durable on the provider and its metadata is committed. A crash at any
 *    point leaves either the old state or the new, never a half-visible object;
 *    orphaned provider objects are swept by obj_store_recover().
 *  - Blobs whose reference count reached zero are deleted from providers by
 *    obj_gc(), never synchronously, so readers that opened a version just
 *    before it was deleted still finish (grace period).
 *
 * All functions are blocking and thread-safe; the gateway calls them from its
 * worker pool. Strings in results are owned by the result and released by the
 * matching _dispose function.
 */
#ifndef CN_OBJ_H
#define CN_OBJ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../common/http.h"
#include "../common/lineage.h"
#include "../seal/seal.h"

typedef struct obj_store obj_store;

#define OBJ_MAX_KEY 1024
#define OBJ_MAX_PARTS 10000
#define OBJ_MIN_PART_SIZE (5ull << 20)
#define OBJ_MAX_PART_SIZE (5ull << 30)
#define OBJ_MAX_PUT_SIZE (5ull << 30)
#define OBJ_MAX_OBJECT_SIZE (5ull << 40)
#define OBJ_INLINE_DEFAULT (64u << 10)
#define OBJ_INLINE_OFF UINT64_MAX

typedef struct obj_config {
    const char *data_dir; /* SQLite file and the default providers live under it */
    const char *region;   /* this gateway's region, e.g. "us-east-1" */
    /* Providers and placements (seal/seal.h). NULL: the embedded default,
     * three posix providers data_dir/local0..2 holding
     * placement STANDARD, Reed-Solomon 2+1, sealed; and provider "default"
     * (data_dir/blobs), where stores made before sealing kept their blobs. */
    const seal_config *seal;
    /* Set by tools that open the store of a running gateway (cairn scrub):
     * no recovery and no provider sweep, which would remove the intents
     * and temporaries of the gateway's writes in flight. */
    int attach;
    unsigned gc_grace_seconds; /* how long a dead blob stays readable (0 means the default, 60) */
    /* Bodies of at most this many bytes are stored inline in the metadata
     * store, committed in the same transaction as their version: one
     * group-committed fsync instead of a provider object of their own.
     * 0 means OBJ_INLINE_DEFAULT; OBJ_INLINE_OFF disables inlining. */
    uint64_t inline_max;
    /* The master key, which seals the secrets of access keys (keys.c):
     * master_key as text (64 hex digits or the base64 of 32 bytes; the
     * gateway passes $CAIRN_MASTER_KEY) wins, and no file is then made or
     * read; else the file master_key_file (NULL or "": data_dir/master.key),
     * 32 raw bytes that only its owner may access, created with mode 0600
     * by the first open of a new store. See obj_store_open(). */
    const char *master_key;
    const char *master_key_file;
    /* The region key, which signs every version's lineage record (Ed25519,
     * docs/LINEAGE.md): region_key as text (its seed, 64 hex digits; the
     * gateway passes $CAIRN_REGION_KEY) wins; else the file
     * region_key_file (NULL or "": data_dir/region.key), the 32 raw seed
     * bytes, mode 0600, created by the first open. */
    const char *region_key;
    const char *region_key_file;
} obj_config;

/* Opens (creating on first start) the metadata store and the provider, and
 * runs recovery: sweeps provider temporaries and blobs written but never
 * committed. Loads the master key (obj_config) and, in a store made before
 * secrets were sealed, seals every clear-text secret under it. Fails, with
 * the reason on stderr (never the key), if the key file is open to group or
 * others (-CN_EACCESS) or is not 32 bytes (-CN_EINVALID_ARGUMENT), if the
 * text is not a key (-CN_EINVALID_ARGUMENT), or if the store's secrets are
 * sealed under another key (-CN_EACCESS); a store whose secrets are sealed
 * never gets a new key file (-CN_EIO when it is missing). */
int obj_store_open(obj_store **out, const obj_config *cfg);
void obj_store_close(obj_store *s);
/* The recovery obj_store_open() runs: removes provider temporaries and the
 * provider objects and rows of blob intents that never committed. Only safe
 * while no write is in flight (at startup, or from tests). */
int obj_store_recover(obj_store *s);

/* ---- shard health (repair.c) ---- */

/* Rebuilds the shards that reads found bad. Returns the number of blobs
 * repaired, or a negative error. Safe at any time, from any thread. */
int obj_repair(obj_store *s);

typedef struct obj_scrub_report {
    uint64_t blobs, shards;   /* sealed blobs and shards verified */
    uint64_t bad_shards;      /* found missing, truncated or not authentic */
    uint64_t repaired_shards; /* rebuilt */
    uint64_t unrecoverable;   /* blobs left with bad shards (fewer than k good) */
} obj_scrub_report;

/* Reads and authenticates every shard of every live blob, repairs what it
 * can. Safe while the gateway runs. */
int obj_scrub(obj_store *s, obj_scrub_report *out);

/* ---- the master and region keys ---- */

/* Which master key the store opened with, for the gateway's log. */
typedef struct obj_master_key_info {
    char id[9];       /* 8 hex digits that name the key without revealing it */
    const char *file; /* the key file (owned by the store); NULL when given as text */
    int created;      /* this open created the file (first start) */
} obj_master_key_info;

void obj_store_master_key(obj_store *s, obj_master_key_info *out);

/* ---- capabilities (caps.c) ---- */

enum { OBJ_CAP_BUCKET = 1, OBJ_CAP_PREFIX, OBJ_CAP_HISTORY, OBJ_CAP_VERSION };
enum {
    OBJ_CAP_READ = 1 << 0,   /* GET/HEAD objects (and versions, lineage: history and wider) */
    OBJ_CAP_LIST = 1 << 1,   /* list keys under the scope */
    OBJ_CAP_WRITE = 1 << 2,  /* PUT, copy into, multipart */
    OBJ_CAP_DELETE = 1 << 3, /* DELETE */
    OBJ_CAP_PERMS_ALL = 0xf,
};
#define OBJ_CAP_ID_LEN 16
#define OBJ_CAP_SECRET_LEN 40
#define OBJ_CAP_MAX_DEPTH 8 /* a chain of derivations is at most this long */

/* A grant on a bucket, a prefix, a key's whole history or one version. */
typedef struct obj_cap {
    char id[OBJ_CAP_ID_LEN + 1];
    char parent[OBJ_CAP_ID_LEN + 1]; /* "" for a grant made by a user */
    char grantor[136];               /* the user whose grant the chain starts from */
    char bucket[64];
    int kind;                     /* OBJ_CAP_BUCKET .. OBJ_CAP_VERSION */
    char target[OBJ_MAX_KEY + 1]; /* prefix or key */
    size_t target_len;
    char version_id[40];                 /* OBJ_CAP_VERSION */
    unsigned perms;                      /* OBJ_CAP_READ | ... */
    int64_t expires_ms;                  /* 0: never */
    char cidr[64];                       /* source address range, "" for any */
    int64_t not_before_ms, not_after_ms; /* time window, 0: open */
    char access_key[24];
    int64_t created_ms, revoked_ms; /* revoked_ms 0: live */
} obj_cap;

/* Makes capability c (fills id, parent, grantor, access_key, created_ms)
 * for creator: a user who owns c->bucket, or "cap:<id>", a live capability
 * that c is no wider than (obj/caps.c note 1). secret gets the key's secret.
 * -CN_EINVALID_ARGUMENT, -CN_EACCESS, -CN_ENO_BUCKET. */
int obj_cap_create(obj_store *s, const char *creator, obj_cap *c, char secret[OBJ_CAP_SECRET_LEN + 1]);
/* Revokes id and so every capability derived from it; by is the granting
 * user or a capability at or above id. -CN_ENOT_FOUND, -CN_EACCESS. */
int obj_cap_revoke(obj_store *s, const char *id, const char *by);
/* The capability and its ancestors, leaf first. -CN_ENOT_FOUND. */
int obj_cap_chain(obj_store *s, const char *id, obj_cap chain[OBJ_CAP_MAX_DEPTH], size_t *n);
/* What by granted: a user, every capability of chains it started; a
 * capability, itself and its descendants. *out is malloc'd. */
int obj_cap_list(obj_store *s, const char *by, obj_cap **out, size_t *n);

typedef struct obj_rotate_report {
    size_t secrets, blobs; /* records re-sealed */
    char old_id[9], new_id[9];
} obj_rotate_report;

/* cairn key rotate (rotate.c): a new random master key re-seals every
 * access-key secret and blob key in one transaction; no blob is rewritten.
 * With a key file, the new key replaces it (via <file>.new, crash-safe);
 * with a key given as text, new_key_file must name a new file (0600) that
 * receives it, and the operator must then give that key instead. Only
 * while no gateway uses the store. */
int obj_master_key_rotate(obj_store *s, const char *new_key_file, obj_rotate_report *out);

/* Which region key the store signs with, for the gateway's log. */
typedef struct obj_region_key_info {
    const char *public_hex; /* Ed25519 public key, 64 hex digits (owned by the store) */
    const char *file;       /* NULL when given as text */
    int created;
} obj_region_key_info;

void obj_store_region_key(obj_store *s, obj_region_key_info *out);

/* Secret lookup usable as auth_secret_fn. -CN_ENOKEY_ID if unknown,
 * disabled, or of a user that no longer exists; -CN_ETOOLARGE if a buffer is
 * too small, -CN_EINTERNAL if the
 * stored secret does not open under the master key (logged with the access
 * key only). Secrets are stored sealed (AES-256-GCM, bound to their access
 * key) and never logged; the plaintext written to secret is the caller's to
 * wipe after use (OPENSSL_cleanse), and secret is wiped on any failure.
 * Every call reads the store: a key disabled or deleted is refused by the
 * next request. */
int obj_key_lookup(void *store, const char *access_key, char *secret, size_t secret_cap, char *principal,
                   size_t principal_cap);
/* A key of the existing user principal with the given id and secret (the
 * gateway's root key at first start; obj_user_key_create() makes random
 * ones). -CN_ECONFLICT if access_key exists, -CN_EINVALID_ARGUMENT if either
 * is empty or > 128 chars, -CN_ENO_USER, -CN_ETOOLARGE when the user already
 * has OBJ_USER_MAX_KEYS keys. */
int obj_key_create(obj_store *s, const char *principal, const char *access_key, const char *secret_key);
/* Number of access keys stored (0 on a fresh store). */
int obj_key_count(obj_store *s, int *count);

/* ---- users, groups and their access keys (users.c, groups.c) ----
 *
 * A user is a name that access keys authenticate as (auth_result.principal)
 * and that owns buckets; a group is a set of users (bucket policies name
 * them; the admin API admits the group "admins"). Names are 1 to
 * OBJ_NAME_MAX characters of [A-Za-z0-9_.@-], compared as bytes. The user
 * "root" exists in every store and cannot be deleted. */

#define OBJ_NAME_MAX 64
#define OBJ_ROOT_USER "root"
#define OBJ_ACCESS_KEY_LEN 20 /* "AKIA" + 16 of [A-Z0-9] */
#define OBJ_SECRET_KEY_LEN 40 /* [A-Za-z0-9] */
#define OBJ_USER_MAX_KEYS 100
#define OBJ_USER_MAX_GROUPS 100

typedef struct obj_principal {
    char name[OBJ_NAME_MAX + 1];
    time_t created;
} obj_principal;

typedef obj_principal obj_user;
typedef obj_principal obj_group;

typedef struct obj_key_info {
    char access_key[129];
    char user[OBJ_NAME_MAX + 1];
    time_t created;
    int disabled;
} obj_key_info;

/* 0 if name is a valid user or group name, else -CN_EINVALID_ARGUMENT. */
int obj_principal_name_valid(const char *name);

/* -CN_EINVALID_ARGUMENT (name), -CN_EEXISTS. */
int obj_user_create(obj_store *s, const char *name);
/* -CN_ENO_USER. */
int obj_user_get(obj_store *s, const char *name, obj_user *out);
/* Every user, by name; *out is malloc'd (free()). */
int obj_user_list(obj_store *s, obj_user **out, size_t *n);
/* Deletes the user with its access keys and memberships, in one transaction.
 * -CN_ENO_USER; -CN_ECONFLICT for "root" and for a user that owns a bucket
 * (obj_bucket_list() names them). */
int obj_user_delete(obj_store *s, const char *name);
/* The groups user belongs to, by name, for the policy step and the admin
 * API. *groups is malloc'd: obj_names_free(). -CN_ENO_USER. */
int obj_user_groups(obj_store *s, const char *user, char ***groups, size_t *n);
/* *member = 1 if user is a member of group, else 0 (a missing user or group
 * is no member). */
int obj_user_in_group(obj_store *s, const char *user, const char *group, int *member);
void obj_names_free(char **v, size_t n);

/* -CN_EINVALID_ARGUMENT (name), -CN_EEXISTS. */
int obj_group_create(obj_store *s, const char *name);
/* -CN_ENO_GROUP. */
int obj_group_get(obj_store *s, const char *name, obj_group *out);
int obj_group_list(obj_store *s, obj_group **out, size_t *n);
/* Deletes the group and its memberships. -CN_ENO_GROUP. */
int obj_group_delete(obj_store *s, const char *name);
/* The members of group, by name (obj_names_free()). -CN_ENO_GROUP. */
int obj_group_members(obj_store *s, const char *group, char ***users, size_t *n);
/* Adds user to group; adding a member again succeeds. -CN_ENO_GROUP,
 * -CN_ENO_USER, -CN_ETOOLARGE when the user is in OBJ_USER_MAX_GROUPS
 * groups already. */
int obj_group_add(obj_store *s, const char *group, const char *user);
/* -CN_ENO_GROUP, -CN_ENO_USER (no such user, or not a member). */
int obj_group_remove(obj_store *s, const char *group, const char *user);

/* A random access key id (OBJ_ACCESS_KEY_LEN) and secret
 * (OBJ_SECRET_KEY_LEN), NUL-terminated. 0 or -CN_EINTERNAL. */
int obj_key_generate(char access_key[OBJ_ACCESS_KEY_LEN + 1], char secret_key[OBJ_SECRET_KEY_LEN + 1]);
/* A new random key of user (obj_key_generate(), sealed as obj_key_create()
 * seals). The secret is returned here once and never again: the caller
 * wipes it after use. Errors as obj_key_create(). */
int obj_user_key_create(obj_store *s, const char *user, char access_key[OBJ_ACCESS_KEY_LEN + 1],
                        char secret_key[OBJ_SECRET_KEY_LEN + 1]);
/* The keys of user (NULL: every key), oldest first, without secrets; *out
 * is malloc'd (free()). -CN_ENO_USER. */
int obj_key_list(obj_store *s, const char *user, obj_key_info **out, size_t *n);
/* -CN_ENOKEY_ID. */
int obj_key_get(obj_store *s, const char *access_key, obj_key_info *out);
/* Disables (disabled != 0) or enables a key: a disabled key authenticates
 * nothing until enabled again. -CN_ENOKEY_ID; -CN_ECONFLICT for the last
 * enabled key of root, whose loss would lock every administrator out. */
int obj_key_set_disabled(obj_store *s, const char *access_key, int disabled);
/* Deletes a key for good. -CN_ENOKEY_ID; -CN_ECONFLICT as above. */
int obj_key_delete(obj_store *s, const char *access_key);

/* ---- buckets ---- */

/* A bucket's versioning state, as stored in buckets.versioning. A bucket
 * never returns to OBJ_VERSIONING_OFF once enabled (S3 has no such status). */
typedef enum obj_versioning {
    OBJ_VERSIONING_OFF = 0, /* never enabled: every write is the "null" version */
    OBJ_VERSIONING_ENABLED = 1,
    OBJ_VERSIONING_SUSPENDED = 2,
} obj_versioning;

/* A canned ACL as stored on a bucket, version or upload: a name such as
 * "public-read" that s3api gives meaning to; "" (NULL when passed in) is
 * private. At most OBJ_ACL_MAX - 1 bytes, else -CN_EINVALID_ARGUMENT. */
#define OBJ_ACL_MAX 32

typedef struct obj_bucket {
    char name[64];
    char owner[128];
    char region[32];
    time_t created;
    int versioning;        /* obj_versioning */
    char acl[OBJ_ACL_MAX]; /* "" when private */
    /* Changes with every PutBucketPolicy and DeleteBucketPolicy of this
     * bucket and is never reused by any bucket of the store; 0 when the
     * bucket has no policy. A parsed policy may be cached under
     * (name, policy_gen). */
    int64_t policy_gen;
} obj_bucket;

/* -CN_EINVALID_BUCKET_NAME, -CN_EBUCKET_EXISTS (same owner), -CN_EBUCKET_TAKEN */
int obj_bucket_create(obj_store *s, const char *name, const char *owner, const char *region);
int obj_bucket_get(obj_store *s, const char *name, obj_bucket *out); /* -CN_ENO_BUCKET */
/* -CN_EBUCKET_NOT_EMPTY if any version or multipart upload remains. */
int obj_bucket_delete(obj_store *s, const char *name);
/* Buckets of owner (all when owner is NULL), by name. *out is malloc'd. */
int obj_bucket_list(obj_store *s, const char *owner, obj_bucket **out, size_t *n);
/* Sets the versioning state (ENABLED or SUSPENDED; OFF gives
 * -CN_EINVALID_ARGUMENT). -CN_ENO_BUCKET. Versions already written keep
 * their ids; only later writes and deletes follow the new state. */
int obj_bucket_versioning_set(obj_store *s, const char *name, obj_versioning state);
/* The bucket's default placement, used by writes that name no storage class
 * (or STANDARD); NULL or "STANDARD" restores the store's default.
 * -CN_EINVALID_STORAGE_CLASS, -CN_ENO_BUCKET. */
int obj_bucket_placement_set(obj_store *s, const char *name, const char *cls);
/* 0 if cls is NULL, STANDARD or a configured placement, else -CN_EINVALID_STORAGE_CLASS. */
int obj_storage_class_valid(const obj_store *s, const char *cls);
/* The bucket's canned ACL (NULL or "": private). -CN_ENO_BUCKET. */
int obj_bucket_acl_set(obj_store *s, const char *name, const char *acl);
/* The bucket policy document as stored, byte for byte: *json malloc'd and
 * NUL-terminated (*len bytes), or NULL with *len 0 and *gen 0 when the
 * bucket has none; *gen the generation read with it (gen may be NULL).
 * -CN_ENO_BUCKET. The object layer never looks inside the document. */
int obj_bucket_policy_get(obj_store *s, const char *name, char **json, size_t *len, int64_t *gen);
/* Stores json[0..len) as the bucket's policy with a new generation; json
 * NULL removes it (no error when there was none). -CN_ENO_BUCKET. */
int obj_bucket_policy_set(obj_store *s, const char *name, const char *json, size_t len);
/* AWS bucket naming rules (3-63 chars, lower-case, digits, '.', '-', ...).
 * Returns 0 when valid, -CN_EINVALID_BUCKET_NAME otherwise (like obj_key_valid). */
int obj_bucket_name_valid(const char *name);
/* Key rules: 1..1024 bytes, valid UTF-8, no NUL; -CN_EKEY_TOO_LONG or -CN_EINVALID_KEY. */
int obj_key_valid(const char *key, size_t len);

/* ---- tags (objects and buckets) ---- */

typedef struct obj_tag {
    char *key, *value;
} obj_tag;

typedef struct obj_tags {
    obj_tag *v;
    size_t n;
} obj_tags;

void obj_tags_dispose(obj_tags *t);
/* Tag sets are validated where they are stored (put, copy, multipart create,
 * tagging calls): at most 10 per object / 50 per bucket, key 1..128 and value
 * 0..256 characters of UTF-8, unique keys; else -CN_EINVALID_TAG. */

/* ---- versions ---- */

/* A header stored with a version and echoed on GET/HEAD: content-type,
 * content-encoding, content-disposition, content-language, cache-control,
 * expires, x-amz-meta-*, x-amz-checksum-* (s3api decides which). */
typedef struct obj_attr {
    char *name, *value;
} obj_attr;

typedef struct obj_version {
    char *bucket;
    char *key;
    /* "null" for writes in unversioned and suspended buckets; else an
     * opaque, unique, URL-safe id of 32 characters */
    char version_id[40];
    uint64_t size;
    char etag[48];    /* quoted: "\"<md5hex>\"" or "\"<md5hex>-N\"" */
    int64_t mtime_ms; /* last-modified, ms since epoch */
    int delete_marker;
    int parts_count;        /* 0 unless created by multipart */
    char storage_class[32]; /* "STANDARD" */
    char owner[128];
    obj_attr *attrs;
    size_t n_attrs;
    int n_tags;
    int is_latest;
    int64_t vid; /* internal row id; opaque to callers */
} obj_version;

void obj_version_dispose(obj_version *v);
/* Value of a stored attribute (lower-case name) or NULL. */
const char *obj_version_attr(const obj_version *v, const char *name);

typedef struct obj_put_args {
    const char *bucket, *key;
    cn_stream *body; /* yields exactly size bytes, then 0 */
    uint64_t size;
    /* Read only after body has returned its final 0 (see obj_put), so that
     * the body stream itself may fill them in at its end: a checksum that
     * arrives in an aws-chunked trailer is known only then. */
    const obj_attr *attrs;
    size_t n_attrs;
    const obj_tags *tags;       /* may be NULL */
    const uint8_t *content_md5; /* 16 bytes expected, or NULL: -CN_EBAD_DIGEST on mismatch */
    const char *owner;
    const char *storage_class; /* NULL for STANDARD */
    int if_none_match_star;    /* conditional create: -CN_EPRECONDITION if the key exists */
    /* Conditional overwrite (If-Match), or NULL: the key's latest version
     * must exist (-CN_ENO_KEY if it does not or is a delete marker) and have
     * this ETag (quotes optional; "*" matches any), else -CN_EPRECONDITION. */
    const char *if_match_etag;
    const char *acl; /* the new version's canned ACL (OBJ_ACL_MAX); NULL: private */
} obj_put_args;

/* Stores a new version of key. The body is read exactly once, hashed (MD5
 * for the ETag, SHA-256 for the blob address) and written as it is read. An
 * error from the body stream (bad signature, checksum) aborts the write and
 * changes nothing. -CN_EINCOMPLETE_BODY if the stream ends early;
 * -CN_EINVALID_REQUEST if it yields more than size bytes (one extra read
 * confirms the end, which also lets a signed-chunk stream check its final
 * chunk). Also -CN_ENO_BUCKET, -CN_EPRECONDITION, -CN_ENO_KEY (If-Match on a
 * missing key), -CN_EBAD_DIGEST, -CN_EENTITY_TOO_LARGE (> 5 GiB),
 * -CN_EINVALID_STORAGE_CLASS (not an S3 class name), -CN_EINVALID_TAG,
 * -CN_EINVALID_ARGUMENT (an attribute that is not UTF-8),
 * -CN_EMETADATA_TOO_LARGE. out may be NULL.
 *
 * Order: a->attrs and a->n_attrs are read only after a->body has returned
 * its final 0 (and never if the body fails), so an attribute refused there
 * (not UTF-8, too large) is refused after the bytes were streamed; the
 * stream's bytes are then discarded. The conditions (if_none_match_star,
 * if_match_etag) are checked once before the body is read, to spare
 * streaming a body bound to be refused, and authoritatively again inside
 * the commit transaction, so no concurrent write can slip in between. */
int obj_put(obj_store *s, const obj_put_args *a, obj_version *out);

/* Latest version (version_id NULL) or a given one ("null" names the null
 * version). -CN_ENO_BUCKET, -CN_ENO_KEY (also when the latest version is a
 * delete marker, with out filled and out->delete_marker set),
 * -CN_ENO_VERSION, -CN_EMETHOD_NOT_ALLOWED when version_id names a delete
 * marker (out filled: S3 answers 405 with the marker's headers). */
int obj_head(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_version *out);

/* Opens bytes [off, off+len) of a version for streaming (-CN_ERANGE if
 * outside it). The stream reads from the provider in pieces of at most the
 * caller's buffer size. -CN_ENO_KEY if the version was replaced or deleted
 * since obj_head() returned it: a caller racing an overwrite should head
 * again and retry once. An open stream keeps working for the GC grace period
 * even if its version is deleted meanwhile. */
int obj_open(obj_store *s, const obj_version *v, uint64_t off, uint64_t len, cn_stream **out);

typedef struct obj_delete_result {
    int delete_marker;   /* a marker was created or removed */
    char version_id[40]; /* version created (marker) or removed; "" if none */
} obj_delete_result;

/* Deletes key or one version, as S3 does:
 *  - version_id given: removes exactly that version or delete marker (its
 *    blob references are dropped); if it was the latest, the newest
 *    remaining version becomes latest. out names it, delete_marker set if
 *    it was a marker. A version id other than "null" that does not exist
 *    gives -CN_ENO_VERSION; a missing null version succeeds.
 *  - no version_id, bucket never versioned: removes the null version.
 *  - no version_id, versioning enabled: adds a delete marker with a new
 *    version id (even when the key has no version); nothing is released.
 *  - no version_id, suspended: adds a delete marker whose id is "null",
 *    replacing (and releasing) the null version.
 * Deleting a missing key in an unversioned bucket succeeds. */
int obj_delete(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_delete_result *out);

typedef struct obj_copy_args {
    const obj_version *src;
    const char *bucket, *key; /* destination */
    const obj_attr *attrs;    /* NULL: keep the source's (COPY directive) */
    size_t n_attrs;
    int replace_attrs;    /* REPLACE directive: use attrs even if n_attrs == 0 */
    const obj_tags *tags; /* NULL: copy the source's tags */
    const char *owner;
    const char *storage_class;
    const char *acl; /* the new version's; NULL: private (never the source's, as in S3) */
} obj_copy_args;

/* New version at the destination whose extents reference the source's blobs:
 * no bytes move. Records the source as "derived from". The source is re-read
 * by src->vid inside the commit: -CN_ENO_KEY if it is gone. The ETag and
 * parts_count are the source's. out may be NULL. */
int obj_copy(obj_store *s, const obj_copy_args *a, obj_version *out);

/* ---- lineage (lineage.c; docs/LINEAGE.md) ---- */

#define OBJ_LINEAGE_MAX 10000 /* records one obj_lineage_get() returns at most */

/* One version's lineage record as stored. record_hash is "" (and sig_len
 * 0) for a version written before records were signed. */
typedef struct obj_lineage_rec {
    char *key; /* key_len bytes, NUL-terminated */
    size_t key_len;
    char version_id[40];
    char parent_hash[CN_LIN_HASH_HEX], derived_hash[CN_LIN_HASH_HEX];
    char **sources; /* n_sources record hashes, ascending: a version 2 record */
    size_t n_sources;
    uint64_t size;
    char etag[48];
    int64_t created_ms;
    int delete_marker;
    char region[32];
    cn_lin_extent *ext;
    size_t n_ext;
    char record_hash[CN_LIN_HASH_HEX];
    uint8_t sig[CN_LIN_SIG_LEN];
    size_t sig_len;
} obj_lineage_rec;

/* Every version of key, newest first (at most OBJ_LINEAGE_MAX; *truncated
 * set when more exist). -CN_ENO_BUCKET, -CN_ENO_KEY if it has none. *out
 * is released with obj_lineage_free(). */
int obj_lineage_get(obj_store *s, const char *bucket, const char *key, obj_lineage_rec **out, size_t *n,
                    int *truncated);
void obj_lineage_free(obj_lineage_rec *v, size_t n);
/* The record's fields as cn_lin_record (pointing into r). */
void obj_lineage_fields(const char *bucket, const obj_lineage_rec *r, cn_lin_record *out);

/* ---- tags on versions and buckets ---- */

int obj_tags_get(obj_store *s, const char *bucket, const char *key, const char *version_id, obj_tags *out);
int obj_tags_put(obj_store *s, const char *bucket, const char *key, const char *version_id, const obj_tags *t);
int obj_tags_delete(obj_store *s, const char *bucket, const char *key, const char *version_id);
/* key NULL: bucket tags. -CN_ENO_TAGSET when none were set. */
int obj_bucket_tags_get(obj_store *s, const char *bucket, obj_tags *out);
int obj_bucket_tags_put(obj_store *s, const char *bucket, const obj_tags *t);
int obj_bucket_tags_delete(obj_store *s, const char *bucket);

/* ---- canned ACLs of versions (access.c) ---- */

/* The ACL of the latest version (version_id NULL) or of a given one, as
 * obj_tags_get finds it: -CN_ENO_BUCKET, -CN_ENO_KEY (also a latest delete
 * marker), -CN_ENO_VERSION, -CN_EMETHOD_NOT_ALLOWED (a marker named by id).
 * acl is "" for private. */
int obj_version_acl_get(obj_store *s, const char *bucket, const char *key, const char *version_id,
                        char acl[OBJ_ACL_MAX]);
/* Replaces that version's ACL (NULL or "": private); same errors. */
int obj_version_acl_set(obj_store *s, const char *bucket, const char *key, const char *version_id, const char *acl);

/* ---- listing ---- */

typedef struct obj_list_args {
    const char *bucket;
    const char *prefix;      /* may be NULL */
    const char *delimiter;   /* may be NULL */
    const char *start_after; /* exclusive; marker, continuation token or start-after */
    int max_keys;            /* 0..1000 */
} obj_list_args;

typedef struct obj_list_result {
    obj_version *items; /* latest non-marker version of each key, in key order (no attrs) */
    size_t n_items;
    char **prefixes; /* common prefixes, in order */
    size_t n_prefixes;
    int truncated;
    char *next_marker; /* last key or prefix returned, when truncated */
} obj_list_result;

/* Keys compare as bytes. A start_after equal to a common prefix (a previous
 * page's next_marker) skips everything under that prefix. max_keys 0 gives
 * an empty, untruncated result; > 1000 or < 0 means 1000. */
int obj_list(obj_store *s, const obj_list_args *a, obj_list_result *out);
void obj_list_dispose(obj_list_result *r);

typedef struct obj_list_versions_args {
    const char *bucket;
    const char *prefix, *delimiter; /* may be NULL */
    /* Exclusive position of the previous page: without version_id_marker,
     * every version of key_marker is skipped; with it, the versions of
     * key_marker newer than or equal to that version are skipped. */
    const char *key_marker, *version_id_marker;
    int max_keys; /* 0..1000, as obj_list */
} obj_list_versions_args;

typedef struct obj_list_versions_result {
    /* versions and delete markers in key order, newest first within a key;
     * is_latest set; no attrs */
    obj_version *items;
    size_t n_items;
    char **prefixes;
    size_t n_prefixes;
    int truncated;
    /* when truncated: the last key or prefix returned, and the last
     * version's id (NULL when the page ended on a prefix) */
    char *next_key_marker, *next_version_id_marker;
} obj_list_versions_result;

/* ListObjectVersions. -CN_ENO_BUCKET; -CN_EINVALID_ARGUMENT if
 * version_id_marker is given without key_marker or names no version of it. */
int obj_list_versions(obj_store *s, const obj_list_versions_args *a, obj_list_versions_result *out);
void obj_list_versions_dispose(obj_list_versions_result *r);

/* ---- multipart ---- */

/* An additional checksum as S3 names it. The object layer stores and compares
 * these as opaque strings; s3api computes and verifies them. */
typedef struct obj_checksum {
    char algo[16];  /* "crc32", "crc32c", "crc64nvme", "sha1", "sha256"; "" for none */
    char value[64]; /* base64 of the digest, as S3 sends it */
} obj_checksum;

typedef struct obj_part {
    int number;
    uint64_t size;
    char etag[48]; /* quoted */
    int64_t mtime_ms;
    obj_checksum checksum; /* algo "" when the part was stored without one */
} obj_part;

typedef struct obj_mpu {
    char *key;
    char upload_id[64];
    int64_t initiated_ms;
    char owner[128];
    char storage_class[32];
    char checksum_algo[16]; /* asked at creation ("crc32", ...), "" if none */
    char checksum_type[16]; /* "COMPOSITE" or "FULL_OBJECT", "" if none */
} obj_mpu;

typedef struct obj_mpu_create_args {
    const char *bucket, *key;
    const obj_attr *attrs;
    size_t n_attrs;
    const obj_tags *tags;
    const char *owner;
    const char *storage_class;
    const char *checksum_algo; /* NULL or a name of at most 15 bytes, stored as given */
    const char *checksum_type; /* NULL or at most 15 bytes, stored as given */
    const char *acl;           /* given to the completed version; NULL: private */
} obj_mpu_create_args;

/* -CN_EINVALID_ARGUMENT if a checksum label is too long. */
int obj_mpu_create(obj_store *s, const obj_mpu_create_args *a, char upload_id[64]);
/* The open upload upload_id of bucket/key: -CN_ENO_BUCKET, -CN_ENO_UPLOAD.
 * An upload's fields never change, so this may be read before acting on it.
 * out->key is malloc'd: obj_mpu_dispose(). */
int obj_mpu_get(obj_store *s, const char *bucket, const char *key, const char *upload_id, obj_mpu *out);
void obj_mpu_dispose(obj_mpu *u);
/* Uploading a part number again replaces it. -CN_ENO_UPLOAD. The body is
 * read as obj_put reads it. checksum (may be NULL, or algo "") is read only
 * after body has returned its final 0, like obj_put's attrs, and stored with
 * the part; -CN_EINVALID_REQUEST if the upload was created with a checksum
 * algorithm and checksum names another one, -CN_EINVALID_ARGUMENT if its
 * value is empty or not NUL-terminated within the struct. */
int obj_mpu_put_part(obj_store *s, const char *bucket, const char *key, const char *upload_id, int part_number,
                     cn_stream *body, uint64_t size, const uint8_t *content_md5, const obj_checksum *checksum,
                     obj_part *out);
/* Part made of bytes [off, off+len) of src: extents only, no bytes move.
 * -CN_ERANGE, -CN_ENO_KEY (source gone), -CN_ENO_UPLOAD. The part's ETag is
 * the source's MD5 when the whole of a single-part source is copied;
 * otherwise it is an MD5 over the extents' identities (blob hash, offset,
 * length), because computing the bytes' MD5 would mean reading them. */
int obj_mpu_copy_part(obj_store *s, const char *bucket, const char *key, const char *upload_id, int part_number,
                      const obj_version *src, uint64_t off, uint64_t len, obj_part *out);

typedef struct obj_part_ref {
    int number;
    char etag[48];         /* as the client sent it; quotes optional */
    obj_checksum checksum; /* as the client sent it, algo "" if it sent none */
} obj_part_ref;

typedef struct obj_mpu_complete_args {
    const char *bucket, *key, *upload_id;
    const obj_part_ref *parts;
    size_t n;
    /* Appended to the attributes stored at obj_mpu_create() (s3api passes
     * the object's checksum here); may be NULL. */
    const obj_attr *attrs;
    size_t n_attrs;
    int if_none_match_star;    /* as in obj_put_args */
    const char *if_match_etag; /* as in obj_put_args */
} obj_mpu_complete_args;

/* Checks ascending part order (-CN_EINVALID_PART_ORDER), that each part
 * exists with that ETag (-CN_EINVALID_PART), that a part named with a
 * checksum was stored with that same algorithm and value (-CN_EINVALID_PART;
 * so a caller may derive the object's checksum from the named ones), and
 * that all but the last are at least 5 MiB (-CN_EENTITY_TOO_SMALL); then
 * commits a version whose extents are the parts' extents and whose ETag is
 * md5-of-md5s-N. Parts not named are released. An empty part list gives
 * -CN_EMALFORMED_XML; ETag quotes are optional. Attributes (plus a->attrs),
 * tags, owner and storage class come from obj_mpu_create(). The conditions
 * are checked inside the same commit transaction: -CN_EPRECONDITION,
 * -CN_ENO_KEY as for obj_put. out may be NULL. */
int obj_mpu_complete(obj_store *s, const obj_mpu_complete_args *a, obj_version *out);
int obj_mpu_abort(obj_store *s, const char *bucket, const char *key, const char *upload_id);

typedef struct obj_parts_result {
    obj_mpu upload;
    obj_part *parts;
    size_t n;
    int truncated;
    int next_marker;
} obj_parts_result;

int obj_mpu_list_parts(obj_store *s, const char *bucket, const char *key, const char *upload_id, int marker,
                       int max_parts, obj_parts_result *out);
void obj_parts_dispose(obj_parts_result *r);

typedef struct obj_mpu_list_args {
    const char *bucket, *prefix, *delimiter, *key_marker, *upload_id_marker;
    int max_uploads;
} obj_mpu_list_args;

typedef struct obj_mpu_list_result {
    obj_mpu *uploads;
    size_t n;
    char **prefixes;
    size_t n_prefixes;
    int truncated;
    char *next_key_marker, *next_upload_id_marker;
} obj_mpu_list_result;

int obj_mpu_list(obj_store *s, const obj_mpu_list_args *a, obj_mpu_list_result *out);
void obj_mpu_list_dispose(obj_mpu_list_result *r);

/* ---- maintenance ---- */

/* Deletes from providers the blobs that have had no reference for longer
 * than the grace period; returns how many were removed (>= 0). Safe to call
 * from any thread at any time; tiering/tier.h runs it periodically. */
int obj_gc(obj_store *s);

#endif
