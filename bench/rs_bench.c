/*
 * rs_bench.c: cairn-rs-bench, the erasure-code throughput line of `make bench`.
 *
 * One thread, seal/rs.c over 1 MiB segments (k fragments of 1 MiB / k):
 * encode of 4+2 and 8+4, and decode of the same codes with two data fragments
 * lost (rebuilt from the other data and two parity fragments). Each case runs
 * for at least RUN_SECS and prints one line; MB/s counts segment bytes
 * (10^6 bytes), i.e. user data made durable or read back, not parity.
 *
 * It does not check results (tests/unit/test_rs.c does), touch a disk or use
 * more than one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../seal/rs.h"

#define SEGMENT (1u << 20)
#define RUN_SECS 0.5

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One case: encode when lost == 0, else decode of the lost fragments. */
static int run(int k, int m, uint32_t lost)
{
    uint8_t *frag[SEAL_RS_MAX_K + SEAL_RS_MAX_M] = {0};
    size_t len = SEGMENT / (unsigned)k;
    uint32_t all = (1u << (k + m)) - 1;
    seal_rs *rs = NULL;
    double t0 = 0, t = 0;
    long n = 0;
    int rc = seal_rs_create(&rs, k, m);

    for (int i = 0; rc == 0 && i < k + m; i++) {
        frag[i] = aligned_alloc(64, len);
        if (frag[i] == NULL) {
            rc = -1;
            break;
        }
        for (size_t b = 0; b < len; b++)
            frag[i][b] = (uint8_t)rand();
    }
    if (rc == 0)
        rc = seal_rs_encode(rs, len, frag);
    for (t0 = t = now(); rc == 0 && t - t0 < RUN_SECS; t = now(), n++)
        rc = lost ? seal_rs_decode(rs, len, frag, all & ~lost, lost) : seal_rs_encode(rs, len, frag);
    if (rc == 0)
        printf("rs %s %d+%d segment=1MiB lost=%d mb_s=%.0f\n", lost ? "decode" : "encode", k, m,
               __builtin_popcount(lost), (double)n * SEGMENT / (t - t0) / 1e6);
    for (int i = 0; i < k + m; i++)
        free(frag[i]);
    seal_rs_destroy(rs);
    return rc;
}

int main(void)
{
    int rc = 0;

    srand(1);
    rc |= run(4, 2, 0);
    rc |= run(8, 4, 0);
    rc |= run(4, 2, 0x3);
    rc |= run(8, 4, 0x3);
    if (rc != 0)
        fprintf(stderr, "cairn-rs-bench: a case failed\n");
    return rc != 0;
}
