"""S3 versioning end to end with boto3 (suite "versioning" of tests/e2e/run.sh).

Covers PutBucketVersioning / GetBucketVersioning, version ids on PUT, COPY and
CompleteMultipartUpload, versionId on GET / HEAD / DELETE / copy source /
tagging, delete markers (404 and 405 answers with their headers), the null
version in unversioned and suspended buckets, DeleteObjects with versions,
ListObjectVersions (order, prefix, delimiter, paging), and that deleting a
version releases its blob while overwriting in an enabled bucket does not
(read from the gateway's metadata file, which run.sh places at CAIRN_DATA_DIR).
"""

import hashlib
import os
import re
import sqlite3
import urllib.parse

import pytest
from botocore.exceptions import ClientError

import s3raw
from conftest import env, new_bucket_name, purge

VID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
UNKNOWN_VID = "A" * 32


@pytest.fixture
def plain(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    purge(s3, name)


@pytest.fixture
def vbucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    purge(s3, name)


def put(s3, b, k, body):
    return s3.put_object(Bucket=b, Key=k, Body=body)


def get(s3, b, k, vid=None):
    kw = {"VersionId": vid} if vid else {}
    return s3.get_object(Bucket=b, Key=k, **kw)["Body"].read()


def error_of(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["ResponseMetadata"]["HTTPHeaders"]


def versions(s3, b, **kw):
    r = s3.list_object_versions(Bucket=b, **kw)
    return r, [(v["Key"], v["VersionId"]) for v in r.get("Versions", [])], \
        [(m["Key"], m["VersionId"]) for m in r.get("DeleteMarkers", [])]


def blob_state(body):
    """State of the blob holding body in the gateway's metadata ('live', 'dead' or None when gone)."""
    path = os.path.join(env("CAIRN_DATA_DIR"), "meta.db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute("SELECT state FROM blobs WHERE sha256 = ? AND state != 'pending'",
                         (hashlib.sha256(body).hexdigest(),)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


# ---- 1. bucket versioning -------------------------------------------------

def test_never_versioned_bucket_is_empty_config(s3, plain):
    r = s3.get_bucket_versioning(Bucket=plain)
    assert "Status" not in r
    assert "MFADelete" not in r


def test_enable_and_suspend(s3, plain):
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=plain)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=plain)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=plain)["Status"] == "Enabled"


def test_bad_versioning_bodies_are_malformed(s3, plain):
    code, status, _ = error_of(s3.put_bucket_versioning, Bucket=plain,
                               VersioningConfiguration={"Status": "Bogus"})
    assert (code, status) == ("MalformedXML", 400)
    for body in (b"<VersioningConfiguration><Status>Enabled", b"<Other><Status>Enabled</Status></Other>",
                 b"<VersioningConfiguration/>"):
        r = s3raw.request("PUT", f"/{plain}", "versioning", body=body)
        assert r.status == 400 and b"<Code>MalformedXML</Code>" in r.body, r
    assert "Status" not in s3.get_bucket_versioning(Bucket=plain)


