/*
 * gwint: what the files of the gateway share among themselves and nobody
 * else includes (as SQLite's btreeInt.h): the worker pool, the per-request
 * job, metrics and the server state.
 */
#ifndef CN_GWINT_H
#define CN_GWINT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../admin/admin.h"
#include "../common/buf.h"
#include "../s3api/s3api.h"
#include "gateway.h"

/* ---- worker pool (pool.c): a fixed set of threads and one FIFO ---- */

typedef struct gw_task {
    struct gw_task *next;
    void (*run)(struct gw_task *t);
} gw_task;

int gw_pool_start(int nthreads);
/* Queues t; run(t) is called on a worker. Never blocks. */
void gw_pool_submit(gw_task *t);
/* Runs what is queued, then joins the workers. */
void gw_pool_stop(void);

/* ---- `cairn lineage` (lineage_cmd.c): argv after "lineage"; exit status ---- */

int gw_lineage_main(int argc, char **argv);

/* ---- metrics (metrics.c) ---- */

void gw_metrics_record(const char *op, int status, uint64_t bytes_in, uint64_t bytes_out, uint64_t latency_us);
void gw_metrics_render(cn_buf *out);

/* ---- shared server state (server.c) ---- */

typedef struct gw_state {
    const gw_config *cfg;
    s3_ctx s3;
    admin_ctx admin;
    obj_store *store;
} gw_state;

extern gw_state gw__state;

/* Creates the data directory, opens the store (running recovery) and makes
 * the root credentials on first start (bootstrap.c). 0 or -1, logged. */
int gw_bootstrap(const gw_config *c);
/* ---- providers and placements (storage.c) ---- */

/* The providers and placements sections as a seal_config; owns the arrays
 * (the strings stay the gw_config's). */
typedef struct gw_storage {
    seal_provider_cfg *prov;
    size_t n_prov;
    seal_class_cfg *cls;
    size_t n_cls;
    char **strings;
    size_t n_strings, cap_strings;
    seal_config cfg;
} gw_storage;

/* -CN_EINVALID_ARGUMENT with the reason in err, -CN_ENOMEM. */
int gw_storage_build(const gw_config *c, gw_storage *st, char *err, size_t errcap);
/* NULL when neither section is configured (the embedded default). */
const seal_config *gw_storage_config(const gw_storage *st);
void gw_storage_dispose(gw_storage *st);

/* Takes data_dir/lock for the life of the process (flock): one gateway or
 * key rotation per data directory. 0, or -1 logged. */
int gw_lock_data_dir(const char *data_dir);
/* The command-line options shared by serve, scrub and key rotate:
 * -c FILE (read first), --set KEY=VALUE, --data DIR and the like. */
int gw_config_args(gw_config *c, int argc, char **argv, char *err, size_t errcap);
/* cairn scrub, cairn key (store_cmd.c). */
int gw_scrub_main(int argc, char **argv);
int gw_key_main(int argc, char **argv);
/* The obj_config of c (its strings and storage stay c's and st's). */
int gw_obj_config(const gw_config *c, gw_storage *st, obj_config *oc);

/* ---- access log (access_log.c): a JSON line per request ---- */

typedef struct gw_access {
    const cn_request *req;
    const cn_response *res;
    const char *access_key; /* as sent, "" when anonymous */
    int status;
    uint64_t bytes_out, latency_us;
    const char *error_code; /* S3 code when status >= 400 */
} gw_access;

/* Opens (appends to) path; "" keeps the access log off. 0 or -1. */
int gw_access_open(const char *path);
void gw_access_reopen(void);
/* Writes e's line and counts a denial in the metrics. Thread-safe. */
void gw_access_log(const gw_access *e);
/* Counts a denial under the step that decided it ("policy: ..." counts as policy). */
void gw_metrics_denied(const char *reason);

/* ---- `cairn admin` (admin_cmd.c) and its HTTP client (admin_client.c) ---- */

int gw_admin_main(int argc, char **argv);

typedef struct gw_admin_client {
    const char *endpoint; /* "http://127.0.0.1:9000": scheme, host and port only */
    const char *access_key, *secret_key, *region;
} gw_admin_client;

typedef struct gw_admin_reply {
    long status;  /* HTTP status */
    json_t *json; /* the body parsed, NULL if it is not JSON */
    char *raw;    /* the body as received, NUL-terminated */
    size_t raw_len;
} gw_admin_reply;

/* Sends one SigV4-signed request: path is the whole path, names already
 * URI-encoded; body NULL for none, else JSON text. 0 once an HTTP response
 * (of any status) arrived, -1 with the reason in err otherwise. */
int gw_admin_call(const gw_admin_client *c, const char *method, const char *path, const char *body, gw_admin_reply *out,
                  char *err, size_t errcap);
void gw_admin_reply_dispose(gw_admin_reply *r);
/* Fills what c lacks from $CAIRN_ENDPOINT (default http://127.0.0.1:9000),
 * $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_REGION (us-east-1). */
void gw_admin_client_defaults(gw_admin_client *c);
/* cairn share (share_cmd.c): capabilities over the admin API. */
int gw_share_main(int argc, char **argv);

/* ---- log (log.c): one line per event, reopened on SIGHUP ---- */

void gw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int gw_log_open(const char *path);
void gw_log_reopen(void);

#endif
