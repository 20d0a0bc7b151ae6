/*
 * rs: the erasure code of the sealing layer: a systematic Reed-Solomon code
 * over GF(2^8), computed by ISA-L (ec_init_tables + ec_encode_data).
 *
 * Design notes:
 *  1. The generator G is (k+m) x k: the identity on top (systematic: data
 *     fragments are stored as they are), then m Cauchy rows from
 *     gf_gen_cauchy1_matrix, G[i][j] = 1 / (i ^ j) for k <= i < k+m, j < k.
 *     The row labels {k..k+m) and column labels {0..k) are disjoint, so every
 *     square submatrix of the Cauchy part is invertible; expanding along the
 *     identity rows, so is every k x k submatrix of G: any k fragments rebuild
 *     the stripe, for every loss pattern. ISA-L's Vandermonde generator
 *     (gf_gen_rs_matrix) carries no such guarantee: its own documentation lists
 *     (k, m) pairs with singular submatrices. Its table happens to clear
 *     k <= 16, m <= 4, but Cauchy needs no table, so raising the limits later
 *     cannot silently make a loss pattern undecodable.
 *  2. k == 1 is replication: the parity rows are set to 1 (Cauchy would give
 *     1/i, scaled copies), so parity fragments are byte copies.
 *  3. G is the on-disk format: parity stored on providers is G times the data.
 *     tests/vectors/rs/ pins it; changing it orphans every stored stripe.
 *  4. A seal_rs is immutable after seal_rs_create; each call keeps its scratch
 *     (two k x k matrices, tables of at most 32*16*4 bytes) on its own stack.
 *     No locks, no allocation per call.
 *  5. Decode reads k present fragments, lowest index first (so data before
 *     parity), inverts their k rows of G, and rebuilds each wanted missing
 *     fragment r with row G_r x inverse (for a data row, the inverse's row r).
 *     When the k sources are the data fragments, the inverse is the identity
 *     and the rows are G's own: missing parity is simply re-encoded.
 *
 * It does not: verify fragments (a wrong present fragment decodes into wrong
 * bytes; callers check checksums first), split objects into fragments or pad
 * them, own any buffer, or do I/O.
 */
#include <isa-l/erasure_code.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "rs.h"

#define RS_MAX_N (SEAL_RS_MAX_K + SEAL_RS_MAX_M)
#define RS_TBL_BYTES(k, rows) (32 * (k) * (rows)) /* ec_init_tables' output size */
/* ec_encode_data takes an int length: longer fragments go in slices of this size. */
#define RS_SLICE ((size_t)1 << 30)

struct seal_rs {
    int k, m;
    uint8_t gen[RS_MAX_N * SEAL_RS_MAX_K];                          /* G, row r at gen + r * k */
    uint8_t parity_tbl[RS_TBL_BYTES(SEAL_RS_MAX_K, SEAL_RS_MAX_M)]; /* tables of rows k..k+m */
};

static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;

/* ISA-L picks its SIMD routine at the first call of ec_encode_data and stores
 * it in a function pointer. Making that first call once, before any code
 * exists, leaves concurrent calls nothing to do but read the pointer. */
static void resolve_dispatch(void)
{
    uint8_t one = 1, tbl[RS_TBL_BYTES(1, 1)], in[64] = {0}, out[64];
    uint8_t *src[1] = {in}, *dst[1] = {out};

    ec_init_tables(1, 1, &one, tbl);
    ec_encode_data((int)sizeof(in), 1, 1, tbl, src, dst);
}

/* dst[r] = sum over c < k of coefficient(r, c) * src[c], for r < rows, with
 * tbl from ec_init_tables(k, rows). ISA-L only reads tbl; its prototype is
 * not const. */
static void apply(int k, int rows, const uint8_t *tbl, uint8_t *const *src, uint8_t *const *dst, size_t len)
{
    uint8_t *s[SEAL_RS_MAX_K], *d[SEAL_RS_MAX_M];
    size_t n = 0;

    for (size_t off = 0; off < len; off += n) {
        n = len - off < RS_SLICE ? len - off : RS_SLICE;
        for (int c = 0; c < k; c++)
            s[c] = src[c] + off;
        for (int r = 0; r < rows; r++)
            d[r] = dst[r] + off;
        ec_encode_data((int)n, k, rows, (uint8_t *)tbl, s, d);
    }
}

int seal_rs_create(seal_rs **out, int k, int m)
{
    seal_rs *rs = NULL;

    if (out == NULL)
        return -CN_EINVALID_ARGUMENT;
    *out = NULL;
    if (k < 1 || k > SEAL_RS_MAX_K || m < 0 || m > SEAL_RS_MAX_M)
        return -CN_EINVALID_ARGUMENT;
    rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return -CN_ENOMEM;
    pthread_once(&dispatch_once, resolve_dispatch);
    rs->k = k;
    rs->m = m;
    gf_gen_cauchy1_matrix(rs->gen, k + m, k);
    if (k == 1)
        memset(rs->gen + 1, 1, (size_t)m);
    if (m > 0)
        ec_init_tables(k, m, rs->gen + k * k, rs->parity_tbl);
    *out = rs;
    return 0;
}

