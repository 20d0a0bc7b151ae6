/*
 * admin_client: one signed request of `cairn admin` to the admin API
 * (admin/admin.h), over libcurl. The CLI itself is admin_cmd.c.
 *
 * Design notes:
 *  1. Signed with SigV4 by common/sigv4_sign.c, the signer the S3 provider
 *     uses, for service "s3" as the gateway expects: host, x-amz-date and
 *     x-amz-content-sha256 (the body's real hash: the admin API refuses an
 *     unsigned payload). The Host header is set here, from the endpoint, so
 *     that what is signed is exactly what is sent.
 *  2. The canonical URI is the path as sent; the caller encodes names in
 *     it (the gateway verifies the path as received, without normalising).
 *  3. The endpoint is scheme://host[:port] with no path of its own.
 *  4. A response body is capped (REPLY_MAX); a bigger one is an error, not
 *     a truncated document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../common/err.h"
#include "../common/sigv4_sign.h"
#include "../common/util.h"
#include "gwint.h"

#define REPLY_MAX (16u << 20)
#define URL_MAX 2048
#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 120L

/* The authority (host[:port]) of an endpoint "http(s)://authority[/]" (note 3). */
static int authority(const char *endpoint, char *out, size_t cap)
{
    const char *p = strstr(endpoint, "://");
    size_t n = 0;

    if (p == NULL || (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0))
        return -1;
    p += 3;
    n = strcspn(p, "/?#");
    if (n == 0 || n >= cap || (p[n] != '\0' && strcmp(p + n, "/") != 0))
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    cn_buf *b = arg;

    return cn_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[CN_SIGV4_AUTH_MAX + 64];
    struct curl_slist *l = NULL;

    snprintf(line, sizeof(line), "%s:%s%s", name, value[0] != '\0' ? " " : "", value);
    l = curl_slist_append(*list, line);
    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}

/* The signed headers of one request (note 1). */
static int sign(const gw_admin_client *c, const char *host, const char *method, const char *path, const char *body,
                struct curl_slist **hdrs)
{
    char date[32], hash[65], auth[CN_SIGV4_AUTH_MAX];
    cn_sigv4_header sh[3];
    cn_sigv4_req sr;
    int rc = 0;

    cn_time_amz(date, cn_now());
    cn_sha256_hex(hash, body != NULL ? body : "", body != NULL ? strlen(body) : 0);
    sh[0] = (cn_sigv4_header){"host", host};
    sh[1] = (cn_sigv4_header){"x-amz-content-sha256", hash};
    sh[2] = (cn_sigv4_header){"x-amz-date", date};
    sr = (cn_sigv4_req){.method = method,
                        .path = path,
                        .query = "",
                        .payload_hash = hash,
                        .amz_date = date,
                        .headers = sh,
                        .n_headers = 3};
    rc = cn_sigv4_authorization(auth, sizeof(auth), c->access_key, c->secret_key, c->region, &sr);
    if (rc == 0)
        rc = add_header(hdrs, "Host", host) | add_header(hdrs, "x-amz-date", date) |
             add_header(hdrs, "x-amz-content-sha256", hash) | add_header(hdrs, "Authorization", auth);
    /* curl would label an empty body as a form; "Content-Type:" drops that */
    if (rc == 0)
        rc = add_header(hdrs, "Content-Type", body != NULL ? "application/json" : "");
    return rc != 0 ? -1 : 0;
}

static void setup(CURL *h, const char *method, const char *url, const char *body, struct curl_slist *hdrs,
                  cn_buf *reply)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "GET") == 0)
        return;
    /* Content-Length: 0 rather than none on a bodiless POST, PUT, DELETE */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
}

int gw_admin_call(const gw_admin_client *c, const char *method, const char *path, const char *body, gw_admin_reply *out,
                  char *err, size_t errcap)
{
    char host[256], url[URL_MAX];
    struct curl_slist *hdrs = NULL;
    cn_buf reply;
    CURL *h = NULL;
    CURLcode cc = CURLE_OK;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    cn_buf_init(&reply, REPLY_MAX);
    if (authority(c->endpoint, host, sizeof(host)) != 0) {
        snprintf(err, errcap, "endpoint %s is not http(s)://host[:port]", c->endpoint);
        goto out;
    }
    snprintf(url, sizeof(url), "%.*s://%s%s", (int)(strstr(c->endpoint, "://") - c->endpoint), c->endpoint, host, path);
    h = curl_easy_init();
    if (h == NULL || sign(c, host, method, path, body, &hdrs) != 0) {
        snprintf(err, errcap, "cannot prepare the request (out of memory, or credentials too long)");
        goto out;
    }
    setup(h, method, url, body, hdrs, &reply);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        snprintf(err, errcap, "%s: %s", url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    out->json = reply.len > 0 ? json_loadb(reply.data, reply.len, 0, NULL) : NULL;
    out->raw = cn_buf_steal(&reply, &out->raw_len);
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    if (h != NULL)
        curl_easy_cleanup(h);
    cn_buf_dispose(&reply);
    return rc;
}

void gw_admin_reply_dispose(gw_admin_reply *r)
{
    json_decref(r->json);
    free(r->raw);
    memset(r, 0, sizeof(*r));
}

void gw_admin_client_defaults(gw_admin_client *c)
{
    const char *r = getenv("AWS_REGION") != NULL ? getenv("AWS_REGION") : getenv("AWS_DEFAULT_REGION");

    if (c->endpoint == NULL)
        c->endpoint = getenv("CAIRN_ENDPOINT") != NULL ? getenv("CAIRN_ENDPOINT") : "http://127.0.0.1:9000";
    if (c->access_key == NULL)
        c->access_key = getenv("AWS_ACCESS_KEY_ID");
    if (c->secret_key == NULL)
        c->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (c->region == NULL)
        c->region = r != NULL && r[0] != '\0' ? r : "us-east-1";
}
