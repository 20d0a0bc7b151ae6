"""Crash consistency: SIGKILL the gateway under load, restart it, and check that
nothing acknowledged was lost and nothing unacknowledged is half-visible.

This suite starts its OWN gateways (gateway.Gateway: binary from $CAIRN_BIN) on
fresh temporary data directories; it does not use the shared gateway of run.sh.

Each key is written exactly once with random content whose SHA-256 is kept, so
any visible object can be judged exactly:
- acknowledged (200 received)  -> must read back byte-exact, after every restart;
- not acknowledged             -> absent, or byte-exact (the commit may have happened
                                  just before the response was lost), never partial;
- never attempted              -> must not exist.
After each restart the data directory must hold no temporary files (see
TMP_PATTERNS; override with CAIRN_TMP_PATTERNS, a comma-separated list of globs
matched against paths relative to the data dir), and every shard file on the
providers (data_dir/local0..2) must belong to a blob that committed metadata
refers to (shards.store_problems).
"""

import fnmatch
import hashlib
import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest
from botocore.exceptions import ClientError

import shards
from gateway import MiB, Gateway

KILL_ROUNDS = 3
WORKERS = 6

TMP_PATTERNS = [p for p in os.environ.get(
    "CAIRN_TMP_PATTERNS",
    "tmp/*,*/tmp/*,temp/*,*/temp/*,*.tmp,*.partial,*.inprogress,*.incoming,*/incoming/*,incoming/*",
).split(",") if p]


