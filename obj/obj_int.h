/*
 * obj_int: what the files of obj/ share and nothing outside obj/ may see
 * (as SQLite's btreeInt.h): the store itself, blob landing and reference
 * counting, version insertion and release, JSON codecs for attributes and
 * tags, and listing helpers. Functions are named obj__*.
 */
#ifndef CN_OBJ_INT_H
#define CN_OBJ_INT_H

#include <jansson.h>
#include <stdint.h>

#include "../common/lineage.h"
#include "../common/masterkey.h"
#include "meta.h"
#include "obj.h"
#include "../seal/seal.h"

struct obj_store {
    obj__meta *meta;
    seal_vault *vault; /* providers and placements: every blob not inline goes through it */
    char region[32];
    int64_t gc_grace_ms;
    uint64_t inline_max; /* bodies up to this size live in the metadata store */
    cn_mkey *mkey;       /* master key (keys.c): seals access-key secrets */
    char *mkey_file;     /* its file, NULL when given as text */
    int mkey_created;    /* the file was created by this open */
    cn_rkey *rkey;       /* region key (lineage.c): signs version records */
    char *rkey_file;     /* its file, NULL when given as text */
    int rkey_created;
};

/* Loads or creates the region key (lineage.c; see obj_config). */
int obj__lineage_open(obj_store *s, const obj_config *cfg);

/* Loads the master key and seals the clear-text secrets of an older store
 * (keys.c; see obj_store_open()). db_path is the metadata file. */
int obj__keys_open(obj_store *s, const obj_config *cfg, const char *db_path);

int64_t obj__now_ms(void);
/* Copies a column as a string into a fixed buffer (truncating, NUL-terminated). */
void obj__col_copy(sqlite3_stmt *st, int col, char *dst, size_t cap);
/* malloc'd NUL-terminated copy of a TEXT/BLOB column; NULL on OOM. */
char *obj__col_dup(sqlite3_stmt *st, int col);

/* ---- blobs (blob.c) ---- */

/* A body written to the providers, on its way to becoming a live blob. */
typedef struct obj__landing {
    int64_t bid; /* the pending intent row; 0 for an empty or inline body */
    char locator[40];
    uint8_t *inline_data; /* the whole body when it is stored inline (size <= inline_max) */
    uint64_t size;
    uint8_t md5[16];
    char sha256[65];
    int dup;                     /* set by obj__blob_settle(): an identical live blob exists */
    char cls[SEAL_NAME_MAX + 1]; /* the placement */
    seal_ref ref;                /* not inline: where and how the shards are */
    uint32_t missing;            /* shards that could not be written (repaired later) */
} obj__landing;

/* Records a pending intent (committed), streams exactly size bytes of body
 * through the seal pipeline to the placement of storage class sc (NULL or
 * "STANDARD": the bucket's default placement, else the store's) while
 * hashing them, confirms the body's end and
 * checks content_md5. On failure nothing is left behind (intent and shards
 * removed). */
int obj__blob_land(obj_store *s, cn_stream *body, uint64_t size, const uint8_t *content_md5, const char *bucket,
                   const char *sc, obj__landing *l);
/* The layout of a blob row: its layout column (NULL: a blob of a store made
 * before sealing, unsealed on provider "default"). */
int obj__blob_layout(const char *locator, uint64_t size, const char *layout, seal_ref *out);
/* The placement a storage class names: NULL and "STANDARD" are the default. */
const char *obj__placement(const obj_store *s, const char *sc);
/* Inside the commit transaction: references an identical live blob (l->dup)
 * or turns the intent into a live blob with refcount 0 (the caller's extent
 * inserts take the references). *bid is the blob to reference. */
int obj__blob_settle(obj__conn *c, obj__landing *l, int64_t now_ms, int64_t *bid);
/* After the commit transaction: removes the provider object and intent of a
 * duplicate or of a landing whose commit failed. Never fails: leftovers are
 * pending intents, which recovery removes. */
void obj__blob_finish(obj_store *s, obj__landing *l, int committed);
int obj__blob_ref(obj__conn *c, int64_t bid);
int obj__blob_unref(obj__conn *c, int64_t bid, int64_t now_ms);
/* 0 if capability id exists, -CN_ENOT_FOUND if not (caps.c). */
int obj__cap_exists(obj__conn *c, const char *id);
/* Records shards found bad by a read (repair.c); best effort. */
void obj__blob_mark_bad(obj_store *s, int64_t bid, uint32_t bad);
/* Removes the provider objects and rows of every pending intent. */
int obj__blob_recover(obj_store *s);

