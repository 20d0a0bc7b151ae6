/*
 * job: runs an S3 request on the worker pool and streams its response back
 * on the event loop that received it (see job.c for the lifecycle).
 */
#ifndef CN_GW_JOB_H
#define CN_GW_JOB_H

#include <stdatomic.h>

#include "h2o.h"
#include "gwint.h"

/* One event-loop thread. */
typedef struct gw_loop {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_multithread_receiver_t done; /* workers' results arrive here */
    h2o_socket_t *listener;
    pthread_t tid;
    int fd;
    h2o_linklist_t conns;   /* gw_conn: open client connections (server.c) */
    uint64_t last_input_us; /* when a connection last received bytes, while draining */
} gw_loop;

/* Number of jobs not yet freed, across all loops (drained on shutdown). */
extern atomic_int gw__jobs_in_flight;

/* Takes over req: copies what the workers need and queues it. 0 or -1. */
int gw_job_start(gw_loop *loop, h2o_req_t *req);
/* Receiver callback for gw_loop.done. */
void gw_job_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

#endif
