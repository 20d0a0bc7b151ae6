"""Content-addressed blobs and garbage collection (issue 4, "Content-addressed blobs").

This suite starts its OWN gateways (binary from $CAIRN_BIN, see test_crash.Gateway)
on fresh temporary data directories, each with `--set gc.interval=1 --set
gc.grace=1`, so a dead blob is collected within about two seconds.

What it looks at besides S3 answers (obj/blob.c, obj/gc.c, obj/schema.c):
- provider files: data_dir/blobs/data/<ab>/<cd>/<locator> (backends/posix.c),
  everything under data_dir/blobs except tmp/;
- data_dir/meta.db, opened read-only with sqlite3: blobs (state pending/live/dead,
  refcount), blob_data (bytes of inline blobs, locator '=...'), extents and
  part_extents (which blobs versions and parts reference), versions.

Bodies of at most 64 KiB (storage.inline_max default) are inline, larger ones
are provider files. Everything is measured by counting files and rows, never by
timing.

"A hundred PUTs of the same 64 MiB body" is run as the issue says (6.4 GiB
through HTTP), and again with 2 MiB bodies.
"""

import hashlib
import os
import random
import signal
import sqlite3
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from test_crash import ACCESS_KEY, SECRET_KEY, MiB, Gateway, workdir  # noqa: F401  (workdir is a fixture)

KiB = 1024
GC_ARGS = ["--set", "gc.interval=1", "--set", "gc.grace=1"]
# gc.interval + gc.grace is 2 s; allow for a slow machine before calling a blob leaked.
GC_DEADLINE = 10.0
# Long enough for at least two complete GC passes after a blob became dead.
GC_SETTLE = 3.5


# ---- gateway with fast GC ---------------------------------------------------

class GcGateway(Gateway):
    """test_crash.Gateway, started with GC_ARGS appended to its command line
    (through a two-line wrapper that execs the real binary, so pid and signals
    are the gateway's own)."""

    def __init__(self, workdir):
        super().__init__(os.path.join(workdir, "data"), os.path.join(workdir, "gateway.log"))
        real = os.path.abspath(self.bin)
        wrapper = os.path.join(workdir, "cairn-gc")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec "%s" "$@" %s\n' % (real, " ".join(GC_ARGS)))
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
        self.bin = wrapper

    def client(self, pool=4):
        return make_client(endpoint=self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                           max_pool_connections=pool)


@pytest.fixture
def gw(workdir):  # noqa: F811
    g = GcGateway(workdir)
    g.start()
    yield g
    g.stop()


# ---- looking at the data directory -------------------------------------------

def provider_files(data_dir):
    """{locator: path} of every provider file (data_dir/blobs, tmp/ excluded)."""
    root = os.path.join(data_dir, "blobs")
    out = {}
    for d, dirs, files in os.walk(root):
        if d == root and "tmp" in dirs:
            dirs.remove("tmp")
        for f in files:
            out[f.replace("~", "/")] = os.path.join(d, f)
    return out


