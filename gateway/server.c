/*
 * server: the h2o side of the gateway. One event loop per thread, each with
 * its own SO_REUSEPORT listener; every S3 request becomes a job (job.c) so
 * that loops never block. /health and /metrics answer inline on the loop.
 *
 * Shutdown (SIGTERM/SIGINT, handled by sigwait in the main thread):
 *   running ──signal──▶ draining: listeners closed, h2o asked to wind down
 *   draining ──no job left and no connection received a byte for 1 s,
 *              or 30 s──▶ loops return ──▶ pool joined, store closed
 * h2o 2.2.5 hands us a request only once its body has arrived, so a PUT
 * still uploading is invisible but for its connection's byte counter:
 * every accepted socket is tracked (gw_conn) to see uploads in progress.
 *
 * h2o 2.2.5 buffers each request body before calling us (spilling to an
 * unlinked file above the threshold); the spill file lives under
 * data_dir/tmp so that large bodies land on the data disk, not on /tmp.
 */
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../tiering/tier.h"
#include "job.h"

#define DRAIN_SECONDS 30
#define DRAIN_QUIET_US 1000000ull

typedef struct gw_conn {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    size_t last_read;
} gw_conn;

gw_state gw__state;

static h2o_globalconf_t globalconf;
static gw_loop *loops;
static int n_loops;
static volatile sig_atomic_t draining;

static int health_or_metrics(h2o_req_t *req)
{
    cn_buf b;
    int is_health = h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/health"));

    /* Only unsigned GETs: a signed GET /health is ListObjects on a bucket
     * named "health", which is a valid bucket name. */
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) != -1 ||
        (!is_health && !h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/metrics"))))
        return -1;
    cn_buf_init(&b, 1u << 20);
    if (is_health)
        cn_buf_puts(&b, draining ? "draining\n" : "ok\n");
    else
        gw_metrics_render(&b);
    req->res.status = is_health && draining ? 503 : 200;
    req->res.reason = req->res.status == 200 ? "OK" : "Service Unavailable";
    req->res.content_length = b.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4"));
    h2o_send_inline(req, b.data ? b.data : "", b.len);
    cn_buf_dispose(&b);
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    gw_loop *loop = H2O_STRUCT_FROM_MEMBER(gw_loop, ctx, req->conn->ctx);

    (void)self;
    if (health_or_metrics(req) == 0)
        return 0;
    if (gw_job_start(loop, req) != 0) {
        h2o_send_error_503(req, "Service Unavailable", "out of memory\n", 0);
    }
    return 0;
}

