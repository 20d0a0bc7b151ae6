"""Capabilities end to end (suite "share" of tests/e2e/run.sh; docs/ACCESS.md).

A user made with `cairn admin` owns the buckets; `cairn share create` (signed
with the owner's key, or with a capability's key to derive a child) makes
capabilities; boto3, aws-cli, curl and the JavaScript SDK's presigner use
them. For each target (prefix, bucket, history, version), permission and
condition (expiry, time window, source range) one allowed and one denied
request, and after each denied request that would have changed something,
that nothing changed. Then derivation (narrower children only, revocation of
an ancestor kills a grandchild's presigned URL), `cairn share list`, the
access log and /metrics, and who may call the shares API at all.
"""

import datetime
import itertools
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

import s3raw
from conftest import denied, env, make_client, new_bucket_name, purge

_seq = itertools.count()
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- helpers ----------------------------------------------------------------

def cairn_bin():
    b = os.environ.get("CAIRN_BIN") or os.path.join(HERE, "..", "..", "cairn")
    assert os.access(b, os.X_OK), f"no cairn binary at {b}"
    return b


def run(args, ak=None, sk=None):
    e = dict(os.environ)
    e.update({"CAIRN_ENDPOINT": env("CAIRN_ENDPOINT"),
              "AWS_ACCESS_KEY_ID": ak or env("CAIRN_ACCESS_KEY"),
              "AWS_SECRET_ACCESS_KEY": sk or env("CAIRN_SECRET_KEY")})
    return subprocess.run([cairn_bin(), *args], env=e, capture_output=True, text=True, timeout=60)


def admin_json(*args):
    p = run(["admin", *args, "--json"])
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return json.loads(p.stdout)


def share(who, target, perms, *extra, expect=0):
    """`cairn share create` signed with who (an object with ak/sk); returns the
    JSON document (expect=0) or the completed process (expect=1)."""
    p = run(["share", "create", target, "--perms", perms, *extra, "--json"], who.ak, who.sk)
    assert p.returncode == expect, (target, perms, extra, p.returncode, p.stdout, p.stderr)
    if expect != 0:
        return p
    doc = json.loads(p.stdout)
    return Holder(doc["access_key"], doc["secret_key"], doc)


def revoke(who, cid, expect=0):
    p = run(["share", "revoke", cid, "--json"], who.ak, who.sk)
    assert p.returncode == expect, (cid, p.stdout, p.stderr)
    return p


class Holder:
    """Credentials (a user's or a capability's) and a boto3 client for them."""

    def __init__(self, ak, sk, doc=None):
        self.ak, self.sk, self.doc = ak, sk, doc or {}
        self.s3 = make_client(access_key=ak, secret_key=sk)

    @property
    def id(self):
        return self.doc["id"]


def make_user():
    name = f"{env('CAIRN_BUCKET_PREFIX', 'e2e-share')}-u{next(_seq)}"
    admin_json("user", "create", name)
    k = admin_json("key", "create", name)
    h = Holder(k["access_key"], k["secret_key"])
    h.name = name
    return h


def per_key(r):
    """A DeleteObjects response as {key: "Deleted" | error code}."""
    out = {d["Key"]: "Deleted" for d in r.get("Deleted", [])}
    out.update({e["Key"]: e["Code"] for e in r.get("Errors", [])})
    return out


def exists(s3, bucket, key, **kw):
    try:
        s3.head_object(Bucket=bucket, Key=key, **kw)
        return True
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def body(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def curl_status(url):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return int(p.stdout)


def curl_get(url):
    p = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", url], capture_output=True, timeout=30)
    out, _, code = p.stdout.rpartition(b"\n")
    return int(code), out


def presign(h, bucket, key, **params):
    return h.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, **params},
                                       ExpiresIn=600)


def aws_presign(h, bucket, key):
    e = dict(os.environ)
    e.update({"AWS_ACCESS_KEY_ID": h.ak, "AWS_SECRET_ACCESS_KEY": h.sk, "AWS_DEFAULT_REGION": env("CAIRN_REGION"),
              "AWS_EC2_METADATA_DISABLED": "true"})
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", env("CAIRN_ENDPOINT"), "s3", "presign",
                        f"s3://{bucket}/{key}", "--expires-in", "600"],
                       env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