/* "\"<md5hex>\"" (object.c). */
void obj__etag_plain(char out[48], const uint8_t md5[16]);
/* ETags compare without their quotes and without regard to hex case (object.c). */
int obj__etag_equal(const char *stored, const char *given);
/* The conditions of a write, on the key's latest version, inside the caller's
 * transaction (object.c): none_match_star -CN_EPRECONDITION if a version
 * that is not a delete marker exists; if_match_etag (NULL: none)
 * -CN_ENO_KEY if none exists, -CN_EPRECONDITION if its ETag differs. */
int obj__write_cond(obj__conn *c, const char *bucket, const char *key, int none_match_star, const char *if_match_etag);

/* ---- versions (version.c) ---- */

typedef struct obj__extent {
    int64_t bid;
    uint64_t off, len;
} obj__extent;

/* A version a new one was derived from (multipart parts copied from it). */
typedef struct obj__source {
    int64_t vid;
    char hash[CN_LIN_HASH_HEX]; /* its record hash; "" if it was unsigned */
} obj__source;

typedef struct obj__newver {
    const char *bucket, *key;
    uint64_t size;
    const char *etag;
    int parts_count;
    const char *storage_class, *owner, *region;
    const char *attrs_json, *tags_json; /* NULL: none */
    int64_t derived_from;               /* 0: none */
    const obj__source *sources;         /* distinct hashes, ascending; n_sources > 0: a v2 record */
    size_t n_sources;
    int delete_marker; /* a marker: no extents, size 0, etag "" */
    const char *acl;   /* canned ACL; NULL or "": private */
    const obj__extent *ext;
    size_t n_ext;
    int64_t now_ms;
    const cn_rkey *rkey; /* signs the version's lineage record; NULL: left unsigned */
} obj__newver;

/* Commits a new latest version of key (write transaction), following the
 * bucket's versioning state: enabled, the version gets a new id and every
 * older version stays; otherwise it is the "null" version and replaces the
 * key's null version if any (releasing its references after its own are
 * taken). Its parent is the key's latest version before it. Fills out (may
 * be NULL). -CN_ENO_BUCKET. */
int obj__ver_insert(obj__conn *c, const obj__newver *nv, obj_version *out);
/* Inside obj__ver_insert(): hashes and signs the canonical record of the
 * new row vid (lineage.c), with the record hashes of parent and of
 * nv->derived_from read in the same transaction; stores nv->sources in
 * version_sources. */
int obj__lineage_sign(obj__conn *c, const obj__newver *nv, const char *version_id, int64_t vid, int64_t parent);
/* The record hash of vid ("" if vid is 0, gone or unsigned). */
int obj__lineage_hash(obj__conn *c, int64_t vid, char hex[CN_LIN_HASH_HEX]);
/* Deletes a version and drops its blob references; if it was the latest,
 * the newest remaining version of the key becomes latest. */
int obj__ver_release(obj__conn *c, int64_t vid, int64_t now_ms);
/* Reads a version row selected with OBJ__VCOLS into out. */
int obj__ver_from_row(sqlite3_stmt *st, const char *bucket, int with_attrs, obj_version *out);
/* Extents of vid in order. *out is malloc'd. */
int obj__ver_extents(obj__conn *c, int64_t vid, obj__extent **out, size_t *n);

/* A table of extent rows (owner, idx, bid, off, len), each holding one blob
 * reference: a version's (extents) or a part's (part_extents). The SQL are
 * string literals, as obj__stmt() caches statements by address. */
typedef struct obj__extent_table {
    const char *select; /* bid, off, len of owner ?1, in idx order */
    const char *insert; /* VALUES (?1 owner, ?2 idx, ?3 bid, ?4 off, ?5 len) */
    const char *remove; /* every row of owner ?1 */
    const char *what;   /* names the table in errors */
} obj__extent_table;

