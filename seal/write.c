/*
 * write: one blob's bytes into its shards, all providers at once.
 *
 *   source --read--> producer (caller's thread)         writer i (one thread per shard)
 *                    segment j -> k data fragments       provider put(name_i, stream_i)
 *                    + m parity (seal_rs_encode)   --->    stream_i.read(): header, then
 *                    into slot j % 2                       fragment i of each slot, sealed
 *                                                          (AES-GCM) on this thread
 *
 * Design notes:
 *  1. Two slots: the producer fills segment j+1 while the writers encrypt and
 *     send segment j. A slot is refilled only when every writer still alive
 *     has taken its fragment, so memory is two segments plus one fragment
 *     per writer whatever the blob's size.
 *  2. Encryption runs on the writer threads, so the k+m fragments of a
 *     segment are sealed in parallel.
 *  3. A writer whose put fails is dead: it gives back its claims on the
 *     slots, and the producer stops counting it. When fewer writers remain
 *     alive than the caller needs (need), the producer fails at once rather
 *     than read the rest of the source for nothing. A source error reaches
 *     every writer's stream, so every put fails and (driver contract) leaves
 *     no object behind.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "sealint.h"

#define EMPTY UINT64_MAX

typedef struct wjob wjob;

typedef struct writer {
    cn_stream base;
    wjob *job;
    int i;
    uint64_t next; /* next segment to take */
    be_provider *p;
    uint8_t *out; /* header or one sealed fragment */
    size_t out_len, out_pos;
    int rc, started, dead;
    pthread_t th;
} writer;

typedef struct wslot {
    uint64_t seg;
    size_t flen;
    uint8_t *frag[SEAL_MAX_SHARDS];
    int refs; /* writers yet to take their fragment */
} wslot;

struct wjob {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const seal_ref *r;
    const seal__keys *keys;
    wslot slot[2];
    int src_rc; /* the source failed: every stream fails */
    int alive;
    writer w[SEAL_MAX_SHARDS];
};

/* Takes fragment w->next from its slot, sealed into w->out. */
static int take_fragment(writer *w)
{
    wjob *j = w->job;
    wslot *s = &j->slot[w->next % 2];
    int rc = 0;

    pthread_mutex_lock(&j->mu);
    while (s->seg != w->next && j->src_rc == 0)
        pthread_cond_wait(&j->cv, &j->mu);
    rc = j->src_rc;
    pthread_mutex_unlock(&j->mu);
    if (rc != 0)
        return rc;
    rc = seal__frag_seal(j->keys, j->r, w->i, w->next, s->frag[w->i], s->flen, w->out);
    w->out_len = s->flen + SEAL__TAG;
    w->out_pos = 0;
    pthread_mutex_lock(&j->mu);
    if (--s->refs == 0)
        pthread_cond_broadcast(&j->cv);
    w->next++;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

static long writer_read(cn_stream *st, void *buf, size_t n)
{
    writer *w = (writer *)st;
    size_t take = 0;

    if (w->out_pos == w->out_len) {
        int rc = 0;
        if (w->next == seal__nseg(w->job->r))
            return 0;
        if ((rc = take_fragment(w)) != 0)
            return rc;
    }
    take = w->out_len - w->out_pos;
    if (take > n)
        take = n;
    memcpy(buf, w->out + w->out_pos, take);
    w->out_pos += take;
    return (long)take;
}

static void writer_close(cn_stream *st)
{
    (void)st; /* owned by the job */
}

/* A writer that stops gives back its claims on slots it will never take. */
static void writer_die(writer *w)
{
    wjob *j = w->job;

    pthread_mutex_lock(&j->mu);
    w->dead = 1;
    j->alive--;
    for (int s = 0; s < 2; s++)
        if (j->slot[s].seg != EMPTY && j->slot[s].seg >= w->next)
            j->slot[s].refs--;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    char name[SEAL__NAME_LEN + 1];

    seal__shard_name(w->job->keys, w->job->r, w->i, name);
    w->rc = w->p->driver->put(w->p, name, &w->base, seal__shard_size(w->job->r));
    if (w->rc == 0 && w->next != seal__nseg(w->job->r))
        w->rc = -CN_EINTERNAL; /* a driver that stopped reading early */
    if (w->rc != 0)
        writer_die(w);
    return NULL;
}

static int job_init(wjob *j, seal_vault *v, const seal_ref *r, const seal__keys *k, uint32_t mask)
{
    size_t full = (r->segment + (size_t)r->k - 1) / (size_t)r->k;
    int n = r->k + r->m;

    memset(j, 0, sizeof(*j));
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->r = r;
    j->keys = k;
    for (int s = 0; s < 2; s++) {
        j->slot[s].seg = EMPTY;
        for (int i = 0; i < n; i++)
            if ((j->slot[s].frag[i] = malloc(full)) == NULL)
                return -CN_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        writer *w = &j->w[i];
        w->job = j;
        w->i = i;
        w->base.read = writer_read;
        w->base.close = writer_close;
        w->dead = 1;
        if (!(mask & (1u << i)))
            continue;
        w->p = seal__provider(v, r, i, NULL);
        w->rc = -CN_EIO;
        if (w->p == NULL)
            continue; /* the configuration lost this provider: the shard is missing */
        if ((w->out = malloc(full + SEAL__TAG > SEAL__HDR ? full + SEAL__TAG : SEAL__HDR)) == NULL)
            return -CN_ENOMEM;
        if ((w->rc = seal__header(k, r, i, w->out)) != 0)
            return w->rc;
        w->out_len = SEAL__HDR;
        w->dead = 0;
        j->alive++;
    }
    return 0;
}

static void job_dispose(wjob *j)
{
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < SEAL_MAX_SHARDS; i++)
            free(j->slot[s].frag[i]);
    for (int i = 0; i < SEAL_MAX_SHARDS; i++)
        free(j->w[i].out);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
}