JS_PRESIGN = """
import { S3Client, GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
const [endpoint, ak, sk, region, bucket, key] = process.argv.slice(2);
const c = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId: ak, secretAccessKey: sk } });
console.log(await getSignedUrl(c, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }));
"""


def js_presign(h, bucket, key):
    script = os.path.join(HERE, f".share-presign-{os.getpid()}.mjs")
    with open(script, "w") as f:
        f.write(JS_PRESIGN)
    try:
        p = subprocess.run(["node", script, env("CAIRN_ENDPOINT"), h.ak, h.sk, env("CAIRN_REGION"), bucket, key],
                           capture_output=True, text=True, timeout=60, cwd=HERE)
    finally:
        os.unlink(script)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def raw(h, method, bucket, key=None, query="", body_=b""):
    p = f"/{bucket}" + (f"/{s3raw.quote_key(key)}" if key is not None else "")
    return s3raw.request(method, p, query, body=body_, access_key=h.ak, secret_key=h.sk)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def owner():
    return make_user()


@pytest.fixture
def bkt(owner):
    """A bucket of owner's with docs/a, docs/b, docs/sub/c, other/x, top."""
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    for k in ("docs/a", "docs/b", "docs/sub/c", "other/x", "top"):
        owner.s3.put_object(Bucket=name, Key=k, Body=k.encode())
    yield name
    purge(owner.s3, name)


@pytest.fixture
def vbkt(owner):
    """A versioned bucket: hist has versions v1, v2, v3 (bodies one, two, three); other has one."""
    name = new_bucket_name()
    owner.s3.create_bucket(Bucket=name)
    owner.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    vids = [owner.s3.put_object(Bucket=name, Key="hist", Body=b)["VersionId"] for b in (b"one", b"two", b"three")]
    owner.s3.put_object(Bucket=name, Key="other", Body=b"o")
    yield name, vids
    purge(owner.s3, name)


# ---- prefix: read + list ----------------------------------------------------

