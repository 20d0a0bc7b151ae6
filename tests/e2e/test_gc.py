"""Content-addressed blobs and garbage collection (issue 4, "Content-addressed blobs").

This suite starts its OWN gateways (gateway.Gateway) on fresh temporary data
directories, each with `--set gc.interval=1 --set gc.grace=1`, so a dead blob is
collected within about two seconds.

What it looks at besides S3 answers (obj/blob.c, obj/gc.c, obj/schema.c; shards.py):
- shard files: every blob larger than storage.inline_max (64 KiB) is sealed
  and erasure-coded (embedded default: RS 2+1), shard i in
  data_dir/local<i>/data/<ab>/<cd>/<opaque name> (backends/posix.c); names
  say nothing of the blob, so a blob's shards are the files its PUT added
  (shards.shards_written; bodies are unique unless a test dedupes on purpose),
  and each blob on disk has exactly one shard in local0;
- data_dir/meta.db, opened read-only with sqlite3: blobs (state pending/live/dead,
  refcount, layout), blob_data (bytes of inline blobs, locator '=...'), extents
  and part_extents (which blobs versions and parts reference), versions;
- `cairn scrub` beside the running gateway: every live sealed blob has all its
  shards, authentic.

Everything is measured by counting files and rows, never by timing.

"A hundred PUTs of the same 64 MiB body" is run as the issue says (6.4 GiB
through HTTP), and again with 2 MiB bodies.
"""

import hashlib
import os
import random
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import shards
from gateway import KiB, MiB, Gateway

GC_ARGS = ["--set", "gc.interval=1", "--set", "gc.grace=1"]
# gc.interval + gc.grace is 2 s; allow for a slow machine before calling a blob leaked.
GC_DEADLINE = 10.0
# Long enough for at least two complete GC passes after a blob became dead.
GC_SETTLE = 3.5


@pytest.fixture
def gw(gateways):
    return gateways("gc", GC_ARGS)


# ---- looking at the data directory -------------------------------------------

class Meta(shards.Meta):
    """shards.Meta, with blobs looked up by their content."""

    def blob_by_content(self, data):
        """Rows (bid, locator, state, refcount) of blobs whose content is data."""
        return self.blob_by_sha(hashlib.sha256(data).hexdigest())

    def live_blob(self, data):
        rows = [r for r in self.blob_by_content(data) if r[2] == "live"]
        assert len(rows) == 1, f"want exactly one live blob for this content, got {rows}"
        return rows[0]


def on_disk(gw):
    """{(provider, name): size} of every shard file of the gateway's store."""
    return shards.shard_sizes(gw.data_dir)


def blobs_on_disk(gw):
    """How many blobs have shards on disk: one shard each in local0."""
    return shards.count_on(gw.data_dir, "local0")


def written(gw, call):
    """Runs call(); returns (its result, the set of shard files it wrote:
    empty when the body was inline or deduped)."""
    return shards.shards_written(gw.data_dir, call)


def put_shards(gw, s3, bucket, key, data):
    """PutObject; returns the set of shard files it wrote."""
    return written(gw, lambda: s3.put_object(Bucket=bucket, Key=key, Body=data))[1]


def wait_until(pred, timeout=GC_DEADLINE, step=0.2):
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(step)


def wait_released(gw, meta, bid, files, what):
    """The blob bid must lose its row, its bytes and its shard files (files,
    as returned by put_shards(); empty for an inline blob) within GC_DEADLINE seconds."""
    def gone():
        return (not meta.row_exists(bid) and not meta.data_exists(bid)
                and not files & set(on_disk(gw)))
    took = wait_until(gone)
    assert took is not None, (
        f"{what}: blob {bid} not released within {GC_DEADLINE} s: row "
        f"{meta.q('SELECT state, refcount, dead_since FROM blobs WHERE bid = ?', bid)}, "
        f"blob_data row {meta.data_exists(bid)}, {len(files & set(on_disk(gw)))} of its {len(files)} shards")
    return took


