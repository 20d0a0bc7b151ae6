"""Sealed, erasure-coded blobs seen from outside the gateway (seal/, obj/repair.c,
obj/rotate.c, gateway/store_cmd.c): what lands on the providers, reads through
faulty and missing shards, `cairn scrub`, background repair, storage classes,
an S3 provider that goes away, `cairn key rotate`, and a crash in the middle of
a sealed PUT.

Every test starts its OWN gateway (gateway.Gateway through the gateways
fixture: free port, fresh data directory) with a configuration file written
here (JSON, which the YAML loader reads). Posix providers live in
data_dir/<provider id>; shards.py finds their shard files (one per blob and
provider, opaque names) and reads meta.db. Unless a test is about background
repair it runs with gc.interval=3600, so that nothing but `cairn scrub`
repairs a shard while it looks.

A blob's shards are the files its PUT added (bodies are unique random bytes;
identical bodies would be deduplicated). In the embedded default placement
(RS 2+1 over local0, local1, local2) shard i is on local<i>: shards 0 and 1
hold data, shard 2 parity. A gateway that has read nothing yet reads a
segment from the data shards first (seal/vault.c, seal__rank), which makes a
fault in shard 0 certain to be met by the first GET.

The remote-provider tests run s3rver and azurite (tests/e2e/node_modules, npm ci) under node;
a missing node or s3rver fails it, never skips it.
"""

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections import namedtuple
from email.utils import formatdate

import pytest
from botocore.exceptions import BotoCoreError, ClientError

import shards
from gateway import HERE, KiB, MiB, free_port, need
from shards import LOCAL, Meta, read_file, write_file

BUCKET = "sealed-bucket-e2e"
# 64 bytes that the plaintext carries and no shard may show
MARKER = b"<<cairn-e2e plaintext marker: must never reach a provider 0123>>"
assert len(MARKER) == 64
QUIET = {"gc": {"interval": 3600}}   # no background GC or repair during a test


# ---- set-up -------------------------------------------------------------------

def body(size, seed):
    """size random bytes (seeded), with MARKER at the start, middle and end."""
    b = bytearray(random.Random(seed).randbytes(size))
    for off in (0, size // 2, size - len(MARKER)):
        b[off:off + len(MARKER)] = MARKER
    return bytes(b)


def posix(*ids):
    return {p: None for p in ids}


def start(gateways, providers=None, placements=None, settings=QUIET, name="gw"):
    """A started gateway with a configuration file: providers {id: None (posix
    in data_dir/<id>) or {driver options}}, placements {class: {scheme,
    providers, ...}}, settings (other sections). Neither providers nor
    placements: the embedded default (RS 2+1 over data_dir/local0..2)."""
    gw = gateways(name, start=False)
    cfg = json.loads(json.dumps(settings))
    if providers:
        cfg["providers"] = {p: opts or {"driver": "posix", "path": os.path.join(gw.data_dir, p)}
                            for p, opts in providers.items()}
    if placements:
        cfg["placements"] = placements
    path = os.path.join(gw.dir, "cairn.yaml")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    gw.args = ["-c", path]
    gw.start()
    gw.client().create_bucket(Bucket=BUCKET)
    return gw


def put_sealed(gw, s3, key, data, providers=LOCAL, **kw):
    """PutObject of a new body; returns the paths of the shard files it wrote,
    in the providers' order (exactly one on each)."""
    _, new = shards.shards_written(
        gw.data_dir, lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=data, **kw), providers)
    assert sorted(p for p, _ in new) == sorted(providers), \
        f"PUT of {len(data)} bytes wrote shard files {sorted(new)}, want one on each of {providers}"
    files = shards.shard_files(gw.data_dir, providers)
    by_provider = {p: files[(p, name)] for p, name in new}
    return [by_provider[p] for p in providers]


def get(s3, key, **kw):
    return s3.get_object(Bucket=BUCKET, Key=key, **kw)["Body"].read()


def blob_of(gw, key):
    """bid of the blob holding the current version of key (a one-extent object)."""
    rows = Meta(gw.data_dir).q(
        "SELECT e.bid FROM versions v JOIN extents e ON e.vid = v.vid "
        "WHERE v.bucket = ? AND v.key = ? AND v.is_latest = 1", BUCKET, key.encode())
    assert len(rows) == 1, rows
    return rows[0][0]


