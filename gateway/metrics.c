/*
 * metrics: request counters by (operation, status), bytes in and out,
 * errors and a latency histogram, rendered in the Prometheus text format.
 * One mutex: a request takes it once, for a few additions, which costs far
 * less than the request itself. The (op, status) table is fixed-size; pairs
 * beyond it are counted under op="other" so a hostile client cannot grow it.
 */
#include <string.h>

#include "gwint.h"

#define MAX_PAIRS 256

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

static struct {
    pthread_mutex_t mu;
    struct pair {
        const char *op; /* static strings from s3api */
        int status;
        uint64_t count;
    } pairs[MAX_PAIRS];
    int n_pairs;
    uint64_t other;
    uint64_t bytes_in, bytes_out, errors;
    uint64_t buckets[NB + 1];
    uint64_t count;
    double sum;
    uint64_t denied[8];
} m = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The steps of s3api/authz.c, and auth: a fixed set of labels. */
static const char *const deny_steps[] = {"auth", "anonymous", "capability", "policy", "acl", "implicit", "other"};
#define N_DENY (sizeof(deny_steps) / sizeof(deny_steps[0]))

void gw_metrics_denied(const char *reason)
{
    size_t i = 0, n = strcspn(reason, ":");

    while (i < N_DENY - 1 && !(strlen(deny_steps[i]) == n && strncmp(deny_steps[i], reason, n) == 0))
        i++;
    pthread_mutex_lock(&m.mu);
    m.denied[i]++;
    pthread_mutex_unlock(&m.mu);
}

static void render_denials(cn_buf *out)
{
    cn_buf_puts(out, "# HELP cairn_denied_total Requests refused by authentication or authorization, by reason.\n"
                     "# TYPE cairn_denied_total counter\n");
    for (size_t i = 0; i < N_DENY; i++)
        cn_buf_printf(out, "cairn_denied_total{reason=\"%s\"} %llu\n", deny_steps[i], (unsigned long long)m.denied[i]);
}

static struct pair *find_pair(const char *op, int status)
{
    for (int i = 0; i < m.n_pairs; i++)
        if (m.pairs[i].status == status && strcmp(m.pairs[i].op, op) == 0)
            return &m.pairs[i];
    if (m.n_pairs == MAX_PAIRS)
        return NULL;
    m.pairs[m.n_pairs].op = op;
    m.pairs[m.n_pairs].status = status;
    return &m.pairs[m.n_pairs++];
}

void gw_metrics_record(const char *op, int status, uint64_t bytes_in, uint64_t bytes_out, uint64_t latency_us)
{
    double secs = (double)latency_us / 1e6;
    struct pair *p;
    size_t b = 0;

    while (b < NB && secs > bounds[b])
        b++;
    pthread_mutex_lock(&m.mu);
    if ((p = find_pair(op ? op : "Unknown", status)) != NULL)
        p->count++;
    else
        m.other++;
    m.bytes_in += bytes_in;
    m.bytes_out += bytes_out;
    m.errors += status >= 400;
    m.buckets[b]++;
    m.count++;
    m.sum += secs;
    pthread_mutex_unlock(&m.mu);
}

void gw_metrics_render(cn_buf *out)
{
    uint64_t cum = 0;

    pthread_mutex_lock(&m.mu);
    cn_buf_puts(out, "# HELP cairn_requests_total S3 requests by operation and HTTP status.\n"
                     "# TYPE cairn_requests_total counter\n");
    for (int i = 0; i < m.n_pairs; i++)
        cn_buf_printf(out, "cairn_requests_total{op=\"%s\",status=\"%d\"} %llu\n", m.pairs[i].op, m.pairs[i].status,
                      (unsigned long long)m.pairs[i].count);
    if (m.other)
        cn_buf_printf(out, "cairn_requests_total{op=\"other\",status=\"0\"} %llu\n", (unsigned long long)m.other);
    cn_buf_printf(out,
                  "# HELP cairn_errors_total Requests answered with a 4xx or 5xx status.\n"
                  "# TYPE cairn_errors_total counter\ncairn_errors_total %llu\n"
                  "# HELP cairn_received_bytes_total Request body bytes received.\n"
                  "# TYPE cairn_received_bytes_total counter\ncairn_received_bytes_total %llu\n"
                  "# HELP cairn_sent_bytes_total Response body bytes sent.\n"
                  "# TYPE cairn_sent_bytes_total counter\ncairn_sent_bytes_total %llu\n"
                  "# HELP cairn_request_duration_seconds Time from request to response headers.\n"
                  "# TYPE cairn_request_duration_seconds histogram\n",
                  (unsigned long long)m.errors, (unsigned long long)m.bytes_in, (unsigned long long)m.bytes_out);
    for (size_t b = 0; b < NB; b++) {
        cum += m.buckets[b];
        cn_buf_printf(out, "cairn_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[b],
                      (unsigned long long)cum);
    }
    cn_buf_printf(out,
                  "cairn_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "cairn_request_duration_seconds_sum %.6f\ncairn_request_duration_seconds_count %llu\n",
                  (unsigned long long)m.count, m.sum, (unsigned long long)m.count);
    render_denials(out);
    pthread_mutex_unlock(&m.mu);
}
