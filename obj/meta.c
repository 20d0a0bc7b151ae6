/*
 * meta: connections, the group committer and the read pool of the metadata
 * store (SQLite 3, WAL, synchronous=FULL: a COMMIT returns once the WAL is
 * fsync'd, so nothing is acknowledged before it is durable).
 *
 * Group commit. One committer thread owns the only write connection. A
 * worker queues a request and sleeps; the committer takes every request
 * queued so far (up to BATCH_MAX) and runs them as one transaction:
 *
 *   worker                committer                          request state
 *   ------                ---------                          -------------
 *   obj__meta_write() --> queue ------------------------------ QUEUED
 *                         BEGIN IMMEDIATE
 *                         for each request:
 *                           SAVEPOINT w; fn(conn, arg)        RUNNING
 *                           fn failed? ROLLBACK TO w            (its own
 *                           RELEASE w                            changes only)
 *                         COMMIT  (one fsync for the batch)
 *                         mark all done, broadcast ---------- DONE (rc)
 *   wakes, returns rc <--
 *
 * If a body fails so badly that SQLite rolled back the whole transaction
 * (I/O error, disk full: autocommit is back on), or COMMIT fails, every
 * request of the batch that had succeeded gets -CN_EIO: none of them is
 * durable. Nothing else in a batch depends on another request's outcome.
 *
 * Readers take a read-only connection from a pool and wrap their body in
 * BEGIN ... COMMIT so that all its statements see one WAL snapshot. A write
 * acknowledged before a read starts is always visible to it.
 *
 * Not done here: connection limits (the pool grows to the number of threads
 * that read at once), checkpoint tuning (SQLite's auto-checkpoint is kept).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "meta.h"
#include "meta_schema.h"

#define BATCH_MAX 256
#define BUSY_TIMEOUT_MS 10000

typedef struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
} stmt_slot;

struct obj__conn {
    sqlite3 *db;
    stmt_slot *cache;
    size_t n_cache, cap_cache;
    obj__conn *next_all; /* every read connection, for close */
};

typedef struct wreq {
    obj__txn_fn fn;
    void *arg;
    int rc;
    int done;
    /* Each writer waits on its own condition: one shared one woke every
     * waiting writer at every batch, a herd of context switches per commit. */
    pthread_cond_t cv;
    struct wreq *next;
} wreq;

struct obj__meta {
    char *path;
    obj__conn *w;
    pthread_t committer;
    int started, stop;
    pthread_mutex_t mu;
    pthread_cond_t work;
    wreq *head, *tail;
    pthread_mutex_t pool_mu;
    obj__conn **idle;
    size_t n_idle, cap_idle;
    obj__conn *all;
};

sqlite3 *obj__db(obj__conn *c)
{
    return c->db;
}

int obj__sqlerr(obj__conn *c, int rc, const char *what)
{
    int base = rc & 0xff;

    fprintf(stderr, "obj: sqlite %s: %s (%d)\n", what != NULL ? what : "", c != NULL ? sqlite3_errmsg(c->db) : "", rc);
    if (base == SQLITE_NOMEM)
        return -CN_ENOMEM;
    if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        return -CN_ESLOW_DOWN;
    if (base == SQLITE_CONSTRAINT)
        return -CN_ECONFLICT;
    return -CN_EIO;
}

