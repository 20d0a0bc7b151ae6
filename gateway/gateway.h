/*
 * gateway: the process. Configuration (conf/cairn.yaml), the h2o server and
 * its event-loop threads, the worker pool for blocking work, /health and
 * /metrics. main.c parses the command line into a gw_config and calls
 * gw_serve().
 */
#ifndef CN_GATEWAY_H
#define CN_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One "<section>.<name>.<key>: value" of the providers and placements
 * sections, in file order (gateway/storage.c turns them into a seal_config). */
typedef struct gw_entry {
    char *section, *name, *key, *value;
} gw_entry;

typedef struct gw_config {
    char *listen;             /* "127.0.0.1:9000" or "[::1]:9000" or ":9000" */
    char *data_dir;           /* metadata and default provider */
    char *master_key_file;    /* "" = <data_dir>/master.key; $CAIRN_MASTER_KEY overrides */
    char *region;             /* "us-east-1" */
    char *domain;             /* virtual-hosted style base domain; "" disables */
    int threads;              /* event loops; 0 = one per core */
    int workers;              /* blocking-work threads */
    uint64_t max_body;        /* largest request body accepted, bytes */
    int request_timeout;      /* seconds a whole request (headers + body) may take */
    uint64_t spill_threshold; /* bodies above this are buffered in a file under data_dir */
    char *tls_cert;           /* PEM paths; TLS (and HTTP/2 via ALPN) when both set */
    char *tls_key;
    char *log_file;      /* "" = stderr */
    char *access_file;   /* "" = <data_dir>/access.log, "off" = none */
    int gc_interval;     /* seconds between garbage-collection passes */
    int gc_grace;        /* seconds an unreferenced blob stays readable */
    uint64_t inline_max; /* bodies up to this size are kept in the metadata store; 0 disables */
    char *default_class; /* placement for requests without a storage class ("": the first) */
    gw_entry *entries;   /* providers.* and placements.* */
    size_t n_entries;
} gw_config;

/* Fills defaults. */
void gw_config_init(gw_config *c);
void gw_config_dispose(gw_config *c);
/* Loads a YAML file over c. Unknown or ill-typed keys fail with file:line in
 * err. Returns 0 or -1. */
int gw_config_load(gw_config *c, const char *path, char *err, size_t errcap);
/* Sets one key as the YAML file would ("http.request_timeout", "600"). */
int gw_config_set(gw_config *c, const char *key, const char *value, char *err, size_t errcap);
/* Prints every key with its type and description (cairn serve --help). */
void gw_config_describe(FILE *out);

/* Runs the gateway until SIGTERM/SIGINT; returns the process exit status. */
int gw_serve(const gw_config *c);

#endif