def integrity_problems(gw, meta, after_grace=True):
    """Cross-checks of shard files, meta.db and `cairn scrub`; a list of problems."""
    problems = shards.store_problems(gw.data_dir, meta)
    rows = {bid: (loc, state, rc) for bid, loc, state, rc in
            meta.q("SELECT bid, locator, state, refcount FROM blobs")}
    if after_grace:
        for bid, (loc, state, rc) in rows.items():
            if state != "live":
                problems.append(f"blobs row {bid} ({loc}) still {state!r} after the grace period")
    refs = dict(meta.q(
        "SELECT bid, count(*) FROM (SELECT bid FROM extents UNION ALL SELECT bid FROM part_extents) "
        "GROUP BY bid"))
    for bid, (loc, state, rc) in rows.items():
        if state != "live":
            continue
        if loc.startswith("=") and not meta.data_exists(bid):
            problems.append(f"live inline blob {bid} has no blob_data row")
        if rc != refs.get(bid, 0):
            problems.append(f"live blob {bid} ({loc}): refcount {rc}, but {refs.get(bid, 0)} extents name it")
        if refs.get(bid, 0) == 0:
            problems.append(f"live blob {bid} ({loc}) is referenced by nothing (leak)")
    # every extent of every version and part names a live blob
    for kind, bid, state in meta.q(
            "SELECT 'version', e.bid, b.state FROM extents e LEFT JOIN blobs b ON b.bid = e.bid "
            "UNION ALL "
            "SELECT 'part', p.bid, b.state FROM part_extents p LEFT JOIN blobs b ON b.bid = p.bid"):
        if state != "live":
            problems.append(f"a {kind} extent names blob {bid} in state {state!r}")
    dangling = meta.q("SELECT d.bid FROM blob_data d LEFT JOIN blobs b ON b.bid = d.bid WHERE b.bid IS NULL")
    if dangling:
        problems.append(f"blob_data rows without a blobs row: {dangling[:10]}")
    # every live sealed blob has every shard, authentic (the counts above say
    # nothing else is on disk)
    live_sealed = len(meta.sealed(("live",)))
    sc = gw.scrub()
    if sc.rc != 0 or sc.bad != 0 or sc.blobs != live_sealed:
        problems.append(f"cairn scrub of {live_sealed} live sealed blobs (exit {sc.rc}): {sc.output.strip()}")
    return problems


def body(size, seed):
    return random.Random(seed).randbytes(size)


def read(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# ---- 1. dedupe ----------------------------------------------------------------

@pytest.mark.parametrize("size,count", [(2 * MiB, 100), (64 * MiB, 100)], ids=["2MiBx100", "64MiBx100"])
def test_identical_bodies_are_stored_once(gw, size, count):
    s3 = gw.client(pool=8)
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="dedupe")
    data = body(size, f"dedupe-{size}")
    assert on_disk(gw) == {}

    def put(i):
        r = s3.put_object(Bucket="dedupe", Key=f"copy/{i:03d}", Body=data)
        return r["ETag"]

    with ThreadPoolExecutor(8) as ex:
        etags = set(ex.map(put, range(count)))
    assert etags == {f'"{hashlib.md5(data).hexdigest()}"'}
    files = on_disk(gw)
    assert sorted(p for p, _ in files) == list(shards.LOCAL), \
        f"{count} PUTs of one {size}-byte body left these shard files: {sorted(files)}"
    bid, loc, state, rc = meta.live_blob(data)
    assert rc == count, f"the shared blob's refcount is {rc}, want {count}"
    _, _, layout, _ = meta.blob(bid)
    # the one blob's three shards: together they hold the body (2+1: 1.5 times it)
    assert set(files.values()) == {shards.shard_size(size, layout)} and 2 * min(files.values()) >= size

    def check(i):
        return read(s3, "dedupe", f"copy/{i:03d}") == data

    with ThreadPoolExecutor(8) as ex:
        bad = [i for i, ok in zip(range(count), ex.map(check, range(count))) if not ok]
    assert not bad, f"keys not byte-exact: {bad[:10]}"
    assert not integrity_problems(gw, meta)