static void on_conn_close(void *data)
{
    gw_conn *c = data;

    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    gw_loop *loop = listener->data;
    h2o_socket_t *sock;
    gw_conn *c;

    if (err != NULL || (sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    if ((c = calloc(1, sizeof(*c))) != NULL && sock->on_close.cb == NULL) {
        c->sock = sock;
        h2o_linklist_insert(&loop->conns, &c->link);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
    } else {
        free(c);
    }
    h2o_accept(&loop->accept, sock);
}

/* 1 if some connection received bytes since the last call. */
static int input_moved(gw_loop *loop)
{
    int moved = 0;

    for (h2o_linklist_t *l = loop->conns.next; l != &loop->conns; l = l->next) {
        gw_conn *c = H2O_STRUCT_FROM_MEMBER(gw_conn, link, l);
        if (c->sock->bytes_read != c->last_read) {
            c->last_read = c->sock->bytes_read;
            moved = 1;
        }
    }
    return moved;
}

static int drained(gw_loop *loop, uint64_t deadline)
{
    uint64_t now = cn_monotonic_us();

    if (input_moved(loop))
        loop->last_input_us = now;
    if (now > deadline)
        return 1;
    return atomic_load(&gw__jobs_in_flight) == 0 && now - loop->last_input_us > DRAIN_QUIET_US;
}

static int parse_listen(const char *spec, struct addrinfo **out)
{
    char host[256] = "";
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};

    if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    if (host[0] == '[') { /* [::1]:9000 */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    return getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, out) == 0 ? 0 : -1;
}

static int open_listener(const char *spec)
{
    struct addrinfo *ai = NULL;
    int one = 1, fd = -1;

    if (parse_listen(spec, &ai) != 0) {
        gw_log("cannot parse listen address '%s'", spec);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        gw_log("cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static SSL_CTX *tls_context(const gw_config *c)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());

    if (ssl == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl, c->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl, c->tls_key, SSL_FILETYPE_PEM) != 1) {
        gw_log("cannot load TLS certificate or key (%s, %s)", c->tls_cert, c->tls_key);
        SSL_CTX_free(ssl);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ssl, h2o_http2_alpn_protocols);
    return ssl;
}

/* Runs on the loop's own thread: h2o keeps per-thread state (socket buffer
 * prototypes, recycled allocations) that must belong to the thread that
 * runs the loop. */
static void loop_init(gw_loop *loop)
{
    h2o_linklist_init_anchor(&loop->conns);
    h2o_context_init(&loop->ctx, h2o_evloop_create(), &globalconf);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->done, gw_job_on_done);
    loop->accept.ctx = &loop->ctx;
    loop->accept.hosts = globalconf.hosts;
    loop->listener = h2o_evloop_socket_create(loop->ctx.loop, loop->fd, H2O_SOCKET_FLAG_DONT_READ);
    loop->listener->data = loop;
    h2o_socket_read_start(loop->listener, on_accept);
}

static void *loop_main(void *arg)
{
    gw_loop *loop = arg;
    int done = 0;
    uint64_t deadline = 0;

    loop_init(loop);
    while (!done) {
        h2o_evloop_run(loop->ctx.loop, 200); /* returns -1 on EINTR: keep looping (h2o note 6.1) */
        if (!draining)
            continue;
        if (loop->listener != NULL) {
            h2o_socket_read_stop(loop->listener);
            h2o_socket_close(loop->listener);
            loop->listener = NULL;
            h2o_context_request_shutdown(&loop->ctx);
            loop->last_input_us = cn_monotonic_us();
            deadline = loop->last_input_us + DRAIN_SECONDS * 1000000ull;
            input_moved(loop);
        }
        done = drained(loop, deadline);
    }
    return NULL;
}

static void configure_h2o(const gw_config *c)
{
    h2o_hostconf_t *host;
    h2o_handler_t *h;

    h2o_config_init(&globalconf);
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("cairn"));
    globalconf.max_request_entity_size = c->max_body;
    /* h2o's HTTP/1 deadline covers headers and body together, and HTTP/2's
     * idle timer runs while a worker writes a large body: both must allow a
     * whole large upload (h2o note 5). */
    globalconf.http1.req_timeout = (uint64_t)c->request_timeout * 1000;
    globalconf.http2.idle_timeout = (uint64_t)c->request_timeout * 1000;
    host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h = h2o_create_handler(h2o_config_register_path(host, "/", 0), sizeof(*h));
    h->on_req = on_req;
    h2o_socket_buffer_mmap_settings.threshold = c->spill_threshold;
    snprintf(h2o_socket_buffer_mmap_settings.fn_template, sizeof(h2o_socket_buffer_mmap_settings.fn_template),
             "%s/tmp/h2o.b.XXXXXX", c->data_dir);
}

/* Blocks the signals we handle in every thread; the main thread takes them
 * with sigwait, so no code runs in signal context. */
static void wait_for_signals(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            gw_log_reopen();
            gw_access_reopen();
            gw_log("log reopened");
            continue;
        }
        gw_log("signal %d: draining", sig);
        draining = 1;
        return;
    }
}

static int start_loops(const gw_config *c, SSL_CTX *ssl)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    n_loops = c->threads > 0 ? c->threads : (cores > 0 ? (int)cores : 1);
    loops = calloc((size_t)n_loops, sizeof(*loops));
    if (loops == NULL)
        return -1;
    for (int i = 0; i < n_loops; i++) {
        loops[i].accept.ssl_ctx = ssl;
        if ((loops[i].fd = open_listener(c->listen)) < 0)
            return -1;
    }
    for (int i = 0; i < n_loops; i++)
        pthread_create(&loops[i].tid, NULL, loop_main, &loops[i]);
    return 0;
}

int gw_serve(const gw_config *c)
{
    sigset_t set;
    SSL_CTX *ssl = NULL;
    tier_gc *gc = NULL;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (gw_bootstrap(c) != 0)
        return 1;
    if (tier_gc_start(&gc, gw__state.store, (unsigned)(c->gc_interval > 0 ? c->gc_interval : 1)) != 0) {
        gw_log("cannot start garbage collection");
        return 1;
    }
    configure_h2o(c);
    if (c->tls_cert[0] != '\0' && (ssl = tls_context(c)) == NULL)
        return 1;
    if (gw_pool_start(c->workers) != 0 || start_loops(c, ssl) != 0)
        return 1;
    gw_log("listening on %s (%s, %d loops, %d workers)", c->listen, ssl ? "https, h2" : "http", n_loops, c->workers);
    wait_for_signals();
    for (int i = 0; i < n_loops; i++)
        pthread_join(loops[i].tid, NULL);
    gw_pool_stop();
    tier_gc_stop(gc);
    s3_policy_cache_destroy(gw__state.s3.policies);
    gw__state.s3.policies = NULL;
    obj_store_close(gw__state.store);
    gw_log("stopped");
    return 0;
}
