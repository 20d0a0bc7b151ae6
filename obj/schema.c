/*
 * schema: the metadata tables and the one place that creates or upgrades
 * them. Applied by obj__meta_open() on the write connection before the
 * committer starts.
 *
 * Design notes:
 *  1. Keys are stored as BLOBs and always bound as BLOBs, so ordering and
 *     prefix ranges are byte comparisons whatever the UTF-8 (S3 lists in
 *     binary order).
 *  2. There is no table of keys: a key is the set of its versions. Exactly
 *     one version per (bucket, key) has is_latest = 1 (unique partial index);
 *     listings use a second partial index that holds only latest non-marker
 *     versions, so delete markers and old versions never slow a listing.
 *  3. Blobs are rows keyed by an integer bid. A row is first a 'pending'
 *     intent (locator known, content not yet), then 'live' (sha256 set,
 *     refcount = number of extent rows naming it), then 'dead' (refcount 0,
 *     dead_since set) until obj_gc() deletes the provider object and the row.
 *     sha256 is unique among live blobs only: a dead blob is never revived,
 *     because GC may already be deleting its provider object.
 *  4. Every extent row (of a version or of an upload part) holds exactly one
 *     reference on its blob.
 *  5. access_keys.secret is a record sealed under the gateway master key
 *     (common/masterkey.h; obj/keys.c), never the secret itself, and is never
 *     logged. Stores made before version 3 hold it in clear as TEXT (the
 *     column was declared TEXT; a BLOB is kept as a BLOB in it): obj/keys.c
 *     seals those rows at open, because that needs the key and this file does
 *     not have it, and in the same transaction records the key's id as
 *     meta_info 'master_key_id'. That row marks the store as sealed: from
 *     then on a TEXT secret is refused, never sealed, and opening the store
 *     with another key fails.
 *  6. Upgrades only add nullable columns (ALTER TABLE ... ADD COLUMN), so an
 *     older database opens unchanged apart from them; schema_version in
 *     meta_info records the newest layout applied. Version 2 added the
 *     checksum columns of uploads (algorithm and type asked at creation) and
 *     parts (algorithm and base64 value verified at upload). Version 3
 *     seals access-key secrets (note 5). Version 4 adds the lineage columns
 *     of versions (note 7).
 *  7. versions.record_hash is the SHA-256 (hex) of the version's canonical
 *     record and versions.signature its Ed25519 signature by the region key
 *     (docs/LINEAGE.md; obj/lineage.c); parent_hash and derived_hash keep
 *     the record hashes of its parent and copy source as they were when it
 *     was written (those rows may be deleted later). All four are written
 *     in the version's own transaction. Rows written before version 4 keep them NULL and are
 *     reported as unsigned, never signed after the fact: signing now would
 *     vouch for fields nobody checked when they were written.
 *  8. Version 5 seals blobs (seal/seal.h). blobs.cls is the placement
 *     (storage class) a blob was written to, blobs.layout the text of its
 *     seal_ref (scheme, segment size, providers of its shards, its key
 *     wrapped by the master key), written with the pending intent before
 *     any shard is; a NULL layout is a blob of an older store, one unsealed
 *     object named by its locator on the provider "default". blobs.bad has
 *     bit i set while shard i is known missing or corrupt, until repaired.
 *     Identical content dedupes only within one placement: a cold class
 *     must not end up referencing a hot copy. buckets.placement is the
 *     bucket's default placement (NULL: the store's).
 *  9. Version 6 adds users, groups and memberships (obj/users.c,
 *     obj/groups.c). access_keys.principal names a row of users: a key is
 *     created only for an existing user, deleting a user deletes its keys
 *     and memberships in the same transaction, and obj_key_lookup() refuses
 *     a key whose user is gone all the same. Names are compared as bytes
 *     (case matters), as bucket owners are. Every open inserts the user
 *     "root" when missing; the upgrade of an older store also inserts a
 *     user for each principal that holds a key. Only that once: a key row
 *     planted later names no user and authenticates nothing. Buckets name
 *     their owner by user name but are not a foreign key: a user who owns
 *     a bucket cannot be deleted (users.c), nothing more.
 * 10. Version 6 also adds access control (s3api/authz.c). buckets.policy is the
 *     bucket policy document exactly as PutBucketPolicy received it (s3api
 *     validated it; NULL: none), and buckets.policy_gen a number that
 *     changes with every write of it, so that a parsed policy can be cached
 *     under (bucket, policy_gen) without reading the text. It is taken from
 *     meta_info 'policy_gen', which only ever grows: a bucket deleted and
 *     created again can never reuse a generation. buckets.acl, versions.acl
 *     and uploads.acl are canned ACL names ("public-read"), opaque here;
 *     NULL is private. An upload's ACL goes to the version its completion
 *     makes. ACLs can change (PutObjectAcl), so they are not part of a
 *     version's signed lineage record (note 7).
 * 11. caps holds capabilities (obj/caps.c): parent links a derived grant to
 *     the one it came from, grantor is the user who started the chain; a
 *     capability's access key is an access_keys row with principal
 *     "cap:<id>". Rows are never deleted, only revoked (revoked_ms).
 * 12. Version 7 records the sources of a multipart upload's copied parts
 *     (docs/LINEAGE.md, record version 2). parts.src_vid and parts.src_hash
 *     are the version an UploadPartCopy part was copied from and its record
 *     hash, read in the part's own transaction (NULL: an uploaded part).
 *     version_sources holds, for a version completed from such parts, the
 *     distinct source hashes in ascending order (idx 0, 1, ...) with one
 *     source vid for each, written in the completion's transaction and
 *     deleted with the version. Like parent_hash (note 7) the hashes are
 *     copies: the sources may be deleted and the record must still
 *     recompute. A version with no rows there has a version 1 record.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../common/err.h"
#include "meta_schema.h"

#define SCHEMA_VERSION 7

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta_info(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS buckets("
    "  name TEXT PRIMARY KEY, owner TEXT NOT NULL, region TEXT NOT NULL, created INTEGER NOT NULL,"
    "  versioning INTEGER NOT NULL DEFAULT 0,"                    /* 0 never enabled, 1 enabled, 2 suspended */
    "  tags TEXT, placement TEXT,"                                /* placement: note 8 */
    "  policy TEXT, policy_gen INTEGER, acl TEXT) WITHOUT ROWID;" /* note 9 */
    "CREATE TABLE IF NOT EXISTS versions("
    "  vid INTEGER PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL DEFAULT 0,"
    "  size INTEGER NOT NULL, etag TEXT NOT NULL, parts_count INTEGER NOT NULL DEFAULT 0,"
    "  storage_class TEXT NOT NULL, owner TEXT NOT NULL, region TEXT NOT NULL,"
    "  attrs TEXT, tags TEXT," /* JSON arrays of [name, value] pairs */
    "  parent_vid INTEGER, derived_from INTEGER,"
    "  record_hash TEXT, signature BLOB, parent_hash TEXT, derived_hash TEXT," /* lineage: note 7 */
    "  acl TEXT);"                                                             /* note 9 */
    "CREATE INDEX IF NOT EXISTS versions_key ON versions(bucket, key, vid);"
    /* ListObjectVersions walks keys ascending, versions newest first */
    "CREATE INDEX IF NOT EXISTS versions_newest ON versions(bucket, key, vid DESC);"
    "CREATE UNIQUE INDEX IF NOT EXISTS versions_vid ON versions(bucket, key, version_id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS versions_latest ON versions(bucket, key) WHERE is_latest = 1;"
    "CREATE INDEX IF NOT EXISTS versions_list ON versions(bucket, key)"
    "  WHERE is_latest = 1 AND delete_marker = 0;"
    "CREATE TABLE IF NOT EXISTS blobs("
    "  bid INTEGER PRIMARY KEY, locator TEXT NOT NULL UNIQUE, sha256 TEXT, size INTEGER NOT NULL,"
    "  refcount INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'live', 'dead')),"
    "  created_ms INTEGER NOT NULL, dead_since INTEGER,"
    "  cls TEXT, layout TEXT, bad INTEGER NOT NULL DEFAULT 0);" /* note 8 */
    "CREATE INDEX IF NOT EXISTS blobs_dead ON blobs(dead_since) WHERE state = 'dead';"
    "CREATE INDEX IF NOT EXISTS blobs_pending ON blobs(bid) WHERE state = 'pending';"
    /* bytes of inline blobs (locator starting with '='); see blob.c */
    "CREATE TABLE IF NOT EXISTS blob_data(bid INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS extents("
    "  vid INTEGER NOT NULL, idx INTEGER NOT NULL, bid INTEGER NOT NULL,"
    "  off INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY (vid, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS uploads("
    "  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated_ms INTEGER NOT NULL,"
    "  owner TEXT NOT NULL, storage_class TEXT NOT NULL, attrs TEXT, tags TEXT,"
    "  ck_algo TEXT, ck_type TEXT, acl TEXT) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS uploads_key ON uploads(bucket, key, upload_id);"
    "CREATE TABLE IF NOT EXISTS parts("
    "  pid INTEGER PRIMARY KEY, upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL, md5 BLOB NOT NULL, mtime_ms INTEGER NOT NULL, ck_algo TEXT, ck_value TEXT,"
    "  src_vid INTEGER, src_hash TEXT," /* note 12 */
    "  UNIQUE (upload_id, number));"
    "CREATE TABLE IF NOT EXISTS version_sources(" /* note 12 */
    "  vid INTEGER NOT NULL, idx INTEGER NOT NULL, src_vid INTEGER, src_hash TEXT NOT NULL,"
    "  PRIMARY KEY (vid, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS part_extents("
    "  pid INTEGER NOT NULL, idx INTEGER NOT NULL, bid INTEGER NOT NULL,"
    "  off INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY (pid, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS caps(" /* capabilities: note 10 */
    "  id TEXT PRIMARY KEY, parent TEXT, grantor TEXT NOT NULL, bucket TEXT NOT NULL, kind INTEGER NOT NULL,"
    "  target BLOB, version_id TEXT, perms INTEGER NOT NULL, expires_ms INTEGER, cidr TEXT,"
    "  not_before_ms INTEGER, not_after_ms INTEGER, access_key TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL, revoked_ms INTEGER) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS caps_parent ON caps(parent);"
    "CREATE INDEX IF NOT EXISTS caps_grantor ON caps(grantor);"
    "CREATE TABLE IF NOT EXISTS access_keys("
    "  access_key TEXT PRIMARY KEY, secret BLOB NOT NULL, principal TEXT NOT NULL," /* secret: note 5 */
    "  created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS access_keys_principal ON access_keys(principal);"
    /* users, groups, memberships: note 9 */
    "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS groups(name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS memberships("
    "  grp TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (grp, user)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS memberships_user ON memberships(user, grp);";

