/*
 * rs: the erasure code of the sealing layer, a systematic Reed-Solomon code
 * over GF(2^8) (ISA-L). A stripe is k data fragments and m parity fragments
 * of the same length; any k of the k+m fragments rebuild all the others.
 *
 * A seal_rs is created once per (k, m), is immutable afterwards and may be
 * used from any number of threads at once; whoever creates it destroys it,
 * after the last call that uses it has returned. The caller owns every
 * fragment buffer; this module allocates nothing per call.
 *
 * The parity bytes are part of the on-disk format (they are what providers
 * store): tests/vectors/rs/ pins them.
 */
#ifndef SEAL_RS_H
#define SEAL_RS_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_RS_MAX_K 16
#define SEAL_RS_MAX_M 4

typedef struct seal_rs seal_rs;

/* A code with k data and m parity fragments, 1 <= k <= 16, 0 <= m <= 4.
 * k == 1 is replication: every parity fragment is a copy of the data fragment.
 * -CN_EINVALID_ARGUMENT, -CN_ENOMEM. Immutable after creation, usable from many threads at once. */
int seal_rs_create(seal_rs **out, int k, int m);
void seal_rs_destroy(seal_rs *rs); /* NULL accepted */
int seal_rs_k(const seal_rs *rs);
int seal_rs_m(const seal_rs *rs);

/* frag[0..k) hold data, each len bytes; fills frag[k..k+m).
 * -CN_EINVALID_ARGUMENT if rs, frag or one of those k+m pointers is NULL. */
int seal_rs_encode(const seal_rs *rs, size_t len, uint8_t *const *frag);

/* frag[0..k+m), each len bytes; bit i of present says frag[i] holds good bytes.
 * Rebuilds every fragment i whose bit is clear AND whose bit is set in want
 * (data or parity), in place. Needs at least k present (-CN_EIO otherwise, and
 * nothing is written). Fragments not wanted and not present are left untouched
 * (may be NULL). Bits at or above k+m are ignored, so want may be ~0u ("every
 * missing fragment"). Only k of the present fragments are read (data ones
 * first); the others may be NULL too. -CN_EINVALID_ARGUMENT for a NULL rs or
 * frag, or a NULL pointer among the fragments read or rebuilt.
 * A present fragment holding wrong bytes yields wrong output: the caller
 * verifies fragments (checksums) before marking them present. */
int seal_rs_decode(const seal_rs *rs, size_t len, uint8_t *const *frag, uint32_t present, uint32_t want);

#endif