def wait_for(pred, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def assert_scrub(gw, bad, repaired, unrecoverable=0, what=""):
    sc = gw.scrub()
    assert (sc.bad, sc.repaired, sc.unrecoverable) == (bad, repaired, unrecoverable), \
        f"{what}: cairn scrub: {sc.output.strip()}"
    assert sc.rc == (1 if unrecoverable else 0), f"{what}: cairn scrub exit {sc.rc}: {sc.output.strip()}"
    return sc


RawGet = namedtuple("RawGet", "status headers body complete")


def raw_get(gw, key):
    """A signed GET over http.client: the status, and the body as far as the
    gateway sent it (complete=False when the connection closed early)."""
    path = f"/{BUCKET}/{key}"
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
    try:
        conn.request("GET", path, headers=gw.sign("GET", path))
        r = conn.getresponse()
        try:
            data, complete = r.read(), True
        except http.client.IncompleteRead as e:
            data, complete = e.partial, False
        return RawGet(r.status, dict(r.getheaders()), data, complete)
    finally:
        conn.close()


def assert_unreadable(gw, s3, key, data):
    """A GET of an object that cannot be rebuilt never yields a complete 200,
    and no byte it returns is wrong (boto3 reports an error too)."""
    r = raw_get(gw, key)
    assert not (r.status == 200 and r.complete), \
        f"GET of an unrecoverable object: 200 with a complete body of {len(r.body)} bytes"
    if r.status == 200:   # the status went out before the first segment failed: cut short
        assert r.body == data[:len(r.body)], "the truncated 200 body holds wrong bytes"
    else:
        assert r.status >= 500, f"GET of an unrecoverable object: status {r.status}"
        assert MARKER not in r.body
    with pytest.raises((ClientError, BotoCoreError)):
        get(s3, key)
    return r


# ---- faults ---------------------------------------------------------------------

def flip(path, offset=None, n=32):
    """Inverts n bytes at offset (default: the middle of the file)."""
    b = bytearray(read_file(path))
    off = len(b) // 2 if offset is None else offset
    b[off:off + n] = bytes(x ^ 0xFF for x in b[off:off + n])
    write_file(path, b)


def truncate_half(path):
    os.truncate(path, os.path.getsize(path) // 2)


# Scene of a fault: the victim's shard paths, the index faulted, the bytes of
# the shards of another object of the same size, and of the object the same
# key held before (same size too).
Scene = namedtuple("Scene", "paths index other previous")

FAULTS = {
    "flip": (0, lambda s: flip(s.paths[s.index])),
    "flip_parity": (2, lambda s: flip(s.paths[s.index])),
    "truncate": (0, lambda s: truncate_half(s.paths[s.index])),
    "delete": (1, lambda s: os.unlink(s.paths[s.index])),
    "swap": (0, lambda s: write_file(s.paths[s.index], s.other[s.index])),
    "swap_within": (0, lambda s: write_file(s.paths[s.index], read_file(s.paths[1]))),
    "replay": (1, lambda s: write_file(s.paths[s.index], s.previous[s.index])),
}


def scene(gw, s3, size, index):
    """Puts the key's previous object, another object, then the victim."""
    previous = [read_file(p) for p in put_sealed(gw, s3, "victim", body(size, "previous"))]
    other = [read_file(p) for p in put_sealed(gw, s3, "other", body(size, "other"))]
    data = body(size, "victim")
    return data, Scene(put_sealed(gw, s3, "victim", data), index, other, previous)


# ---- a. what the providers see ------------------------------------------------

def test_default_placement_spreads_sealed_shards(gateways):
    gw = start(gateways)
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    key = "plans/quarterly-report-2026.pdf"
    data = body(3 * MiB, "default")
    paths = put_sealed(gw, s3, key, data)
    assert get(s3, key) == data
    bid = blob_of(gw, key)
    locator = meta.q("SELECT locator FROM blobs WHERE bid = ?", bid)[0][0]
    size, _, layout, _ = meta.blob(bid)
    assert (layout.cls, layout.k, layout.m, layout.providers) == ("STANDARD", 2, 1, LOCAL), layout
    for i, path in enumerate(paths):
        content = read_file(path)
        assert len(content) == shards.shard_size(size, layout), f"shard {i}: {len(content)} bytes"
        for what, needle in (("the plaintext marker", MARKER), ("the key", key.encode()),
                             ("the bucket", BUCKET.encode()), ("the locator", locator.encode()),
                             ("the locator's bytes", bytes.fromhex(locator))):
            assert needle not in content, f"shard {i} ({path}) holds {what}"
        rel = os.path.relpath(path, gw.data_dir)
        assert re.fullmatch(r"local%d/data/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{40}" % i, rel), rel
        for needle in (key, "quarterly", BUCKET, locator):
            assert needle not in rel, f"shard name {rel} shows {needle!r}"
    # 10 KiB is inline (storage.inline_max 64 KiB): no shard anywhere
    small = body(10 * KiB, "small")
    before = shards.shard_sizes(gw.data_dir)
    s3.put_object(Bucket=BUCKET, Key="small", Body=small)
    assert shards.shard_sizes(gw.data_dir) == before, "a 10 KiB body reached the providers"
    assert get(s3, "small") == small
    assert shards.provider_files(os.path.join(gw.data_dir, "blobs")) == {}, "data_dir/blobs got files"
    assert not shards.store_problems(gw.data_dir, meta)


# ---- b. one faulty shard: read around it, scrub rebuilds it ----------------------

@pytest.mark.parametrize("fault", list(FAULTS))
def test_one_faulty_shard_is_read_around_and_scrubbed(gateways, fault):
    gw = start(gateways)
    s3 = gw.client()
    index, apply = FAULTS[fault]
    size = 3 * MiB // 2 + 123   # two segments, the second partial
    data, s = scene(gw, s3, size, index)
    original = read_file(s.paths[index])
    apply(s)
    assert not os.path.exists(s.paths[index]) or read_file(s.paths[index]) != original, "the fault changed nothing"
    assert get(s3, "victim") == data, f"{fault} on shard {index}: GET not byte-exact"
    sc = assert_scrub(gw, bad=1, repaired=1, what=f"{fault} on shard {index}")
    assert sc.blobs == 2 and sc.shards == 6, sc.output   # victim and other; the previous object is dead
    assert os.path.exists(s.paths[index]), f"scrub did not recreate shard {index}"
    assert read_file(s.paths[index]) == original, f"shard {index} after scrub differs from the original"
    assert_scrub(gw, bad=0, repaired=0, what="second scrub")
    assert get(s3, "victim") == data and get(s3, "other") == body(size, "other")


# ---- c. two faulty shards of 2+1: unreadable, and said so -------------------------

TWO_FAULTS = {
    "delete_data_shards": ((0, os.unlink), (1, os.unlink)),
    "flip_and_truncate": ((1, flip), (2, truncate_half)),   # second segment on: some bytes go first
}


def break_two(gateways, faults):
    gw = start(gateways)
    s3 = gw.client()
    data = body(3 * MiB, "two")
    paths = put_sealed(gw, s3, "two", data)
    saved = [read_file(p) for p in paths]
    for i, fault in faults:
        fault(paths[i])
    return gw, s3, data, paths, saved


@pytest.mark.parametrize("faults", list(TWO_FAULTS))
def test_two_faulty_shards_fail_the_read_and_the_scrub(gateways, faults):
    gw, s3, data, paths, saved = break_two(gateways, TWO_FAULTS[faults])
    r = assert_unreadable(gw, s3, "two", data)
    print(f"{faults}: GET answered {r.status}, {len(r.body)} of {len(data)} bytes, complete={r.complete}")
    sc = assert_scrub(gw, bad=2, repaired=0, unrecoverable=1, what=faults)
    assert sc.blobs == 1
    good = ({0, 1, 2} - {i for i, _ in TWO_FAULTS[faults]}).pop()
    assert read_file(paths[good]) == saved[good], "scrub changed the one good shard"
    assert gw.health() == 200


def test_unrecoverable_object_gets_an_error_status(gateways):
    gw, _, _, _, _ = break_two(gateways, TWO_FAULTS["delete_data_shards"])
    r = raw_get(gw, "two")
    assert r.status >= 500, f"status {r.status}, {len(r.body)} body bytes, complete={r.complete}"


# ---- d. RS 4+2: any two shards may go ---------------------------------------------

SIX = tuple(f"p{i}" for i in range(6))


def test_rs_4_2_reads_with_any_two_shards_missing(gateways, workdir):
    gw = start(gateways, posix(*SIX), {"STANDARD": {"scheme": "4+2", "providers": list(SIX)}})
    s3 = gw.client()
    data = body(5 * MiB, "four-two")
    paths = put_sealed(gw, s3, "wide", data, SIX)
    aside = os.path.join(workdir, "aside")
    os.makedirs(aside)

    def without(missing, check):
        for i in missing:
            os.rename(paths[i], os.path.join(aside, str(i)))
        try:
            check()
        finally:
            for i in missing:
                os.rename(os.path.join(aside, str(i)), paths[i])

    def readable(missing):
        assert get(s3, "wide") == data, f"shards {missing} missing: GET not byte-exact"

    patterns = [c for n in (1, 2) for c in itertools.combinations(range(6), n)]
    assert len(patterns) == 21
    for missing in patterns:
        without(missing, lambda: readable(missing))
    for missing in ((0, 1, 2), (1, 4, 5), (3, 4, 5)):
        without(missing, lambda: assert_unreadable(gw, s3, "wide", data))
    assert get(s3, "wide") == data
    assert_scrub(gw, bad=0, repaired=0, what="every shard back in place")


# ---- e. ranged reads across segments with a corrupt shard --------------------------

def test_ranged_reads_across_segments_with_a_corrupt_shard(gateways):
    seg = 64 * KiB
    gw = start(gateways, posix(*LOCAL),
               {"STANDARD": {"scheme": "2+1", "providers": list(LOCAL), "segment_size": "64K"}})
    s3 = gw.client()
    size = MiB + 1000   # 17 segments, the last one partial
    data = body(size, "ranges")
    paths = put_sealed(gw, s3, "ranged", data)
    _, _, layout, _ = Meta(gw.data_dir).blob(blob_of(gw, "ranged"))
    assert layout.segment == seg
    # every fragment of shard 0 corrupt: any segment read from it fails authentication
    stride = seg // 2 + shards.TAG
    for j in range(-(-size // seg)):
        flip(paths[0], shards.HDR + j * stride + 7, 4)
    ranges = [(0, 0), (seg - 1, seg), (seg - 6, seg + 9), (0, seg), (100000, 300000),
              (2 * seg - 1, 3 * seg), (5 * seg + 17, 11 * seg - 17), (size - 10, size - 1), (0, size - 1)]
    for a, b in ranges:
        r = s3.get_object(Bucket=BUCKET, Key="ranged", Range=f"bytes={a}-{b}")
        assert r["ContentRange"] == f"bytes {a}-{b}/{size}", r["ContentRange"]
        assert r["Body"].read() == data[a:b + 1], f"bytes={a}-{b} not byte-exact"
    assert get(s3, "ranged", Range="bytes=-70000") == data[-70000:]
    assert get(s3, "ranged", Range=f"bytes={size - seg - 5}-") == data[size - seg - 5:]
    # the reads met the corrupt shard (the first read takes the data shards) and recorded it
    bid = blob_of(gw, "ranged")
    assert wait_for(lambda: Meta(gw.data_dir).blob(bid)[3] == 1), Meta(gw.data_dir).blob(bid)


# ---- f. storage classes -------------------------------------------------------------

CLASSES = (posix("p0", "p1", "p2", "c0", "c1"),
           {"STANDARD": {"scheme": "2+1", "providers": ["p0", "p1", "p2"]},
            "COLD": {"scheme": "r2", "providers": ["c0", "c1"]}})
ALL_CLASS_PROVIDERS = ("p0", "p1", "p2", "c0", "c1")


def start_classes(gateways):
    return start(gateways, *CLASSES, settings={**QUIET, "storage": {"default_class": "STANDARD"}})


def listed_class(s3, key):
    return {o["Key"]: o.get("StorageClass") for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}[key]


def test_storage_class_default_and_unknown(gateways):
    gw = start_classes(gateways)
    s3 = gw.client()
    meta = Meta(gw.data_dir)
    for key, kw in (("plain", {}), ("standard", {"StorageClass": "STANDARD"})):
        data = body(200 * KiB, key)
        put_sealed(gw, s3, key, data, ("p0", "p1", "p2"), **kw)   # and nothing on c0, c1
        assert get(s3, key) == data
        assert s3.head_object(Bucket=BUCKET, Key=key).get("StorageClass", "STANDARD") == "STANDARD"
        assert listed_class(s3, key) == "STANDARD"
        assert meta.blob(blob_of(gw, key))[2].cls == "STANDARD"
    before, blobs = shards.shard_sizes(gw.data_dir, ALL_CLASS_PROVIDERS), meta.q("SELECT count(*) FROM blobs")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=BUCKET, Key="glacier", Body=body(200 * KiB, "glacier"), StorageClass="GLACIER")
    err = ei.value.response
    assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (400, "InvalidStorageClass"), err
    assert shards.shard_sizes(gw.data_dir, ALL_CLASS_PROVIDERS) == before, "a refused PUT stored shards"
    assert meta.q("SELECT count(*) FROM blobs") == blobs
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=BUCKET, Key="glacier")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_storage_class_cold_goes_to_its_placement(gateways):
    gw = start_classes(gateways)
    s3 = gw.client()
    data = body(200 * KiB, "cold")
    put_sealed(gw, s3, "cold", data, ("c0", "c1"), StorageClass="COLD")   # and nothing on p0..p2
    assert get(s3, "cold") == data
    assert s3.head_object(Bucket=BUCKET, Key="cold")["StorageClass"] == "COLD"
    assert listed_class(s3, "cold") == "COLD"
    layout = Meta(gw.data_dir).blob(blob_of(gw, "cold"))[2]
    assert (layout.cls, layout.k, layout.m, layout.providers) == ("COLD", 1, 1, ("c0", "c1"))


def test_multipart_upload_in_cold_stores_parts_in_cold(gateways):
    gw = start_classes(gateways)
    s3 = gw.client()
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="coldmp", StorageClass="COLD")["UploadId"]
    parts, etags = [body(5 * MiB, "cold1"), body(300 * KiB, "cold2")], []
    for n, part in enumerate(parts, 1):
        r, new = shards.shards_written(gw.data_dir, lambda: s3.upload_part(
            Bucket=BUCKET, Key="coldmp", UploadId=up, PartNumber=n, Body=part), ALL_CLASS_PROVIDERS)
        assert sorted(p for p, _ in new) == ["c0", "c1"], f"part {n} stored shards {sorted(new)}"
        etags.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key="coldmp", UploadId=up, MultipartUpload={"Parts": etags})
    assert get(s3, "coldmp") == b"".join(parts)
    assert s3.head_object(Bucket=BUCKET, Key="coldmp")["StorageClass"] == "COLD"
    assert listed_class(s3, "coldmp") == "COLD"