def test_identical_inline_bodies_are_stored_once(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="dedupe-inline")
    data = body(10 * KiB, "inline")
    for i in range(50):
        s3.put_object(Bucket="dedupe-inline", Key=f"k{i}", Body=data)
    rows = meta.blob_by_content(data)
    assert len(rows) == 1, f"50 PUTs of one inline body left {len(rows)} blobs rows: {rows}"
    bid, loc, state, rc = rows[0]
    assert loc.startswith("=") and state == "live" and rc == 50, rows
    assert meta.q("SELECT count(*) FROM blob_data")[0][0] == 1
    assert on_disk(gw) == {}, "an inline body reached the providers"
    assert all(read(s3, "dedupe-inline", f"k{i}") == data for i in range(50))


# ---- 2. copies reference blobs ------------------------------------------------

def test_copy_object_and_upload_part_copy_move_no_bytes(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    small = body(30 * KiB, "small")
    mid = body(6 * MiB, "mid")
    big = body(24 * MiB, "big")
    s3.put_object(Bucket="src", Key="small", Body=small)
    s3.put_object(Bucket="src", Key="mid", Body=mid)
    s3.put_object(Bucket="src", Key="big", Body=big)
    before = on_disk(gw)
    inline_before = meta.q("SELECT count(*) FROM blob_data")[0][0]
    assert blobs_on_disk(gw) == 2 and len(before) == 6, sorted(before)

    # CopyObject: same bucket, other bucket, metadata replaced
    for name, data in (("small", small), ("mid", mid), ("big", big)):
        s3.copy_object(Bucket="src", Key=f"{name}.copy", CopySource={"Bucket": "src", "Key": name})
        s3.copy_object(Bucket="dst", Key=name, CopySource={"Bucket": "src", "Key": name})
        s3.copy_object(Bucket="dst", Key=f"{name}.meta", CopySource={"Bucket": "src", "Key": name},
                       MetadataDirective="REPLACE", Metadata={"x": "y"}, ContentType="text/plain")
        assert on_disk(gw) == before, f"CopyObject of {name} stored new shard files"
    assert meta.q("SELECT count(*) FROM blob_data")[0][0] == inline_before, "CopyObject duplicated inline bytes"

    # UploadPartCopy: whole objects, a byte range, an inline object as the last part
    up = s3.create_multipart_upload(Bucket="dst", Key="assembled")["UploadId"]
    parts = []
    for n, src, rng in ((1, "big", None), (2, "mid", None), (3, "big", "bytes=1048576-6291455"),
                        (4, "small", None)):
        kw = {"CopySourceRange": rng} if rng else {}
        r = s3.upload_part_copy(Bucket="dst", Key="assembled", UploadId=up, PartNumber=n,
                                CopySource={"Bucket": "src", "Key": src}, **kw)
        parts.append({"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]})
        assert on_disk(gw) == before, f"UploadPartCopy part {n} stored new shard files"
    s3.complete_multipart_upload(Bucket="dst", Key="assembled", UploadId=up, MultipartUpload={"Parts": parts})
    assert on_disk(gw) == before, "CompleteMultipartUpload of copied parts stored new shard files"
    assert meta.q("SELECT count(*) FROM blob_data")[0][0] == inline_before

    want = big + mid + big[MiB:6 * MiB] + small
    assert read(s3, "dst", "assembled") == want
    for name, data in (("small", small), ("mid", mid), ("big", big)):
        assert read(s3, "src", f"{name}.copy") == data
        assert read(s3, "dst", name) == data
        assert read(s3, "dst", f"{name}.meta") == data
    # big: src/big, src/big.copy, dst/big, dst/big.meta, and two extents of "assembled"
    assert meta.live_blob(big)[3] == 6
    assert not integrity_problems(gw, meta)

    # The originals go; the copies keep the blobs alive through several GC passes.
    for name in ("small", "mid", "big"):
        s3.delete_object(Bucket="src", Key=name)
    time.sleep(GC_SETTLE)
    assert on_disk(gw) == before, "a blob still referenced by copies lost shard files"
    assert read(s3, "dst", "assembled") == want
    for name, data in (("small", small), ("mid", mid), ("big", big)):
        assert read(s3, "dst", name) == data
    assert not integrity_problems(gw, meta)


# ---- 3. release ---------------------------------------------------------------

def test_unversioned_overwrite_releases_old_blob(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="rel")
    for size in (1 * MiB, 20 * KiB):
        old, new = body(size, f"old{size}"), body(size, f"new{size}")
        files = put_shards(gw, s3, "rel", f"k{size}", old)
        assert len(files) == (3 if size > 64 * KiB else 0), sorted(files)
        bid, loc, _, _ = meta.live_blob(old)
        s3.put_object(Bucket="rel", Key=f"k{size}", Body=new)
        took = wait_released(gw, meta, bid, files, f"overwrite of a {size}-byte object")
        print(f"{size}-byte overwritten blob released after {took:.1f} s")
        assert read(s3, "rel", f"k{size}") == new
        assert meta.live_blob(new)[3] == 1
    assert not integrity_problems(gw, meta)


def test_delete_object_releases_blob(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="rel")
    keep = body(300 * KiB, "keep")
    kept = put_shards(gw, s3, "rel", "keep", keep)
    gone = []
    for size in (3 * MiB, 64 * KiB, 64 * KiB + 1, 1):
        data = body(size, f"del{size}")
        files = put_shards(gw, s3, "rel", f"d{size}", data)
        bid, loc, _, _ = meta.live_blob(data)
        assert loc.startswith("=") == (size <= 64 * KiB), f"{size} bytes stored as {loc}"
        assert len(files) == (0 if size <= 64 * KiB else 3), f"{size} bytes stored as {sorted(files)}"
        s3.delete_object(Bucket="rel", Key=f"d{size}")
        gone.append((bid, files, size))
    for bid, files, size in gone:
        wait_released(gw, meta, bid, files, f"DeleteObject of a {size}-byte object")
    # DeleteObjects (batch) too
    batch = [body(200 * KiB, f"batch{i}") for i in range(3)]
    ids = []
    for i, b in enumerate(batch):
        files = put_shards(gw, s3, "rel", f"b{i}", b)
        ids.append((meta.live_blob(b)[0], files))
    s3.delete_objects(Bucket="rel", Delete={"Objects": [{"Key": f"b{i}"} for i in range(3)]})
    for bid, files in ids:
        wait_released(gw, meta, bid, files, "DeleteObjects")
    assert read(s3, "rel", "keep") == keep
    assert len(kept) == 3 and set(on_disk(gw)) == kept
    assert not integrity_problems(gw, meta)


def test_shared_blob_lives_until_last_reference(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="share")
    blobs = {}
    for size in (2 * MiB, 5 * KiB):
        data = body(size, f"shared{size}")
        files = set()
        for k in ("a", "b", "c"):
            files |= put_shards(gw, s3, "share", f"{k}{size}", data)
        assert len(files) == (3 if size > 64 * KiB else 0), "identical bodies were stored more than once"
        s3.copy_object(Bucket="share", Key=f"cp{size}", CopySource={"Bucket": "share", "Key": f"a{size}"})
        bid, loc, _, rc = meta.live_blob(data)
        assert rc == 4
        s3.delete_object(Bucket="share", Key=f"a{size}")
        s3.put_object(Bucket="share", Key=f"b{size}", Body=b"other")   # overwrite
        s3.delete_object(Bucket="share", Key=f"cp{size}")
        blobs[size] = (data, bid, loc, files)
    time.sleep(GC_SETTLE)
    for size, (data, bid, loc, files) in blobs.items():
        assert meta.live_blob(data)[:2] == (bid, loc), "the blob changed while still referenced"
        assert meta.live_blob(data)[3] == 1
        assert files <= set(on_disk(gw)), "a blob with one reference left lost shard files"
        assert read(s3, "share", f"c{size}") == data
        s3.delete_object(Bucket="share", Key=f"c{size}")
    for size, (data, bid, loc, files) in blobs.items():
        wait_released(gw, meta, bid, files, f"last reference to a shared {size}-byte blob")
    assert not integrity_problems(gw, meta)


def test_multipart_abort_and_unused_parts_release_blobs(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="mpu")
    # abort: every part's blob goes
    up = s3.create_multipart_upload(Bucket="mpu", Key="aborted")["UploadId"]
    p = [body(5 * MiB, "ab1"), body(700 * KiB, "ab2"), body(10 * KiB, "ab3")]

    def part(key, up, n, data):
        """UploadPart; returns (ETag, (bid, shard files))."""
        r, files = written(gw, lambda: s3.upload_part(Bucket="mpu", Key=key, UploadId=up, PartNumber=n, Body=data))
        return r["ETag"], (meta.live_blob(data)[0], files)

    ids = [part("aborted", up, n, data)[1] for n, data in enumerate(p, 1)]
    before = on_disk(gw)
    assert blobs_on_disk(gw) == 2 and set(before) == ids[0][1] | ids[1][1]
    time.sleep(GC_SETTLE)  # parts of an upload in progress are referenced: never collected
    assert all(meta.row_exists(bid) for bid, _ in ids), "GC collected a part of an upload in progress"
    assert on_disk(gw) == before, "GC removed shards of a part of an upload in progress"
    s3.abort_multipart_upload(Bucket="mpu", Key="aborted", UploadId=up)
    for bid, files in ids:
        wait_released(gw, meta, bid, files, "AbortMultipartUpload")

    # a part uploaded twice: the replaced part's blob goes; a part left out of
    # CompleteMultipartUpload goes; the parts used stay until the object is deleted
    up = s3.create_multipart_upload(Bucket="mpu", Key="done")["UploadId"]
    first = body(5 * MiB, "first")
    second = body(5 * MiB, "second")
    tail = body(300 * KiB, "tail")
    unused = body(400 * KiB, "unused")
    _, replaced = part("done", up, 1, first)
    e1, used1 = part("done", up, 1, second)
    e2, used2 = part("done", up, 2, tail)
    _, left_out = part("done", up, 3, unused)
    wait_released(gw, meta, *replaced, "UploadPart replacing a part")
    s3.complete_multipart_upload(Bucket="mpu", Key="done", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    wait_released(gw, meta, *left_out, "a part left out of CompleteMultipartUpload")
    assert read(s3, "mpu", "done") == second + tail
    assert set(on_disk(gw)) == used1[1] | used2[1] and len(on_disk(gw)) == 6
    assert not integrity_problems(gw, meta)
    s3.delete_object(Bucket="mpu", Key="done")
    for bid, files in (used1, used2):
        wait_released(gw, meta, bid, files, "DeleteObject of a completed multipart object")
    assert on_disk(gw) == {}
    assert meta.q("SELECT count(*) FROM blobs")[0][0] == 0
    assert not integrity_problems(gw, meta)


def test_versioned_bucket_releases_only_deleted_versions(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="ver")
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    v1, v2 = body(1 * MiB, "v1"), body(2 * KiB, "v2")
    r, files1 = written(gw, lambda: s3.put_object(Bucket="ver", Key="k", Body=v1))
    id1 = r["VersionId"]
    id2 = s3.put_object(Bucket="ver", Key="k", Body=v2)["VersionId"]
    s3.delete_object(Bucket="ver", Key="k")  # a delete marker: nothing released
    time.sleep(GC_SETTLE)
    b1, b2 = meta.live_blob(v1), meta.live_blob(v2)
    assert len(files1) == 3 and files1 <= set(on_disk(gw)), "an overwritten noncurrent version lost shards"
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id1)["Body"].read() == v1
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id2)["Body"].read() == v2
    s3.delete_object(Bucket="ver", Key="k", VersionId=id1)
    wait_released(gw, meta, b1[0], files1, "DeleteObject of a version")
    time.sleep(GC_SETTLE)
    assert meta.row_exists(b2[0]) and meta.data_exists(b2[0])
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id2)["Body"].read() == v2
    s3.delete_object(Bucket="ver", Key="k", VersionId=id2)
    wait_released(gw, meta, b2[0], set(), "DeleteObject of the last version")
    assert not integrity_problems(gw, meta)


# ---- 4. crash-safe GC under concurrency ----------------------------------------

KEYS = [f"k{i}" for i in range(6)]
BUCKET = "gcrace"
POOL_SIZES = [100, 4 * KiB, 64 * KiB, 64 * KiB + 1, 200 * KiB, 512 * KiB, 1 * MiB, 3 * MiB]
CRASH_ROUNDS = 3      # the first kill and two repeats
LOAD_SECONDS = 3.0
WORKERS = 6
ANY = "*any-known-content*"   # effect of an unacknowledged copy: unknown content


class History:
    """Every mutating operation on each key: (start, end, acked, effect), where
    effect is a SHA-256 hex digest, None for 'absent', or ANY."""

    def __init__(self, pool, previous=None):
        self.lock = threading.Lock()
        self.ops = {k: [] for k in KEYS}
        # ETag -> sha256 and sha256 of every body ever sent, earlier rounds included
        self.by_md5 = dict(previous.by_md5) if previous else {}
        self.known = set(previous.known) if previous else set()
        self.errors = []      # gateway errors that are not the kill
        self.corrupt = []     # reads that returned unknown bytes
        for b in pool:
            self.learn(b)

    def learn(self, data):
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.by_md5[f'"{hashlib.md5(data).hexdigest()}"'] = sha
            self.known.add(sha)
        return sha

    def record(self, key, start, end, acked, effect):
        with self.lock:
            self.ops[key].append((start, end, acked, effect))

    def candidates(self, key, initial):
        """Contents the key may hold: the effect of any operation that no
        acknowledged operation started strictly after it ended; the initial
        content only if no acknowledged operation touched the key."""
        ops = self.ops[key]
        acked_starts = [s for s, _, a, _ in ops if a]
        out = set()
        if not acked_starts:
            out.add(initial)
        for s, e, a, eff in ops:
            if not any(s2 > e for s2 in acked_starts):
                out.add(eff)
        return out


def load_worker(gw, hist, stop, wid, seed, pool, counts):
    s3 = gw.client(pool=2)
    rng = random.Random(seed)
    while not stop.is_set():
        key = rng.choice(KEYS)
        r = rng.random()
        t0 = time.monotonic()
        try:
            if r < 0.45:
                data = rng.choice(pool) if rng.random() < 0.7 else os.urandom(rng.choice(POOL_SIZES))
                sha = hist.learn(data)
                try:
                    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
                except Exception:
                    hist.record(key, t0, time.monotonic(), False, sha)
                    raise
                hist.record(key, t0, time.monotonic(), True, sha)
            elif r < 0.70:
                src = rng.choice([k for k in KEYS if k != key])
                try:
                    res = s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": src})
                except ClientError as e:
                    if e.response["Error"]["Code"] == "NoSuchKey":   # source absent: no effect
                        counts["nosrc"] += 1
                        continue
                    hist.record(key, t0, time.monotonic(), False, ANY)
                    raise
                except Exception:
                    hist.record(key, t0, time.monotonic(), False, ANY)
                    raise
                etag = res["CopyObjectResult"]["ETag"]
                sha = hist.by_md5.get(etag)
                if sha is None:
                    hist.errors.append(f"CopyObject {src} -> {key} answered ETag {etag} of no content ever sent")
                    sha = ANY
                hist.record(key, t0, time.monotonic(), True, sha)
            elif r < 0.85:
                try:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                except Exception:
                    hist.record(key, t0, time.monotonic(), False, None)
                    raise
                hist.record(key, t0, time.monotonic(), True, None)
            else:
                try:
                    got = read(s3, BUCKET, key)
                except ClientError as e:
                    if e.response["Error"]["Code"] == "NoSuchKey":
                        continue
                    raise
                if hashlib.sha256(got).hexdigest() not in hist.known:
                    hist.corrupt.append(f"GET {key} during the load returned {len(got)} bytes of unknown content")
            counts["ok"] += 1
        except ClientError as e:
            st = e.response["ResponseMetadata"].get("HTTPStatusCode", 0)
            counts["err"] += 1
            if st >= 500 and e.response["Error"]["Code"] != "SlowDown":
                hist.errors.append(f"{time.monotonic():.2f} {key}: HTTP {st} {e.response['Error']}")
            time.sleep(0.02)
        except Exception:   # the kill: connection reset or refused
            counts["conn"] += 1
            time.sleep(0.05)


def dead_sampler(meta, stop, seen):
    """Collects the bids of dead blobs seen during the load (proof that GC had
    work to do while the clients ran)."""
    while not stop.is_set():
        try:
            seen.update(b for (b,) in meta.q("SELECT bid FROM blobs WHERE state = 'dead'"))
        except sqlite3.Error:
            pass   # the gateway is restarting
        time.sleep(0.1)


def current_state(s3, keys):
    out = {}
    for k in keys:
        try:
            out[k] = hashlib.sha256(read(s3, BUCKET, k)).hexdigest()
        except ClientError as e:
            if e.response["Error"]["Code"] != "NoSuchKey":
                raise
            out[k] = None
    return out


def test_gc_is_crash_safe_under_concurrent_overwrite_copy_delete(workdir):
    gw = Gateway(workdir, "gc", GC_ARGS)   # started below, killed and restarted
    meta = Meta(gw.data_dir)
    pool = [body(size, f"pool-{size}-{v}") for size in POOL_SIZES for v in range(2)]
    state = {k: None for k in KEYS}
    hist = None
    try:
        gw.start()
        gw.client().create_bucket(Bucket=BUCKET)
        for rnd in range(CRASH_ROUNDS):
            hist = History(pool, hist)
            stop = threading.Event()
            counts = [{"ok": 0, "err": 0, "conn": 0, "nosrc": 0} for _ in range(WORKERS)]
            threads = [threading.Thread(target=load_worker, daemon=True,
                                        args=(gw, hist, stop, w, f"{rnd}-{w}", pool, counts[w]))
                       for w in range(WORKERS)]
            dead_seen = set()
            threads.append(threading.Thread(target=dead_sampler, args=(meta, stop, dead_seen), daemon=True))
            t_start = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(random.uniform(1.0, 2.0))
            killed_at = time.monotonic() - t_start
            gw.kill(signal.SIGKILL)
            gw.start()   # the load goes on against the restarted gateway
            time.sleep(max(0.5, LOAD_SECONDS - (time.monotonic() - t_start)))
            stop.set()
            for t in threads:
                t.join(timeout=60)
                assert not t.is_alive(), "a client thread hung"
            tot = {k: sum(c[k] for c in counts) for k in counts[0]}
            n_ops = sum(len(v) for v in hist.ops.values())
            print(f"round {rnd}: killed at {killed_at:.1f} s; {n_ops} mutations, {tot}, "
                  f"{len(dead_seen)} dead blobs seen during the load")
            assert dead_seen, f"round {rnd}: no blob died during the load (GC had nothing to do)"
            assert tot["ok"] > 20, f"round {rnd}: too little load got through: {tot}: {gw.log_tail()}"
            assert tot["conn"] > 0, f"round {rnd}: no request was cut by the kill (test proves nothing)"

            time.sleep(GC_SETTLE)   # a few GC passes after the load
            s3 = gw.client()
            now = current_state(s3, KEYS)
            problems = list(hist.errors) + list(hist.corrupt)
            for k in KEYS:
                cands = hist.candidates(k, state[k])
                if now[k] in cands or (ANY in cands and now[k] is not None and now[k] in hist.known):
                    continue
                problems.append(
                    f"{k}: holds {now[k] and now[k][:12]}, not among the contents acknowledged last or "
                    f"concurrently ({sorted(str(c)[:12] for c in cands)}); "
                    f"{len(hist.ops[k])} operations on it")
            problems += integrity_problems(gw, meta)
            listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
            present = {k for k, v in now.items() if v is not None}
            if listed != present:
                problems.append(f"listing {sorted(listed)} != readable keys {sorted(present)}")
            assert not problems, f"round {rnd}:\n" + "\n".join(problems[:40])
            state = now

        # Everything goes: nothing may remain on the providers or in blobs.
        s3 = gw.client()
        for k in KEYS:
            s3.delete_object(Bucket=BUCKET, Key=k)
        took = wait_until(lambda: not on_disk(gw) and meta.q("SELECT count(*) FROM blobs")[0][0] == 0)
        assert took is not None, (
            f"after deleting every key: shard files {sorted(on_disk(gw))[:10]}, "
            f"blobs {meta.q('SELECT bid, locator, state, refcount FROM blobs')[:10]}")
    finally:
        gw.stop()