/* Extents of owner id in order. *out is malloc'd (NULL and *n 0 on error). */
int obj__extents_load(obj__conn *c, const obj__extent_table *t, int64_t id, obj__extent **out, size_t *n);
/* Inserts the rows of e[0..n) for owner id; the caller has taken the blob
 * references. */
int obj__extents_insert(obj__conn *c, const obj__extent_table *t, int64_t id, const obj__extent *e, size_t n);
/* Drops the blob reference of each extent of owner id, then its rows. */
int obj__extents_release(obj__conn *c, const obj__extent_table *t, int64_t id, int64_t now_ms);
/* Runs sql (a string literal, no result rows) with ?1 bound to id. */
int obj__exec_id(obj__conn *c, const char *sql, int64_t id);
/* The bucket's obj_versioning state; -CN_ENO_BUCKET (versioning.c). */
int obj__bucket_versioning(obj__conn *c, const char *bucket, int *state);
/* A new version id: 32 URL-safe characters from 24 random bytes (versioning.c). */
int obj__version_id_new(char out[40]);
/* 0 if the bucket exists, -CN_ENO_BUCKET otherwise. */
int obj__bucket_exists(obj__conn *c, const char *bucket);
/* The version a tagging or ACL call names, as S3 finds it: -CN_ENO_BUCKET,
 * -CN_ENO_KEY (none, or a latest delete marker), -CN_ENO_VERSION,
 * -CN_EMETHOD_NOT_ALLOWED (a delete marker named by id). */
int obj__ver_lookup(obj__conn *c, const char *bucket, const char *key, const char *version_id, int64_t *vid);
/* 0 if acl is NULL or fits OBJ_ACL_MAX, else -CN_EINVALID_ARGUMENT (access.c). */
int obj__acl_valid(const char *acl);
/* Finds a version: latest (version_id NULL) or a given one; *vid 0 if none. */
int obj__ver_find(obj__conn *c, const char *bucket, const char *key, const char *version_id, int64_t *vid,
                  int *delete_marker);

#define OBJ__VCOLS                                                                                                     \
    "vid, key, version_id, created_ms, delete_marker, size, etag, parts_count, storage_class, owner, attrs, tags, "    \
    "is_latest"

/* ---- multipart (multipart.c) ---- */

/* 0 if upload_id is an open upload of bucket/key; -CN_ENO_BUCKET, -CN_ENO_UPLOAD. */
int obj__upload_check(obj__conn *c, const char *bucket, const char *key, const char *upload_id);
int obj__part_extents(obj__conn *c, int64_t pid, obj__extent **out, size_t *n);
/* Releases every part of an upload and deletes the upload row. */
int obj__upload_release(obj__conn *c, const char *upload_id, int64_t now_ms);
/* Fills u from a row selected with OBJ__UCOLS starting at key_col (mpu_list.c);
 * u->key is NULL on OOM. */
void obj__mpu_from_row(sqlite3_stmt *st, int key_col, obj_mpu *u);

#define OBJ__UCOLS "key, upload_id, initiated_ms, owner, storage_class, ck_algo, ck_type"

/* ---- JSON codecs (attrs.c) ---- */

/* Attributes as a JSON array of [name, value]; *out malloc'd, NULL if n == 0. */
int obj__attrs_encode(const obj_attr *a, size_t n, char **out);
int obj__attrs_decode(const char *json, obj_attr **out, size_t *n);
/* Tags, validated: at most max tags, key 1..128 and value 0..256 characters,
 * unique keys; -CN_EINVALID_TAG. *out NULL for an empty set. */
int obj__tags_encode(const obj_tags *t, size_t max, char **out);
int obj__tags_decode(const char *json, obj_tags *out);
int obj__tags_count(const char *json);
/* 0 if sc is NULL, STANDARD or a configured placement, else -CN_EINVALID_STORAGE_CLASS (blob.c). */
int obj__storage_class_valid(const obj_store *s, const char *sc);
/* 1 if s[0..n) is valid UTF-8 without NUL; *chars (may be NULL) gets the code point count. */
int obj__utf8_valid(const char *s, size_t n, size_t *chars);

/* ---- listing (list.c) ---- */

/* Range of keys a listing still has to visit: [lo, hi), hi_len 0 = unbounded. */
typedef struct obj__bound {
    char lo[OBJ_MAX_KEY + 2], hi[OBJ_MAX_KEY + 2];
    size_t lo_len, hi_len;
    int empty; /* nothing can follow start_after */
} obj__bound;