void seal_rs_destroy(seal_rs *rs)
{
    free(rs);
}

int seal_rs_k(const seal_rs *rs)
{
    return rs->k;
}

int seal_rs_m(const seal_rs *rs)
{
    return rs->m;
}

/* Whether every frag[i] with bit i set in mask is non-NULL. */
static int frags_set(uint8_t *const *frag, uint32_t mask)
{
    for (int i = 0; mask != 0; i++, mask >>= 1)
        if ((mask & 1) && frag[i] == NULL)
            return 0;
    return 1;
}

int seal_rs_encode(const seal_rs *rs, size_t len, uint8_t *const *frag)
{
    if (rs == NULL || frag == NULL || !frags_set(frag, (1u << (rs->k + rs->m)) - 1))
        return -CN_EINVALID_ARGUMENT;
    if (len > 0 && rs->m > 0)
        apply(rs->k, rs->m, rs->parity_tbl, frag, frag + rs->k, len);
    return 0;
}

/* The k lowest fragments of present (data first) as src[], their bits as the result. */
static uint32_t pick_sources(int k, uint32_t present, int *src)
{
    uint32_t used = 0;
    int n = 0;

    for (int i = 0; n < k; i++) {
        if (present & (1u << i)) {
            src[n++] = i;
            used |= 1u << i;
        }
    }
    return used;
}

/* out = row x mat, row 1 x k, mat k x k. */
static void row_times(const uint8_t *row, const uint8_t *mat, int k, uint8_t *out)
{
    for (int c = 0; c < k; c++) {
        uint8_t v = 0;
        for (int j = 0; j < k; j++)
            v ^= gf_mul(row[j], mat[j * k + c]);
        out[c] = v;
    }
}

/* Into rows (one k-wide row per bit of lost, lowest first), the coefficients
 * that rebuild each lost fragment from the fragments src[0..k): those hold
 * G_src x data, so data = inv x sources and fragment r = G_r x inv x sources.
 * Returns the row count, or -CN_EINTERNAL if G_src is singular (design note 1
 * says it cannot be). */
static int decode_rows(const seal_rs *rs, const int *src, uint32_t lost, uint8_t *rows)
{
    uint8_t sub[SEAL_RS_MAX_K * SEAL_RS_MAX_K], inv[SEAL_RS_MAX_K * SEAL_RS_MAX_K];
    int k = rs->k, n = 0;
    int from_data = src[k - 1] == k - 1; /* sources are exactly 0..k-1: inv is I */

    if (!from_data) {
        for (int i = 0; i < k; i++)
            memcpy(sub + i * k, rs->gen + src[i] * k, (size_t)k);
        if (gf_invert_matrix(sub, inv, k) != 0)
            return -CN_EINTERNAL;
    }
    for (int r = 0; lost >> r != 0; r++) {
        if (!(lost & (1u << r)))
            continue;
        if (from_data)
            memcpy(rows + n * k, rs->gen + r * k, (size_t)k);
        else if (r < k)
            memcpy(rows + n * k, inv + r * k, (size_t)k);
        else
            row_times(rs->gen + r * k, inv, k, rows + n * k);
        n++;
    }
    return n;
}

int seal_rs_decode(const seal_rs *rs, size_t len, uint8_t *const *frag, uint32_t present, uint32_t want)
{
    uint8_t rows[SEAL_RS_MAX_M * SEAL_RS_MAX_K], tbl[RS_TBL_BYTES(SEAL_RS_MAX_K, SEAL_RS_MAX_M)];
    uint8_t *in[SEAL_RS_MAX_K], *out[SEAL_RS_MAX_M];
    int src[SEAL_RS_MAX_K];
    uint32_t all = 0, lost = 0, used = 0;
    int nrows = 0;

    if (rs == NULL || frag == NULL)
        return -CN_EINVALID_ARGUMENT;
    all = (1u << (rs->k + rs->m)) - 1;
    present &= all;
    lost = want & all & ~present; /* at most m bits, since k are present */
    if (__builtin_popcount(present) < rs->k)
        return -CN_EIO;
    used = pick_sources(rs->k, present, src);
    if (!frags_set(frag, used | lost))
        return -CN_EINVALID_ARGUMENT;
    if (lost == 0 || len == 0)
        return 0;
    nrows = decode_rows(rs, src, lost, rows);
    if (nrows < 0)
        return nrows;
    for (int i = 0, r = 0; i < RS_MAX_N; i++)
        if (lost & (1u << i))
            out[r++] = frag[i];
    for (int i = 0; i < rs->k; i++)
        in[i] = frag[src[i]];
    ec_init_tables(rs->k, nrows, rows, tbl);
    apply(rs->k, nrows, tbl, in, out, len);
    return 0;
}
