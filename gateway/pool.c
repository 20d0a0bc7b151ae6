/*
 * pool: the worker threads that run everything that may block (SQLite,
 * provider I/O, hashing), so that an event loop never waits on disk. One
 * FIFO guarded by a mutex; tasks are intrusive (embedded in the job), so
 * submitting never allocates and never fails.
 */
#include <stdlib.h>

#include "gwint.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_task *head, *tail;
    pthread_t *threads;
    int n;
    int stopping;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        gw_task *t;
        pthread_mutex_lock(&pool.mu);
        while (pool.head == NULL && !pool.stopping)
            pthread_cond_wait(&pool.cv, &pool.mu);
        t = pool.head;
        if (t == NULL) {
            pthread_mutex_unlock(&pool.mu);
            return NULL;
        }
        pool.head = t->next;
        if (pool.head == NULL)
            pool.tail = NULL;
        pthread_mutex_unlock(&pool.mu);
        t->run(t);
    }
}

int gw_pool_start(int nthreads)
{
    pool.threads = calloc((size_t)nthreads, sizeof(*pool.threads));
    if (pool.threads == NULL)
        return -1;
    for (pool.n = 0; pool.n < nthreads; pool.n++)
        if (pthread_create(&pool.threads[pool.n], NULL, worker, NULL) != 0)
            return -1;
    return 0;
}

void gw_pool_submit(gw_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&pool.mu);
    if (pool.tail != NULL)
        pool.tail->next = t;
    else
        pool.head = t;
    pool.tail = t;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

void gw_pool_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.n; i++)
        pthread_join(pool.threads[i], NULL);
    free(pool.threads);
    pool.threads = NULL;
    pool.n = 0;
}
