#!/usr/bin/env python3
"""Writes tests/vectors/seal/shard-2p1-v1: a blob sealed by the shard format
(version 1, seal/format.c) and its layout text (seal/vault.c), computed here
without cairn (Python's hmac, hashlib and cryptography's AESGCM, and a small
GF(2^8) for the one parity fragment). Run from the repository root:

    python3 tests/vectors/seal/make_vectors.py > tests/vectors/seal/shard-2p1-v1
"""
import hashlib
import hmac
from functools import reduce
from operator import xor

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER = bytes(range(0x00, 0x20))
BLOB_KEY = bytes(range(0x40, 0x60))
NONCE = bytes(range(0x60, 0x6C))  # the master-key record's nonce (random in cairn)
ID = bytes(range(0x00, 0x10))
LOCATOR = ID.hex()
K, M, SEGMENT, SIZE = 2, 1, 4096, 5000
CLS, PROVS = "std", "p0,p1,p2"
PT = bytes((x * 31 + 7) & 0xFF for x in range(SIZE))


def be32(v):
    return v.to_bytes(4, "big")


def gf_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return r


def gf_inv(a):
    return next(b for b in range(1, 256) if gf_mul(a, b) == 1)


def fields(i, with_id=True):
    """Header bytes 0..47; the stored header has zeros where the additional
    data has the blob id (format.c note 2)."""
    h = bytearray(48)
    h[0:8] = b"CAIRNSHD"
    h[9] = 1  # format version
    h[10], h[11], h[12] = K, M, i
    h[16:20] = be32(SEGMENT)
    h[20:28] = SIZE.to_bytes(8, "big")
    if with_id:
        h[32:48] = ID
    return bytes(h)


def iv(j, i):
    return be32(j) + be32(i) + be32(0)


# master-key record (common/masterkey.h) of the blob key
key_id = hmac.new(MASTER, b"cairn master key id v1", hashlib.sha256).digest()[:4]
aad = ("cairn-blob-key-v1:" + LOCATOR).encode()
wrapped = b"\x01" + key_id + NONCE + AESGCM(MASTER).encrypt(NONCE, BLOB_KEY, aad)
layout = "1 %s %d+%d %d %s %s" % (CLS, K, M, SEGMENT, PROVS, wrapped.hex())

enc = hmac.new(BLOB_KEY, b"cairn-seal-enc-v1", hashlib.sha256).digest()
name = hmac.new(BLOB_KEY, b"cairn-seal-name-v1", hashlib.sha256).digest()
gcm = AESGCM(enc)

# stripes: k data fragments (zero-padded), parity row 1/(i ^ j) (ISA-L Cauchy)
coef = [gf_inv(K ^ j) for j in range(K)]
shards = [bytearray() for _ in range(K + M)]
first_frag = None
nseg = (SIZE + SEGMENT - 1) // SEGMENT
for i in range(K + M):
    shards[i] += fields(i, with_id=False) + gcm.encrypt(iv(0xFFFFFFFF, i), b"", fields(i))
for j in range(nseg):
    seg = PT[j * SEGMENT:(j + 1) * SEGMENT]
    flen = (len(seg) + K - 1) // K
    data = [seg[d * flen:(d + 1) * flen].ljust(flen, b"\0") for d in range(K)]
    parity = bytes(reduce(xor, (gf_mul(coef[d], data[d][x]) for d in range(K))) for x in range(flen))
    for i, frag in enumerate(data + [parity]):
        sealed = gcm.encrypt(iv(j, i), frag, fields(i) + be32(j))
        shards[i] += sealed
        if i == 0 and j == 0:
            first_frag = sealed

print("# Seal shard format, version 1, and the layout text (version 1) of one")
print("# blob of scheme 2+1: segment 4096, size 5000, blob id 00..0f.")
print("# Produced by tests/vectors/seal/make_vectors.py without cairn (Python hmac,")
print("# hashlib, cryptography's AESGCM, GF(2^8) with polynomial 0x11d), from the")
print("# format as seal/format.c's design notes and seal/vault.c note 3 describe it")
print("# and docs/FORMAT.md specifies it; seal/ was then found to produce")
print("# exactly these bytes. Written by the same hands from the")
print("# same description, the vector cannot prove that description sound (the")
print("# tamper and erasure tests of test_seal.c do that); what it does is pin it.")
print("# Shards and layouts already stored must stay readable, so any change of")
print("# subkey labels, header, IV, AAD, shard naming, parity or layout text must")
print("# fail test_seal.c's vector test and come with a new format version, never")
print("# pass silently.")
print("# plaintext: byte x of the blob is (x * 31 + 7) mod 256.")
print("master_key: " + MASTER.hex())
print("blob_key: " + BLOB_KEY.hex())
print("locator: " + LOCATOR)
print("size: %d" % SIZE)
print("layout: " + layout)
print("enc_key: " + enc.hex())
print("name_key: " + name.hex())
for i in range(K + M):
    print("name%d: %s" % (i, hmac.new(name, b"shard\0\0" + bytes([i]), hashlib.sha256).hexdigest()[:40]))
for i in range(K + M):
    print("header%d: %s" % (i, bytes(shards[i][:64]).hex()))
print("# fragment (shard 0, segment 0): 2048 bytes of ciphertext, then the tag;")
print("# split over several frag00 lines, to be concatenated")
h = first_frag.hex()
for x in range(0, len(h), 96):
    print("frag00: " + h[x:x + 96])
for i in range(K + M):
    print("shard%d_size: %d" % (i, len(shards[i])))
    print("shard%d_sha256: %s" % (i, hashlib.sha256(bytes(shards[i])).hexdigest()))
