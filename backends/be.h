/*
 * be: the provider interface. A provider stores opaque named byte strings and
 * nothing else; it never learns bucket names, keys or content hashes.
 *
 * Each driver exports one const be_driver table (name, version, capability
 * bits, function pointers), in the manner of curl's TLS backends and SQLite's
 * VFS; be_driver_find() looks a driver up by name in a static registry.
 *
 * Contract for every driver:
 *  - put() returns only after the bytes are durable (posix: file fsync'd,
 *    renamed into place, directory fsync'd). A failed or interrupted put leaves
 *    no object under `name` (temporary names are cleaned by be_sweep()).
 *  - get() fills exactly len bytes from offset off or fails; short objects give
 *    -CN_EIO, never silent truncation.
 *  - del() of a missing name succeeds (idempotent).
 *  - Names are [A-Za-z0-9._-/]; drivers may reject anything else with
 *    -CN_EINVALID_ARGUMENT. Names never contain "..".
 *  - All functions are thread-safe and blocking; callers run them on workers.
 */
#ifndef CN_BE_H
#define CN_BE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/http.h"

typedef struct be_provider be_provider;

enum {
    BE_CAP_RANGE = 1 << 0, /* ranged get is cheap */
    BE_CAP_LIST = 1 << 1,
};

typedef struct be_option {
    const char *key, *value;
} be_option;

typedef struct be_driver {
    const char *name;
    int version;
    unsigned caps;
    /* opts: driver-specific key/values from the configuration (posix: "path"). */
    int (*create)(be_provider **out, const char *id, const be_option *opts, size_t n_opts);
    void (*destroy)(be_provider *p);
    /* Reads exactly size bytes from src and stores them under name. */
    int (*put)(be_provider *p, const char *name, cn_stream *src, uint64_t size);
    int (*get)(be_provider *p, const char *name, uint64_t off, void *buf, size_t len);
    int (*del)(be_provider *p, const char *name);
    /* Calls fn for every stored name starting with prefix; fn returning non-zero stops. */
    int (*list)(be_provider *p, const char *prefix, int (*fn)(void *arg, const char *name, uint64_t size), void *arg);
    /* 0 if the provider is reachable and writable. */
    int (*health)(be_provider *p);
    /* Removes temporaries left by interrupted puts. */
    int (*sweep)(be_provider *p);
} be_driver;

/* Every provider handle starts with this header so that generic code can
 * reach its driver and id. */
struct be_provider {
    const be_driver *driver;
    char id[64];
};

const be_driver *be_driver_find(const char *name);

/* The name rules of the contract above, for drivers: at most max bytes of
 * [A-Za-z0-9._/-], no "..". be_name_valid also wants a non-empty name that
 * does not start with '/' and is not "." (an object name; the former alone
 * suits prefixes). 1 if valid. */
int be_name_chars_valid(const char *s, size_t max);
int be_name_valid(const char *name, size_t max);

extern const be_driver be_posix_driver;
/* backends/s3.c: any S3-compatible endpoint over libcurl; options in that file. */
extern const be_driver be_s3_driver;
/* backends/azure.c: Azure Blob Storage (block blobs, Shared Key); options in that file. */
extern const be_driver be_azure_driver;

#endif