/* Byte-wise comparison, shorter first on a tie (SQLite's BLOB order). */
int obj__keycmp(const char *a, size_t alen, const char *b, size_t blen);
/* The smallest byte string greater than every string starting with p, or
 * length 0 when there is none (p empty or all 0xff). Writes into out (len+1). */
size_t obj__prefix_end(const char *p, size_t len, char *out);
/* Length of key's common prefix (through the first delimiter at or after
 * plen), 0 if the delimiter does not occur there or delim is empty. */
size_t obj__common_prefix(const char *key, size_t klen, size_t plen, const char *delim, size_t dlen);
/* Initial bounds from prefix and an exclusive start_after (a common prefix
 * as start_after skips everything under it). */
int obj__list_start(obj__bound *b, const char *prefix, const char *start_after, const char *delim);
int obj__list_past_hi(const obj__bound *b, const char *key, size_t klen);

/* A listing's walk (ListObjects, ListMultipartUploads): rows of one bucket
 * in key order from b.lo; a row whose key has a common prefix adds that
 * prefix once and the walk seeks past it, any other row goes to take(). At
 * most max rows and prefixes; one more entry sets truncated. */
typedef struct obj__walk {
    const char *sql;  /* rows with bucket = ?1 AND key >= ?2 in key order (a string literal) */
    const char *what; /* names the listing in errors */
    int key_col;      /* the key's column in sql's rows */
    const char *bucket, *prefix, *delimiter;
    int max;
    obj__bound b; /* from obj__list_start() */
    /* 1 if a row is passed over without counting (may be NULL) */
    int (*skip)(void *arg, sqlite3_stmt *st, const char *key, size_t klen);
    int (*take)(void *arg, sqlite3_stmt *st); /* 0 or a negative CN_E* */
    void *arg;
    /* filled by obj__list_walk(); prefixes are malloc'd, each string too */
    char **prefixes;
    size_t n_prefixes, cap_prefixes;
    size_t n;        /* rows taken plus prefixes added */
    int truncated;   /* an entry beyond max was found */
    int last_prefix; /* the last entry was a common prefix, not a row */
} obj__walk;

/* Runs w inside a read transaction: -CN_ENO_BUCKET if its bucket does not
 * exist, else 0 or the first error of a statement or of take(). */
int obj__list_walk(obj__conn *c, obj__walk *w);
/* Appends a malloc'd copy of s[0..len) to a growable string vector. */
int obj__strv_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len);
/* Frees the versions and common prefixes of a listing result. */
void obj__list_free(obj_version *items, size_t n_items, char **prefixes, size_t n_prefixes);

/* ---- users and groups (users.c, groups.c) ---- */

/* A table of named principals (users, groups): name, created. The SQL are
 * string literals (obj__stmt() caches by address). */
typedef struct obj__ptable {
    const char *insert; /* (?1 name, ?2 created), doing nothing on a conflict */
    const char *get;    /* name, created of ?1 */
    const char *list;   /* name, created of every row, by name */
    int missing;        /* -CN_ENO_USER or -CN_ENO_GROUP */
} obj__ptable;

extern const obj__ptable obj__users_table;
/* -CN_EINVALID_ARGUMENT, -CN_EEXISTS. */
int obj__principal_create(obj_store *s, const obj__ptable *t, const char *name);
/* t->missing when absent. */
int obj__principal_get(obj_store *s, const obj__ptable *t, const char *name, obj_principal *out);
int obj__principal_list(obj_store *s, const obj__ptable *t, obj_principal **out, size_t *n);
/* Steps sql (a string literal) with ?1 bound to arg. */
int obj__exec1(obj__conn *c, const char *sql, const char *arg);
/* 0 if the user exists, -CN_ENO_USER otherwise. */
int obj__user_exists(obj__conn *c, const char *name);
/* The single integer of sql (a string literal, one ?1 bound to arg). */
int obj__count(obj__conn *c, const char *sql, const char *arg, int64_t *out);
/* Every row's first column of sql (?1 bound to arg) as a string vector. */
int obj__names(obj__conn *c, const char *sql, const char *arg, char ***out, size_t *n);

#endif
