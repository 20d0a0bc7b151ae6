/*
 * read: a blob's bytes back from any k good shards.
 *
 * Design notes:
 *  1. A read touches only the segments that hold the asked range; of each it
 *     fetches one fragment from each of the k best-ranked shards (vault.c:
 *     fastest first, data before parity on a tie), authenticates it, and
 *     goes on to the next shard when a get fails or a fragment does not
 *     authenticate. With every data fragment good the segment is their
 *     concatenation; otherwise the missing data is decoded (seal_rs_decode).
 *  2. Nothing that failed authentication is ever copied out: a segment is
 *     either rebuilt from k authentic fragments or the read fails (-CN_EIO).
 *  3. Shards found bad stay skipped for the reader's life and are reported
 *     (seal_reader_bad) so that the object layer can queue a repair.
 *  4. The reader keeps the last segment it decoded: a client reading 1 MiB
 *     at a time across segment boundaries decodes each segment once. A read
 *     that covers a whole segment (whose length k divides) is decrypted
 *     straight into the caller's buffer: no copy.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/util.h"
#include "sealint.h"

struct seal_reader {
    seal_vault *v;
    seal_ref r;
    seal__keys keys;
    uint8_t *scratch; /* (k+m) fragments of the largest size */
    uint8_t *seg;     /* plaintext of segment cached */
    uint64_t cached;  /* its index, UINT64_MAX if none */
    uint32_t bad;
};

static size_t full_flen(const seal_ref *r)
{
    return (r->segment + (size_t)r->k - 1) / (size_t)r->k;
}

/* Fetches fragment (i, j) into ct (ciphertext and tag) and opens it into
 * pt (may be ct: in place). 0 or an error. */
static int fetch(seal_vault *v, const seal_ref *r, const seal__keys *k, int i, uint64_t j, uint8_t *ct, uint8_t *pt)
{
    char name[SEAL__NAME_LEN + 1];
    size_t flen = seal__flen(r, j), idx = 0;
    be_provider *p = seal__provider(v, r, i, &idx);
    uint64_t t0 = cn_now_us();
    int rc = 0;

    if (p == NULL)
        return -CN_EIO;
    seal__shard_name(k, r, i, name);
    rc = p->driver->get(p, name, seal__frag_off(r, j), ct, flen + SEAL__TAG);
    seal__lat_note(v, idx, cn_now_us() - t0, rc != 0);
    if (rc == 0)
        rc = seal__frag_open(k, r, i, j, ct, flen, pt);
    return rc;
}

size_t seal__seg_cap(const seal_ref *r)
{
    return (size_t)r->k * full_flen(r);
}

/* Data fragments are opened straight into their place in seg (so that a
 * healthy segment costs no copy), parity fragments in place in scratch. */
int seal__segment(seal_vault *v, const seal_ref *r, const seal__keys *k, uint64_t j, uint8_t *scratch, uint8_t *seg,
                  uint32_t *bad)
{
    size_t stride = full_flen(r) + SEAL__TAG, flen = seal__flen(r, j);
    uint8_t *frag[SEAL_MAX_SHARDS];
    uint32_t present = 0, data = (1u << r->k) - 1;
    int order[SEAL_MAX_SHARDS], got = 0, n = r->k + r->m;

    seal__rank(v, r, order);
    for (int i = 0; i < n; i++)
        frag[i] = i < r->k ? seg + (size_t)i * flen : scratch + (size_t)i * stride;
    for (int t = 0; t < n && got < r->k; t++) {
        int i = order[t];
        if (*bad & (1u << i))
            continue;
        if (fetch(v, r, k, i, j, scratch + (size_t)i * stride, frag[i]) != 0) {
            *bad |= 1u << i;
            continue;
        }
        present |= 1u << i;
        got++;
    }
    if (got < r->k)
        return -CN_EIO;
    if ((present & data) != data) {
        const seal_rs *rs = seal__rs(v, r->k, r->m);
        return rs != NULL ? seal_rs_decode(rs, flen, frag, present, data & ~present) : -CN_ENOMEM;
    }
    return 0;
}