def test_prefix_read_list(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read,list")
    assert c.doc["target"] == "prefix" and c.doc["path"] == "docs/" and c.doc["permissions"] == ["read", "list"]
    assert body(c.s3, bkt, "docs/a") == b"docs/a"
    assert body(c.s3, bkt, "docs/sub/c") == b"docs/sub/c"
    c.s3.head_object(Bucket=bkt, Key="docs/b")
    denied(c.s3.get_object, Bucket=bkt, Key="other/x")
    denied(c.s3.get_object, Bucket=bkt, Key="top")
    denied(c.s3.head_object, Bucket=bkt, Key="other/x")
    keys = [o["Key"] for o in c.s3.list_objects_v2(Bucket=bkt, Prefix="docs/")["Contents"]]
    assert keys == ["docs/a", "docs/b", "docs/sub/c"]
    keys = [o["Key"] for o in c.s3.list_objects_v2(Bucket=bkt, Prefix="docs/sub/")["Contents"]]
    assert keys == ["docs/sub/c"]
    denied(c.s3.list_objects_v2, Bucket=bkt)
    denied(c.s3.list_objects_v2, Bucket=bkt, Prefix="other/")
    denied(c.s3.list_objects_v2, Bucket=bkt, Prefix="doc")
    denied(c.s3.list_objects, Bucket=bkt)


def test_prefix_read_list_cannot_write_or_delete(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read,list")
    denied(c.s3.put_object, Bucket=bkt, Key="docs/new", Body=b"n")
    assert not exists(owner.s3, bkt, "docs/new")
    denied(c.s3.put_object, Bucket=bkt, Key="docs/a", Body=b"overwritten")
    assert body(owner.s3, bkt, "docs/a") == b"docs/a"
    denied(c.s3.delete_object, Bucket=bkt, Key="docs/a")
    assert body(owner.s3, bkt, "docs/a") == b"docs/a"
    denied(c.s3.copy_object, Bucket=bkt, Key="docs/copy", CopySource={"Bucket": bkt, "Key": "docs/a"})
    assert not exists(owner.s3, bkt, "docs/copy")
    r = c.s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": "docs/a"}, {"Key": "docs/b"}]})
    assert per_key(r) == {"docs/a": "AccessDenied", "docs/b": "AccessDenied"}, r
    assert exists(owner.s3, bkt, "docs/a") and exists(owner.s3, bkt, "docs/b")


def test_prefix_write(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read,list,write")
    c.s3.put_object(Bucket=bkt, Key="docs/new", Body=b"from cap")
    assert body(owner.s3, bkt, "docs/new") == b"from cap"
    denied(c.s3.put_object, Bucket=bkt, Key="other/new", Body=b"n")
    assert not exists(owner.s3, bkt, "other/new")
    denied(c.s3.put_object, Bucket=bkt, Key="docsnew", Body=b"n")
    assert not exists(owner.s3, bkt, "docsnew")
    # write without delete: no deletion
    denied(c.s3.delete_object, Bucket=bkt, Key="docs/new")
    assert exists(owner.s3, bkt, "docs/new")


def test_prefix_write_only_cannot_read(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "write")
    c.s3.put_object(Bucket=bkt, Key="docs/w", Body=b"w")
    assert body(owner.s3, bkt, "docs/w") == b"w"
    denied(c.s3.get_object, Bucket=bkt, Key="docs/w")
    denied(c.s3.list_objects_v2, Bucket=bkt, Prefix="docs/")


def test_prefix_delete(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read,delete")
    c.s3.delete_object(Bucket=bkt, Key="docs/a")
    assert not exists(owner.s3, bkt, "docs/a")
    denied(c.s3.delete_object, Bucket=bkt, Key="other/x")
    assert exists(owner.s3, bkt, "other/x")
    denied(c.s3.put_object, Bucket=bkt, Key="docs/a", Body=b"again")
    assert not exists(owner.s3, bkt, "docs/a")


def test_prefix_delete_objects_key_by_key(owner, bkt):
    """DeleteObjects is authorized key by key: inside the prefix deleted, outside AccessDenied and kept."""
    c = share(owner, f"s3://{bkt}/docs/", "read,list,delete")
    r = c.s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": "docs/a"}, {"Key": "other/x"}]})
    assert per_key(r) == {"docs/a": "Deleted", "other/x": "AccessDenied"}, r
    assert not exists(owner.s3, bkt, "docs/a") and exists(owner.s3, bkt, "other/x")


# ---- bucket capability ------------------------------------------------------

def test_bucket_capability(owner, bkt):
    c = share(owner, f"s3://{bkt}", "read,list,write,delete")
    assert c.doc["target"] == "bucket"
    assert body(c.s3, bkt, "top") == b"top"
    assert body(c.s3, bkt, "other/x") == b"other/x"
    assert len(c.s3.list_objects_v2(Bucket=bkt)["Contents"]) == 5
    c.s3.put_object(Bucket=bkt, Key="new", Body=b"n")
    assert body(owner.s3, bkt, "new") == b"n"
    r = c.s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": "new"}]})
    assert [d["Key"] for d in r.get("Deleted", [])] == ["new"]
    assert not exists(owner.s3, bkt, "new")
    # never bucket configuration, nor the service
    denied(c.s3.put_bucket_policy, Bucket=bkt, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bkt}/*"}]}))
    with pytest.raises(ClientError):
        owner.s3.get_bucket_policy(Bucket=bkt)
    denied(c.s3.put_bucket_versioning, Bucket=bkt, VersioningConfiguration={"Status": "Enabled"})
    assert owner.s3.get_bucket_versioning(Bucket=bkt).get("Status") is None
    denied(c.s3.get_bucket_acl, Bucket=bkt)
    denied(c.s3.put_bucket_acl, Bucket=bkt, ACL="public-read")
    denied(c.s3.put_object_acl, Bucket=bkt, Key="top", ACL="public-read")
    assert s3raw.send("GET", f"/{bkt}/top").status == 403
    denied(c.s3.delete_bucket, Bucket=bkt)
    owner.s3.head_bucket(Bucket=bkt)
    denied(c.s3.list_buckets)
    nb = new_bucket_name()
    denied(c.s3.create_bucket, Bucket=nb)
    assert nb not in [b["Name"] for b in owner.s3.list_buckets()["Buckets"]]
    other = new_bucket_name()
    owner.s3.create_bucket(Bucket=other)
    try:
        owner.s3.put_object(Bucket=other, Key="top", Body=b"t")
        denied(c.s3.get_object, Bucket=other, Key="top")
        denied(c.s3.list_objects_v2, Bucket=other)
    finally:
        purge(owner.s3, other)


def test_bucket_read_only(owner, bkt):
    c = share(owner, f"s3://{bkt}", "read")
    assert body(c.s3, bkt, "top") == b"top"
    denied(c.s3.list_objects_v2, Bucket=bkt)
    denied(c.s3.put_object, Bucket=bkt, Key="top", Body=b"x")
    assert body(owner.s3, bkt, "top") == b"top"
    r = c.s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": "top"}]})
    assert per_key(r) == {"top": "AccessDenied"}, r
    assert exists(owner.s3, bkt, "top")


# ---- history and version ----------------------------------------------------

def test_history_capability(owner, vbkt):
    b, vids = vbkt
    c = share(owner, f"s3://{b}/hist", "read", "--history")
    assert c.doc["target"] == "history" and c.doc["path"] == "hist"
    for v, want in zip(vids, (b"one", b"two", b"three")):
        assert body(c.s3, b, "hist", VersionId=v) == want
    assert body(c.s3, b, "hist") == b"three"
    r = raw(c, "GET", b, "hist", "lineage")
    assert r.status == 200, r
    denied(c.s3.get_object, Bucket=b, Key="other")
    denied(c.s3.get_object, Bucket=b, Key="hist2")
    denied(c.s3.list_objects_v2, Bucket=b, Prefix="hist")
    denied(c.s3.list_object_versions, Bucket=b, Prefix="hist")
    denied(c.s3.put_object, Bucket=b, Key="hist", Body=b"four")
    assert body(owner.s3, b, "hist") == b"three"
    denied(c.s3.delete_object, Bucket=b, Key="hist", VersionId=vids[0])
    assert body(owner.s3, b, "hist", VersionId=vids[0]) == b"one"


def test_version_capability(owner, vbkt):
    b, vids = vbkt
    c = share(owner, f"s3://{b}/hist", "read", "--version-id", vids[1])
    assert c.doc["target"] == "version" and c.doc["version_id"] == vids[1]
    assert body(c.s3, b, "hist", VersionId=vids[1]) == b"two"
    code, out = curl_get(presign(c, b, "hist", VersionId=vids[1]))
    assert (code, out) == (200, b"two")
    denied(c.s3.get_object, Bucket=b, Key="hist")
    denied(c.s3.get_object, Bucket=b, Key="hist", VersionId=vids[0])
    denied(c.s3.get_object, Bucket=b, Key="other")
    assert curl_status(presign(c, b, "hist")) == 403
    assert curl_status(presign(c, b, "hist", VersionId=vids[2])) == 403
    assert raw(c, "GET", b, "hist", "lineage").status == 403
    assert raw(c, "GET", b, "hist", urllib.parse.urlencode({"lineage": "", "versionId": vids[1]})).status == 403
    denied(c.s3.delete_object, Bucket=b, Key="hist", VersionId=vids[1])
    assert body(owner.s3, b, "hist", VersionId=vids[1]) == b"two"


def test_version_capability_is_read_only(owner, vbkt):
    b, vids = vbkt
    p = share(owner, f"s3://{b}/hist", "read,delete", "--version-id", vids[0], expect=1)
    assert "HTTP 400" in p.stderr, p.stderr


# ---- presigned URLs and revocation ------------------------------------------

def test_presigned_urls_then_revoke(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read")
    urls = [presign(c, bkt, "docs/a"), aws_presign(c, bkt, "docs/a"), js_presign(c, bkt, "docs/a")]
    for u in urls:
        assert curl_get(u) == (200, b"docs/a"), u
    outside = [presign(c, bkt, "other/x"), aws_presign(c, bkt, "other/x"), js_presign(c, bkt, "other/x")]
    for u in outside:
        assert curl_status(u) == 403, u
    doc = json.loads(revoke(owner, c.id).stdout)
    assert doc["id"] == c.id and doc["revoked"]
    for u in urls:
        assert curl_status(u) == 403, u
    denied(c.s3.get_object, Bucket=bkt, Key="docs/a")
    p = share(c, f"s3://{bkt}/docs/", "read", expect=1)
    assert "HTTP 403" in p.stderr


# ---- derivation -------------------------------------------------------------

def test_derive_narrower_child(owner, bkt):
    parent = share(owner, f"s3://{bkt}/docs/", "read,list,write")
    child = share(parent, f"s3://{bkt}/docs/sub/", "read")
    assert child.doc["parent"] == parent.id
    assert body(child.s3, bkt, "docs/sub/c") == b"docs/sub/c"
    denied(child.s3.get_object, Bucket=bkt, Key="docs/a")
    denied(child.s3.put_object, Bucket=bkt, Key="docs/sub/n", Body=b"n")
    assert not exists(owner.s3, bkt, "docs/sub/n")
    denied(child.s3.list_objects_v2, Bucket=bkt, Prefix="docs/sub/")


@pytest.mark.parametrize("target,perms,extra", [
    ("/other/", "read", ()),
    ("/doc", "read", ()),
    ("", "read", ()),
    ("/docs/", "read,delete", ()),
    ("/docs/", "read,list,write", ()),
], ids=["other-prefix", "shorter-prefix", "whole-bucket", "more-perms", "more-perms2"])
def test_derive_wider_refused(owner, bkt, target, perms, extra):
    parent = share(owner, f"s3://{bkt}/docs/", "read,list")
    p = share(parent, f"s3://{bkt}{target}", perms, *extra, expect=1)
    assert "HTTP 403" in p.stderr, p.stderr
    assert [s["id"] for s in json.loads(run(["share", "list", "--json"], parent.ak, parent.sk).stdout)["shares"]
            if s.get("parent") == parent.id] == []


def test_derive_expiry_no_later(owner, bkt):
    parent = share(owner, f"s3://{bkt}/docs/", "read", "--expires-in", "600")
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", expect=1).stderr
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", "--expires-in", "3600", expect=1).stderr
    child = share(parent, f"s3://{bkt}/docs/", "read", "--expires-in", "60")
    assert body(child.s3, bkt, "docs/a") == b"docs/a"


def test_derive_other_bucket_refused(owner, bkt):
    other = new_bucket_name()
    owner.s3.create_bucket(Bucket=other)
    try:
        parent = share(owner, f"s3://{bkt}", "read,list")
        assert "HTTP 403" in share(parent, f"s3://{other}", "read", expect=1).stderr
    finally:
        purge(owner.s3, other)


def test_derive_source_range_kept(owner, bkt):
    parent = share(owner, f"s3://{bkt}/docs/", "read", "--source", "127.0.0.0/8")
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", expect=1).stderr
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", "--source", "10.0.0.0/8", expect=1).stderr
    child = share(parent, f"s3://{bkt}/docs/", "read", "--source", "127.0.0.0/8")
    assert body(child.s3, bkt, "docs/a") == b"docs/a"


def test_revoke_parent_kills_grandchild_presigned_url(owner, bkt):
    parent = share(owner, f"s3://{bkt}/docs/", "read,list")
    child = share(parent, f"s3://{bkt}/docs/", "read")
    grandchild = share(child, f"s3://{bkt}/docs/sub/", "read")
    url = presign(grandchild, bkt, "docs/sub/c")
    assert curl_get(url) == (200, b"docs/sub/c")
    # a grandchild cannot revoke its grandparent (nor its parent)
    assert "HTTP 403" in revoke(grandchild, parent.id, expect=1).stderr
    assert "HTTP 403" in revoke(grandchild, child.id, expect=1).stderr
    assert curl_get(url) == (200, b"docs/sub/c")
    revoke(owner, parent.id)
    assert curl_status(url) == 403
    denied(child.s3.get_object, Bucket=bkt, Key="docs/a")
    denied(grandchild.s3.get_object, Bucket=bkt, Key="docs/sub/c")


def test_capability_revokes_its_own_child(owner, bkt):
    parent = share(owner, f"s3://{bkt}/docs/", "read")
    child = share(parent, f"s3://{bkt}/docs/", "read")
    sibling = share(owner, f"s3://{bkt}/docs/", "read")
    assert "HTTP 403" in revoke(parent, sibling.id, expect=1).stderr
    assert "HTTP 403" in revoke(child, parent.id, expect=1).stderr
    revoke(parent, child.id)
    denied(child.s3.get_object, Bucket=bkt, Key="docs/a")
    assert body(parent.s3, bkt, "docs/a") == b"docs/a"
    assert body(sibling.s3, bkt, "docs/a") == b"docs/a"


def test_share_list_tree(owner, bkt):
    u = make_user()
    b = new_bucket_name()
    u.s3.create_bucket(Bucket=b)
    try:
        parent = share(u, f"s3://{b}/p/", "read,list")
        child = share(parent, f"s3://{b}/p/q/", "read")
        p = run(["share", "list"], u.ak, u.sk)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        pl = [i for i, l in enumerate(lines) if l.startswith(parent.id)]
        cl = [i for i, l in enumerate(lines) if l.startswith("  " + child.id)]
        assert pl and cl and cl[0] == pl[0] + 1, p.stdout
        assert f"s3://{b}/p/q/" in lines[cl[0]] and "[read]" in lines[cl[0]]
        doc = json.loads(run(["share", "list", "--json"], u.ak, u.sk).stdout)
        by_id = {s["id"]: s for s in doc["shares"]}
        assert set(by_id) >= {parent.id, child.id}
        assert by_id[child.id]["parent"] == parent.id and "parent" not in by_id[parent.id] or \
            by_id[parent.id].get("parent") is None
        assert all("secret_key" not in s for s in doc["shares"])
        # a capability lists itself and what it derived, rooted at itself
        doc = json.loads(run(["share", "list", "--json"], parent.ak, parent.sk).stdout)
        assert sorted(s["id"] for s in doc["shares"]) == sorted([parent.id, child.id])
        lines = run(["share", "list"], parent.ak, parent.sk).stdout.splitlines()
        assert lines[0].startswith(parent.id) and lines[1].startswith("  " + child.id), lines
        doc = json.loads(run(["share", "list", "--json"], child.ak, child.sk).stdout)
        assert [s["id"] for s in doc["shares"]] == [child.id]
        # another user sees none of these
        doc = json.loads(run(["share", "list", "--json"], owner.ak, owner.sk).stdout)
        assert not {parent.id, child.id} & {s["id"] for s in doc["shares"]}
    finally:
        purge(u.s3, b)


# ---- expiry, window, source -------------------------------------------------

def test_expires_in(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read", "--expires-in", "2")
    url = presign(c, bkt, "docs/a")
    assert body(c.s3, bkt, "docs/a") == b"docs/a"
    assert curl_status(url) == 200
    time.sleep(3)
    denied(c.s3.get_object, Bucket=bkt, Key="docs/a")
    assert curl_status(url) == 403


def test_expires_absolute(owner, bkt):
    now = datetime.datetime.now(datetime.timezone.utc)
    c = share(owner, f"s3://{bkt}/docs/", "read", "--expires", iso(now + datetime.timedelta(hours=1)))
    assert body(c.s3, bkt, "docs/a") == b"docs/a"
    p = share(owner, f"s3://{bkt}/docs/", "read", "--expires", iso(now - datetime.timedelta(hours=1)), expect=1)
    assert "HTTP 400" in p.stderr, p.stderr


def test_not_before_future_denied_now(owner, bkt):
    now = datetime.datetime.now(datetime.timezone.utc)
    c = share(owner, f"s3://{bkt}/docs/", "read", "--not-before", iso(now + datetime.timedelta(hours=1)))
    denied(c.s3.get_object, Bucket=bkt, Key="docs/a")
    c2 = share(owner, f"s3://{bkt}/docs/", "read", "--not-before", iso(now - datetime.timedelta(hours=1)),
               "--not-after", iso(now + datetime.timedelta(hours=1)))
    assert body(c2.s3, bkt, "docs/a") == b"docs/a"


def test_not_after_in_past(owner, bkt):
    """A window that already ended is refused at creation, as an expiry in the past is."""
    now = datetime.datetime.now(datetime.timezone.utc)
    p = share(owner, f"s3://{bkt}/docs/", "read", "--not-after", iso(now - datetime.timedelta(hours=1)), expect=1)
    assert "HTTP 400" in p.stderr, p.stderr


def test_source_range(owner, bkt):
    far = share(owner, f"s3://{bkt}/docs/", "read", "--source", "10.0.0.0/8")
    denied(far.s3.get_object, Bucket=bkt, Key="docs/a")
    assert curl_status(presign(far, bkt, "docs/a")) == 403
    near = share(owner, f"s3://{bkt}/docs/", "read", "--source", "127.0.0.1/32")
    assert body(near.s3, bkt, "docs/a") == b"docs/a"
    assert curl_status(presign(near, bkt, "docs/a")) == 200
    assert "HTTP 400" in share(owner, f"s3://{bkt}/docs/", "read", "--source", "nonsense", expect=1).stderr


# ---- access log and metrics -------------------------------------------------

def denied_metric():
    text = s3raw.send("GET", "/metrics").body.decode()
    m = re.search(r'^cairn_denied_total\{reason="capability"\} ([0-9.e+]+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def access_log():
    path = os.path.join(env("CAIRN_DATA_DIR"), "access.log")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_access_log_and_metrics(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read")
    before = denied_metric()
    assert body(c.s3, bkt, "docs/a") == b"docs/a"
    denied(c.s3.get_object, Bucket=bkt, Key="other/x")
    deadline = time.time() + 5
    while True:
        entries = [e for e in access_log() if e.get("access_key") == c.ak]
        if len(entries) >= 2 or time.time() > deadline:
            break
        time.sleep(0.2)
    ok_ = [e for e in entries if e.get("key") == "docs/a" and e.get("status") == 200]
    bad = [e for e in entries if e.get("key") == "other/x"]
    assert ok_ and ok_[0]["principal"] == f"cap:{c.id}", entries
    assert bad and bad[0]["principal"] == f"cap:{c.id}" and bad[0]["status"] == 403, entries
    assert bad[0]["denied"].startswith("capability:"), bad[0]
    assert bad[0]["error"] == "AccessDenied"
    assert denied_metric() >= before + 1


# ---- who may grant ----------------------------------------------------------

def test_non_owner_cannot_grant(owner, bkt):
    stranger = make_user()
    p = share(stranger, f"s3://{bkt}/docs/", "read", expect=1)
    assert "HTTP 403" in p.stderr
    root = Holder(env("CAIRN_ACCESS_KEY"), env("CAIRN_SECRET_KEY"))
    assert "HTTP 403" in share(root, f"s3://{bkt}", "read", expect=1).stderr
    assert not json.loads(run(["share", "list", "--json"], stranger.ak, stranger.sk).stdout)["shares"]


def test_anonymous_shares_api_refused(owner, bkt):
    doc = json.dumps({"bucket": bkt, "permissions": ["read"]}).encode()
    r = s3raw.send("POST", "/_cairn/admin/shares", "", {"content-type": "application/json"}, doc)
    assert r.status == 403, r
    assert s3raw.send("GET", "/_cairn/admin/shares").status == 403
    assert not json.loads(run(["share", "list", "--json"], owner.ak, owner.sk).stdout)["shares"] or all(
        s["bucket"] != bkt for s in json.loads(run(["share", "list", "--json"], owner.ak, owner.sk).stdout)["shares"])


def test_unknown_member_refused(owner, bkt):
    doc = json.dumps({"bucket": bkt, "permissions": ["read"], "permisions": ["write"]}).encode()
    r = s3raw.request("POST", "/_cairn/admin/shares", body=doc, access_key=owner.ak, secret_key=owner.sk)
    assert r.status == 400, r


# ---- copies, multipart, derivation of windows and keys ---------------------

def test_copy_source_must_be_inside_the_grant(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read,write")
    c.s3.copy_object(Bucket=bkt, Key="docs/copy", CopySource={"Bucket": bkt, "Key": "docs/a"})
    assert body(owner.s3, bkt, "docs/copy") == b"docs/a"
    denied(c.s3.copy_object, Bucket=bkt, Key="docs/stolen", CopySource={"Bucket": bkt, "Key": "other/x"})
    assert not exists(owner.s3, bkt, "docs/stolen")
    denied(c.s3.copy_object, Bucket=bkt, Key="other/y", CopySource={"Bucket": bkt, "Key": "docs/a"})
    assert not exists(owner.s3, bkt, "other/y")


def test_multipart_inside_prefix_only(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "write")
    up = c.s3.create_multipart_upload(Bucket=bkt, Key="docs/mp")["UploadId"]
    e = c.s3.upload_part(Bucket=bkt, Key="docs/mp", UploadId=up, PartNumber=1, Body=b"m" * 1024)["ETag"]
    c.s3.complete_multipart_upload(Bucket=bkt, Key="docs/mp", UploadId=up,
                                   MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert body(owner.s3, bkt, "docs/mp") == b"m" * 1024
    denied(c.s3.create_multipart_upload, Bucket=bkt, Key="other/mp")
    up2 = owner.s3.create_multipart_upload(Bucket=bkt, Key="other/mp2")["UploadId"]
    denied(c.s3.upload_part, Bucket=bkt, Key="other/mp2", UploadId=up2, PartNumber=1, Body=b"x")
    assert owner.s3.list_parts(Bucket=bkt, Key="other/mp2", UploadId=up2).get("Parts", []) == []
    owner.s3.abort_multipart_upload(Bucket=bkt, Key="other/mp2", UploadId=up2)


def test_derive_keeps_the_parents_window(owner, bkt):
    now = datetime.datetime.now(datetime.timezone.utc)
    end = now + datetime.timedelta(hours=1)
    parent = share(owner, f"s3://{bkt}/docs/", "read", "--not-after", iso(end))
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", expect=1).stderr
    assert "HTTP 403" in share(parent, f"s3://{bkt}/docs/", "read", "--not-after",
                               iso(end + datetime.timedelta(hours=1)), expect=1).stderr
    child = share(parent, f"s3://{bkt}/docs/", "read", "--not-after", iso(end - datetime.timedelta(minutes=1)))
    assert body(child.s3, bkt, "docs/a") == b"docs/a"


def test_derive_version_from_history_not_the_reverse(owner, vbkt):
    b, vids = vbkt
    hist = share(owner, f"s3://{b}/hist", "read", "--history")
    ver = share(hist, f"s3://{b}/hist", "read", "--version-id", vids[0])
    assert body(ver.s3, b, "hist", VersionId=vids[0]) == b"one"
    assert "HTTP 403" in share(ver, f"s3://{b}/hist", "read", "--history", expect=1).stderr
    assert "HTTP 403" in share(ver, f"s3://{b}/hist", "read", "--version-id", vids[1], expect=1).stderr
    assert "HTTP 403" in share(hist, f"s3://{b}/other", "read", "--history", expect=1).stderr
    assert "HTTP 403" in share(hist, f"s3://{b}/hi", "read", expect=1).stderr


def test_expired_capability_cannot_derive(owner, bkt):
    c = share(owner, f"s3://{bkt}/docs/", "read", "--expires-in", "1")
    time.sleep(2)
    assert "HTTP 403" in share(c, f"s3://{bkt}/docs/", "read", "--expires-in", "1", expect=1).stderr