# ---- g. background repair -------------------------------------------------------------

def test_background_repair_restores_a_shard_a_read_found_bad(gateways):
    gw = start(gateways, settings={"gc": {"interval": 1}})
    s3 = gw.client()
    data = body(3 * MiB // 2, "background")
    paths = put_sealed(gw, s3, "bg", data)
    original = read_file(paths[0])
    flip(paths[0], shards.HDR + 10)   # the first fragment of data shard 0: the first read meets it
    assert get(s3, "bg") == data
    assert wait_for(lambda: read_file(paths[0]) == original, timeout=15), \
        f"shard 0 not repaired in the background within 15 s: {gw.log_tail()}"
    bid = blob_of(gw, "bg")
    assert wait_for(lambda: Meta(gw.data_dir).blob(bid)[3] == 0), "blobs.bad still set after the repair"
    assert get(s3, "bg") == data
    assert_scrub(gw, bad=0, repaired=0, what="after the background repair")


# ---- h. an S3 provider (s3rver) and an Azure one (azurite) that go away -------------

class NodeServer:
    """A provider's test server under node, on a free port of 127.0.0.1,
    its data in workdir/<NAME>; start() waits until ready() is true."""

    NAME = JS = None

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, self.NAME)
        self.port = free_port()
        self.proc = None
        self.node = need("node")
        assert os.path.exists(self.JS), f"{self.JS} missing: run npm ci in tests/e2e"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen([self.node] + self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            assert self.proc.poll() is None, f"{self.NAME} exited with {self.proc.returncode}"
            return self.ready()
        assert wait_for(up, timeout=60), f"{self.NAME} not ready within 60 s"
        return self

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class S3rver(NodeServer):
    """s3rver 3.7.1; credentials S3RVER/S3RVER. It makes ListObjectsV2
    continuation tokens with DES, which Node's OpenSSL 3 serves only from
    the legacy provider."""

    NAME = "s3rver"
    JS = os.path.join(HERE, "node_modules", "s3rver", "bin", "s3rver.js")
    BUCKET = "cairn-shards"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def argv(self):
        return ["--openssl-legacy-provider", self.JS, "-d", self.dir, "-p", str(self.port), "--address", "127.0.0.1",
                "--configure-bucket", self.BUCKET, "--silent"]

    def ready(self):
        return self.listening()

    def objects(self):
        """How many objects its bucket holds (files <key>._S3rver_object)."""
        return sum(f.endswith("._S3rver_object") for _, _, files in os.walk(os.path.join(self.dir, self.BUCKET))
                   for f in files)

    def provider(self):
        return {"driver": "s3", "endpoint": self.endpoint, "bucket": self.BUCKET, "access_key": "S3RVER",
                "secret_key": "S3RVER", "region": "us-east-1", "path_style": "true", "timeout_ms": "2000",
                "retries": "1"}


class Azurite(NodeServer):
    """azurite 3.37's blob service with the published development account;
    the container is made with a Shared Key request signed here."""

    NAME = "azurite"
    JS = os.path.join(HERE, "node_modules", "azurite", "dist", "src", "blob", "main.js")
    ACCOUNT = "devstoreaccount1"
    KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    CONTAINER = "cairn-shards"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/{self.ACCOUNT}"

    def argv(self):
        return [self.JS, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", self.dir, "--silent"]

    def ready(self):
        return self.create_container() in (201, 409)

    def create_container(self):
        """Create Container (Shared Key); the status, or None when not listening."""
        date, path = formatdate(usegmt=True), f"/{self.ACCOUNT}/{self.CONTAINER}"
        headers = {"x-ms-date": date, "x-ms-version": "2021-08-06", "Content-Length": "0"}
        sts = "PUT\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:2021-08-06\n/{self.ACCOUNT}{path}\nrestype:container"
        sig = base64.b64encode(hmac.new(base64.b64decode(self.KEY), sts.encode(), hashlib.sha256).digest())
        headers["Authorization"] = f"SharedKey {self.ACCOUNT}:{sig.decode()}"
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            c.request("PUT", path + "?restype=container", headers=headers)
            return c.getresponse().status
        except OSError:
            return None

    def objects(self):
        return None  # azurite keeps blobs in its own database: not counted here

    def provider(self):
        return {"driver": "azure", "endpoint": self.endpoint, "account": self.ACCOUNT, "key": self.KEY,
                "container": self.CONTAINER, "timeout_ms": "2000", "retries": "1"}


@pytest.fixture(params=["s3rver", "azurite"])
def remote(request, workdir):
    s = (S3rver if request.param == "s3rver" else Azurite)(workdir).start()
    yield s
    if s.proc.poll() is None:
        s.kill()


class Traffic:
    """PUTs of new keys and GETs of acknowledged ones, on two threads, until
    stopped; every GET is judged when it returns."""

    def __init__(self, gw):
        self.gw = gw
        self.lock = threading.Lock()
        self.acked = {}          # key -> sha256 of the body acknowledged
        self.log = []            # (start, end, "put"|"get", ok, detail)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.putter, self.getter)]

    def note(self, t0, kind, ok, detail=""):
        with self.lock:
            self.log.append((t0, time.monotonic(), kind, ok, detail))

    def putter(self):
        s3, rng = self.gw.client(), random.Random("putter")
        for n in itertools.count():
            if self.stop.is_set():
                return
            data = rng.randbytes(rng.randint(70 * KiB, 1200 * KiB))
            t0 = time.monotonic()
            try:
                s3.put_object(Bucket=BUCKET, Key=f"t{n}", Body=data)
            except (ClientError, BotoCoreError) as e:
                self.note(t0, "put", False, f"t{n}: {e}")
                continue
            with self.lock:
                self.acked[f"t{n}"] = hashlib.sha256(data).hexdigest()
            self.note(t0, "put", True)

    def getter(self):
        s3, rng = self.gw.client(), random.Random("getter")
        while not self.stop.is_set():
            with self.lock:
                keys = list(self.acked)
            if not keys:
                time.sleep(0.02)
                continue
            key = rng.choice(keys)
            t0 = time.monotonic()
            try:
                ok = hashlib.sha256(get(s3, key)).hexdigest() == self.acked[key]
                self.note(t0, "get", ok, f"{key}: wrong bytes")
            except (ClientError, BotoCoreError) as e:
                self.note(t0, "get", False, f"{key}: {e}")

    def count(self, kind, started_after=None, ended_before=None):
        """Successful operations of a kind, started after / ended before a time."""
        with self.lock:
            return sum(1 for t0, t1, k, ok, _ in self.log if k == kind and ok
                       and (started_after is None or t0 > started_after)
                       and (ended_before is None or t1 < ended_before))

    def failures(self, kind):
        with self.lock:
            return [d for _, _, k, ok, d in self.log if k == kind and not ok]


def test_remote_provider_outage_loses_nothing_and_scrub_catches_up(gateways, remote):
    """2+1 with the remote provider (s3rver or azurite) as shard 0 (a data
    shard, so that GETs during the outage must rebuild from parity) and
    posix a, b; quorum 2."""
    s3rver = remote
    gw = start(gateways, {"s3": s3rver.provider(), "a": None, "b": None},
               {"STANDARD": {"scheme": "2+1", "providers": ["s3", "a", "b"], "quorum": 2}})
    traffic = Traffic(gw)
    for t in traffic.threads:
        t.start()
    time.sleep(1.5)
    s3rver.kill()
    killed = time.monotonic()
    time.sleep(2.5)
    traffic.stop.set()
    for t in traffic.threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a client thread hung"
    puts_before, puts_during = traffic.count("put", ended_before=killed), traffic.count("put", started_after=killed)
    gets_during = traffic.count("get", started_after=killed)
    print(f"acknowledged PUTs: {puts_before} before the kill, {puts_during} started during the outage, "
          f"{len(traffic.acked)} in all; GETs during the outage: {gets_during}; "
          f"failed PUTs: {traffic.failures('put')[:3]}")
    assert puts_before > 0 and puts_during > 0, "quorum 2 did not keep PUTs going through the outage"
    assert gets_during > 0, "no GET completed during the outage"
    assert not traffic.failures("get"), f"GETs failed: {traffic.failures('get')[:5]}"

    s3 = gw.client()
    wrong = [k for k, sha in traffic.acked.items() if hashlib.sha256(get(s3, k)).hexdigest() != sha]
    assert not wrong, f"acknowledged keys not byte-exact with the provider down: {wrong[:10]}"

    s3rver.start()   # same directory and port
    sc = gw.scrub()
    print(sc.output.strip())
    assert sc.rc == 0 and sc.unrecoverable == 0 and sc.repaired == sc.bad, sc.output
    assert sc.repaired >= puts_during, f"the outage left {puts_during} shards missing on s3rver: {sc.output}"
    assert sc.blobs == len(traffic.acked), sc.output
    assert s3rver.objects() in (None, sc.blobs), "not one shard on s3rver per blob"
    assert_scrub(gw, bad=0, repaired=0, what="second scrub")
    assert not Meta(gw.data_dir).q("SELECT bid, bad FROM blobs WHERE bad != 0")
    wrong = [k for k, sha in traffic.acked.items() if hashlib.sha256(get(s3, k)).hexdigest() != sha]
    assert not wrong, f"acknowledged keys not byte-exact after the repair: {wrong[:10]}"


# ---- i. key rotate ---------------------------------------------------------------------

ROTATED = re.compile(r"master key ([0-9a-f]+) replaced by ([0-9a-f]+): (\d+) secrets and (\d+) blob keys re-sealed")

def store_state(gw):
    """What a rotation changes: the key file, the recorded key id, the sealed
    secrets and the blob layouts."""
    meta = Meta(gw.data_dir)
    return (read_file(os.path.join(gw.data_dir, "master.key")),
            meta.q("SELECT v FROM meta_info WHERE k = 'master_key_id'"),
            meta.q("SELECT access_key, secret FROM access_keys ORDER BY access_key"),
            meta.q("SELECT bid, layout FROM blobs ORDER BY bid"))


def rotate(gw):
    """cairn key rotate on the stopped gateway's store; returns its output."""
    r = gw.cairn("key", "rotate")
    assert r.returncode == 0, f"cairn key rotate: exit {r.returncode}: {r.stderr}"
    return r.stdout


def test_key_rotate_keeps_objects_and_credentials(gateways):
    gw = start(gateways)
    s3 = gw.client()
    objects = {"small": body(5 * KiB, "k-small"), "big": body(2 * MiB, "k-big"),
               "mid": body(300 * KiB, "k-mid")}
    for key, data in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
    parts = [body(5 * MiB, "k-p1"), body(100 * KiB, "k-p2")]
    etags = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=BUCKET, Key="mp", UploadId=up, PartNumber=n,
                                                      Body=p)["ETag"]} for n, p in enumerate(parts, 1)]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=up, MultipartUpload={"Parts": etags})
    objects["mp"] = b"".join(parts)

    # while the gateway runs, a rotation is refused and changes nothing
    before = store_state(gw)
    r = gw.cairn("key", "rotate")
    assert r.returncode != 0, f"key rotate succeeded beside a running gateway: {r.stdout}"
    assert store_state(gw) == before, "a refused key rotate changed the store"
    assert all(get(s3, k) == v for k, v in objects.items())

    assert gw.terminate() == 0, gw.output()
    out = rotate(gw)
    m = ROTATED.search(out)
    assert m, out
    old_id, new_id, secrets, blob_keys = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    sealed = len(Meta(gw.data_dir).sealed())
    print(out.strip())
    assert [(old_id,)] == before[1] and old_id != new_id
    assert (secrets, blob_keys) == (1, sealed) and sealed == 4   # big, mid and both parts (> 64 KiB)
    after = store_state(gw)
    assert after[0] != before[0], "master.key was not replaced"
    assert after[1] == [(new_id,)]
    assert after[2] != before[2] and after[3] != before[3], "secrets or blob keys were not re-sealed"

    gw.start()
    assert f"master key {new_id}" in gw.stderr(), gw.stderr()
    s3 = gw.client()   # the same credentials
    for key, data in objects.items():
        assert get(s3, key) == data, f"{key} unreadable after the rotation"
    assert_scrub(gw, bad=0, repaired=0, what="after the rotation")


