/*
 * gc: the periodic garbage-collection thread.
 *
 *   tier_gc_start() --> SLEEPING --interval elapsed--> RUNNING (obj_gc)
 *                          ^                               |
 *                          +-------------------------------+
 *   tier_gc_stop(): sets stop and signals; a sleeping thread exits at once,
 *   a running pass finishes first (obj_gc is crash-safe at every step, but
 *   stopping cleanly keeps the log quiet), then the thread is joined.
 *
 * Each pass also repairs the shards that reads found bad (obj_repair).
 * The policy (grace period, what is dead, what to repair) lives in obj/;
 * this file only owns the schedule.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/err.h"
#include "tier.h"

struct tier_gc {
    obj_store *store;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    uint64_t removed, repaired;
};

static void *gc_main(void *arg)
{
    tier_gc *g = arg;
    struct timespec deadline;
    int rc = 0, rep = 0;

    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)g->interval_s;
        while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu, &deadline) != ETIMEDOUT) {
            /* spurious wake-up or stop: loop re-checks */
        }
        if (g->stop)
            break;
        pthread_mutex_unlock(&g->mu);
        rc = obj_gc(g->store);
        rep = obj_repair(g->store);
        pthread_mutex_lock(&g->mu);
        if (rc > 0)
            g->removed += (uint64_t)rc;
        else if (rc < 0)
            fprintf(stderr, "tier: gc pass failed (%d)\n", rc);
        if (rep > 0)
            g->repaired += (uint64_t)rep;
        else if (rep < 0)
            fprintf(stderr, "tier: repair pass failed (%d)\n", rep);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int tier_gc_start(tier_gc **out, obj_store *store, unsigned interval_s)
{
    pthread_condattr_t ca;
    tier_gc *g = NULL;

    *out = NULL;
    if (store == NULL || interval_s == 0)
        return -CN_EINVALID_ARGUMENT;
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -CN_ENOMEM;
    g->store = store;
    g->interval_s = interval_s;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wall-clock jumps must not stall GC */
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, gc_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return -CN_EINTERNAL;
    }
    *out = g;
    return 0;
}

void tier_gc_stop(tier_gc *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

uint64_t tier_gc_removed(tier_gc *g)
{
    uint64_t n = 0;

    pthread_mutex_lock(&g->mu);
    n = g->removed;
    pthread_mutex_unlock(&g->mu);
    return n;
}

uint64_t tier_gc_repaired(tier_gc *g)
{
    uint64_t n = 0;

    pthread_mutex_lock(&g->mu);
    n = g->repaired;
    pthread_mutex_unlock(&g->mu);
    return n;
}
