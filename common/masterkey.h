/*
 * masterkey: the gateway master key, and the sealing of small secrets under
 * it (AES-256-GCM). Today it seals the secrets of access keys (obj/keys.c);
 * the pipeline will seal each blob's own key with it (DESIGN.md, "Sealing"),
 * and `cairn key rotate` re-seals every record under a new key: open with
 * the old key, seal with the new, in one metadata transaction.
 *
 * The key is 32 random bytes. It comes either from text (64 hex digits or
 * the base64 of 32 bytes: what $CAIRN_MASTER_KEY holds) or from a key file
 * of exactly those 32 raw bytes, which nobody but its owner may read (no
 * group or other permission bits) and which cn_mkey_load_file() creates at
 * first use. The key is never printed; cn_mkey_id() names it instead.
 *
 * A sealed record (version 1) is, byte by byte:
 *
 *   offset  length  field
 *   0       1       version, 0x01
 *   1       4       key id: the first 4 bytes of HMAC-SHA256(key, "cairn master key id v1")
 *   5       12      nonce, random for every seal
 *   17      n       AES-256-GCM ciphertext of the n plaintext bytes
 *   17+n    16      GCM tag
 *
 * The GCM additional data is the caller's: it binds the record to what it
 * protects ("cairn-secret-v1:" + access key), so a record copied onto another
 * row does not open. The key id only says which key sealed a record (wrong
 * key and tampering are then told apart in the log); it is not authenticated,
 * and a record whose id was altered simply fails to open.
 *
 * Nonces are random, so one key should seal fewer than 2^32 records (NIST SP
 * 800-38D); rotation starts a new budget. A cn_mkey is immutable after it is
 * made and may be used from any number of threads at once.
 */
#ifndef CN_MASTERKEY_H
#define CN_MASTERKEY_H

#include <stddef.h>
#include <stdint.h>

#define CN_MKEY_LEN 32
#define CN_MKEY_VERSION 1
#define CN_MKEY_NONCE_LEN 12
#define CN_MKEY_TAG_LEN 16
#define CN_MKEY_ID_LEN 4
/* Bytes a sealed record adds to its plaintext. */
#define CN_MKEY_OVERHEAD (1 + CN_MKEY_ID_LEN + CN_MKEY_NONCE_LEN + CN_MKEY_TAG_LEN)

typedef struct cn_mkey cn_mkey;

/* A new random key. 0, -CN_ENOMEM or -CN_EINTERNAL. */
int cn_mkey_generate(cn_mkey **out);
/* The key given as text: exactly 64 hex digits, or the padded base64 of 32
 * bytes. -CN_EINVALID_ARGUMENT otherwise, with the reason (never the text)
 * in err. */
int cn_mkey_from_text(cn_mkey **out, const char *text, char *err, size_t errcap);
/* Reads the key file at path: a regular file of exactly 32 bytes with no
 * group or other permission bits (-CN_EACCESS), of the right size
 * (-CN_EINVALID_ARGUMENT); -CN_EIO if it cannot be read. When the file does
 * not exist and create is set, makes a new key and writes it there with
 * cn_mkey_write_file() (*created set); without create that is -CN_EIO.
 * err gets a reason naming path. created may be NULL. */
int cn_mkey_load_file(cn_mkey **out, const char *path, int create, int *created, char *err, size_t errcap);
/* Writes k to a new file at path, mode 0600, durably (the file and its
 * directory are fsync'd before this returns, so nothing is sealed under a
 * key that a crash could lose). Never replaces an existing file:
 * -CN_ECONFLICT if path exists; -CN_EIO otherwise. */
int cn_mkey_write_file(const cn_mkey *k, const char *path, char *err, size_t errcap);
/* Wipes and frees k; NULL is accepted. */
void cn_mkey_destroy(cn_mkey *k);

/* The key id as 8 lower-case hex digits: names the key in logs and in the
 * metadata without revealing it. Owned by k. */
const char *cn_mkey_id(const cn_mkey *k);

/* Seals pt[0..n) with additional data aad[0..aad_len) into out, which must
 * hold n + CN_MKEY_OVERHEAD bytes (-CN_ETOOLARGE otherwise); *out_len gets
 * that length. 0 or -CN_EINTERNAL. */
int cn_mkey_seal(const cn_mkey *k, const void *aad, size_t aad_len, const void *pt, size_t n, uint8_t *out, size_t cap,
                 size_t *out_len);
/* Opens a record made by cn_mkey_seal() with the same aad into out (cap
 * bytes; -CN_ETOOLARGE if the plaintext does not fit). -CN_EACCESS if the
 * record names another key, -CN_EINTERNAL if it is malformed, of an unknown
 * version, or fails authentication (other key, other aad, tampered). On any
 * failure out is wiped: no unauthenticated byte is ever returned. */
int cn_mkey_open(const cn_mkey *k, const void *aad, size_t aad_len, const uint8_t *rec, size_t n, uint8_t *out,
                 size_t cap, size_t *out_len);

#endif
