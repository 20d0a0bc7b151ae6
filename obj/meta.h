/*
 * meta: the SQLite metadata store under the object layer. Internal to obj/;
 * nothing outside obj/ includes this header.
 *
 * One write connection, owned by a single committer thread, batches the
 * write transactions of all workers into group commits; read-only
 * connections come from a pool and see WAL snapshots. Statements are
 * prepared once per connection and cached by their SQL text's address, so
 * callers pass string literals.
 */
#ifndef CN_OBJ_META_H
#define CN_OBJ_META_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct obj__meta obj__meta;
typedef struct obj__conn obj__conn;

/* A transaction body. Runs on a connection inside a transaction (a
 * SAVEPOINT of a group commit for writes); returns 0 or a negative CN_E*.
 * Write bodies must not block on anything but SQLite (no provider I/O): they
 * run on the committer thread and every queued writer waits for them. */
typedef int (*obj__txn_fn)(obj__conn *c, void *arg);

/* Opens or creates the database at path (WAL, synchronous=FULL), creates the
 * schema and starts the committer thread. */
int obj__meta_open(obj__meta **out, const char *path);
/* Drains queued writes, stops the committer, closes every connection. */
void obj__meta_close(obj__meta *m);

/* Runs fn in the next group commit and returns once that commit is durable:
 * fn's result if it failed (only its savepoint was rolled back), -CN_EIO if
 * the commit itself failed, else 0. */
int obj__meta_write(obj__meta *m, obj__txn_fn fn, void *arg);
/* Runs fn in a read transaction (one consistent snapshot) on a pooled
 * read-only connection. */
int obj__meta_read(obj__meta *m, obj__txn_fn fn, void *arg);

/* A cached, reset statement for sql (a string literal). 0 or -CN_EIO. */
int obj__stmt(obj__conn *c, const char *sql, sqlite3_stmt **out);
/* Steps st to completion (a write or a statement whose rows are ignored). */
int obj__step_done(obj__conn *c, sqlite3_stmt *st);
/* Maps an SQLite result code to a CN_E* (logged with what), never 0. */
int obj__sqlerr(obj__conn *c, int rc, const char *what);
sqlite3 *obj__db(obj__conn *c);

/* Binds a key as a BLOB: keys compare as bytes (memcmp), never as text. */
int obj__bind_key(sqlite3_stmt *st, int i, const char *key, size_t len);

#endif
