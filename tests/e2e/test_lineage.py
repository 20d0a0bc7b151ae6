"""Lineage records (issue 4, "Lineage"; docs/LINEAGE.md): GET /bucket/key?lineage
returns a key's signed chain, `cairn lineage verify` checks a saved copy
offline, and a version row edited directly in the SQLite file is caught.
A multipart upload of UploadPartCopy parts gets a version 2 record that
names every source version.

Starts its OWN gateway (gateway.Gateway: free port of 127.0.0.1, fresh
data directory), since it stops it to edit meta.db. Requests are SigV4-signed
by botocore (s3raw.Signer through Gateway.sign).
"""

import base64
import json
import os
import sqlite3
import subprocess

import pytest

from gateway import Gateway, cairn_bin

BUCKET = "lineage-e2e"
KEY = "docs/report.txt"


def lineage(gw, key=KEY):
    r = gw.request("GET", f"/{BUCKET}/{key}", "lineage")
    return r


def verify(path, *args):
    p = subprocess.run([cairn_bin(), "lineage", "verify", path, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def save(tmp_path, name, body):
    path = os.path.join(str(tmp_path), name)
    with open(path, "wb") as f:
        f.write(body)
    return path


@pytest.fixture
def gw(tmp_path):
    g = Gateway(str(tmp_path), "gw").start()
    yield g
    g.stop()


def populate(gw):
    s3 = gw.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two two", b"three three three"):
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Metadata={"note": "not covered"})
    s3.put_object(Bucket=BUCKET, Key="src.txt", Body=b"copied bytes")
    s3.copy_object(Bucket=BUCKET, Key=KEY, CopySource={"Bucket": BUCKET, "Key": "src.txt"})
    return s3


def status_of(r):
    return r.status


def test_pubkey_command_and_log(gw):
    p = subprocess.run([cairn_bin(), "lineage", "pubkey", "--data", gw.data_dir], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    pub = p.stdout.strip()
    assert len(pub) == 64
    assert pub in gw.stderr() + gw.stdout()
    assert oct(os.stat(os.path.join(gw.data_dir, "region.key")).st_mode & 0o777) == "0o600"
    for sub in (["--help"], ["pubkey", "--help"], ["verify", "--help"]):
        h = subprocess.run([cairn_bin(), "lineage", *sub], capture_output=True, text=True)
        assert h.returncode == 0 and "usage" in h.stdout


def test_unknown_key_is_nosuchkey(gw):
    populate(gw)
    r = lineage(gw, "no/such/key")
    assert r.status == 404 and b"NoSuchKey" in r.body


def test_chain_verifies_then_tamper_is_caught(gw, tmp_path):
    populate(gw)
    r = lineage(gw)
    assert r.status == 200, r.body
    doc = json.loads(r.body)
    recs = doc["records"]
    assert len(recs) == 4
    assert recs[0]["derived_from_hash"] != "" and recs[1]["derived_from_hash"] == ""
    for newer, older in zip(recs, recs[1:]):
        assert newer["parent_hash"] == older["record_hash"]
    assert recs[-1]["parent_hash"] == ""
    assert "note" not in json.dumps(doc)
    pub = subprocess.run([cairn_bin(), "lineage", "pubkey", "--data", gw.data_dir],
                         capture_output=True, text=True).stdout.strip()
    assert doc["region_public_key"] == pub
    good = save(tmp_path, "good.json", r.body)
    rc, out = verify(good, "--pubkey", pub)
    assert rc == 0 and out.startswith("OK"), out

    # a wrong key fails the first record
    rc, out = verify(good, "--pubkey", "11" * 32)
    assert rc == 1 and "signature" in out, out

    # edit the second newest version in the store while the gateway is down
    victim = recs[1]["version_id"]
    assert gw.terminate() == 0
    db = sqlite3.connect(os.path.join(gw.data_dir, "meta.db"))
    db.execute("UPDATE versions SET size = size + 1 WHERE version_id = ?", (victim,))
    db.commit()
    db.close()
    gw.start()
    r = lineage(gw)
    assert r.status == 200, r.body
    rc, out = verify(save(tmp_path, "bad.json", r.body), "--pubkey", pub)
    assert rc == 1, out
    assert f"BAD version {victim}" in out and "altered" in out, out


def test_broken_parent_link_in_document(gw, tmp_path):
    populate(gw)
    doc = json.loads(lineage(gw).body)
    del doc["records"][1]  # drop a record: the newest no longer links to the next
    rc, out = verify(save(tmp_path, "gap.json", json.dumps(doc).encode()))
    assert rc == 1 and "parent link" in out, out
    assert doc["records"][0]["version_id"] in out


MIB = 1024 * 1024


def multipart_of_copies(s3):
    """Parts 1 and 2 copied from two versions of src.bin, part 3 uploaded."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    va = s3.put_object(Bucket=BUCKET, Key="src.bin", Body=b"a" * (5 * MIB))["VersionId"]
    vb = s3.put_object(Bucket=BUCKET, Key="src.bin", Body=b"b" * (5 * MIB))["VersionId"]
    key = "joined.bin"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for n, vid in ((1, va), (2, vb)):
        r = s3.upload_part_copy(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n,
                                CopySource={"Bucket": BUCKET, "Key": "src.bin", "VersionId": vid})
        parts.append({"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]})
    r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=3, Body=b"tail")
    parts.append({"PartNumber": 3, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
    return key, va, vb


def test_multipart_of_copies_names_both_sources(gw, tmp_path):
    s3 = gw.client()
    key, va, vb = multipart_of_copies(s3)
    src = {r["version_id"]: r["record_hash"] for r in json.loads(lineage(gw, "src.bin").body)["records"]}
    r = lineage(gw, key)
    assert r.status == 200, r.body
    doc = json.loads(r.body)
    (rec,) = doc["records"]
    assert rec["format"] == "cairn-lineage-v2"
    assert rec["derived_from_hashes"] == sorted([src[va], src[vb]])
    assert "derived_from_hash" not in rec
    canonical = base64.b64decode(rec["canonical"])
    assert canonical.startswith(b"cairn-lineage-v2\n") and b"sources 1:2\n" in canonical
    pub = subprocess.run([cairn_bin(), "lineage", "pubkey", "--data", gw.data_dir],
                         capture_output=True, text=True).stdout.strip()
    rc, out = verify(save(tmp_path, "mp.json", r.body), "--pubkey", pub)
    assert rc == 0 and out.startswith("OK 1 records"), out

    # a source hash edited in the saved document no longer verifies (the
    # last digit, so the list stays in order and the hash check is what fails)
    h = rec["derived_from_hashes"][1]
    rec["derived_from_hashes"][1] = h[:-1] + ("0" if h[-1] != "0" else "1")
    rc, out = verify(save(tmp_path, "mp-bad.json", json.dumps(doc).encode()), "--pubkey", pub)
    assert rc == 1 and f"BAD version {rec['version_id']}" in out and "altered" in out, out

    # nor does one dropped (the record would then read as version 1)
    rec["derived_from_hashes"] = [h]
    rc, out = verify(save(tmp_path, "mp-drop.json", json.dumps(doc).encode()), "--pubkey", pub)
    assert rc == 1 and "BAD version" in out, out
