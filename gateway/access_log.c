/*
 * access_log: one JSON object a line for every request, written by the
 * worker that handled it:
 *
 *   {"time":"2026-11-22T03:40:00.123Z","request_id":"...","principal":"alice",
 *    "access_key":"AKIA...","operation":"GetObject","bucket":"b","key":"k",
 *    "status":200,"bytes_in":0,"bytes_out":1024,"latency_ms":1.25,
 *    "source_ip":"127.0.0.1","error":"AccessDenied","denied":"policy: ..."}
 *
 * principal is "" for anonymous requests and "cap:<id>" for a capability's
 * key; "error" and "denied" appear only on errors and denials. latency_ms is
 * the time to the response headers; bytes_out is the body the response
 * announces. Keys and names are JSON-escaped by jansson, so a hostile key
 * cannot forge a line.
 *
 * One mutex and one write(2) per line: lines of concurrent requests never
 * interleave. SIGHUP reopens the file (gw_access_reopen) for logrotate.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/util.h"
#include "gwint.h"

static struct {
    pthread_mutex_t mu;
    int fd;
    char path[1024];
} a = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static int open_file(void)
{
    int fd = open(a.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    if (fd < 0)
        return -1;
    if (a.fd >= 0)
        close(a.fd);
    a.fd = fd;
    return 0;
}

int gw_access_open(const char *path)
{
    int rc = 0;

    if (path == NULL || path[0] == '\0')
        return 0;
    pthread_mutex_lock(&a.mu);
    snprintf(a.path, sizeof(a.path), "%s", path);
    rc = open_file();
    pthread_mutex_unlock(&a.mu);
    return rc;
}

void gw_access_reopen(void)
{
    pthread_mutex_lock(&a.mu);
    if (a.path[0] != '\0' && open_file() != 0)
        gw_log("cannot reopen access log %s: %s", a.path, strerror(errno));
    pthread_mutex_unlock(&a.mu);
}

static void timestamp(char *out, size_t cap)
{
    struct timeval tv;
    struct tm tm;
    char sec[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03dZ", sec, (int)(tv.tv_usec / 1000));
}

/* Strings that are not UTF-8 (a refused key may be anything) are logged as
 * "<name>_hex" instead, so every line stays valid JSON. */
static void set_str(json_t *o, const char *name, const char *v)
{
    json_t *j = NULL;
    char hexname[32], *hex = NULL;
    size_t n = v != NULL ? strlen(v) : 0;

    if (v == NULL)
        return;
    if ((j = json_stringn(v, n)) != NULL) {
        json_object_set_new(o, name, j);
        return;
    }
    if ((hex = malloc(2 * n + 1)) == NULL)
        return;
    cn_hex(hex, (const uint8_t *)v, n);
    snprintf(hexname, sizeof(hexname), "%s_hex", name);
    json_object_set_new(o, hexname, json_string(hex));
    free(hex);
}

static json_t *entry(const gw_access *e)
{
    const cn_response *r = e->res;
    json_t *o = json_object();
    char ts[48];

    if (o == NULL)
        return NULL;
    timestamp(ts, sizeof(ts));
    set_str(o, "time", ts);
    set_str(o, "request_id", e->req->request_id);
    set_str(o, "principal", r->principal);
    set_str(o, "access_key", e->access_key);
    set_str(o, "operation", r->op_name != NULL ? r->op_name : "Unknown");
    set_str(o, "bucket", r->bucket);
    set_str(o, "key", r->key);
    json_object_set_new(o, "status", json_integer(e->status));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)e->req->body_len));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)e->bytes_out));
    json_object_set_new(o, "latency_ms", json_real((double)e->latency_us / 1000.0));
    set_str(o, "source_ip", e->req->source_ip);
    if (e->status >= 400)
        set_str(o, "error", e->error_code);
    if (r->deny_reason[0] != '\0')
        set_str(o, "denied", r->deny_reason);
    return o;
}

void gw_access_log(const gw_access *e)
{
    json_t *o = NULL;
    char *line = NULL;
    size_t n = 0;

    if (e->res->deny_reason[0] != '\0')
        gw_metrics_denied(e->res->deny_reason);
    if (a.fd < 0)
        return;
    o = entry(e);
    line = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(o);
    if (line == NULL)
        return;
    n = strlen(line);
    line[n] = '\n'; /* over the NUL: written with its length */
    pthread_mutex_lock(&a.mu);
    if (a.fd >= 0) {
        ssize_t w = write(a.fd, line, n + 1);
        (void)w; /* a full disk loses log lines, never requests */
    }
    pthread_mutex_unlock(&a.mu);
    free(line);
}
