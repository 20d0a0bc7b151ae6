"""boto3 (Debian's /usr/bin/python3) against a running cairn: every S3 operation of
issue 2, the signatures, and hostile input. AWS S3 is the reference for every
expectation. Run through tests/e2e/run.sh, which starts the gateway.

Errors are checked for HTTP status, S3 <Code> and x-amz-request-id; every
rejected write is followed by a check that nothing changed.
"""

import base64
import datetime
import gzip
import hashlib
import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import awscrt.checksums
import pytest
from botocore.exceptions import ClientError

import s3raw
from conftest import env, make_client, new_bucket_name

MiB = 1024 * 1024


# ---- helpers ----------------------------------------------------------------

def md5_hex(b):
    return hashlib.md5(b).hexdigest()


def b64(b):
    return base64.b64encode(b).decode()


def expect_error(status, code, fn, *args, **kwargs):
    """Call a boto3 operation that must fail with this status and S3 code(s)."""
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    meta = r["ResponseMetadata"]
    codes = {code} if isinstance(code, str) else set(code)
    assert meta["HTTPStatusCode"] == status, r
    assert r["Error"]["Code"] in codes, r
    assert meta["HTTPHeaders"].get("x-amz-request-id"), f"no x-amz-request-id: {meta['HTTPHeaders']}"
    return r


def expect_raw_error(resp, status, code):
    codes = {code} if isinstance(code, str) else set(code)
    assert resp.status == status, resp
    assert resp.code in codes, resp
    assert resp.request_id, f"no x-amz-request-id: {resp}"