/* The user every store has, and those of a store older than version 6 (note 9). */
static const char root_sql[] =
    "INSERT OR IGNORE INTO users(name, created) VALUES ('root', CAST(strftime('%s', 'now') AS INTEGER));";
static const char users_sql[] =
    "INSERT OR IGNORE INTO users(name, created) SELECT principal, min(created) FROM access_keys GROUP BY principal;";

/* Columns added after version 1: created by schema_sql on a new database,
 * added here to an older one. */
static const struct {
    const char *table, *column, *decl;
} added[] = {
    {"uploads", "ck_algo", "TEXT"},      {"uploads", "ck_type", "TEXT"},
    {"parts", "ck_algo", "TEXT"},        {"parts", "ck_value", "TEXT"},
    {"versions", "record_hash", "TEXT"}, {"versions", "signature", "BLOB"},
    {"versions", "parent_hash", "TEXT"}, {"versions", "derived_hash", "TEXT"},
    {"buckets", "placement", "TEXT"},    {"blobs", "cls", "TEXT"},
    {"blobs", "layout", "TEXT"},         {"blobs", "bad", "INTEGER NOT NULL DEFAULT 0"},
    {"buckets", "policy", "TEXT"},       {"buckets", "policy_gen", "INTEGER"},
    {"buckets", "acl", "TEXT"},          {"versions", "acl", "TEXT"},
    {"uploads", "acl", "TEXT"},          {"parts", "src_vid", "INTEGER"},
    {"parts", "src_hash", "TEXT"},
};