class Ledger:
    """What was attempted and what was acknowledged, across rounds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempted = {}  # key -> (size, sha256 hex)
        self.acked = set()

    def attempt(self, key, data):
        with self.lock:
            assert key not in self.attempted
            self.attempted[key] = (len(data), hashlib.sha256(data).hexdigest())

    def ack(self, key):
        with self.lock:
            self.acked.add(key)


def worker(gw, bucket, ledger, stop, rnd, wid, stats):
    s3 = gw.client()
    rng = random.Random(f"{rnd}-{wid}")
    n = 0
    while not stop.is_set():
        n += 1
        key = f"r{rnd}/w{wid}/{n}"
        try:
            if rng.random() < 0.25:
                key += ".mp"
                parts = [os.urandom(5 * MiB), os.urandom(rng.randint(1, 3 * MiB))]
                ledger.attempt(key, b"".join(parts))
                up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
                done = []
                for i, p in enumerate(parts, 1):
                    e = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=p)["ETag"]
                    done.append({"PartNumber": i, "ETag": e})
                s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                             MultipartUpload={"Parts": done})
            else:
                size = rng.choice([1024, 4096, 64 * 1024, 512 * 1024, 1 * MiB, 3 * MiB, 8 * MiB])
                data = os.urandom(size)
                ledger.attempt(key, data)
                r = s3.put_object(Bucket=bucket, Key=key, Body=data)
                assert r["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
            ledger.ack(key)
            stats["acked"] += 1
        except Exception:  # the kill: connection reset/refused, or a 5xx
            stats["failed"] += 1
            if stop.is_set() or gw.proc.poll() is not None:
                return
            time.sleep(0.05)


def sha256_of(s3, bucket, key):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return len(body), hashlib.sha256(body).hexdigest()


def verify(gw, bucket, ledger):
    s3 = gw.client()
    problems = []
    for key in sorted(ledger.acked):
        try:
            got = sha256_of(s3, bucket, key)
        except ClientError as e:
            problems.append(f"acknowledged {key} unreadable: {e.response['Error']}")
            continue
        if got != ledger.attempted[key]:
            problems.append(f"acknowledged {key}: got size/sha {got}, want {ledger.attempted[key]}")
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            listed[o["Key"]] = o["Size"]
    for key in ledger.acked:
        if key not in listed:
            problems.append(f"acknowledged {key} missing from the listing")
    for key, size in listed.items():
        if key not in ledger.attempted:
            problems.append(f"listed key {key} was never written")
            continue
        if size != ledger.attempted[key][0]:
            problems.append(f"listed {key} has size {size}, want {ledger.attempted[key][0]}")
        if key not in ledger.acked:
            got = sha256_of(s3, bucket, key)
            if got != ledger.attempted[key]:
                problems.append(f"unacknowledged {key} is visible but not exact: {got}")
    for key in set(ledger.attempted) - set(listed):
        try:
            s3.head_object(Bucket=bucket, Key=key)
            problems.append(f"{key} readable but not listed")
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
                problems.append(f"{key}: HEAD gave {e.response['Error']}")
    return problems, listed


def leftover_temp_files(data_dir):
    found = []
    for d, _, files in os.walk(data_dir):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), data_dir)
            if any(fnmatch.fnmatch(rel, p) for p in TMP_PATTERNS):
                found.append(rel)
    return found


def live_bytes(gw, bucket, listed):
    """Bytes that committed metadata refers to: visible objects plus the parts
    of multipart uploads still in progress."""
    s3 = gw.client()
    total = sum(listed.values())
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for u in page.get("Uploads", []):
            for pp in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]):
                total += sum(p["Size"] for p in pp.get("Parts", []))
    return total


def test_sigkill_under_load_loses_nothing(workdir):
    gw = Gateway(workdir)
    data = gw.data_dir
    ledger = Ledger()
    bucket = "crash-bucket"
    try:
        gw.start()
        gw.client().create_bucket(Bucket=bucket)
        for rnd in range(KILL_ROUNDS):
            stop = threading.Event()
            stats = [{"acked": 0, "failed": 0} for _ in range(WORKERS)]
            threads = [threading.Thread(target=worker, args=(gw, bucket, ledger, stop, rnd, w, stats[w]),
                                        daemon=True) for w in range(WORKERS)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(1.0, 2.0))
            gw.kill(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(timeout=60)
                assert not t.is_alive(), "a client thread hung after the kill"
            acked = sum(s["acked"] for s in stats)
            failed = sum(s["failed"] for s in stats)
            print(f"round {rnd}: {acked} acknowledged, {failed} cut off by the kill")
            assert acked > 0, f"round {rnd}: nothing was acknowledged before the kill: {gw.log_tail()}"
            assert failed > 0, f"round {rnd}: no request was in flight at the kill (test proves nothing)"

            gw.start()
            problems, listed = verify(gw, bucket, ledger)
            assert not problems, f"round {rnd}:\n" + "\n".join(problems[:30])
            leftovers = leftover_temp_files(data)
            if leftovers:  # allow a moment for an asynchronous sweep at startup
                time.sleep(3)
                leftovers = leftover_temp_files(data)
            assert not leftovers, f"round {rnd}: temporary files survived the restart: {leftovers[:20]}"
            # Blobs of writes that never committed must be swept at restart:
            # every shard file belongs to a blob row (per provider: as many
            # files as blobs, of the sizes their layouts give), no intent is
            # left pending, and the sealed blobs hold no more bytes than
            # committed metadata refers to (content is random: no dedupe).
            meta = shards.Meta(data)
            assert not shards.store_problems(data, meta), \
                f"round {rnd}: {shards.store_problems(data, meta)}"
            sealed = meta.sealed()
            stored = sum(size for _, size, _, _, _ in sealed)
            live = live_bytes(gw, bucket, listed)
            print(f"round {rnd}: {len(sealed)} sealed blobs of {stored} bytes, {live} bytes referenced")
            assert {state for _, _, state, _, _ in sealed} <= {"live"}, meta.states()
            assert stored <= live, f"round {rnd}: {stored - live} bytes of uncommitted blobs survived the restart"
        # The gateway still takes writes after all that.
        s3 = gw.client()
        s3.put_object(Bucket=bucket, Key="after", Body=b"fine")
        assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"fine"
    finally:
        gw.stop()


def test_sigkill_during_multipart_keeps_completed_parts(workdir):
    """Parts acknowledged before a crash still complete afterwards; the object is
    invisible until CompleteMultipartUpload."""
    gw = Gateway(workdir)
    try:
        gw.start()
        s3 = gw.client()
        s3.create_bucket(Bucket="mpcrash")
        up = s3.create_multipart_upload(Bucket="mpcrash", Key="big")["UploadId"]
        p1 = os.urandom(5 * MiB)
        e1 = s3.upload_part(Bucket="mpcrash", Key="big", UploadId=up, PartNumber=1, Body=p1)["ETag"]
        gw.kill(signal.SIGKILL)
        gw.start()
        s3 = gw.client()
        with pytest.raises(ClientError):
            s3.head_object(Bucket="mpcrash", Key="big")
        parts = s3.list_parts(Bucket="mpcrash", Key="big", UploadId=up)["Parts"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e1, len(p1))]
        p2 = os.urandom(1000)
        e2 = s3.upload_part(Bucket="mpcrash", Key="big", UploadId=up, PartNumber=2, Body=p2)["ETag"]
        s3.complete_multipart_upload(Bucket="mpcrash", Key="big", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        gw.kill(signal.SIGKILL)
        gw.start()
        s3 = gw.client()
        assert s3.get_object(Bucket="mpcrash", Key="big")["Body"].read() == p1 + p2
    finally:
        gw.stop()


def test_sigkill_after_delete_stays_deleted(workdir):
    gw = Gateway(workdir)
    try:
        gw.start()
        s3 = gw.client()
        s3.create_bucket(Bucket="delcrash")
        for i in range(20):
            s3.put_object(Bucket="delcrash", Key=f"k{i}", Body=b"v%d" % i)
        for i in range(0, 20, 2):
            s3.delete_object(Bucket="delcrash", Key=f"k{i}")
        s3.put_object(Bucket="delcrash", Key="k1", Body=b"overwritten")
        gw.kill(signal.SIGKILL)
        gw.start()
        s3 = gw.client()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="delcrash").get("Contents", [])]
        assert sorted(keys) == sorted(f"k{i}" for i in range(1, 20, 2))
        assert s3.get_object(Bucket="delcrash", Key="k1")["Body"].read() == b"overwritten"
        assert s3.get_object(Bucket="delcrash", Key="k3")["Body"].read() == b"v3"
    finally:
        gw.stop()


def test_sigterm_drains_inflight_request(workdir):
    """A PUT whose body is half sent when SIGTERM arrives still completes, the
    gateway then exits 0, and the object is there after a restart."""
    gw = Gateway(workdir)
    try:
        gw.start()
        s3 = gw.client()
        s3.create_bucket(Bucket="drain")
        data = os.urandom(4 * MiB)
        path = "/drain/inflight"
        head = gw.raw_head("PUT", path, len(data))
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
        resp = b""
        try:
            sock.sendall(head + data[: len(data) // 2])
            time.sleep(0.3)
            gw.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            sock.sendall(data[len(data) // 2:])
            while b"\r\n\r\n" not in resp:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                resp += chunk
        except OSError as e:
            resp = f"connection error: {e!r}".encode()
        finally:
            sock.close()
        assert resp.startswith(b"HTTP/1.1 200"), \
            f"the in-flight PUT was not completed after SIGTERM: {resp[:500]!r}; log: {gw.log_tail()}"
        try:
            rc = gw.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = "timeout"
        assert rc == 0, f"exit status after SIGTERM: {rc}: {gw.log_tail()}"
        gw.start()
        assert gw.client().get_object(Bucket="drain", Key="inflight")["Body"].read() == data
    finally:
        gw.stop()