def get_body(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def keys_of(s3, bucket, **kw):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def put(s3, bucket, key, body=b"", **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, **kw)


def urlfetch(url, method="GET", data=None, headers=None):
    """-> (status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def xml_code(body):
    return s3raw.Response(0, {}, body).code


def path(bucket, key=""):
    return f"/{bucket}/{s3raw.quote_key(key)}" if key else f"/{bucket}"


# ---- service endpoints --------------------------------------------------------

def test_health_ok():
    r = s3raw.send("GET", "/health")
    assert r.status == 200


def test_metrics_prometheus_text(s3, bucket):
    put(s3, bucket, "m", b"x")
    r = s3raw.send("GET", "/metrics")
    assert r.status == 200
    text = r.body.decode()
    assert "# TYPE" in text and "# HELP" in text, text[:500]
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    # Requests by operation and status, and a latency histogram (issue 2).
    assert re.search(r'_bucket\{[^}]*le="', text), "no histogram buckets in /metrics"
    assert re.search(r'^\w+_total\{[^}]+\} [0-9]', text, re.M), "no counters by operation/status in /metrics"


def test_anonymous_request_is_denied(bucket):
    r = s3raw.send("GET", path(bucket))
    expect_raw_error(r, 403, "AccessDenied")
    r = s3raw.send("PUT", path(bucket, "anon"), body=b"x")
    expect_raw_error(r, 403, "AccessDenied")
    assert s3raw.request("HEAD", path(bucket, "anon")).status == 404


# ---- buckets ----------------------------------------------------------------

def test_list_buckets_shows_created_bucket(s3, bucket):
    r = s3.list_buckets()
    names = [b["Name"] for b in r["Buckets"]]
    assert bucket in names
    b = next(b for b in r["Buckets"] if b["Name"] == bucket)
    assert isinstance(b["CreationDate"], datetime.datetime)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - b["CreationDate"]).total_seconds()) < 600
    assert r["Owner"]["ID"]


def test_create_bucket_with_matching_location_constraint(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": env("CAIRN_REGION")})
    try:
        s3.head_bucket(Bucket=name)
        loc = s3.get_bucket_location(Bucket=name)["LocationConstraint"]
        assert loc in (None, "", env("CAIRN_REGION"))
    finally:
        s3.delete_bucket(Bucket=name)


def test_create_bucket_with_foreign_location_constraint_rejected(s3):
    name = new_bucket_name()
    expect_error(400, ("IllegalLocationConstraintException", "InvalidLocationConstraint"),
                 s3.create_bucket, Bucket=name,
                 CreateBucketConfiguration={"LocationConstraint": "ap-southeast-2"})
    expect_error(404, "404", s3.head_bucket, Bucket=name)


def test_create_bucket_twice_is_already_owned(s3, bucket):
    put(s3, bucket, "keep", b"still here")
    expect_error(409, "BucketAlreadyOwnedByYou", s3.create_bucket, Bucket=bucket)
    assert get_body(s3, bucket, "keep") == b"still here"


@pytest.mark.parametrize("name", [
    "ab", "a" * 64, "UpperCase", "under_score", "-leading-dash", "trailing-dash-",
    "double..dot", "192.168.5.4", "xn--punycode-prefix", "sthree-prefix",
    "suffix-s3alias", ".leading-dot",
])
def test_create_bucket_invalid_name(s3, name):
    expect_error(400, "InvalidBucketName", s3.create_bucket, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_head_bucket_existing_and_missing(s3, bucket):
    r = s3.head_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_error(404, "404", s3.head_bucket, Bucket=new_bucket_name())


def test_operations_on_missing_bucket(s3):
    missing = new_bucket_name()
    expect_error(404, "NoSuchBucket", s3.list_objects_v2, Bucket=missing)
    expect_error(404, "NoSuchBucket", s3.put_object, Bucket=missing, Key="k", Body=b"x")
    expect_error(404, "NoSuchBucket", s3.get_object, Bucket=missing, Key="k")
    expect_error(404, "NoSuchBucket", s3.delete_bucket, Bucket=missing)
    assert missing not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_bucket_not_empty_then_ok(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    put(s3, name, "obj", b"data")
    expect_error(409, "BucketNotEmpty", s3.delete_bucket, Bucket=name)
    assert get_body(s3, name, "obj") == b"data"
    s3.delete_object(Bucket=name, Key="obj")
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(404, "404", s3.head_bucket, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_bucket_with_pending_upload_is_not_empty_or_aborts(s3):
    # Either the bucket counts as not empty, or deleting it takes the upload
    # with it: a re-created bucket of that name must not show the old upload.
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    up = s3.create_multipart_upload(Bucket=name, Key="pending")["UploadId"]
    s3.upload_part(Bucket=name, Key="pending", UploadId=up, PartNumber=1, Body=b"part")
    try:
        s3.delete_bucket(Bucket=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "BucketNotEmpty", e.response
        s3.abort_multipart_upload(Bucket=name, Key="pending", UploadId=up)
        s3.delete_bucket(Bucket=name)
        return
    s3.create_bucket(Bucket=name)
    try:
        assert not s3.list_multipart_uploads(Bucket=name).get("Uploads")
        expect_error(404, "NoSuchUpload", s3.list_parts, Bucket=name, Key="pending", UploadId=up)
    finally:
        s3.delete_bucket(Bucket=name)


def test_get_bucket_location(s3, bucket):
    r = s3.get_bucket_location(Bucket=bucket)
    assert r["LocationConstraint"] in (None, "", env("CAIRN_REGION"))
    expect_error(404, "NoSuchBucket", s3.get_bucket_location, Bucket=new_bucket_name())


# ---- objects ------------------------------------------------------------------

def test_put_get_roundtrip_and_etag(s3, bucket):
    data = os.urandom(100_000)
    r = put(s3, bucket, "obj.bin", data)
    assert r["ETag"] == f'"{md5_hex(data)}"'
    g = s3.get_object(Bucket=bucket, Key="obj.bin")
    assert g["Body"].read() == data
    assert g["ContentLength"] == len(data)
    assert g["ETag"] == f'"{md5_hex(data)}"'
    assert g["ResponseMetadata"]["HTTPHeaders"].get("accept-ranges") == "bytes"
    assert abs((datetime.datetime.now(datetime.timezone.utc) - g["LastModified"]).total_seconds()) < 600


def test_put_empty_object(s3, bucket):
    r = put(s3, bucket, "empty", b"")
    assert r["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    g = s3.get_object(Bucket=bucket, Key="empty")
    assert g["ContentLength"] == 0 and g["Body"].read() == b""


def test_put_overwrites(s3, bucket):
    put(s3, bucket, "k", b"first version")
    put(s3, bucket, "k", b"second")
    assert get_body(s3, bucket, "k") == b"second"
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 6


def test_head_object(s3, bucket):
    data = b"head me" * 100
    put(s3, bucket, "h", data, ContentType="text/plain", Metadata={"k": "v"})
    h = s3.head_object(Bucket=bucket, Key="h")
    assert h["ContentLength"] == len(data)
    assert h["ETag"] == f'"{md5_hex(data)}"'
    assert h["ContentType"] == "text/plain"
    assert h["Metadata"] == {"k": "v"}
    assert h["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(data))


def test_get_and_head_missing_key(s3, bucket):
    expect_error(404, "404", s3.head_object, Bucket=bucket, Key="nope")
    r = expect_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="nope")
    assert r["Error"].get("Key") == "nope", r


def test_delete_object_and_idempotent_delete(s3, bucket):
    put(s3, bucket, "d", b"x")
    r = s3.delete_object(Bucket=bucket, Key="d")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_absent(s3, bucket, "d")
    r = s3.delete_object(Bucket=bucket, Key="d")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "d" not in keys_of(s3, bucket)


def test_user_metadata_roundtrip(s3, bucket):
    meta = {"color": "blue", "multi-word-name": "Value With Spaces", "n": "42"}
    put(s3, bucket, "m", b"x", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="m")["Metadata"] == meta
    assert s3.get_object(Bucket=bucket, Key="m")["Metadata"] == meta


def test_user_metadata_names_are_lowercased(s3, bucket):
    r = s3raw.request("PUT", path(bucket, "mc"), headers={"X-Amz-Meta-CamelCase": "Keep Value Case"},
                      body=b"x")
    assert r.status == 200, r
    h = s3.head_object(Bucket=bucket, Key="mc")
    assert h["Metadata"] == {"camelcase": "Keep Value Case"}


def test_metadata_too_large_rejected(s3, bucket):
    # AWS limits user metadata to 2 KiB.
    expect_error(400, "MetadataTooLarge", s3.put_object, Bucket=bucket, Key="big-meta", Body=b"x",
                 Metadata={"a": "v" * 1500, "b": "w" * 1500})
    assert_absent(s3, bucket, "big-meta")


def test_standard_headers_roundtrip(s3, bucket):
    expires = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    payload = gzip.compress(b"compressed text " * 100)
    put(s3, bucket, "std", payload, ContentType="text/html; charset=utf-8", ContentEncoding="gzip",
        ContentDisposition='attachment; filename="report.html"', ContentLanguage="de-CH",
        CacheControl="max-age=3600, must-revalidate", Expires=expires)
    for r in (s3.head_object(Bucket=bucket, Key="std"), s3.get_object(Bucket=bucket, Key="std")):
        assert r["ContentType"] == "text/html; charset=utf-8"
        assert r["ContentEncoding"] == "gzip"
        assert r["ContentDisposition"] == 'attachment; filename="report.html"'
        assert r["ContentLanguage"] == "de-CH"
        assert r["CacheControl"] == "max-age=3600, must-revalidate"
        assert r["Expires"] == expires
    assert get_body(s3, bucket, "std") == payload  # stored as sent, never decoded


def test_default_content_type(s3, bucket):
    r = s3raw.request("PUT", path(bucket, "noct"), body=b"x")
    assert r.status == 200, r
    ct = s3.head_object(Bucket=bucket, Key="noct")["ContentType"]
    assert ct in ("binary/octet-stream", "application/octet-stream")


def test_response_overrides_via_params(s3, bucket):
    put(s3, bucket, "o", b"override me", ContentType="text/plain")
    r = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                      ResponseContentDisposition='inline; filename="o.json"',
                      ResponseContentLanguage="fr", ResponseContentEncoding="identity",
                      ResponseCacheControl="no-cache",
                      ResponseExpires=datetime.datetime(2030, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc))
    assert r["Body"].read() == b"override me"
    assert r["ContentType"] == "application/json"
    assert r["ContentDisposition"] == 'inline; filename="o.json"'
    assert r["ContentLanguage"] == "fr"
    assert r["ContentEncoding"] == "identity"
    assert r["CacheControl"] == "no-cache"
    assert r["Expires"] == datetime.datetime(2030, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    # The stored object is untouched.
    assert s3.head_object(Bucket=bucket, Key="o")["ContentType"] == "text/plain"


def test_response_overrides_via_presigned_url(s3, bucket):
    put(s3, bucket, "p.txt", b"presigned override")
    url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "p.txt", "ResponseContentDisposition": 'attachment; filename="dl.txt"',
        "ResponseContentType": "application/x-test"})
    st, hd, body = urlfetch(url)
    assert st == 200, body
    assert body == b"presigned override"
    assert hd["content-disposition"] == 'attachment; filename="dl.txt"'
    assert hd["content-type"] == "application/x-test"


# ---- ranges -----------------------------------------------------------------

@pytest.fixture
def ranged(s3, bucket):
    data = bytes(range(256)) * 40  # 10240 bytes
    put(s3, bucket, "r", data)
    return bucket, data


@pytest.mark.parametrize("rng,sl", [
    ("bytes=0-0", slice(0, 1)),
    ("bytes=10-19", slice(10, 20)),
    ("bytes=10000-", slice(10000, None)),
    ("bytes=-100", slice(-100, None)),
    ("bytes=10000-99999", slice(10000, None)),  # end past the size is clipped
    ("bytes=-20000", slice(0, None)),  # suffix longer than the object
])
def test_range_get(s3, ranged, rng, sl):
    bucket, data = ranged
    r = s3.get_object(Bucket=bucket, Key="r", Range=rng)
    want = data[sl]
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["Body"].read() == want
    assert r["ContentLength"] == len(want)
    start = len(data) - len(want) if rng.startswith("bytes=-") else int(rng[6:].split("-")[0])
    assert r["ContentRange"] == f"bytes {start}-{start + len(want) - 1}/{len(data)}"


def test_range_unsatisfiable(s3, ranged):
    bucket, data = ranged
    expect_error(416, "InvalidRange", s3.get_object, Bucket=bucket, Key="r", Range="bytes=20000-20010")
    expect_error(416, "InvalidRange", s3.get_object, Bucket=bucket, Key="r", Range=f"bytes={len(data)}-")


def test_range_on_empty_object_unsatisfiable(s3, bucket):
    put(s3, bucket, "e", b"")
    expect_error(416, "InvalidRange", s3.get_object, Bucket=bucket, Key="e", Range="bytes=0-10")


def test_range_malformed_is_ignored(s3, ranged):
    # AWS ignores a Range header it cannot parse and returns the whole object.
    bucket, data = ranged
    r = s3.get_object(Bucket=bucket, Key="r", Range="bytes=abc")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["Body"].read() == data


def test_range_on_head(s3, ranged):
    bucket, data = ranged
    r = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-99")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentLength"] == 100
    # botocore 1.29's HeadObject model has no ContentRange member: read the header.
    assert r["ResponseMetadata"]["HTTPHeaders"].get("content-range") == f"bytes 0-99/{len(data)}"


# ---- conditional requests ------------------------------------------------------

@pytest.fixture
def cond(s3, bucket):
    put(s3, bucket, "c", b"conditional")
    h = s3.head_object(Bucket=bucket, Key="c")
    return bucket, h["ETag"], h["LastModified"]


def test_if_match(s3, cond):
    bucket, etag, _ = cond
    assert get_body(s3, bucket, "c", IfMatch=etag) == b"conditional"
    assert get_body(s3, bucket, "c", IfMatch="*") == b"conditional"
    expect_error(412, "PreconditionFailed", s3.get_object, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    expect_error(412, "412", s3.head_object, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')


def test_if_none_match(s3, cond):
    bucket, etag, _ = cond
    r = expect_error(304, "304", s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert r["ResponseMetadata"]["HTTPHeaders"].get("etag") == etag
    expect_error(304, "304", s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert get_body(s3, bucket, "c", IfNoneMatch='"0123456789abcdef0123456789abcdef"') == b"conditional"


def test_if_modified_since(s3, cond):
    bucket, _, lm = cond
    assert get_body(s3, bucket, "c", IfModifiedSince=lm - datetime.timedelta(days=1)) == b"conditional"
    expect_error(304, "304", s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=lm + datetime.timedelta(days=1))
    expect_error(304, "304", s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=lm)


def test_if_unmodified_since(s3, cond):
    bucket, _, lm = cond
    assert get_body(s3, bucket, "c", IfUnmodifiedSince=lm + datetime.timedelta(days=1)) == b"conditional"
    assert get_body(s3, bucket, "c", IfUnmodifiedSince=lm) == b"conditional"
    expect_error(412, "PreconditionFailed", s3.get_object, Bucket=bucket, Key="c",
                 IfUnmodifiedSince=lm - datetime.timedelta(days=1))


def test_conditional_precedence(s3, cond):
    # RFC 7232 / AWS: If-Match true wins over If-Unmodified-Since false, and
    # If-None-Match false (304) wins over If-Modified-Since true.
    bucket, etag, lm = cond
    assert get_body(s3, bucket, "c", IfMatch=etag,
                    IfUnmodifiedSince=lm - datetime.timedelta(days=1)) == b"conditional"
    expect_error(304, "304", s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag,
                 IfModifiedSince=lm - datetime.timedelta(days=1))


# ---- DeleteObjects ---------------------------------------------------------------

def test_delete_objects_verbose(s3, bucket):
    for k in ("a", "b", "c"):
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never-existed"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "never-existed"]
    assert not r.get("Errors")
    assert keys_of(s3, bucket) == ["c"]


def test_delete_objects_quiet(s3, bucket):
    for k in ("q1", "q2", "keep"):
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}], "Quiet": True})
    assert not r.get("Deleted")
    assert not r.get("Errors")
    assert keys_of(s3, bucket) == ["keep"]


def test_delete_objects_special_keys(s3, bucket):
    keys = ["sp ace", "ünï/cødé", "a&b<c>", "q'uo\"te"]
    for k in keys:
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert keys_of(s3, bucket) == []


def test_delete_objects_over_1000_keys_rejected(s3, bucket):
    put(s3, bucket, "k0", b"x")
    expect_error(400, "MalformedXML", s3.delete_objects, Bucket=bucket,
                 Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert keys_of(s3, bucket) == ["k0"]


# ---- CopyObject -------------------------------------------------------------------

@pytest.fixture
def src(s3, bucket):
    data = os.urandom(50_000)
    put(s3, bucket, "src", data, ContentType="image/png", Metadata={"origin": "source"},
        CacheControl="max-age=1", Tagging="t=1")
    return bucket, data


def test_copy_object_metadata_copy(s3, src, bucket2):
    bucket, data = src
    r = s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                       Metadata={"ignored": "because-COPY"})
    assert r["CopyObjectResult"]["ETag"] == f'"{md5_hex(data)}"'
    h = s3.head_object(Bucket=bucket2, Key="dst")
    assert h["Metadata"] == {"origin": "source"}
    assert h["ContentType"] == "image/png"
    assert h["CacheControl"] == "max-age=1"
    assert get_body(s3, bucket2, "dst") == data
    assert s3.get_object_tagging(Bucket=bucket2, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]


def test_copy_object_metadata_replace(s3, src):
    bucket, data = src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"new": "meta"}, ContentType="text/plain")
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"new": "meta"}
    assert h["ContentType"] == "text/plain"
    assert "CacheControl" not in h
    assert get_body(s3, bucket, "dst") == data
    # The source keeps its own metadata.
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"origin": "source"}


def test_copy_object_in_place_changes_metadata(s3, src):
    bucket, data = src
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"changed": "yes"}, ContentType="text/csv")
    h = s3.head_object(Bucket=bucket, Key="src")
    assert h["Metadata"] == {"changed": "yes"}
    assert h["ContentType"] == "text/csv"
    assert get_body(s3, bucket, "src") == data


def test_copy_object_to_itself_without_replace_is_invalid(s3, src):
    bucket, data = src
    expect_error(400, "InvalidRequest", s3.copy_object, Bucket=bucket, Key="src",
                 CopySource={"Bucket": bucket, "Key": "src"})
    h = s3.head_object(Bucket=bucket, Key="src")
    assert h["Metadata"] == {"origin": "source"}
    assert get_body(s3, bucket, "src") == data


def test_copy_source_conditions(s3, src):
    bucket, data = src
    h = s3.head_object(Bucket=bucket, Key="src")
    etag, lm = h["ETag"], h["LastModified"]
    cs = {"Bucket": bucket, "Key": "src"}
    day = datetime.timedelta(days=1)
    expect_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="c1", CopySource=cs,
                 CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    expect_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="c2", CopySource=cs,
                 CopySourceIfNoneMatch=etag)
    expect_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="c3", CopySource=cs,
                 CopySourceIfModifiedSince=lm + day)
    expect_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="c4", CopySource=cs,
                 CopySourceIfUnmodifiedSince=lm - day)
    for k in ("c1", "c2", "c3", "c4"):
        assert_absent(s3, bucket, k)
    s3.copy_object(Bucket=bucket, Key="ok1", CopySource=cs, CopySourceIfMatch=etag)
    s3.copy_object(Bucket=bucket, Key="ok2", CopySource=cs, CopySourceIfNoneMatch='"ffff"',
                   CopySourceIfModifiedSince=lm - day)
    s3.copy_object(Bucket=bucket, Key="ok3", CopySource=cs, CopySourceIfUnmodifiedSince=lm + day)
    for k in ("ok1", "ok2", "ok3"):
        assert get_body(s3, bucket, k) == data


def test_copy_missing_source(s3, bucket):
    expect_error(404, "NoSuchKey", s3.copy_object, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "missing"})
    expect_error(404, "NoSuchBucket", s3.copy_object, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": new_bucket_name(), "Key": "missing"})
    assert_absent(s3, bucket, "dst")


def test_copy_with_special_key_names(s3, bucket):
    key = "dir with space/ünïcode+plus&amp?.bin"
    put(s3, bucket, key, b"special")
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    assert get_body(s3, bucket, key + ".copy") == b"special"


def test_copy_then_overwrite_source_keeps_copy(s3, src):
    bucket, data = src
    s3.copy_object(Bucket=bucket, Key="snap", CopySource={"Bucket": bucket, "Key": "src"})
    put(s3, bucket, "src", b"new content")
    s3.delete_object(Bucket=bucket, Key="src")
    assert get_body(s3, bucket, "snap") == data


# ---- listing ---------------------------------------------------------------------

LIST_KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d", "e/f/g"]


@pytest.fixture
def listed(s3, bucket):
    for k in LIST_KEYS:
        put(s3, bucket, k, k.encode())
    return bucket


def test_list_v2_all(s3, listed):
    r = s3.list_objects_v2(Bucket=listed)
    assert [o["Key"] for o in r["Contents"]] == LIST_KEYS
    assert r["KeyCount"] == len(LIST_KEYS)
    assert r["IsTruncated"] is False
    o = r["Contents"][0]
    assert o["Size"] == 3 and o["ETag"] == f'"{md5_hex(b"a/1")}"'
    assert o["StorageClass"] == "STANDARD"
    assert "Owner" not in o  # only with FetchOwner


def test_list_v2_prefix_and_delimiter(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "e/"]
    assert r["KeyCount"] == 5
    r = s3.list_objects_v2(Bucket=listed, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    r = s3.list_objects_v2(Bucket=listed, Prefix="a/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2", "a/b/3"]
    r = s3.list_objects_v2(Bucket=listed, Prefix="zzz")
    assert "Contents" not in r and r["KeyCount"] == 0


def test_list_v2_pagination_max_keys(s3, listed):
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=listed, MaxKeys=2, **kw)
        pages += 1
        assert r["MaxKeys"] == 2
        assert len(r.get("Contents", [])) <= 2
        seen += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
        assert token
    assert seen == LIST_KEYS
    assert pages == 4


def test_list_v2_pagination_with_delimiter(s3, listed):
    items, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=listed, MaxKeys=1, Delimiter="/", **kw)
        got = [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        assert len(got) == 1, r
        items += got
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert items == ["a/", "b/", "c", "d", "e/"]


def test_list_v2_start_after(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, StartAfter="a/b/3")
    assert [o["Key"] for o in r["Contents"]] == ["b/1", "c", "d", "e/f/g"]
    assert r["StartAfter"] == "a/b/3"
    r = s3.list_objects_v2(Bucket=listed, StartAfter="b")
    assert [o["Key"] for o in r["Contents"]] == ["b/1", "c", "d", "e/f/g"]


def test_list_v2_fetch_owner(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, FetchOwner=True)
    assert all(o["Owner"]["ID"] for o in r["Contents"])


def test_list_v1(s3, listed):
    r = s3.list_objects(Bucket=listed)
    assert [o["Key"] for o in r["Contents"]] == LIST_KEYS
    assert r["IsTruncated"] is False
    assert all(o["Owner"]["ID"] for o in r["Contents"])  # v1 always lists the owner


def test_list_v1_marker_pagination(s3, listed):
    seen, marker = [], ""
    while True:
        r = s3.list_objects(Bucket=listed, MaxKeys=3, Marker=marker)
        keys = [o["Key"] for o in r.get("Contents", [])]
        assert len(keys) <= 3
        seen += keys
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or keys[-1]
    assert seen == LIST_KEYS
    r = s3.list_objects(Bucket=listed, Marker="c")
    assert [o["Key"] for o in r["Contents"]] == ["d", "e/f/g"]


def test_list_v1_delimiter_next_marker(s3, listed):
    r = s3.list_objects(Bucket=listed, Delimiter="/", MaxKeys=2)
    assert r["IsTruncated"] is True
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert r["NextMarker"] == "b/"
    r = s3.list_objects(Bucket=listed, Delimiter="/", Marker=r["NextMarker"])
    assert [o["Key"] for o in r["Contents"]] == ["c", "d"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["e/"]


SPECIAL_KEYS = ["plain", "sp ace/x y", "ünïcödé/ключ ✓", "plus+sign", "a&b<c>'\"", "percent%2F", "tab\there"]


def test_list_special_keys_roundtrip(s3, bucket):
    # botocore asks for encoding-type=url itself and decodes the answer.
    for k in SPECIAL_KEYS:
        put(s3, bucket, k, k.encode())
    assert keys_of(s3, bucket) == sorted(SPECIAL_KEYS, key=lambda k: k.encode())
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == sorted(SPECIAL_KEYS, key=lambda k: k.encode())
    for k in SPECIAL_KEYS:
        assert get_body(s3, bucket, k) == k.encode()


def test_list_encoding_type_url_explicit(s3, bucket):
    # With EncodingType given by the caller botocore does not decode: we see the wire form.
    for k in SPECIAL_KEYS:
        put(s3, bucket, k, b"x")
    for op in (s3.list_objects_v2, s3.list_objects):
        r = op(Bucket=bucket, EncodingType="url")
        assert r["EncodingType"] == "url"
        wire = [o["Key"] for o in r["Contents"]]
        assert sorted(urllib.parse.unquote_plus(k) for k in wire) == sorted(SPECIAL_KEYS)
        for k in wire:
            assert " " not in k and "\t" not in k and "&" not in k and k.isascii(), k
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="sp ace/", Delimiter="/")
    assert urllib.parse.unquote_plus(r["Prefix"]) == "sp ace/"
    assert " " not in r["Prefix"]


def test_list_without_encoding_escapes_xml(s3, bucket):
    put(s3, bucket, "a&b<c>", b"x")
    r = s3raw.request("GET", path(bucket), query="list-type=2")
    assert r.status == 200, r
    assert b"<Key>a&amp;b&lt;c&gt;</Key>" in r.body, r.body


# ---- multipart -------------------------------------------------------------------

def mp_etag(parts):
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def upload_parts(s3, bucket, key, up, parts):
    out = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=p)
        assert r["ETag"] == f'"{md5_hex(p)}"'
        out.append({"PartNumber": i, "ETag": r["ETag"]})
    return out


def test_multipart_full_cycle(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="video/mp4",
                                    Metadata={"mp": "yes"})["UploadId"]
    assert up
    done = upload_parts(s3, bucket, "mp", up, parts)
    lp = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]] == \
        [(d["PartNumber"], len(parts[i]), d["ETag"]) for i, d in enumerate(done)]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("mp", up)]
    # Not visible before completion.
    assert_absent(s3, bucket, "mp")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": done})
    assert r["ETag"] == mp_etag(parts)
    assert r["Key"] == "mp" and r["Bucket"] == bucket
    g = s3.get_object(Bucket=bucket, Key="mp")
    assert g["Body"].read() == b"".join(parts)
    assert g["ETag"] == mp_etag(parts)
    assert g["ContentType"] == "video/mp4"
    assert g["Metadata"] == {"mp": "yes"}
    assert g["ContentLength"] == sum(map(len, parts))
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == mp_etag(parts)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    # Ranges across part boundaries.
    whole = b"".join(parts)
    r = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 10}-{10 * MiB + 9}")
    assert r["Body"].read() == whole[5 * MiB - 10:10 * MiB + 10]


def test_multipart_part_overwrite_uses_last(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="ow")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="ow", UploadId=up, PartNumber=1, Body=b"old" * 1000)
    p1 = os.urandom(5 * MiB)
    e1 = s3.upload_part(Bucket=bucket, Key="ow", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="ow", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    assert len(s3.list_parts(Bucket=bucket, Key="ow", UploadId=up)["Parts"]) == 2
    s3.complete_multipart_upload(Bucket=bucket, Key="ow", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert get_body(s3, bucket, "ow") == p1 + b"tail"


def test_multipart_list_parts_pagination(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    for n in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="lp", UploadId=up, PartNumber=n, Body=b"p%d" % n)
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2]
    assert r["IsTruncated"] is True
    assert int(r["NextPartNumberMarker"]) == 2
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3]
    assert r["IsTruncated"] is False
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=up)


def test_multipart_list_uploads_prefix(s3, bucket):
    u1 = s3.create_multipart_upload(Bucket=bucket, Key="x/one")["UploadId"]
    u2 = s3.create_multipart_upload(Bucket=bucket, Key="y/two")["UploadId"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="x/")
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("x/one", u1)]
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert sorted(u["UploadId"] for u in r["Uploads"]) == sorted([u1, u2])
    for k, u in (("x/one", u1), ("y/two", u2)):
        s3.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=u)


def test_upload_part_copy_with_range(s3, bucket):
    # Deliberate difference from AWS: a ranged UploadPartCopy references the
    # source's blobs without reading them (issue 4: its time must not grow
    # with the size), so its ETag identifies the extents rather than being the
    # MD5 of the bytes. It is still a distinct quoted 32-hex value that
    # Complete accepts, and the object's bytes are exact.
    source = os.urandom(10 * MiB + 100)
    put(s3, bucket, "copysrc", source)
    up = s3.create_multipart_upload(Bucket=bucket, Key="upc")["UploadId"]
    r = s3.upload_part_copy(Bucket=bucket, Key="upc", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "copysrc"},
                            CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    e1 = r["CopyPartResult"]["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', e1)
    r = s3.upload_part_copy(Bucket=bucket, Key="upc", UploadId=up, PartNumber=2,
                            CopySource={"Bucket": bucket, "Key": "copysrc"},
                            CopySourceRange=f"bytes={5 * MiB + 100}-{10 * MiB + 99}")
    e2 = r["CopyPartResult"]["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', e2) and e2 != e1
    e3 = s3.upload_part(Bucket=bucket, Key="upc", UploadId=up, PartNumber=3, Body=b"own bytes")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="upc", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (1, e1, 5 * MiB), (2, e2, 5 * MiB), (3, e3, 9)]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="upc", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e3}]})
    assert re.fullmatch(r'"[0-9a-f]{32}-3"', r["ETag"])
    want = [source[:5 * MiB], source[5 * MiB + 100:], b"own bytes"]
    assert get_body(s3, bucket, "upc") == b"".join(want)


def test_upload_part_copy_whole_object_and_bad_range(s3, bucket):
    source = os.urandom(1000)
    put(s3, bucket, "small", source)
    up = s3.create_multipart_upload(Bucket=bucket, Key="upc2")["UploadId"]
    e1 = s3.upload_part_copy(Bucket=bucket, Key="upc2", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "small"})["CopyPartResult"]["ETag"]
    assert e1 == f'"{md5_hex(source)}"'
    # AWS: 400 InvalidArgument "Range specified is not valid for source object of size".
    with pytest.raises(ClientError) as ei:
        s3.upload_part_copy(Bucket=bucket, Key="upc2", UploadId=up, PartNumber=2,
                            CopySource={"Bucket": bucket, "Key": "small"}, CopySourceRange="bytes=500-2000")
    r = ei.value.response
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) in \
        ((400, "InvalidArgument"), (400, "InvalidRange"), (416, "InvalidRange")), r
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="upc2", UploadId=up)["Parts"]] == [1]
    s3.complete_multipart_upload(Bucket=bucket, Key="upc2", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert get_body(s3, bucket, "upc2") == source


def test_multipart_entity_too_small(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    done = upload_parts(s3, bucket, "small", up, [b"a" * 1024, b"b" * 1024])
    expect_error(400, "EntityTooSmall", s3.complete_multipart_upload, Bucket=bucket, Key="small",
                 UploadId=up, MultipartUpload={"Parts": done})
    assert_absent(s3, bucket, "small")
    # The upload survives a failed completion.
    assert len(s3.list_parts(Bucket=bucket, Key="small", UploadId=up)["Parts"]) == 2
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=up)


def test_multipart_single_small_part_is_fine(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="one")["UploadId"]
    done = upload_parts(s3, bucket, "one", up, [b"only part"])
    r = s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=up, MultipartUpload={"Parts": done})
    assert r["ETag"] == mp_etag([b"only part"])
    assert get_body(s3, bucket, "one") == b"only part"


def test_multipart_invalid_part(s3, bucket):
    parts = [os.urandom(5 * MiB), b"end"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="ip")["UploadId"]
    done = upload_parts(s3, bucket, "ip", up, parts)
    bad_etag = [done[0], {"PartNumber": 2, "ETag": '"0123456789abcdef0123456789abcdef"'}]
    expect_error(400, "InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="ip",
                 UploadId=up, MultipartUpload={"Parts": bad_etag})
    missing = [done[0], {"PartNumber": 3, "ETag": done[1]["ETag"]}]
    expect_error(400, "InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="ip",
                 UploadId=up, MultipartUpload={"Parts": missing})
    assert_absent(s3, bucket, "ip")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="ip", UploadId=up, MultipartUpload={"Parts": done})
    assert r["ETag"] == mp_etag(parts)
    assert get_body(s3, bucket, "ip") == b"".join(parts)


def test_multipart_invalid_part_order(s3, bucket):
    parts = [os.urandom(5 * MiB), b"end"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="po")["UploadId"]
    done = upload_parts(s3, bucket, "po", up, parts)
    expect_error(400, "InvalidPartOrder", s3.complete_multipart_upload, Bucket=bucket, Key="po",
                 UploadId=up, MultipartUpload={"Parts": list(reversed(done))})
    assert_absent(s3, bucket, "po")
    s3.abort_multipart_upload(Bucket=bucket, Key="po", UploadId=up)


def test_multipart_subset_of_parts(s3, bucket):
    # Completing with parts 1 and 3 (part 2 uploaded but left out) is valid in S3.
    parts = [os.urandom(5 * MiB), b"left out", b"last"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="sub")["UploadId"]
    done = upload_parts(s3, bucket, "sub", up, parts)
    r = s3.complete_multipart_upload(Bucket=bucket, Key="sub", UploadId=up,
                                     MultipartUpload={"Parts": [done[0], done[2]]})
    assert r["ETag"] == mp_etag([parts[0], parts[2]])
    assert get_body(s3, bucket, "sub") == parts[0] + parts[2]


def test_multipart_abort(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    done = upload_parts(s3, bucket, "ab", up, [b"x" * 100])
    r = s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=up)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(404, "NoSuchUpload", s3.list_parts, Bucket=bucket, Key="ab", UploadId=up)
    expect_error(404, "NoSuchUpload", s3.upload_part, Bucket=bucket, Key="ab", UploadId=up,
                 PartNumber=2, Body=b"late")
    expect_error(404, "NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="ab",
                 UploadId=up, MultipartUpload={"Parts": done})
    assert_absent(s3, bucket, "ab")
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_multipart_unknown_upload_id(s3, bucket):
    expect_error(404, "NoSuchUpload", s3.upload_part, Bucket=bucket, Key="k", UploadId="does-not-exist",
                 PartNumber=1, Body=b"x")
    expect_error(404, "NoSuchUpload", s3.abort_multipart_upload, Bucket=bucket, Key="k",
                 UploadId="does-not-exist")


def test_multipart_part_number_out_of_range(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="pn")["UploadId"]
    for n in (0, 10001):
        expect_error(400, "InvalidArgument", s3.upload_part, Bucket=bucket, Key="pn", UploadId=up,
                     PartNumber=n, Body=b"x")
    assert not s3.list_parts(Bucket=bucket, Key="pn", UploadId=up).get("Parts")
    s3.abort_multipart_upload(Bucket=bucket, Key="pn", UploadId=up)


def test_multipart_complete_replaces_existing_object(s3, bucket):
    put(s3, bucket, "rep", b"old")
    up = s3.create_multipart_upload(Bucket=bucket, Key="rep")["UploadId"]
    done = upload_parts(s3, bucket, "rep", up, [b"new"])
    assert get_body(s3, bucket, "rep") == b"old"
    s3.complete_multipart_upload(Bucket=bucket, Key="rep", UploadId=up, MultipartUpload={"Parts": done})
    assert get_body(s3, bucket, "rep") == b"new"


# ---- tagging -------------------------------------------------------------------

def test_object_tagging(s3, bucket):
    put(s3, bucket, "t", b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "two words")]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "only", "Value": "one"}]
    r = s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert get_body(s3, bucket, "t") == b"x"


def test_object_tagging_missing_key(s3, bucket):
    expect_error(404, "NoSuchKey", s3.get_object_tagging, Bucket=bucket, Key="missing")
    expect_error(404, "NoSuchKey", s3.put_object_tagging, Bucket=bucket, Key="missing",
                 Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert_absent(s3, bucket, "missing")


def test_object_tagging_limits(s3, bucket):
    put(s3, bucket, "lim", b"x", Tagging="keep=me")
    too_many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    expect_error(400, ("BadRequest", "InvalidTag"), s3.put_object_tagging, Bucket=bucket, Key="lim",
                 Tagging=too_many)
    assert s3.get_object_tagging(Bucket=bucket, Key="lim")["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_bucket_tagging(s3, bucket):
    expect_error(404, "NoSuchTagSet", s3.get_bucket_tagging, Bucket=bucket)
    ts = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "e2e test"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": ts})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(ts, key=lambda t: t["Key"])
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(404, "NoSuchTagSet", s3.get_bucket_tagging, Bucket=bucket)


# ---- checksums and Content-MD5 --------------------------------------------------------

def local_checksum(algo, data):
    if algo == "CRC32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if algo == "CRC32C":
        return b64(awscrt.checksums.crc32c(data).to_bytes(4, "big"))
    if algo == "SHA1":
        return b64(hashlib.sha1(data).digest())
    return b64(hashlib.sha256(data).digest())


@pytest.mark.parametrize("algo", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_checksum_algorithm_roundtrip(s3, bucket, algo):
    data = os.urandom(300_000)
    want = local_checksum(algo, data)
    r = put(s3, bucket, "ck", data, ChecksumAlgorithm=algo)
    assert r.get(f"Checksum{algo}") == want
    g = s3.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert g.get(f"Checksum{algo}") == want
    assert g["Body"].read() == data  # botocore also validates the body against it
    h = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert h.get(f"Checksum{algo}") == want
    # Without ChecksumMode the checksum is not returned.
    g = s3.get_object(Bucket=bucket, Key="ck")
    assert f"Checksum{algo}" not in g


@pytest.mark.parametrize("algo", ["crc32", "crc32c", "sha1", "sha256"])
def test_wrong_checksum_header_rejected(s3, bucket, algo):
    put(s3, bucket, "ckw", b"original")
    wrong = local_checksum(algo.upper(), b"something else")
    r = s3raw.request("PUT", path(bucket, "ckw"), headers={f"x-amz-checksum-{algo}": wrong}, body=b"new body")
    expect_raw_error(r, 400, ("BadDigest", "XAmzContentChecksumMismatch"))
    assert get_body(s3, bucket, "ckw") == b"original"


def test_content_md5_ok(s3, bucket):
    data = b"md5 checked"
    r = put(s3, bucket, "md5", data, ContentMD5=b64(hashlib.md5(data).digest()))
    assert r["ETag"] == f'"{md5_hex(data)}"'


def test_content_md5_wrong_is_bad_digest(s3, bucket):
    put(s3, bucket, "md5", b"original")
    expect_error(400, "BadDigest", s3.put_object, Bucket=bucket, Key="md5", Body=b"replacement",
                 ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert get_body(s3, bucket, "md5") == b"original"
    expect_error(400, "BadDigest", s3.put_object, Bucket=bucket, Key="fresh", Body=b"replacement",
                 ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert_absent(s3, bucket, "fresh")


def test_content_md5_malformed_is_invalid_digest(s3, bucket):
    put(s3, bucket, "md5", b"original")
    expect_error(400, "InvalidDigest", s3.put_object, Bucket=bucket, Key="md5", Body=b"replacement",
                 ContentMD5="not-base64-md5")
    assert get_body(s3, bucket, "md5") == b"original"


def test_upload_part_wrong_md5(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="pm")["UploadId"]
    expect_error(400, "BadDigest", s3.upload_part, Bucket=bucket, Key="pm", UploadId=up, PartNumber=1,
                 Body=b"part", ContentMD5=b64(hashlib.md5(b"nope").digest()))
    assert not s3.list_parts(Bucket=bucket, Key="pm", UploadId=up).get("Parts")
    s3.abort_multipart_upload(Bucket=bucket, Key="pm", UploadId=up)


# ---- presigned URLs and signatures ------------------------------------------------------

def test_presigned_get(s3, bucket):
    put(s3, bucket, "pre/get me.txt", b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/get me.txt"},
                                    ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    st, hd, body = urlfetch(url)
    assert st == 200 and body == b"presigned body"
    assert hd["etag"] == f'"{md5_hex(b"presigned body")}"'


def test_presigned_put(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded"}, ExpiresIn=300)
    data = os.urandom(70_000)
    st, hd, body = urlfetch(url, method="PUT", data=data, headers={"Content-Type": "application/x-up"})
    assert st == 200, body
    assert hd["etag"] == f'"{md5_hex(data)}"'
    assert get_body(s3, bucket, "uploaded") == data


def test_presigned_expired(s3, bucket):
    put(s3, bucket, "exp", b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "exp"}, ExpiresIn=1)
    time.sleep(2.5)
    st, hd, body = urlfetch(url)
    assert st == 403 and xml_code(body) == "AccessDenied", body
    assert hd.get("x-amz-request-id")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "exp"}, ExpiresIn=1)
    time.sleep(2.5)
    st, hd, body = urlfetch(url, method="PUT", data=b"overwrite")
    assert st == 403 and xml_code(body) == "AccessDenied", body
    assert get_body(s3, bucket, "exp") == b"x"


def test_presigned_tampered(s3, bucket):
    put(s3, bucket, "tam", b"x")
    put(s3, bucket, "other", b"y")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "tam"}, ExpiresIn=300)
    st, _, body = urlfetch(url.replace("/tam?", "/other?"))
    assert st == 403 and xml_code(body) == "SignatureDoesNotMatch", body
    sig = url.split("X-Amz-Signature=")[1][:64]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    st, _, body = urlfetch(bad)
    assert st == 403 and xml_code(body) == "SignatureDoesNotMatch", body


def test_presigned_expires_over_seven_days_rejected(s3, bucket):
    put(s3, bucket, "long", b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "long"},
                                    ExpiresIn=7 * 24 * 3600 + 1)
    st, hd, body = urlfetch(url)
    assert st == 400 and xml_code(body) == "AuthorizationQueryParametersError", body
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "long"},
                                    ExpiresIn=7 * 24 * 3600)
    assert urlfetch(url)[0] == 200


def test_wrong_secret_signature_does_not_match(bucket):
    bad = make_client(secret_key="x" * 40)
    expect_error(403, "SignatureDoesNotMatch", bad.list_buckets)
    expect_error(403, "SignatureDoesNotMatch", bad.put_object, Bucket=bucket, Key="w", Body=b"x")
    s3 = make_client()
    assert_absent(s3, bucket, "w")


def test_unknown_access_key(bucket):
    bad = make_client(access_key="AKIAUNKNOWNUNKNOWN00")
    expect_error(403, "InvalidAccessKeyId", bad.list_buckets)
    expect_error(403, "InvalidAccessKeyId", bad.put_object, Bucket=bucket, Key="u", Body=b"x")
    assert_absent(make_client(), bucket, "u")


def test_presigned_unknown_access_key(bucket):
    s3 = make_client()
    put(s3, bucket, "pk", b"x")
    bad = make_client(access_key="AKIAUNKNOWNUNKNOWN00")
    url = bad.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pk"}, ExpiresIn=60)
    st, _, body = urlfetch(url)
    assert st == 403 and xml_code(body) == "InvalidAccessKeyId", body


def test_sigv2_client(bucket):
    v2 = make_client(signature_version="s3")
    data = os.urandom(10_000)
    v2.put_object(Bucket=bucket, Key="v2 key/ü", Body=data, Metadata={"sig": "v2"}, ContentType="a/b")
    g = v2.get_object(Bucket=bucket, Key="v2 key/ü")
    assert g["Body"].read() == data and g["Metadata"] == {"sig": "v2"}
    assert [o["Key"] for o in v2.list_objects(Bucket=bucket)["Contents"]] == ["v2 key/ü"]
    assert v2.get_object(Bucket=bucket, Key="v2 key/ü", Range="bytes=0-9")["Body"].read() == data[:10]
    v2.delete_object(Bucket=bucket, Key="v2 key/ü")
    assert_absent(v2, bucket, "v2 key/ü")


def test_sigv2_bucket_operations():
    # botocore signs the resource of a path-style bucket request as "/bucket/"
    # (with the slash) while the request line says "/bucket".
    v2 = make_client(signature_version="s3")
    name = new_bucket_name()
    v2.create_bucket(Bucket=name)
    v2.head_bucket(Bucket=name)
    assert "Contents" not in v2.list_objects(Bucket=name)
    assert name in [b["Name"] for b in v2.list_buckets()["Buckets"]]
    v2.delete_bucket(Bucket=name)
    expect_error(404, "404", v2.head_bucket, Bucket=name)


def test_sigv2_presigned_and_wrong_secret(bucket):
    v2 = make_client(signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2p", Body=b"v2 presigned")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2p"}, ExpiresIn=120)
    assert "Signature=" in url and "AWSAccessKeyId=" in url
    st, _, body = urlfetch(url)
    assert st == 200 and body == b"v2 presigned"
    bad = make_client(signature_version="s3", secret_key="y" * 40)
    expect_error(403, "SignatureDoesNotMatch", bad.put_object, Bucket=bucket, Key="v2p", Body=b"evil")
    assert get_body(v2, bucket, "v2p") == b"v2 presigned"


# ---- raw protocol: payload forms, addressing, connection handling --------------------------

def test_raw_signed_request_positive_control(s3, bucket):
    r = s3raw.request("PUT", path(bucket, "raw ok"), body=b"raw body")
    assert r.status == 200, r
    r = s3raw.request("GET", path(bucket, "raw ok"))
    assert r.status == 200 and r.body == b"raw body"
    assert r.request_id


def test_signed_content_length_and_type(s3, bucket):
    # The JS, Java and Go SDKs sign Content-Length (and Content-Type): the
    # gateway must put them back into the canonical request.
    r = s3raw.request("PUT", path(bucket, "signed-cl"), body=b"twelve bytes",
                      headers={"Content-Length": "12", "Content-Type": "text/x-signed"})
    assert r.status == 200, r
    h = s3.head_object(Bucket=bucket, Key="signed-cl")
    assert h["ContentLength"] == 12 and h["ContentType"] == "text/x-signed"


def test_sdk_style_query_parameter_is_signed(s3, bucket):
    # The JS SDK adds ?x-id=PutObject (and signs it); it must not upset routing or signing.
    r = s3raw.request("PUT", path(bucket, "xid"), query="x-id=PutObject", body=b"x-id")
    assert r.status == 200, r
    r = s3raw.request("GET", path(bucket, "xid"), query="x-id=GetObject")
    assert r.status == 200 and r.body == b"x-id", r


def test_unsigned_payload(s3, bucket):
    r = s3raw.request("PUT", path(bucket, "unsigned"), body=b"unsigned body", payload_hash=s3raw.UNSIGNED)
    assert r.status == 200, r
    assert get_body(s3, bucket, "unsigned") == b"unsigned body"


def test_streaming_signed_chunks(s3, bucket):
    data = os.urandom(200_000)
    r = s3raw.streaming_signed_put(path(bucket, "chunked-signed"), data)
    assert r.status == 200, r
    assert r.headers["etag"] == f'"{md5_hex(data)}"'
    h = s3.head_object(Bucket=bucket, Key="chunked-signed")
    assert h["ContentLength"] == len(data)
    assert "aws-chunked" not in h.get("ContentEncoding", "")
    assert get_body(s3, bucket, "chunked-signed") == data


def test_streaming_signed_chunk_tampered(s3, bucket):
    put(s3, bucket, "chunked-signed", b"before")
    r = s3raw.streaming_signed_put(path(bucket, "chunked-signed"), os.urandom(200_000), tamper_chunk=1)
    expect_raw_error(r, 403, "SignatureDoesNotMatch")
    assert get_body(s3, bucket, "chunked-signed") == b"before"


def test_streaming_unsigned_trailer(s3, bucket):
    data = os.urandom(150_000)
    r = s3raw.trailer_put(path(bucket, "trailer"), data)
    assert r.status == 200, r
    assert get_body(s3, bucket, "trailer") == data
    g = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert g.get("ChecksumCRC32") == s3raw.crc32_b64(data)


def test_streaming_unsigned_trailer_bad_checksum(s3, bucket):
    r = s3raw.trailer_put(path(bucket, "trailer-bad"), os.urandom(150_000),
                          checksum_b64=s3raw.crc32_b64(b"not it"))
    expect_raw_error(r, 400, ("BadDigest", "XAmzContentChecksumMismatch"))
    assert_absent(s3, bucket, "trailer-bad")


def test_transfer_encoding_chunked_body(s3, bucket):
    pieces = [os.urandom(10_000) for _ in range(5)]
    # Like the JS SDK: Transfer-Encoding is a hop-by-hop header and is not signed.
    hdrs, _ = s3raw.prepare("PUT", path(bucket, "te-chunked"), payload_hash=s3raw.UNSIGNED)
    r = s3raw.send("PUT", path(bucket, "te-chunked"), headers=hdrs, body=iter(pieces))
    assert r.status == 200, r
    assert get_body(s3, bucket, "te-chunked") == b"".join(pieces)


def test_expect_100_continue(s3, bucket):
    data = os.urandom(2 * MiB)
    hdrs, _ = s3raw.prepare("PUT", path(bucket, "expect"), payload_hash=s3raw.UNSIGNED)
    head = s3raw.raw_head("PUT", path(bucket, "expect"), hdrs, len(data), {"Expect": "100-continue"})
    s = socket.create_connection((s3raw.HOST, s3raw.PORT), timeout=10)
    try:
        s.sendall(head)
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 100"), first
        s.sendall(data)
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        assert resp.split(b"\r\n")[0].split(b" ")[1] == b"200", resp
    finally:
        s.close()
    assert get_body(s3, bucket, "expect") == data


def test_keep_alive_many_requests_one_connection(s3, bucket):
    conn = http.client.HTTPConnection(s3raw.HOST, s3raw.PORT, timeout=30)
    try:
        for i in range(10):
            r = s3raw.request("PUT", path(bucket, f"ka{i}"), body=b"%d" % i, conn=conn)
            assert r.status == 200, r
            assert r.headers.get("connection", "").lower() != "close"
        for i in range(10):
            r = s3raw.request("GET", path(bucket, f"ka{i}"), conn=conn)
            assert r.status == 200 and r.body == b"%d" % i
        r = s3raw.request("GET", path(bucket, "missing"), conn=conn)
        assert r.status == 404
        r = s3raw.request("HEAD", path(bucket, "ka1"), conn=conn)  # HEAD must not send a body
        assert r.status == 200 and r.body == b""
        r = s3raw.request("GET", path(bucket, "ka2"), conn=conn)
        assert r.status == 200 and r.body == b"2"
    finally:
        conn.close()


def vhost(bucket):
    return f"{bucket}.localhost:{s3raw.PORT}"


def test_virtual_hosted_style(s3, bucket):
    r = s3raw.request("PUT", "/vh/key.txt", headers={"Host": vhost(bucket)}, body=b"virtual")
    assert r.status == 200, r
    assert get_body(s3, bucket, "vh/key.txt") == b"virtual"
    r = s3raw.request("GET", "/vh/key.txt", headers={"Host": vhost(bucket)})
    assert r.status == 200 and r.body == b"virtual", r
    r = s3raw.request("GET", "/", query="list-type=2&prefix=vh%2F", headers={"Host": vhost(bucket)})
    assert r.status == 200, r
    assert b"<Key>vh/key.txt</Key>" in r.body and f"<Name>{bucket}</Name>".encode() in r.body
    r = s3raw.request("GET", "/nope", headers={"Host": vhost(bucket)})
    expect_raw_error(r, 404, "NoSuchKey")
    r = s3raw.request("GET", "/", headers={"Host": vhost(new_bucket_name())})
    expect_raw_error(r, 404, "NoSuchBucket")


def test_sigv2_virtual_hosted_style(s3, bucket):
    from botocore.auth import HmacV1Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    put(s3, bucket, "v2vh.txt", b"sigv2 virtual host")
    req = AWSRequest(method="GET", url=f"{s3raw.ENDPOINT}/v2vh.txt", headers={"Host": vhost(bucket)})
    req.auth_path = f"/{bucket}/v2vh.txt"  # SigV2 signs the bucket as part of the resource
    HmacV1Auth(Credentials(s3raw.ACCESS_KEY, s3raw.SECRET_KEY)).add_auth(req)
    r = s3raw.send("GET", "/v2vh.txt", headers=dict(req.headers.items()))
    assert r.status == 200 and r.body == b"sigv2 virtual host", r


def test_virtual_hosted_create_and_delete_bucket(s3):
    name = new_bucket_name()
    r = s3raw.request("PUT", "/", headers={"Host": vhost(name)})
    assert r.status == 200, r
    s3.head_bucket(Bucket=name)
    r = s3raw.request("DELETE", "/", headers={"Host": vhost(name)})
    assert r.status == 204, r
    expect_error(404, "404", s3.head_bucket, Bucket=name)


def test_x_amz_content_sha256_mismatch(s3, bucket):
    put(s3, bucket, "sha", b"original")
    r = s3raw.request("PUT", path(bucket, "sha"), body=b"tampered body",
                      payload_hash=hashlib.sha256(b"signed body").hexdigest())
    expect_raw_error(r, 400, "XAmzContentSHA256Mismatch")
    assert get_body(s3, bucket, "sha") == b"original"


def test_missing_x_amz_content_sha256(s3, bucket):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="PUT", url=s3raw.ENDPOINT + path(bucket, "nosha"), data=b"body")
    SigV4Auth(Credentials(s3raw.ACCESS_KEY, s3raw.SECRET_KEY), "s3", s3raw.REGION).add_auth(req)
    assert "X-Amz-Content-SHA256" not in req.headers
    r = s3raw.send("PUT", path(bucket, "nosha"), headers=dict(req.headers.items()), body=b"body")
    expect_raw_error(r, 400, "InvalidRequest")
    assert_absent(s3, bucket, "nosha")


@pytest.mark.parametrize("minutes", [20, -20])
def test_clock_skew(s3, bucket, minutes):
    when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    r = s3raw.request("PUT", path(bucket, "skew"), body=b"late", when=when)
    expect_raw_error(r, 403, "RequestTimeTooSkewed")
    assert_absent(s3, bucket, "skew")
    # Within the 15-minute window it is accepted.
    when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes // 2)
    r = s3raw.request("PUT", path(bucket, "skew"), body=b"ok", when=when)
    assert r.status == 200, r


def test_wrong_region_in_credential_scope(s3, bucket):
    r = s3raw.request("PUT", path(bucket, "region"), body=b"x", region="eu-west-3")
    expect_raw_error(r, 400, "AuthorizationHeaderMalformed")
    assert_absent(s3, bucket, "region")


def test_garbage_authorization_header(s3, bucket):
    r = s3raw.send("PUT", path(bucket, "garbage"), body=b"x",
                   headers={"Authorization": "AWS4-HMAC-SHA256 this is not valid",
                            "x-amz-date": datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ"),
                            "x-amz-content-sha256": hashlib.sha256(b"x").hexdigest()})
    expect_raw_error(r, 400, ("AuthorizationHeaderMalformed", "InvalidArgument"))
    assert_absent(s3, bucket, "garbage")


def test_signed_header_changed_after_signing(s3, bucket):
    hdrs, _ = s3raw.prepare("PUT", path(bucket, "hdr"), headers={"x-amz-meta-a": "1"}, body=b"x")
    hdrs["x-amz-meta-a"] = "2"
    r = s3raw.send("PUT", path(bucket, "hdr"), headers=hdrs, body=b"x")
    expect_raw_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "hdr")


# ---- hostile input ------------------------------------------------------------------

def content_md5(b):
    return b64(hashlib.md5(b).digest())


@pytest.mark.parametrize("body,codes", [
    (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>", "MalformedXML"),
    (b"this is not xml at all", "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
     ("MalformedXML", "InvalidPart")),
    (b"", "MalformedXML"),
])
def test_complete_malformed_xml(s3, bucket, body, codes):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mx")["UploadId"]
    done = upload_parts(s3, bucket, "mx", up, [b"part one"])
    r = s3raw.request("POST", path(bucket, "mx"), query=f"uploadId={urllib.parse.quote(up, safe='')}",
                      body=body)
    expect_raw_error(r, 400, codes)
    assert_absent(s3, bucket, "mx")
    # The upload is intact and still completes.
    s3.complete_multipart_upload(Bucket=bucket, Key="mx", UploadId=up, MultipartUpload={"Parts": done})
    assert get_body(s3, bucket, "mx") == b"part one"


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>a</Key></Object>",
    b"\x00\x01\x02 binary junk",
    b"<Delete><Object><Key>a</Key></Object></Delete><Trailing/>",
])
def test_delete_objects_malformed_xml(s3, bucket, body):
    put(s3, bucket, "a", b"x")
    r = s3raw.request("POST", path(bucket), query="delete=", body=body,
                      headers={"Content-MD5": content_md5(body)})
    expect_raw_error(r, 400, "MalformedXML")
    assert keys_of(s3, bucket) == ["a"]


def test_delete_objects_xml_entity_expansion(s3, bucket):
    put(s3, bucket, "a", b"x")
    lol = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
           + b"".join(b'<!ENTITY %c "%s">' % (ord("b") + i, (b"&%c;" % (ord("a") + i)) * 10) for i in range(8))
           + b']><Delete><Object><Key>&i;</Key></Object></Delete>')
    t0 = time.time()
    r = s3raw.request("POST", path(bucket), query="delete=", body=lol, headers={"Content-MD5": content_md5(lol)})
    assert time.time() - t0 < 10
    assert 400 <= r.status < 500, r
    assert r.code and r.request_id, r
    assert keys_of(s3, bucket) == ["a"]
    assert s3raw.health() == 200


def test_delete_objects_xxe_external_entity(s3, bucket):
    put(s3, bucket, "a", b"x")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
           b'<Delete><Object><Key>&e;</Key></Object></Delete>')
    r = s3raw.request("POST", path(bucket), query="delete=", body=xxe, headers={"Content-MD5": content_md5(xxe)})
    with open("/etc/hostname", "rb") as f:
        secret = f.read().strip()
    assert r.status == 200 or (r.status == 400 and r.code and r.request_id), r
    assert not secret or secret not in r.body, r
    assert keys_of(s3, bucket) == ["a"]


def test_body_shorter_than_content_length(s3, bucket):
    # Positive control: the same raw request with the whole body is stored.
    hdrs, _ = s3raw.prepare("PUT", path(bucket, "full-body"), payload_hash=s3raw.UNSIGNED)
    got = s3raw.raw_socket_exchange(s3raw.raw_head("PUT", path(bucket, "full-body"), hdrs, 1000,
                                                   {"Connection": "close"}), b"z" * 1000)
    assert got.startswith(b"HTTP/1.1 200"), got[:300]
    assert get_body(s3, bucket, "full-body") == b"z" * 1000
    key = "short-body"
    hdrs, _ = s3raw.prepare("PUT", path(bucket, key), payload_hash=s3raw.UNSIGNED)
    head = s3raw.raw_head("PUT", path(bucket, key), hdrs, 1000)
    got = s3raw.raw_socket_exchange(head, b"0123456789", close_early=True)
    # The only acceptable answers are none at all or a 4xx: never a 200.
    assert not got.startswith(b"HTTP/1.1 2"), got[:300]
    time.sleep(0.5)
    assert_absent(s3, bucket, key)
    assert keys_of(s3, bucket) == ["full-body"]
    assert s3raw.health() == 200


def test_body_shorter_than_content_length_overwrite(s3, bucket):
    put(s3, bucket, "short2", b"survivor")
    hdrs, _ = s3raw.prepare("PUT", path(bucket, "short2"), payload_hash=s3raw.UNSIGNED)
    head = s3raw.raw_head("PUT", path(bucket, "short2"), hdrs, 100000)
    got = s3raw.raw_socket_exchange(head, os.urandom(5000), close_early=True)
    assert not got.startswith(b"HTTP/1.1 2"), got[:300]
    time.sleep(0.5)
    assert get_body(s3, bucket, "short2") == b"survivor"


def test_64k_of_metadata_headers(s3, bucket):
    hdrs = {f"x-amz-meta-fill{i}": "m" * 4000 for i in range(16)}
    r = s3raw.request("PUT", path(bucket, "hdr-meta"), headers=hdrs, body=b"x")
    expect_raw_error(r, 400, ("MetadataTooLarge", "RequestHeaderSectionTooLarge"))
    assert_absent(s3, bucket, "hdr-meta")
    assert s3raw.health() == 200


@pytest.mark.parametrize("shape", ["many", "one"])
def test_64k_of_headers(s3, bucket, shape):
    if shape == "many":
        hdrs = {f"x-filler-{i}": "h" * 4000 for i in range(16)}
    else:
        hdrs = {"x-filler": "h" * 65536}
    r = s3raw.request("PUT", path(bucket, "hdr-big"), headers=hdrs, body=b"x")
    expect_raw_error(r, 400, "RequestHeaderSectionTooLarge")
    assert_absent(s3, bucket, "hdr-big")
    assert s3raw.health() == 200
    put(s3, bucket, "after", b"still works")
    assert get_body(s3, bucket, "after") == b"still works"


DOT_KEYS = ["..", "a/../b", "../x", "./y", "a/./b", "dot/..", "...", "a/.."]


def test_keys_with_dot_segments_are_literal(s3, bucket):
    for k in DOT_KEYS:
        put(s3, bucket, k, k.encode())
    assert sorted(keys_of(s3, bucket)) == sorted(DOT_KEYS)
    for k in DOT_KEYS:
        assert get_body(s3, bucket, k) == k.encode(), k
    for derived in ("b", "x", "y", "a/b", "a"):
        assert_absent(s3, bucket, derived)


def test_keys_with_double_slash_are_literal(s3, bucket):
    keys = ["a//b", "/leading", "//two", "trailing/", "a/b"]
    for k in keys:
        put(s3, bucket, k, k.encode())
    assert sorted(keys_of(s3, bucket)) == sorted(keys)
    for k in keys:
        assert get_body(s3, bucket, k) == k.encode(), k
    s3.delete_object(Bucket=bucket, Key="a//b")
    assert get_body(s3, bucket, "a/b") == b"a/b"


def test_key_length_limit(s3, bucket):
    ok = "k" * 1024
    put(s3, bucket, ok, b"max")
    assert get_body(s3, bucket, ok) == b"max"
    expect_error(400, "KeyTooLongError", s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    # 1025 bytes of UTF-8 that are fewer characters.
    expect_error(400, "KeyTooLongError", s3.put_object, Bucket=bucket, Key="é" * 512 + "k", Body=b"x")
    assert keys_of(s3, bucket) == [ok]


def test_key_with_nul_rejected(s3, bucket):
    r = s3raw.request("PUT", f"/{bucket}/nul%00byte", body=b"x")
    assert r.status == 400, r
    assert r.code and r.request_id, r
    assert keys_of(s3, bucket) == []
    r = s3raw.request("GET", f"/{bucket}/nul%00byte")
    assert r.status in (400, 404) and r.code, r


def test_key_with_invalid_utf8_rejected(s3, bucket):
    r = s3raw.request("PUT", f"/{bucket}/bad%FFutf8", body=b"x")
    assert r.status == 400, r
    assert r.code and r.request_id, r
    assert keys_of(s3, bucket) == []


def tree_snapshot(root, exclude):
    out = set()
    for d, dirs, files in os.walk(root):
        if os.path.abspath(d).startswith(os.path.abspath(exclude)):
            continue
        for f in files:
            out.add(os.path.join(d, f))
        for x in dirs:
            out.add(os.path.join(d, x) + "/")
    return out


def test_path_escape_keys_stay_inside(s3, bucket):
    root = env("CAIRN_ESCAPE_ROOT")
    data_dir = env("CAIRN_DATA_DIR")
    tag = f"cairn-escape-{os.getpid()}-{time.time_ns()}"
    before = tree_snapshot(root, data_dir)
    keys = ["../../etc/passwd", "../../../" + tag, "../" * 12 + "tmp/" + tag,
            "a/../../../../" + tag, "..\\..\\" + tag]
    for k in keys:
        put(s3, bucket, k, b"escape attempt " + k.encode())
    for k in keys:
        assert get_body(s3, bucket, k) == b"escape attempt " + k.encode()
    assert sorted(keys_of(s3, bucket)) == sorted(keys)
    after = tree_snapshot(root, data_dir)
    assert after == before, f"files appeared outside the data dir: {after - before}"
    assert not os.path.exists(os.path.join("/tmp", tag))
    assert not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(root)), tag))
    with open("/etc/passwd", "rb") as f:
        assert not f.read().startswith(b"escape attempt")


def test_bucket_name_escape_rejected(s3):
    for raw in ("/..%2F..%2Fetc/x", "/%2E%2E/x", "/a%2Fb/x"):
        r = s3raw.request("PUT", raw, body=b"x")
        assert 400 <= r.status < 500, (raw, r)
        assert r.code and r.request_id, (raw, r)
    assert s3raw.health() == 200


def test_unsupported_operation_is_not_implemented(s3, bucket):
    # Anything not supported must say so, never succeed wrongly.
    r = s3raw.request("GET", path(bucket), query="website=")
    assert r.status in (404, 501), r
    assert r.code in ("NotImplemented", "NoSuchWebsiteConfiguration"), r