/* Run after add_columns(): they name columns that older stores only have
 * from then on. Dedupe is per placement (note 8), hence the index swap. */
static const char indexes_sql[] =
    "DROP INDEX IF EXISTS blobs_sha;"
    "CREATE UNIQUE INDEX IF NOT EXISTS blobs_sha_cls ON blobs(sha256, cls) WHERE state = 'live';"
    "CREATE INDEX IF NOT EXISTS blobs_bad ON blobs(bid) WHERE bad != 0 AND state = 'live';";

static int has_column(sqlite3 *db, const char *table, const char *column, int *has)
{
    sqlite3_stmt *st = NULL;
    char sql[96];
    int rc = 0;

    *has = 0;
    snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (name != NULL && strcmp(name, column) == 0)
            *has = 1;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_OK ? SQLITE_OK : rc;
}

static int add_columns(sqlite3 *db, char **msg)
{
    char sql[128];
    size_t i = 0;
    int has = 0, rc = SQLITE_OK;

    for (i = 0; rc == SQLITE_OK && i < sizeof(added) / sizeof(added[0]); i++) {
        rc = has_column(db, added[i].table, added[i].column, &has);
        if (rc != SQLITE_OK || has)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", added[i].table, added[i].column, added[i].decl);
        rc = sqlite3_exec(db, sql, NULL, NULL, msg);
    }
    return rc;
}

/* The schema version the store had before this open (0 for a new one). */
static int stored_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT v FROM meta_info WHERE k = 'schema'", -1, &st, NULL);

    *out = 0;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Users of an older store, and root (note 9). */
static int add_users(sqlite3 *db, char **msg)
{
    int was = 0, rc = stored_version(db, &was);

    if (rc == SQLITE_OK && was > 0 && was < 6)
        rc = sqlite3_exec(db, users_sql, NULL, NULL, msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, root_sql, NULL, NULL, msg);
    return rc;
}

int obj__schema_apply(sqlite3 *db)
{
    char *msg = NULL;
    char sql[160];
    int rc = 0;

    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = add_columns(db, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, indexes_sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = add_users(db, &msg);
    if (rc == SQLITE_OK) {
        snprintf(
            sql, sizeof(sql),
            "INSERT INTO meta_info(k, v) VALUES ('schema', %d) ON CONFLICT(k) DO UPDATE SET v = max(v, excluded.v)",
            SCHEMA_VERSION);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "obj: schema: %s\n", msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -CN_EIO;
}