class Meta:
    """Read-only view of data_dir/meta.db (safe while the gateway runs: WAL)."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, "meta.db")

    def q(self, sql, *args):
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def blob_by_sha(self, data):
        """Rows (bid, locator, state, refcount) of blobs whose content is data."""
        return self.q("SELECT bid, locator, state, refcount FROM blobs WHERE sha256 = ?",
                      hashlib.sha256(data).hexdigest())

    def live_blob(self, data):
        rows = [r for r in self.blob_by_sha(data) if r[2] == "live"]
        assert len(rows) == 1, f"want exactly one live blob for this content, got {rows}"
        return rows[0]

    def row_exists(self, bid):
        return bool(self.q("SELECT 1 FROM blobs WHERE bid = ?", bid))

    def data_exists(self, bid):
        return bool(self.q("SELECT 1 FROM blob_data WHERE bid = ?", bid))

    def states(self):
        return dict(self.q("SELECT state, count(*) FROM blobs GROUP BY state"))


def wait_until(pred, timeout=GC_DEADLINE, step=0.2):
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(step)


def wait_released(gw, meta, bid, locator, what):
    """The blob (bid, locator) must lose its row, its bytes and its file within
    GC_DEADLINE seconds."""
    def gone():
        return (not meta.row_exists(bid) and not meta.data_exists(bid)
                and locator not in provider_files(gw.data_dir))
    took = wait_until(gone)
    assert took is not None, (
        f"{what}: blob {locator} not released within {GC_DEADLINE} s: row "
        f"{meta.q('SELECT state, refcount, dead_since FROM blobs WHERE bid = ?', bid)}, "
        f"blob_data row {meta.data_exists(bid)}, file {locator in provider_files(gw.data_dir)}")
    return took


def integrity_problems(gw, meta, after_grace=True):
    """Cross-checks of provider files and meta.db; a list of problems."""
    problems = []
    files = provider_files(gw.data_dir)
    rows = {loc: (bid, state, rc) for bid, loc, state, rc in
            meta.q("SELECT bid, locator, state, refcount FROM blobs")}
    for loc in files:
        if loc not in rows:
            problems.append(f"orphan provider file {loc}: no blobs row names it")
        elif rows[loc][1] != "live":
            problems.append(f"provider file {loc} has a blobs row in state {rows[loc][1]!r}")
    if after_grace:
        for loc, (bid, state, rc) in rows.items():
            if state != "live":
                problems.append(f"blobs row {bid} ({loc}) still {state!r} after the grace period")
    refs = dict(meta.q(
        "SELECT bid, count(*) FROM (SELECT bid FROM extents UNION ALL SELECT bid FROM part_extents) "
        "GROUP BY bid"))
    for loc, (bid, state, rc) in rows.items():
        if state != "live":
            continue
        if loc.startswith("="):
            if not meta.data_exists(bid):
                problems.append(f"live inline blob {bid} has no blob_data row")
        elif loc not in files:
            problems.append(f"live blob {bid} ({loc}) has no provider file")
        if rc != refs.get(bid, 0):
            problems.append(f"live blob {bid} ({loc}): refcount {rc}, but {refs.get(bid, 0)} extents name it")
        if refs.get(bid, 0) == 0:
            problems.append(f"live blob {bid} ({loc}) is referenced by nothing (leak)")
    # every extent of every version and part names a live blob with its bytes
    for kind, bid, state, loc in meta.q(
            "SELECT 'version', e.bid, b.state, b.locator FROM extents e LEFT JOIN blobs b ON b.bid = e.bid "
            "UNION ALL "
            "SELECT 'part', p.bid, b.state, b.locator FROM part_extents p LEFT JOIN blobs b ON b.bid = p.bid"):
        if state != "live":
            problems.append(f"a {kind} extent names blob {bid} in state {state!r}")
        elif not loc.startswith("=") and loc not in files:
            problems.append(f"a {kind} extent names blob {bid} whose file {loc} is missing")
    dangling = meta.q("SELECT d.bid FROM blob_data d LEFT JOIN blobs b ON b.bid = d.bid WHERE b.bid IS NULL")
    if dangling:
        problems.append(f"blob_data rows without a blobs row: {dangling[:10]}")
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
    assert provider_files(gw.data_dir) == {}

    def put(i):
        r = s3.put_object(Bucket="dedupe", Key=f"copy/{i:03d}", Body=data)
        return r["ETag"]

    with ThreadPoolExecutor(8) as ex:
        etags = set(ex.map(put, range(count)))
    assert etags == {f'"{hashlib.md5(data).hexdigest()}"'}
    files = provider_files(gw.data_dir)
    assert len(files) == 1, f"{count} PUTs of one {size}-byte body left {len(files)} provider files"
    bid, loc, state, rc = meta.live_blob(data)
    assert list(files) == [loc]
    assert rc == count, f"the shared blob's refcount is {rc}, want {count}"
    assert os.path.getsize(files[loc]) >= size  # the one file holds the body (sealed or not)

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
    rows = meta.blob_by_sha(data)
    assert len(rows) == 1, f"50 PUTs of one inline body left {len(rows)} blobs rows: {rows}"
    bid, loc, state, rc = rows[0]
    assert loc.startswith("=") and state == "live" and rc == 50, rows
    assert meta.q("SELECT count(*) FROM blob_data")[0][0] == 1
    assert provider_files(gw.data_dir) == {}, "an inline body reached the provider"
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
    before = provider_files(gw.data_dir)
    inline_before = meta.q("SELECT count(*) FROM blob_data")[0][0]
    assert len(before) == 2

    # CopyObject: same bucket, other bucket, metadata replaced
    for name, data in (("small", small), ("mid", mid), ("big", big)):
        s3.copy_object(Bucket="src", Key=f"{name}.copy", CopySource={"Bucket": "src", "Key": name})
        s3.copy_object(Bucket="dst", Key=name, CopySource={"Bucket": "src", "Key": name})
        s3.copy_object(Bucket="dst", Key=f"{name}.meta", CopySource={"Bucket": "src", "Key": name},
                       MetadataDirective="REPLACE", Metadata={"x": "y"}, ContentType="text/plain")
        assert provider_files(gw.data_dir) == before, f"CopyObject of {name} stored new provider files"
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
        assert provider_files(gw.data_dir) == before, f"UploadPartCopy part {n} stored new provider files"
    s3.complete_multipart_upload(Bucket="dst", Key="assembled", UploadId=up, MultipartUpload={"Parts": parts})
    assert provider_files(gw.data_dir) == before, "CompleteMultipartUpload of copied parts stored new files"
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
    assert provider_files(gw.data_dir) == before, "a blob still referenced by copies was removed"
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
        s3.put_object(Bucket="rel", Key=f"k{size}", Body=old)
        bid, loc, _, _ = meta.live_blob(old)
        s3.put_object(Bucket="rel", Key=f"k{size}", Body=new)
        took = wait_released(gw, meta, bid, loc, f"overwrite of a {size}-byte object")
        print(f"{size}-byte overwritten blob released after {took:.1f} s")
        assert read(s3, "rel", f"k{size}") == new
        assert meta.live_blob(new)[3] == 1
    assert not integrity_problems(gw, meta)


def test_delete_object_releases_blob(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="rel")
    keep = body(300 * KiB, "keep")
    s3.put_object(Bucket="rel", Key="keep", Body=keep)
    gone = []
    for size in (3 * MiB, 64 * KiB, 64 * KiB + 1, 1):
        data = body(size, f"del{size}")
        s3.put_object(Bucket="rel", Key=f"d{size}", Body=data)
        bid, loc, _, _ = meta.live_blob(data)
        assert loc.startswith("=") == (size <= 64 * KiB), f"{size} bytes stored as {loc}"
        s3.delete_object(Bucket="rel", Key=f"d{size}")
        gone.append((bid, loc, size))
    for bid, loc, size in gone:
        wait_released(gw, meta, bid, loc, f"DeleteObject of a {size}-byte object")
    # DeleteObjects (batch) too
    batch = [body(200 * KiB, f"batch{i}") for i in range(3)]
    for i, b in enumerate(batch):
        s3.put_object(Bucket="rel", Key=f"b{i}", Body=b)
    ids = [meta.live_blob(b)[:2] for b in batch]
    s3.delete_objects(Bucket="rel", Delete={"Objects": [{"Key": f"b{i}"} for i in range(3)]})
    for bid, loc in ids:
        wait_released(gw, meta, bid, loc, "DeleteObjects")
    assert read(s3, "rel", "keep") == keep
    assert list(provider_files(gw.data_dir)) == [meta.live_blob(keep)[1]]
    assert not integrity_problems(gw, meta)


def test_shared_blob_lives_until_last_reference(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="share")
    blobs = {}
    for size in (2 * MiB, 5 * KiB):
        data = body(size, f"shared{size}")
        for k in ("a", "b", "c"):
            s3.put_object(Bucket="share", Key=f"{k}{size}", Body=data)
        s3.copy_object(Bucket="share", Key=f"cp{size}", CopySource={"Bucket": "share", "Key": f"a{size}"})
        bid, loc, _, rc = meta.live_blob(data)
        assert rc == 4
        s3.delete_object(Bucket="share", Key=f"a{size}")
        s3.put_object(Bucket="share", Key=f"b{size}", Body=b"other")   # overwrite
        s3.delete_object(Bucket="share", Key=f"cp{size}")
        blobs[size] = (data, bid, loc)
    time.sleep(GC_SETTLE)
    for size, (data, bid, loc) in blobs.items():
        assert meta.live_blob(data)[:2] == (bid, loc), "the blob changed while still referenced"
        assert meta.live_blob(data)[3] == 1
        if not loc.startswith("="):
            assert loc in provider_files(gw.data_dir), "a blob with one reference left lost its file"
        assert read(s3, "share", f"c{size}") == data
        s3.delete_object(Bucket="share", Key=f"c{size}")
    for size, (data, bid, loc) in blobs.items():
        wait_released(gw, meta, bid, loc, f"last reference to a shared {size}-byte blob")
    assert not integrity_problems(gw, meta)


def test_multipart_abort_and_unused_parts_release_blobs(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="mpu")
    # abort: every part's blob goes
    up = s3.create_multipart_upload(Bucket="mpu", Key="aborted")["UploadId"]
    p = [body(5 * MiB, "ab1"), body(700 * KiB, "ab2"), body(10 * KiB, "ab3")]
    for n, data in enumerate(p, 1):
        s3.upload_part(Bucket="mpu", Key="aborted", UploadId=up, PartNumber=n, Body=data)
    ids = [meta.live_blob(d)[:2] for d in p]
    assert len(provider_files(gw.data_dir)) == 2
    time.sleep(GC_SETTLE)  # parts of an upload in progress are referenced: never collected
    assert all(meta.row_exists(bid) for bid, _ in ids), "GC collected a part of an upload in progress"
    assert len(provider_files(gw.data_dir)) == 2
    s3.abort_multipart_upload(Bucket="mpu", Key="aborted", UploadId=up)
    for bid, loc in ids:
        wait_released(gw, meta, bid, loc, "AbortMultipartUpload")

    # a part uploaded twice: the replaced part's blob goes; a part left out of
    # CompleteMultipartUpload goes; the parts used stay until the object is deleted
    up = s3.create_multipart_upload(Bucket="mpu", Key="done")["UploadId"]
    first = body(5 * MiB, "first")
    second = body(5 * MiB, "second")
    tail = body(300 * KiB, "tail")
    unused = body(400 * KiB, "unused")
    s3.upload_part(Bucket="mpu", Key="done", UploadId=up, PartNumber=1, Body=first)
    replaced = meta.live_blob(first)[:2]
    e1 = s3.upload_part(Bucket="mpu", Key="done", UploadId=up, PartNumber=1, Body=second)["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="done", UploadId=up, PartNumber=2, Body=tail)["ETag"]
    s3.upload_part(Bucket="mpu", Key="done", UploadId=up, PartNumber=3, Body=unused)
    wait_released(gw, meta, *replaced, "UploadPart replacing a part")
    left_out = meta.live_blob(unused)[:2]
    s3.complete_multipart_upload(Bucket="mpu", Key="done", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    wait_released(gw, meta, *left_out, "a part left out of CompleteMultipartUpload")
    assert read(s3, "mpu", "done") == second + tail
    used = [meta.live_blob(d)[:2] for d in (second, tail)]
    assert sorted(provider_files(gw.data_dir)) == sorted(loc for _, loc in used)
    assert not integrity_problems(gw, meta)
    s3.delete_object(Bucket="mpu", Key="done")
    for bid, loc in used:
        wait_released(gw, meta, bid, loc, "DeleteObject of a completed multipart object")
    assert provider_files(gw.data_dir) == {}
    assert meta.q("SELECT count(*) FROM blobs")[0][0] == 0
    assert not integrity_problems(gw, meta)


def test_versioned_bucket_releases_only_deleted_versions(gw):
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    s3.create_bucket(Bucket="ver")
    s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    v1, v2 = body(1 * MiB, "v1"), body(2 * KiB, "v2")
    id1 = s3.put_object(Bucket="ver", Key="k", Body=v1)["VersionId"]
    id2 = s3.put_object(Bucket="ver", Key="k", Body=v2)["VersionId"]
    s3.delete_object(Bucket="ver", Key="k")  # a delete marker: nothing released
    time.sleep(GC_SETTLE)
    b1, b2 = meta.live_blob(v1), meta.live_blob(v2)
    assert b1[1] in provider_files(gw.data_dir), "an overwritten noncurrent version lost its file"
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id1)["Body"].read() == v1
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id2)["Body"].read() == v2
    s3.delete_object(Bucket="ver", Key="k", VersionId=id1)
    wait_released(gw, meta, b1[0], b1[1], "DeleteObject of a version")
    time.sleep(GC_SETTLE)
    assert meta.row_exists(b2[0]) and meta.data_exists(b2[0])
    assert s3.get_object(Bucket="ver", Key="k", VersionId=id2)["Body"].read() == v2
    s3.delete_object(Bucket="ver", Key="k", VersionId=id2)
    wait_released(gw, meta, b2[0], b2[1], "DeleteObject of the last version")
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


def test_gc_is_crash_safe_under_concurrent_overwrite_copy_delete(workdir):  # noqa: F811
    gw = GcGateway(workdir)
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

        # Everything goes: nothing may remain on the provider or in blobs.
        s3 = gw.client()
        for k in KEYS:
            s3.delete_object(Bucket=BUCKET, Key=k)
        took = wait_until(lambda: not provider_files(gw.data_dir)
                          and meta.q("SELECT count(*) FROM blobs")[0][0] == 0)
        assert took is not None, (
            f"after deleting every key: files {sorted(provider_files(gw.data_dir))[:10]}, "
            f"blobs {meta.q('SELECT bid, locator, state, refcount FROM blobs')[:10]}")
    finally:
        gw.stop()