def test_mfa_delete(s3, plain):
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=plain)["Status"] == "Enabled"
    code, status, _ = error_of(s3.put_bucket_versioning, Bucket=plain,
                               VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert (code, status) == ("NotImplemented", 501)


def test_no_such_bucket(s3):
    code, status, _ = error_of(s3.put_bucket_versioning, Bucket=new_bucket_name(),
                               VersioningConfiguration={"Status": "Enabled"})
    assert (code, status) == ("NoSuchBucket", 404)


# ---- 2. version ids on writes -----------------------------------------------

def test_put_returns_version_ids(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")["VersionId"]
    v2 = put(s3, vbucket, "k", b"two")["VersionId"]
    assert VID_RE.match(v1) and VID_RE.match(v2) and v1 != v2
    assert get(s3, vbucket, "k") == b"two"
    assert get(s3, vbucket, "k", v1) == b"one"
    r = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert r["VersionId"] == v1
    assert s3.head_object(Bucket=vbucket, Key="k")["VersionId"] == v2
    assert s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)["ContentLength"] == 3


def test_unversioned_bucket_uses_null(s3, plain):
    r = put(s3, plain, "k", b"one")
    assert "VersionId" not in r
    put(s3, plain, "k", b"two")
    _, vs, dms = versions(s3, plain)
    assert vs == [("k", "null")] and dms == []
    assert get(s3, plain, "k", "null") == b"two"


def test_suspended_put_replaces_only_null(s3, plain):
    put(s3, plain, "k", b"null-first")
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    v1 = put(s3, plain, "k", b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"})
    r = put(s3, plain, "k", b"two")
    assert r.get("VersionId", "null") == "null"
    put(s3, plain, "k", b"three")
    r, vs, _ = versions(s3, plain)
    assert vs == [("k", "null"), ("k", v1)]
    assert [v["IsLatest"] for v in r["Versions"]] == [True, False]
    assert get(s3, plain, "k") == b"three"
    assert get(s3, plain, "k", "null") == b"three"
    assert get(s3, plain, "k", v1) == b"one"


def test_copy_gets_version_and_reads_source_version(s3, vbucket):
    v1 = put(s3, vbucket, "src", b"old source")["VersionId"]
    put(s3, vbucket, "src", b"new source")
    r = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert VID_RE.match(r["VersionId"]) and r["VersionId"] != v1
    assert r["CopySourceVersionId"] == v1
    assert get(s3, vbucket, "dst") == b"old source"
    assert get(s3, vbucket, "dst", r["VersionId"]) == b"old source"
    code, status, _ = error_of(s3.copy_object, Bucket=vbucket, Key="dst2",
                               CopySource={"Bucket": vbucket, "Key": "src", "VersionId": UNKNOWN_VID})
    assert (code, status) == ("NoSuchVersion", 404)


def test_restore_old_version_by_copy_onto_itself(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"first")["VersionId"]
    put(s3, vbucket, "k", b"second")
    r = s3.copy_object(Bucket=vbucket, Key="k", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": v1})
    assert get(s3, vbucket, "k") == b"first"
    _, vs, _ = versions(s3, vbucket)
    assert len(vs) == 3 and vs[0] == ("k", r["VersionId"])


def test_complete_multipart_gets_version(s3, vbucket):
    old = put(s3, vbucket, "mp", b"before")["VersionId"]
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    p1 = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=1, Body=b"a" * (5 << 20))
    p2 = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=2, Body=b"tail")
    r = s3.complete_multipart_upload(
        Bucket=vbucket, Key="mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert VID_RE.match(r["VersionId"]) and r["VersionId"] != old
    assert s3.head_object(Bucket=vbucket, Key="mp", VersionId=r["VersionId"])["ContentLength"] == (5 << 20) + 4
    assert get(s3, vbucket, "mp", old) == b"before"


# ---- 3. versionId on reads --------------------------------------------------

def test_unknown_version_is_no_such_version(s3, vbucket):
    put(s3, vbucket, "k", b"x")
    for fn in (s3.get_object, s3.delete_object, s3.get_object_tagging):
        code, status, _ = error_of(fn, Bucket=vbucket, Key="k", VersionId=UNKNOWN_VID)
        assert (code, status) == ("NoSuchVersion", 404), fn
    code, status, _ = error_of(s3.head_object, Bucket=vbucket, Key="k", VersionId=UNKNOWN_VID)
    assert status == 404
    code, status, _ = error_of(s3.get_object, Bucket=vbucket, Key="k", VersionId="null")
    assert (code, status) == ("NoSuchVersion", 404)


def test_tagging_by_version(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")["VersionId"]
    v2 = put(s3, vbucket, "k", b"two")["VersionId"]
    r = s3.put_object_tagging(Bucket=vbucket, Key="k", VersionId=v1,
                              Tagging={"TagSet": [{"Key": "era", "Value": "old"}]})
    assert r["VersionId"] == v1
    r = s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=v1)
    assert r["TagSet"] == [{"Key": "era", "Value": "old"}] and r["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=v2)["TagSet"] == []
    assert s3.get_object_tagging(Bucket=vbucket, Key="k")["TagSet"] == []


# ---- 4. delete markers and deleting versions --------------------------------

def test_delete_creates_marker(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")["VersionId"]
    r = s3.delete_object(Bucket=vbucket, Key="k")
    assert r["DeleteMarker"] is True
    mk = r["VersionId"]
    assert VID_RE.match(mk) and mk != v1
    code, status, hdrs = error_of(s3.get_object, Bucket=vbucket, Key="k")
    assert (code, status) == ("NoSuchKey", 404)
    assert hdrs.get("x-amz-delete-marker") == "true"
    assert hdrs.get("x-amz-version-id") == mk
    code, status, hdrs = error_of(s3.get_object, Bucket=vbucket, Key="k", VersionId=mk)
    assert (code, status) == ("MethodNotAllowed", 405)
    assert hdrs.get("x-amz-delete-marker") == "true"
    assert "last-modified" in hdrs
    _, status, hdrs = error_of(s3.head_object, Bucket=vbucket, Key="k", VersionId=mk)
    assert status == 405 and hdrs.get("x-amz-delete-marker") == "true"
    _, status, hdrs = error_of(s3.head_object, Bucket=vbucket, Key="k")
    assert status == 404 and hdrs.get("x-amz-delete-marker") == "true"
    assert get(s3, vbucket, "k", v1) == b"one"
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)
    code, status, _ = error_of(s3.copy_object, Bucket=vbucket, Key="c",
                               CopySource={"Bucket": vbucket, "Key": "k", "VersionId": mk})
    assert (code, status) == ("InvalidRequest", 400)
    code, status, _ = error_of(s3.copy_object, Bucket=vbucket, Key="c", CopySource={"Bucket": vbucket, "Key": "k"})
    assert (code, status) == ("NoSuchKey", 404)
    # removing the marker by id undeletes the key
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=mk)
    assert r["DeleteMarker"] is True and r["VersionId"] == mk
    assert get(s3, vbucket, "k") == b"one"


def test_delete_version_promotes_next_newest(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")["VersionId"]
    v2 = put(s3, vbucket, "k", b"two")["VersionId"]
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert r["VersionId"] == v2 and "DeleteMarker" not in r
    assert get(s3, vbucket, "k") == b"one"
    r, vs, _ = versions(s3, vbucket)
    assert vs == [("k", v1)] and r["Versions"][0]["IsLatest"] is True
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    code, status, hdrs = error_of(s3.get_object, Bucket=vbucket, Key="k")
    assert (code, status) == ("NoSuchKey", 404) and "x-amz-delete-marker" not in hdrs


def test_suspended_delete_makes_null_marker(s3, plain):
    put(s3, plain, "k", b"null body")
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    v1 = put(s3, plain, "k", b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"})
    r = s3.delete_object(Bucket=plain, Key="k")
    assert r["DeleteMarker"] is True
    _, vs, dms = versions(s3, plain)
    assert dms == [("k", "null")], "the null version became a null marker"
    assert vs == [("k", v1)]
    code, status, _ = error_of(s3.get_object, Bucket=plain, Key="k", VersionId="null")
    assert (code, status) == ("MethodNotAllowed", 405)


def test_delete_objects_with_versions(s3, vbucket):
    v1 = put(s3, vbucket, "a", b"a1")["VersionId"]
    v2 = put(s3, vbucket, "a", b"a2")["VersionId"]
    put(s3, vbucket, "b", b"b1")
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v1}, {"Key": "b"}, {"Key": "a", "VersionId": UNKNOWN_VID}]})
    deleted = {(d["Key"], d.get("VersionId")): d for d in r["Deleted"]}
    assert ("a", v1) in deleted and "DeleteMarker" not in deleted[("a", v1)]
    db = deleted[("b", None)]
    assert db["DeleteMarker"] is True and VID_RE.match(db["DeleteMarkerVersionId"])
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("a", "NoSuchVersion")]
    # deleting the marker by id reports it as one
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "b", "VersionId": db["DeleteMarkerVersionId"]}]})
    d = r["Deleted"][0]
    assert d["DeleteMarker"] is True and d["DeleteMarkerVersionId"] == db["DeleteMarkerVersionId"]
    assert get(s3, vbucket, "b") == b"b1"
    _, vs, _ = versions(s3, vbucket, Prefix="a")
    assert vs == [("a", v2)]