static int read_full(cn_stream *src, uint8_t *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        long r = src->read(src, buf + got, n - got);
        if (r <= 0)
            return r < 0 ? (int)r : -CN_EINCOMPLETE_BODY;
        got += (size_t)r;
    }
    return 0;
}

/* Reads segment j into slot s's data fragments (zero-padded) and computes parity. */
static int fill_slot(wjob *j, const seal_rs *rs, wslot *s, uint64_t seg, cn_stream *src)
{
    size_t len = seal__seglen(j->r, seg), flen = seal__flen(j->r, seg);
    int rc = 0;

    for (int d = 0; d < j->r->k && rc == 0; d++) {
        size_t off = (size_t)d * flen, n = off < len ? (len - off < flen ? len - off : flen) : 0;
        rc = read_full(src, s->frag[d], n);
        memset(s->frag[d] + n, 0, flen - n);
    }
    s->flen = flen;
    if (rc == 0 && j->r->m > 0)
        rc = seal_rs_encode(rs, flen, s->frag);
    return rc;
}

/* The producer: waits for each slot to drain, fills it, hands it on. */
static int produce(wjob *j, const seal_rs *rs, cn_stream *src, int need)
{
    uint64_t nseg = seal__nseg(j->r);
    int rc = 0;

    for (uint64_t seg = 0; seg < nseg && rc == 0; seg++) {
        wslot *s = &j->slot[seg % 2];
        pthread_mutex_lock(&j->mu);
        while (s->refs > 0 && j->alive >= need)
            pthread_cond_wait(&j->cv, &j->mu);
        rc = j->alive < need ? -CN_EIO : 0;
        pthread_mutex_unlock(&j->mu);
        if (rc == 0)
            rc = fill_slot(j, rs, s, seg, src);
        pthread_mutex_lock(&j->mu);
        if (rc == 0) {
            s->seg = seg;
            s->refs = j->alive;
        } else {
            j->src_rc = rc;
        }
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    return rc;
}

static int write_plain(seal_vault *v, const seal_ref *r, cn_stream *src, uint32_t *missing)
{
    be_provider *p = seal__provider(v, r, 0, NULL);
    int rc = p != NULL ? p->driver->put(p, r->locator, src, r->size) : -CN_EIO;

    *missing = rc != 0;
    return rc;
}

int seal__write(seal_vault *v, const seal_ref *r, const seal__keys *k, cn_stream *src, uint32_t mask, uint32_t *missing)
{
    const seal_rs *rs = r->m > 0 ? seal__rs(v, r->k, r->m) : NULL;
    int need = r->quorum > 0 ? r->quorum : __builtin_popcount(mask);
    wjob j;
    int rc = 0;

    if (r->plain)
        return write_plain(v, r, src, missing);
    rc = job_init(&j, v, r, k, mask);
    if (rc == 0 && r->m > 0 && rs == NULL)
        rc = -CN_ENOMEM;
    for (int i = 0; rc == 0 && i < r->k + r->m; i++)
        if (!j.w[i].dead && pthread_create(&j.w[i].th, NULL, writer_main, &j.w[i]) == 0)
            j.w[i].started = 1;
        else if (!j.w[i].dead)
            writer_die(&j.w[i]);
    if (rc == 0)
        rc = produce(&j, rs, src, need);
    else
        j.src_rc = rc;
    *missing = 0;
    for (int i = 0; i < r->k + r->m; i++) {
        if (j.w[i].started)
            pthread_join(j.w[i].th, NULL);
        if ((mask & (1u << i)) && (j.w[i].dead || j.w[i].rc != 0))
            *missing |= 1u << i;
    }
    if (rc == 0 && __builtin_popcount(mask) - __builtin_popcount(*missing) < need)
        rc = -CN_EIO;
    job_dispose(&j);
    return rc;
}