def test_key_rotate_never_fails(gateways):
    gw = start(gateways)
    assert gw.terminate() == 0
    results = [gw.cairn("key", "rotate") for _ in range(12)]
    failed = [r.stderr.strip() for r in results if r.returncode != 0]
    assert not failed, f"{len(failed)} of 12 rotations failed: {failed[0]}"


# ---- j. SIGKILL in the middle of a sealed PUT ----------------------------------------------

BIG = 64 * MiB


def sealing_put(gw, key, data):
    """Sends a raw PUT whole, then waits until its shards are being written
    (h2o reads the whole body before the gateway sees the request; posix
    providers write into tmp/). Returns (socket, time the writing was seen)."""
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=60)
    sock.sendall(gw.raw_head("PUT", f"/{BUCKET}/{key}", len(data)) + data)
    assert wait_for(lambda: shards.tmp_files(os.path.join(gw.data_dir, "local0")), 30, 0.002), \
        f"no shard of {key} was ever being written"
    return sock, time.monotonic()


def test_sigkill_during_sealed_put_leaves_no_shard(gateways):
    gw = start(gateways)
    s3 = gw.client()
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"kept{i}", Body=body(200 * KiB, f"kept{i}"))
    # how long this machine takes to write the shards of a BIG body
    sock, seen = sealing_put(gw, "timed", os.urandom(BIG))
    with sock:
        assert sock.recv(64).startswith(b"HTTP/1.1 200"), "the timed PUT failed"
    sealing = time.monotonic() - seen
    print(f"writing the shards of {BIG} bytes takes {sealing:.3f} s")
    for rnd, fraction in enumerate((0.0, 0.3, 0.6)):
        before = shards.shard_sizes(gw.data_dir)
        key = f"cut{rnd}"
        sock, seen = sealing_put(gw, key, os.urandom(BIG))
        with sock:
            time.sleep(max(0.0, seen + fraction * sealing - time.monotonic()))
            gw.kill(signal.SIGKILL)
            sock.settimeout(5)
            try:
                answer = sock.recv(64)
            except OSError:
                answer = b""
        assert not answer.startswith(b"HTTP/1.1 200"), f"round {rnd}: the PUT completed before the kill"
        gw.start()
        s3 = gw.client()
        assert shards.shard_sizes(gw.data_dir) == before, \
            f"round {rnd}: shard files changed across the interrupted PUT and recovery"
        problems = shards.store_problems(gw.data_dir, Meta(gw.data_dir))
        assert not problems, f"round {rnd}: {problems}"
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=BUCKET, Key=key)
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert key not in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert all(get(s3, f"kept{i}") == body(200 * KiB, f"kept{i}") for i in range(3))