# ---- 5. ListObjectVersions --------------------------------------------------

def fill(s3, b):
    ids = {"a": []}
    for body in (b"1", b"2", b"3"):
        ids["a"].insert(0, put(s3, b, "a", body)["VersionId"])
    ids["a-marker"] = s3.delete_object(Bucket=b, Key="a")["VersionId"]
    for k in ("dir/x", "dir/y", "dir/sub/z", "z"):
        ids[k] = put(s3, b, k, k.encode())["VersionId"]
    return ids


def test_list_versions_order_and_latest(s3, vbucket):
    ids = fill(s3, vbucket)
    r, vs, dms = versions(s3, vbucket)
    assert vs == [("a", i) for i in ids["a"]] + [("dir/sub/z", ids["dir/sub/z"]), ("dir/x", ids["dir/x"]),
                                                   ("dir/y", ids["dir/y"]), ("z", ids["z"])]
    assert dms == [("a", ids["a-marker"])]
    assert r["DeleteMarkers"][0]["IsLatest"] is True
    assert [v["IsLatest"] for v in r["Versions"]] == [False, False, False, True, True, True, True]
    assert r["IsTruncated"] is False
    v = r["Versions"][0]
    assert v["Size"] == 1 and v["ETag"] == '"%s"' % hashlib.md5(b"3").hexdigest()
    assert v["StorageClass"] == "STANDARD" and "Owner" in v