int seal_reader_open(seal_vault *v, const seal_ref *r, seal_reader **out)
{
    seal_reader *rd = calloc(1, sizeof(*rd));
    int rc = 0;

    *out = NULL;
    if (rd == NULL)
        return -CN_ENOMEM;
    rd->v = v;
    rd->r = *r;
    rd->cached = UINT64_MAX;
    if (!r->plain) {
        rc = seal__keys_open(v->mk, r, &rd->keys);
        rd->scratch = malloc((size_t)(r->k + r->m) * (full_flen(r) + SEAL__TAG));
        rd->seg = malloc(seal__seg_cap(r));
        if (rc == 0 && (rd->scratch == NULL || rd->seg == NULL))
            rc = -CN_ENOMEM;
    }
    if (rc != 0) {
        seal_reader_close(rd);
        return rc;
    }
    *out = rd;
    return 0;
}

static int read_plain(seal_reader *rd, uint64_t off, void *buf, size_t len)
{
    size_t idx = 0;
    be_provider *p = seal__provider(rd->v, &rd->r, 0, &idx);
    uint64_t t0 = cn_now_us();
    int rc = p != NULL ? p->driver->get(p, rd->r.locator, off, buf, len) : -CN_EIO;

    if (p != NULL)
        seal__lat_note(rd->v, idx, cn_now_us() - t0, rc != 0);
    if (rc != 0)
        rd->bad = 1;
    return rc;
}

int seal_read(seal_reader *rd, uint64_t off, void *buf, size_t len)
{
    const seal_ref *r = &rd->r;
    size_t done = 0;

    if (off > r->size || len > r->size - off)
        return -CN_ERANGE;
    if (r->plain)
        return read_plain(rd, off, buf, len);
    while (done < len) {
        uint64_t j = (off + done) / r->segment, in = (off + done) % r->segment;
        size_t seglen = seal__seglen(r, j), take = seglen - (size_t)in;
        if (in == 0 && len - done >= seglen && seglen % (size_t)r->k == 0 && rd->cached != j) {
            /* a whole segment without padding: straight into the caller's buffer */
            int rc = seal__segment(rd->v, r, &rd->keys, j, rd->scratch, (uint8_t *)buf + done, &rd->bad);
            if (rc != 0)
                return rc;
            done += seglen;
            continue;
        }
        if (rd->cached != j) {
            int rc = seal__segment(rd->v, r, &rd->keys, j, rd->scratch, rd->seg, &rd->bad);
            rd->cached = rc == 0 ? j : UINT64_MAX;
            if (rc != 0)
                return rc;
        }
        if (take > len - done)
            take = len - done;
        memcpy((uint8_t *)buf + done, rd->seg + in, take);
        done += take;
    }
    return 0;
}

uint32_t seal_reader_bad(const seal_reader *rd)
{
    return rd->bad;
}

void seal_reader_close(seal_reader *rd)
{
    if (rd == NULL)
        return;
    seal__keys_wipe(&rd->keys);
    free(rd->scratch);
    free(rd->seg);
    free(rd);
}

int seal_delete(seal_vault *v, const seal_ref *r)
{
    seal__keys k = {0};
    int rc = r->plain ? 0 : seal__keys_open(v->mk, r, &k);

    if (rc != 0)
        return rc;
    /* every shard is tried; any failure keeps the caller's row for another try */
    for (int i = 0; i < r->k + r->m; i++) {
        char name[SEAL__NAME_LEN + 1];
        be_provider *p = seal__provider(v, r, i, NULL);
        int drc = 0;
        seal__shard_name(&k, r, i, name);
        drc = p != NULL ? p->driver->del(p, name) : -CN_EIO;
        if (drc != 0)
            rc = drc;
    }
    seal__keys_wipe(&k);
    return rc;
}

int seal_put(seal_vault *v, const seal_ref *r, cn_stream *src, uint32_t *missing)
{
    seal__keys k = {0};
    int rc = r->plain ? 0 : seal__keys_open(v->mk, r, &k);

    *missing = 0;
    if (rc == 0)
        rc = seal__write(v, r, &k, src, (1u << (r->k + r->m)) - 1, missing);
    if (!r->plain)
        seal__keys_wipe(&k);
    return rc;
}