int obj__stmt(obj__conn *c, const char *sql, sqlite3_stmt **out)
{
    stmt_slot *grown = NULL;
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    for (i = 0; i < c->n_cache; i++) {
        if (c->cache[i].sql == sql) {
            st = c->cache[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            *out = st;
            return 0;
        }
    }
    if (c->n_cache == c->cap_cache) {
        size_t cap = c->cap_cache != 0 ? 2 * c->cap_cache : 32;
        grown = realloc(c->cache, cap * sizeof(*grown));
        if (grown == NULL)
            return -CN_ENOMEM;
        c->cache = grown;
        c->cap_cache = cap;
    }
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return obj__sqlerr(c, rc, sql);
    c->cache[c->n_cache].sql = sql;
    c->cache[c->n_cache].st = st;
    c->n_cache++;
    *out = st;
    return 0;
}

int obj__step_done(obj__conn *c, sqlite3_stmt *st)
{
    int rc = 0;

    do {
        rc = sqlite3_step(st);
    } while (rc == SQLITE_ROW);
    if (rc != SQLITE_DONE)
        return obj__sqlerr(c, rc, sqlite3_sql(st));
    sqlite3_reset(st);
    return 0;
}

int obj__bind_key(sqlite3_stmt *st, int i, const char *key, size_t len)
{
    /* A zero-length blob must still be non-NULL, or it would compare as NULL. */
    return sqlite3_bind_blob(st, i, len != 0 ? key : "", (int)len, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -CN_ENOMEM;
}

/* Resets every statement still stepping, so savepoints and commits never
 * trip over a half-read SELECT left by a body that returned early. */
static void reset_busy(obj__conn *c)
{
    sqlite3_stmt *st = NULL;

    while ((st = sqlite3_next_stmt(c->db, st)) != NULL)
        if (sqlite3_stmt_busy(st))
            sqlite3_reset(st);
}

static int exec(obj__conn *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : obj__sqlerr(c, rc, sql);
}

static void conn_close(obj__conn *c)
{
    size_t i = 0;

    if (c == NULL)
        return;
    for (i = 0; i < c->n_cache; i++)
        sqlite3_finalize(c->cache[i].st);
    free(c->cache);
    sqlite3_close_v2(c->db);
    free(c);
}

static int conn_open(const char *path, int readonly, obj__conn **out)
{
    int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    obj__conn *c = calloc(1, sizeof(*c));
    int rc = 0;

    *out = NULL;
    if (c == NULL)
        return -CN_ENOMEM;
    rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = obj__sqlerr(c, rc, path);
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    if (!readonly) {
        rc = exec(c, "PRAGMA journal_mode=WAL");
        if (rc == 0)
            rc = exec(c, "PRAGMA synchronous=FULL");
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        conn_close(c);
    else
        *out = c;
    return rc;
}

/* Fails every request of a batch that had not failed on its own. */
static void fail_batch(wreq **batch, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++)
        if (batch[i]->rc == 0)
            batch[i]->rc = -CN_EIO;
}

static void run_batch(obj__meta *m, wreq **batch, size_t n)
{
    obj__conn *c = m->w;
    size_t i = 0;

    if (exec(c, "BEGIN IMMEDIATE") != 0) {
        fail_batch(batch, n);
        return;
    }
    for (i = 0; i < n; i++) {
        wreq *r = batch[i];
        if (exec(c, "SAVEPOINT w") != 0) {
            fail_batch(batch, n);
            goto abort;
        }
        r->rc = r->fn(c, r->arg);
        reset_busy(c);
        if (sqlite3_get_autocommit(c->db)) { /* SQLite rolled the whole batch back */
            fail_batch(batch, n);
            return;
        }
        if (r->rc != 0 && exec(c, "ROLLBACK TO w") != 0) {
            fail_batch(batch, n);
            goto abort;
        }
        if (exec(c, "RELEASE w") != 0) {
            fail_batch(batch, n);
            goto abort;
        }
    }
    if (exec(c, "COMMIT") == 0)
        return;
    fail_batch(batch, n);
abort:
    if (!sqlite3_get_autocommit(c->db))
        exec(c, "ROLLBACK");
}

static void *committer_main(void *arg)
{
    obj__meta *m = arg;
    wreq *batch[BATCH_MAX];
    size_t n = 0, i = 0;

    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (m->head == NULL && !m->stop)
            pthread_cond_wait(&m->work, &m->mu);
        if (m->head == NULL)
            break;
        for (n = 0; n < BATCH_MAX && m->head != NULL; n++) {
            batch[n] = m->head;
            m->head = m->head->next;
        }
        if (m->head == NULL)
            m->tail = NULL;
        pthread_mutex_unlock(&m->mu);
        run_batch(m, batch, n);
        pthread_mutex_lock(&m->mu);
        for (i = 0; i < n; i++) {
            batch[i]->done = 1;
            pthread_cond_signal(&batch[i]->cv);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* Called with m->mu held. r may live on the caller's stack: the committer
 * unlinks it before setting done, and obj__meta_write() waits for done. */
static void enqueue(obj__meta *m, wreq *r)
{
    if (m->tail != NULL)
        m->tail->next = r;
    else
        m->head = r;
    m->tail = r;
    pthread_cond_signal(&m->work);
}

int obj__meta_write(obj__meta *m, obj__txn_fn fn, void *arg)
{
    wreq r = {.fn = fn, .arg = arg};

    pthread_cond_init(&r.cv, NULL);
    pthread_mutex_lock(&m->mu);
    if (m->stop) {
        r.rc = -CN_EINTERNAL;
        r.done = 1;
    } else {
        enqueue(m, &r);
    }
    while (!r.done)
        pthread_cond_wait(&r.cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
    pthread_cond_destroy(&r.cv);
    return r.rc;
}

static int pool_get(obj__meta *m, obj__conn **out)
{
    int rc = 0;

    pthread_mutex_lock(&m->pool_mu);
    if (m->n_idle > 0) {
        *out = m->idle[--m->n_idle];
        pthread_mutex_unlock(&m->pool_mu);
        return 0;
    }
    pthread_mutex_unlock(&m->pool_mu);
    rc = conn_open(m->path, 1, out);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&m->pool_mu);
    (*out)->next_all = m->all;
    m->all = *out;
    pthread_mutex_unlock(&m->pool_mu);
    return 0;
}

static void pool_put(obj__meta *m, obj__conn *c)
{
    obj__conn **grown = NULL;

    pthread_mutex_lock(&m->pool_mu);
    if (m->n_idle == m->cap_idle) {
        size_t cap = m->cap_idle != 0 ? 2 * m->cap_idle : 8;
        grown = realloc(m->idle, cap * sizeof(*grown));
        if (grown != NULL) {
            m->idle = grown;
            m->cap_idle = cap;
        }
    }
    /* If the idle array could not grow, the connection stays on m->all and
     * is closed at shutdown; it is merely not reused. */
    if (m->n_idle < m->cap_idle)
        m->idle[m->n_idle++] = c;
    pthread_mutex_unlock(&m->pool_mu);
}

int obj__meta_read(obj__meta *m, obj__txn_fn fn, void *arg)
{
    obj__conn *c = NULL;
    int rc = 0;

    rc = pool_get(m, &c);
    if (rc != 0)
        return rc;
    rc = exec(c, "BEGIN");
    if (rc == 0) {
        rc = fn(c, arg);
        reset_busy(c);
        exec(c, rc == 0 ? "COMMIT" : "ROLLBACK");
    }
    pool_put(m, c);
    return rc;
}

int obj__meta_open(obj__meta **out, const char *path)
{
    obj__meta *m = calloc(1, sizeof(*m));
    int rc = 0;

    *out = NULL;
    if (m == NULL)
        return -CN_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->pool_mu, NULL);
    pthread_cond_init(&m->work, NULL);
    m->path = strdup(path);
    if (m->path == NULL) {
        rc = -CN_ENOMEM;
        goto out;
    }
    rc = conn_open(path, 0, &m->w);
    if (rc == 0)
        rc = obj__schema_apply(m->w->db);
    if (rc != 0)
        goto out;
    if (pthread_create(&m->committer, NULL, committer_main, m) != 0) {
        rc = -CN_EINTERNAL;
        goto out;
    }
    m->started = 1;
out:
    if (rc != 0)
        obj__meta_close(m);
    else
        *out = m;
    return rc;
}

void obj__meta_close(obj__meta *m)
{
    obj__conn *c = NULL, *next = NULL;

    if (m == NULL)
        return;
    if (m->started) {
        pthread_mutex_lock(&m->mu);
        m->stop = 1;
        pthread_cond_signal(&m->work);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->committer, NULL);
    }
    for (c = m->all; c != NULL; c = next) {
        next = c->next_all;
        conn_close(c);
    }
    conn_close(m->w);
    free(m->idle);
    free(m->path);
    pthread_cond_destroy(&m->work);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->pool_mu);
    free(m);
}