def test_list_versions_prefix_delimiter(s3, vbucket):
    ids = fill(s3, vbucket)
    r, vs, dms = versions(s3, vbucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    assert vs == [("a", i) for i in ids["a"]] + [("z", ids["z"])]
    r, vs, dms = versions(s3, vbucket, Prefix="dir/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"]
    assert [k for k, _ in vs] == ["dir/x", "dir/y"] and dms == []
    assert r["Prefix"] == "dir/" and r["Delimiter"] == "/"


def test_list_versions_paging(s3, vbucket):
    ids = fill(s3, vbucket)
    _, all_vs, all_dms = versions(s3, vbucket)
    r = s3.list_object_versions(Bucket=vbucket, MaxKeys=2)
    assert r["IsTruncated"] is True and r["MaxKeys"] == 2
    assert r["NextKeyMarker"] == "a" and r["NextVersionIdMarker"] == ids["a"][0]
    r2 = s3.list_object_versions(Bucket=vbucket, MaxKeys=2, KeyMarker="a", VersionIdMarker=ids["a"][0])
    assert [(v["Key"], v["VersionId"]) for v in r2["Versions"]] == [("a", ids["a"][1]), ("a", ids["a"][2])]
    assert r2["KeyMarker"] == "a" and r2["VersionIdMarker"] == ids["a"][0]
    got_vs, got_dms, pages = [], [], 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": 3}):
        pages += 1
        got_vs += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        got_dms += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    assert got_vs == all_vs and got_dms == all_dms and pages == 3
    r = s3.list_object_versions(Bucket=vbucket, KeyMarker="a")
    assert [k for k, _ in versions(s3, vbucket, KeyMarker="a")[1]] == ["dir/sub/z", "dir/x", "dir/y", "z"]
    assert "DeleteMarkers" not in r
    r = s3.list_object_versions(Bucket=vbucket, MaxKeys=1, Delimiter="/", KeyMarker="a", VersionIdMarker=ids["a"][2])
    assert r["CommonPrefixes"] == [{"Prefix": "dir/"}] and r["NextKeyMarker"] == "dir/"
    assert "NextVersionIdMarker" not in r


def test_list_versions_bad_markers(s3, vbucket):
    put(s3, vbucket, "a", b"x")
    code, status, _ = error_of(s3.list_object_versions, Bucket=vbucket, KeyMarker="a", VersionIdMarker=UNKNOWN_VID)
    assert (code, status) == ("InvalidArgument", 400)
    code, status, _ = error_of(s3.list_object_versions, Bucket=vbucket, VersionIdMarker=UNKNOWN_VID)
    assert (code, status) == ("InvalidArgument", 400)


def test_list_versions_url_encoding(s3, vbucket):
    key = "sp ace/\x01ctl"
    put(s3, vbucket, key, b"x")
    r = s3raw.request("GET", f"/{vbucket}", "encoding-type=url&versions=")
    assert r.status == 200, r
    m = re.search(rb"<Key>([^<]*)</Key>", r.body)
    assert m and b"\x01" not in m.group(1) and b" " not in m.group(1), r.body
    assert urllib.parse.unquote_plus(m.group(1).decode()) == key
    assert b"<EncodingType>url</EncodingType>" in r.body
    _, vs, _ = versions(s3, vbucket)  # boto3 asks for url encoding and decodes
    assert vs[0][0] == key


# ---- 6. blob references -----------------------------------------------------

def test_delete_version_releases_blob(s3, vbucket):
    one, two = os.urandom(100 << 10), os.urandom(100 << 10)
    v1 = put(s3, vbucket, "big", one)["VersionId"]
    put(s3, vbucket, "big", two)
    assert blob_state(one) == "live", "an overwrite in an enabled bucket keeps the old version's blob"
    m = s3.delete_object(Bucket=vbucket, Key="big")["VersionId"]
    assert blob_state(one) == "live" and blob_state(two) == "live", "a delete marker releases nothing"
    s3.delete_object(Bucket=vbucket, Key="big", VersionId=v1)
    assert blob_state(one) in ("dead", None)
    assert blob_state(two) == "live"
    s3.delete_object(Bucket=vbucket, Key="big", VersionId=m)
    assert s3.get_object(Bucket=vbucket, Key="big")["Body"].read() == two


def test_unversioned_overwrite_releases_blob(s3, plain):
    one, two = os.urandom(100 << 10), os.urandom(100 << 10)
    put(s3, plain, "big", one)
    put(s3, plain, "big", two)
    assert blob_state(one) in ("dead", None)
    assert blob_state(two) == "live"


def test_empty_version_id_is_invalid(s3, vbucket):
    put(s3, vbucket, "k", b"x")
    for method in ("GET", "HEAD", "DELETE"):
        r = s3raw.request(method, f"/{vbucket}/k", "versionId=")
        assert r.status == 400, (method, r)
    assert get(s3, vbucket, "k") == b"x"


def test_suspended_marker_names_null(s3, plain):
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"})
    put(s3, plain, "k", b"x")
    r = s3.delete_object(Bucket=plain, Key="k")
    assert r["DeleteMarker"] is True and r["VersionId"] == "null"
    code, status, hdrs = error_of(s3.get_object, Bucket=plain, Key="k")
    assert (code, status) == ("NoSuchKey", 404) and hdrs.get("x-amz-delete-marker") == "true"
