"""Bucket policies and canned ACLs end to end (suite "policy" of tests/e2e/run.sh).

The owner is the root user of the shared gateway (boto3, principal "root");
the other party is anonymous (plain HTTP through s3raw.send, no signature).
Covers Put/Get/DeleteBucketPolicy and MalformedPolicy, the policy step of
authorization for each condition key a test can control (one allowed and one
denied request each), explicit Deny over ownership, NotAction/NotResource,
policies bounded in time (presigned URLs included), the owner's protection
from locking themselves out, DeleteObjects authorized key by key, canned ACLs
on buckets and objects (and their XML), and that a denied request changes
nothing.

A second, non-owner user (made with `cairn admin` at the end of this file):
a policy Allow naming that user, or a group it belongs to (for as long as it
does), granting what the owner step does not; aws:username matching it; the
authenticated-read ACLs of buckets and objects allowing it but not anonymous;
a bucket's public-read ACL listing but not reading objects for it; and an
explicit Deny naming it winning over an Allow for "*".
"""

import datetime
import itertools
import json
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

import s3raw
import conftest
from conftest import make_client, new_bucket_name

OWNER = "root"  # the principal behind CAIRN_ROOT_ACCESS_KEY (gateway/bootstrap.c)
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


# ---- helpers ----------------------------------------------------------------

def arn(bucket, key=None):
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def stmt(effect, action, resource, principal="*", condition=None, sid=None, **extra):
    """A statement; action or resource None leaves it out (for NotAction=... or
    NotResource=... given in extra)."""
    s = {"Effect": effect, "Principal": principal}
    for name, value in (("Action", action), ("Resource", resource), ("Condition", condition), ("Sid", sid)):
        if value is not None:
            s[name] = value
    s.update(extra)
    return s


def path(bucket, key=None):
    return f"/{bucket}" + (f"/{s3raw.quote_key(key)}" if key is not None else "")


def anon(method, bucket, key=None, query="", body=None, headers=None):
    """An anonymous request: no Authorization, no signature."""
    return s3raw.send(method, path(bucket, key), query, headers, body)


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.datetime.now(datetime.timezone.utc)
PAST = iso(NOW - datetime.timedelta(days=2))
PAST2 = iso(NOW - datetime.timedelta(days=1))
FUTURE = iso(NOW + datetime.timedelta(days=1))
FUTURE2 = iso(NOW + datetime.timedelta(days=2))


def purge(s3, name):
    """Teardown: the policy and ACL first (they may deny the owner's deletes)."""
    try:
        s3.delete_bucket_policy(Bucket=name)
        s3.put_bucket_acl(Bucket=name, ACL="private")
    except ClientError:
        pass
    conftest.purge(s3, name)


def make_bucket(s3, **kw):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, **kw)
    return name


@pytest.fixture
def pb(s3):
    name = make_bucket(s3)
    yield name
    purge(s3, name)


@pytest.fixture
def vb(s3):
    name = make_bucket(s3)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    purge(s3, name)


def exists(s3, bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def set_policy(s3, bucket, *statements):
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(*statements))


def grants(xml_body):
    """[(type, id-or-uri, permission)] of an AccessControlPolicy document."""
    root = ET.fromstring(xml_body)
    out = []
    for g in root.iter(NS + "Grant"):
        ge = g.find(NS + "Grantee")
        who = ge.find(NS + "URI")
        if who is None:
            who = ge.find(NS + "ID")
        out.append((ge.get(XSI), who.text, g.find(NS + "Permission").text))
    return sorted(out)


# ---- Put/Get/DeleteBucketPolicy ---------------------------------------------

def test_get_policy_of_bucket_without_one(s3, pb):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=pb)
    assert code_of(e) == "NoSuchBucketPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_put_get_delete_policy(s3, pb):
    # Odd spacing on purpose: the document comes back byte for byte.
    doc = '{ "Version":"2012-10-17",\n  "Statement":[{"Sid":"Pub","Effect":"Allow","Principal":"*",' \
          f'"Action":"s3:GetObject","Resource":"{arn(pb, "pub/*")}"}}]}}'
    r = s3.put_bucket_policy(Bucket=pb, Policy=doc)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    raw = s3raw.request("GET", path(pb), "policy")
    assert raw.status == 200
    assert raw.body.decode() == doc
    assert raw.headers["content-type"] == "application/json"
    assert s3.get_bucket_policy(Bucket=pb)["Policy"] == doc
    r = s3.delete_bucket_policy(Bucket=pb)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=pb)
    assert code_of(e) == "NoSuchBucketPolicy"
    # Deleting again is still 204, as in S3.
    assert s3.delete_bucket_policy(Bucket=pb)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_policy_of_missing_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=new_bucket_name())
    assert code_of(e) == "NoSuchBucket"


@pytest.mark.parametrize("case", ["not-json", "bad-action", "other-bucket", "too-large", "empty-statement",
                                  "bad-condition-key", "bad-effect"])
def test_malformed_policy_leaves_previous(s3, pb, case):
    good = policy(stmt("Allow", "s3:GetObject", arn(pb, "pub/*")))
    s3.put_bucket_policy(Bucket=pb, Policy=good)
    bad = {
        "not-json": '{"Version": "2012-10-17", "Statement": [',
        "bad-action": policy(stmt("Allow", "s3:GetObjetc", arn(pb, "*"))),
        "other-bucket": policy(stmt("Allow", "s3:GetObject", arn(pb + "-other", "*"))),
        "too-large": policy(*[stmt("Allow", "s3:GetObject", arn(pb, f"p{i:05d}/*"), sid=f"S{i}")
                              for i in range(400)]),
        "empty-statement": json.dumps({"Version": "2012-10-17", "Statement": []}),
        "bad-condition-key": policy(stmt("Allow", "s3:GetObject", arn(pb, "*"),
                                         condition={"StringEquals": {"aws:Referer": "x"}})),
        "bad-effect": policy(stmt("Permit", "s3:GetObject", arn(pb, "*"))),
    }[case]
    if case == "too-large":
        assert len(bad) > 20 * 1024
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=pb, Policy=bad)
    assert code_of(e) == "MalformedPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Message"], "the reason is the message"
    assert s3.get_bucket_policy(Bucket=pb)["Policy"] == good


def test_malformed_policy_names_the_reason(s3, pb):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=pb, Policy=policy(stmt("Allow", "s3:GetObjetc", arn(pb, "*"))))
    assert "s3:GetObjetc" in e.value.response["Error"]["Message"]


def test_only_owner_manages_policy_unless_granted(s3, pb):
    assert anon("GET", pb, query="policy").code == "AccessDenied"
    r = anon("PUT", pb, query="policy", body=policy(stmt("Allow", "s3:*", arn(pb, "*"))).encode())
    assert r.status == 403 and r.code == "AccessDenied"
    assert anon("DELETE", pb, query="policy").status == 403
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=pb)
    assert code_of(e) == "NoSuchBucketPolicy", "the denied PUT stored nothing"
    # As in AWS, the policy itself may grant these actions to others.
    doc = policy(stmt("Allow", "s3:GetBucketPolicy", arn(pb)))
    s3.put_bucket_policy(Bucket=pb, Policy=doc)
    r = anon("GET", pb, query="policy")
    assert r.status == 200 and r.body.decode() == doc
    assert anon("DELETE", pb, query="policy").status == 403


def test_owner_cannot_lock_themselves_out(s3, pb):
    s3.put_object(Bucket=pb, Key="k", Body=b"x")
    set_policy(s3, pb, stmt("Deny", "s3:*", [arn(pb), arn(pb, "*")], sid="DenyAll"))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=pb, Key="k")
    assert code_of(e) == "AccessDenied"
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=pb)
    # ...but the owner can still read, replace and remove the policy.
    assert "DenyAll" in s3.get_bucket_policy(Bucket=pb)["Policy"]
    s3.delete_bucket_policy(Bucket=pb)
    assert s3.get_object(Bucket=pb, Key="k")["Body"].read() == b"x"


# ---- the policy step ----------------------------------------------------------

def test_anonymous_allowed_on_a_prefix_only(s3, pb):
    s3.put_object(Bucket=pb, Key="pub/a.txt", Body=b"public")
    s3.put_object(Bucket=pb, Key="priv/b.txt", Body=b"private")
    assert anon("GET", pb, "pub/a.txt").status == 403, "private before the policy"
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "pub/*")))
    r = anon("GET", pb, "pub/a.txt")
    assert r.status == 200 and r.body == b"public"
    assert anon("HEAD", pb, "pub/a.txt").status == 200
    assert anon("GET", pb, "priv/b.txt").code == "AccessDenied"
    assert anon("GET", pb).code == "AccessDenied", "GetObject does not grant listing"
    # A denied anonymous PUT leaves no object, even under the public prefix.
    assert anon("PUT", pb, "pub/new", body=b"nope").code == "AccessDenied"
    assert not exists(s3, pb, "pub/new")
    # A denied anonymous DELETE leaves the object.
    assert anon("DELETE", pb, "pub/a.txt").code == "AccessDenied"
    assert exists(s3, pb, "pub/a.txt")


def test_explicit_deny_beats_ownership(s3, pb):
    s3.put_object(Bucket=pb, Key="secret/x", Body=b"s")
    s3.put_object(Bucket=pb, Key="open/x", Body=b"o")
    set_policy(s3, pb, stmt("Deny", "s3:GetObject", arn(pb, "secret/*"), sid="NoSecrets"))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=pb, Key="secret/x")
    assert code_of(e) == "AccessDenied"
    assert s3.get_object(Bucket=pb, Key="open/x")["Body"].read() == b"o"
    # A Deny also beats an Allow in the same policy.
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "*")),
               stmt("Deny", "s3:GetObject", arn(pb, "secret/*")))
    assert anon("GET", pb, "open/x").status == 200
    assert anon("GET", pb, "secret/x").status == 403


def test_denied_delete_leaves_the_object(s3, pb):
    for k in ("keep/a", "tmp/b"):
        s3.put_object(Bucket=pb, Key=k, Body=b"x")
    set_policy(s3, pb, stmt("Deny", "s3:DeleteObject", arn(pb, "keep/*")))
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=pb, Key="keep/a")
    assert code_of(e) == "AccessDenied"
    assert exists(s3, pb, "keep/a")
    # DeleteObjects is authorized key by key.
    r = s3.delete_objects(Bucket=pb, Delete={"Objects": [{"Key": "keep/a"}, {"Key": "tmp/b"}]})
    assert [d["Key"] for d in r.get("Deleted", [])] == ["tmp/b"]
    assert [(x["Key"], x["Code"]) for x in r.get("Errors", [])] == [("keep/a", "AccessDenied")]
    assert exists(s3, pb, "keep/a") and not exists(s3, pb, "tmp/b")


def test_anonymous_delete_objects_key_by_key(s3, pb):
    for k in ("tmp/a", "keep/b"):
        s3.put_object(Bucket=pb, Key=k, Body=b"x")
    set_policy(s3, pb, stmt("Allow", "s3:DeleteObject", arn(pb, "tmp/*")))
    body = (b'<Delete><Object><Key>tmp/a</Key></Object>'
            b'<Object><Key>keep/b</Key></Object></Delete>')
    r = anon("POST", pb, query="delete", body=body)
    assert r.status == 200, r
    assert b"<Deleted><Key>tmp/a</Key>" in r.body
    assert b"<Key>keep/b</Key><Code>AccessDenied</Code>" in r.body
    assert not exists(s3, pb, "tmp/a") and exists(s3, pb, "keep/b")


def test_not_action(s3, pb):
    s3.put_object(Bucket=pb, Key="k", Body=b"x")
    # Deny everything on objects but reading them: writes fail, reads work.
    set_policy(s3, pb, stmt("Deny", None, arn(pb, "*"), NotAction=["s3:GetObject"]))
    assert s3.get_object(Bucket=pb, Key="k")["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=pb, Key="k2", Body=b"y")
    assert code_of(e) == "AccessDenied"
    assert not exists(s3, pb, "k2")


def test_not_resource(s3, pb):
    s3.put_object(Bucket=pb, Key="public/x", Body=b"p")
    s3.put_object(Bucket=pb, Key="private/x", Body=b"q")
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", None, NotResource=arn(pb, "private/*")))
    assert anon("GET", pb, "public/x").status == 200
    assert anon("GET", pb, "private/x").status == 403


# ---- conditions: one allowed and one denied request per key ------------------

def anon_get_with(s3, pb, condition, key="c/x"):
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "*"), condition=condition))
    return anon("GET", pb, key).status


@pytest.fixture
def obj(s3, pb):
    s3.put_object(Bucket=pb, Key="c/x", Body=b"cond")
    return pb


def test_source_ip(s3, obj):
    assert anon_get_with(s3, obj, {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}) == 200
    assert anon_get_with(s3, obj, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}) == 403
    assert anon_get_with(s3, obj, {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}) == 200
    assert anon_get_with(s3, obj, {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "127.0.0.0/8"]}}) == 403


def test_secure_transport(s3, obj):
    # The suite speaks plain HTTP: a Deny on insecure transport locks out even the owner.
    set_policy(s3, obj, stmt("Deny", "s3:GetObject", arn(obj, "*"),
                             condition={"Bool": {"aws:SecureTransport": "false"}}))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=obj, Key="c/x")
    assert code_of(e) == "AccessDenied"
    set_policy(s3, obj, stmt("Deny", "s3:GetObject", arn(obj, "*"),
                             condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert s3.get_object(Bucket=obj, Key="c/x")["Body"].read() == b"cond"


def test_current_time_windows(s3, obj):
    def window(lo, hi):
        return {"DateGreaterThan": {"aws:CurrentTime": lo}, "DateLessThan": {"aws:CurrentTime": hi}}
    assert anon_get_with(s3, obj, window(PAST, FUTURE)) == 200
    assert anon_get_with(s3, obj, window(FUTURE, FUTURE2)) == 403, "window not yet open"
    assert anon_get_with(s3, obj, window(PAST, PAST2)) == 403, "window closed"


def test_epoch_time(s3, obj):
    now = int(NOW.timestamp())
    assert anon_get_with(s3, obj, {"NumericGreaterThan": {"aws:EpochTime": now - 3600}}) == 200
    assert anon_get_with(s3, obj, {"NumericGreaterThan": {"aws:EpochTime": now + 86400}}) == 403


def test_principal_type(s3, obj):
    assert anon_get_with(s3, obj, {"StringEquals": {"aws:PrincipalType": "Anonymous"}}) == 200
    assert anon_get_with(s3, obj, {"StringEquals": {"aws:PrincipalType": "User"}}) == 403


def test_username(s3, pb):
    set_policy(s3, pb, stmt("Deny", "s3:PutObject", arn(pb, "*"),
                            condition={"StringEquals": {"aws:username": OWNER}}))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=pb, Key="u", Body=b"x")
    assert code_of(e) == "AccessDenied"
    assert not exists(s3, pb, "u")
    set_policy(s3, pb, stmt("Deny", "s3:PutObject", arn(pb, "*"),
                            condition={"StringEquals": {"aws:username": "someone-else"}}))
    s3.put_object(Bucket=pb, Key="u", Body=b"x")
    assert exists(s3, pb, "u")
    # Anonymous requests have no aws:username: a StringLike on it never matches them.
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "*"), condition={"StringLike": {"aws:username": "*"}}))
    assert anon("GET", pb, "u").status == 403


def list_anon(pb, **q):
    return anon("GET", pb, query=urllib.parse.urlencode({"list-type": "2", **q})).status


def test_prefix(s3, pb):
    for k in ("pub/a", "priv/b"):
        s3.put_object(Bucket=pb, Key=k, Body=b"x")
    set_policy(s3, pb, stmt("Allow", "s3:ListBucket", arn(pb), condition={"StringLike": {"s3:prefix": "pub/*"}}))
    assert list_anon(pb, prefix="pub/") == 200
    assert list_anon(pb, prefix="priv/") == 403
    assert list_anon(pb) == 403, "absent s3:prefix matches no StringLike"
    r = anon("GET", pb, query="list-type=2&prefix=pub%2F")
    assert b"<Key>pub/a</Key>" in r.body and b"priv/b" not in r.body


def test_prefix_with_null(s3, pb):
    set_policy(s3, pb, stmt("Allow", "s3:ListBucket", arn(pb), condition={"Null": {"s3:prefix": "false"}}))
    assert list_anon(pb, prefix="any") == 200
    assert list_anon(pb) == 403


def test_max_keys(s3, pb):
    set_policy(s3, pb, stmt("Allow", "s3:ListBucket", arn(pb),
                            condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))
    assert list_anon(pb, **{"max-keys": "5"}) == 200
    assert list_anon(pb, **{"max-keys": "50"}) == 403
    assert list_anon(pb) == 403, "absent s3:max-keys matches no Numeric condition"


def test_delimiter(s3, pb):
    set_policy(s3, pb, stmt("Allow", "s3:ListBucket", arn(pb), condition={"StringEquals": {"s3:delimiter": "/"}}))
    assert list_anon(pb, delimiter="/") == 200
    assert list_anon(pb, delimiter="-") == 403


def test_list_object_versions_keys(s3, vb):
    set_policy(s3, vb, stmt("Allow", "s3:ListBucketVersions", arn(vb),
                            condition={"StringLike": {"s3:prefix": "pub/*"}}))
    assert anon("GET", vb, query="versions&prefix=pub%2F").status == 200
    assert anon("GET", vb, query="versions&prefix=x").status == 403
    assert anon("GET", vb, query="list-type=2&prefix=pub%2F").status == 403, "ListBucket is another action"


def test_version_actions(s3, vb):
    v1 = s3.put_object(Bucket=vb, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=vb, Key="k", Body=b"two")
    set_policy(s3, vb, stmt("Allow", "s3:GetObjectVersion", arn(vb, "*"),
                            condition={"StringEquals": {"s3:VersionId": v1}}))
    r = anon("GET", vb, "k", query=f"versionId={v1}")
    assert r.status == 200 and r.body == b"one"
    assert anon("GET", vb, "k").status == 403, "GetObject is not GetObjectVersion"
    # Deleting a version is s3:DeleteObjectVersion, which a Deny can keep from the owner.
    set_policy(s3, vb, stmt("Deny", "s3:DeleteObjectVersion", arn(vb, "*")))
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=vb, Key="k", VersionId=v1)
    assert code_of(e) == "AccessDenied"
    assert s3.get_object(Bucket=vb, Key="k", VersionId=v1)["Body"].read() == b"one"
    s3.delete_object(Bucket=vb, Key="k")  # a delete marker is s3:DeleteObject


# ---- time-bounded access and presigned URLs ------------------------------------

def fetch(url):
    u = urllib.parse.urlsplit(url)
    return s3raw.send("GET", u.path, u.query)


def test_presigned_url_is_bound_by_policy_time(s3, obj):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": obj, "Key": "c/x"}, ExpiresIn=600)
    assert fetch(url).status == 200
    # Deny before a time in the future: in force now, for the same URL.
    set_policy(s3, obj, stmt("Deny", "s3:GetObject", arn(obj, "*"),
                             condition={"DateLessThan": {"aws:CurrentTime": FUTURE}}))
    r = fetch(url)
    assert r.status == 403 and r.code == "AccessDenied"
    # Deny before a time in the past: no longer in force.
    set_policy(s3, obj, stmt("Deny", "s3:GetObject", arn(obj, "*"),
                             condition={"DateLessThan": {"aws:CurrentTime": PAST}}))
    assert fetch(url).status == 200


def test_allow_only_between_two_dates(s3, obj):
    def only_between(lo, hi):
        set_policy(s3, obj, stmt("Allow", "s3:GetObject", arn(obj, "*"),
                                 condition={"DateGreaterThan": {"aws:CurrentTime": lo},
                                            "DateLessThan": {"aws:CurrentTime": hi}}))
    only_between(PAST, FUTURE)
    assert anon("GET", obj, "c/x").status == 200
    only_between(PAST, PAST2)
    assert anon("GET", obj, "c/x").status == 403


# ---- canned ACLs ---------------------------------------------------------------

def test_bucket_public_read(s3):
    b = make_bucket(s3, ACL="public-read")
    try:
        s3.put_object(Bucket=b, Key="k", Body=b"x")
        r = anon("GET", b, query="list-type=2")
        assert r.status == 200 and b"<Key>k</Key>" in r.body
        assert anon("GET", b).status == 200
        assert anon("HEAD", b).status == 200
        assert anon("GET", b, query="versions").status == 200
        assert anon("GET", b, "k").status == 403, "bucket READ lists, it does not read objects"
        assert anon("PUT", b, "new", body=b"x").status == 403
        assert not exists(s3, b, "new")
        assert anon("DELETE", b, "k").status == 403
        assert exists(s3, b, "k")
        assert anon("GET", b, query="acl").status == 403
        assert grants(s3raw.request("GET", path(b), "acl").body) == sorted([
            ("CanonicalUser", OWNER, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")])
        acl = s3.get_bucket_acl(Bucket=b)
        assert acl["Owner"]["ID"] == OWNER
    finally:
        purge(s3, b)


def test_bucket_public_read_write(s3, pb):
    s3.put_bucket_acl(Bucket=pb, ACL="public-read-write")
    r = anon("PUT", pb, "anon-obj", body=b"from anonymous")
    assert r.status == 200, r
    assert s3.get_object(Bucket=pb, Key="anon-obj")["Body"].read() == b"from anonymous"
    assert anon("GET", pb, "anon-obj").status == 403, "the new object is private"
    assert anon("DELETE", pb, "anon-obj").status == 204
    assert not exists(s3, pb, "anon-obj")
    assert grants(s3raw.request("GET", path(pb), "acl").body) == sorted([
        ("CanonicalUser", OWNER, "FULL_CONTROL"), ("Group", ALL_USERS, "READ"), ("Group", ALL_USERS, "WRITE")])
    assert anon("PUT", pb, query="acl", headers={"x-amz-acl": "private"}).status == 403


def test_bucket_public_read_write_not_version_delete(s3, vb):
    s3.put_bucket_acl(Bucket=vb, ACL="public-read-write")
    v = s3.put_object(Bucket=vb, Key="k", Body=b"x")["VersionId"]
    assert anon("DELETE", vb, "k", query=f"versionId={v}").status == 403
    assert s3.get_object(Bucket=vb, Key="k", VersionId=v)["Body"].read() == b"x"


def test_bucket_authenticated_read(s3, pb):
    s3.put_bucket_acl(Bucket=pb, ACL="authenticated-read")
    assert anon("GET", pb).status == 403
    s3.list_objects_v2(Bucket=pb)
    assert grants(s3raw.request("GET", path(pb), "acl").body) == sorted([
        ("CanonicalUser", OWNER, "FULL_CONTROL"), ("Group", AUTH_USERS, "READ")])
    s3.put_bucket_acl(Bucket=pb, ACL="private")
    assert grants(s3raw.request("GET", path(pb), "acl").body) == [("CanonicalUser", OWNER, "FULL_CONTROL")]


def test_object_public_read(s3, pb):
    s3.put_object(Bucket=pb, Key="pub", Body=b"p", ACL="public-read")
    s3.put_object(Bucket=pb, Key="priv", Body=b"q")
    r = anon("GET", pb, "pub")
    assert r.status == 200 and r.body == b"p"
    assert anon("HEAD", pb, "pub").status == 200
    assert anon("GET", pb, "priv").status == 403
    assert anon("GET", pb).status == 403, "object READ does not list the bucket"
    assert anon("PUT", pb, "pub", body=b"overwrite").status == 403
    assert s3.get_object(Bucket=pb, Key="pub")["Body"].read() == b"p"
    assert grants(s3raw.request("GET", path(pb, "pub"), "acl").body) == sorted([
        ("CanonicalUser", OWNER, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")])
    assert grants(s3raw.request("GET", path(pb, "priv"), "acl").body) == [("CanonicalUser", OWNER, "FULL_CONTROL")]
    assert anon("GET", pb, "pub", query="acl").status == 403
    s3.put_object_acl(Bucket=pb, Key="pub", ACL="private")
    assert anon("GET", pb, "pub").status == 403
    s3.put_object_acl(Bucket=pb, Key="priv", ACL="public-read")
    assert anon("GET", pb, "priv").status == 200


def test_object_acl_of_missing_key(s3, pb):
    with pytest.raises(ClientError) as e:
        s3.get_object_acl(Bucket=pb, Key="nope")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=pb, Key="nope", ACL="public-read")
    assert code_of(e) == "NoSuchKey"


def test_object_authenticated_read(s3, pb):
    s3.put_object(Bucket=pb, Key="a", Body=b"x", ACL="authenticated-read")
    assert anon("GET", pb, "a").status == 403
    assert s3.get_object(Bucket=pb, Key="a")["Body"].read() == b"x"
    assert grants(s3raw.request("GET", path(pb, "a"), "acl").body) == sorted([
        ("CanonicalUser", OWNER, "FULL_CONTROL"), ("Group", AUTH_USERS, "READ")])


def test_object_acl_is_per_version(s3, vb):
    v1 = s3.put_object(Bucket=vb, Key="k", Body=b"one", ACL="public-read")["VersionId"]
    v2 = s3.put_object(Bucket=vb, Key="k", Body=b"two")["VersionId"]
    assert anon("GET", vb, "k").status == 403, "a new version does not inherit the ACL"
    assert anon("GET", vb, "k", query=f"versionId={v1}").body == b"one"
    assert anon("GET", vb, "k", query=f"versionId={v2}").status == 403
    s3.put_object_acl(Bucket=vb, Key="k", VersionId=v2, ACL="public-read")
    assert anon("GET", vb, "k").body == b"two"
    acl = s3.get_object_acl(Bucket=vb, Key="k", VersionId=v1)
    assert any(g["Grantee"].get("URI") == ALL_USERS for g in acl["Grants"])
    # A delete marker as latest: nothing to read.
    s3.delete_object(Bucket=vb, Key="k")
    assert anon("GET", vb, "k").status == 403


def test_copy_and_multipart_take_the_requested_acl(s3, pb):
    s3.put_object(Bucket=pb, Key="src", Body=b"s", ACL="public-read")
    s3.copy_object(Bucket=pb, Key="copy-private", CopySource={"Bucket": pb, "Key": "src"})
    s3.copy_object(Bucket=pb, Key="copy-public", CopySource={"Bucket": pb, "Key": "src"}, ACL="public-read")
    assert anon("GET", pb, "copy-private").status == 403, "the source's ACL is not copied"
    assert anon("GET", pb, "copy-public").status == 200
    up = s3.create_multipart_upload(Bucket=pb, Key="mp", ACL="public-read")
    part = s3.upload_part(Bucket=pb, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"m")
    s3.complete_multipart_upload(Bucket=pb, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    r = anon("GET", pb, "mp")
    assert r.status == 200 and r.body == b"m"


def test_owner_equivalent_acls_are_private(s3, pb):
    s3.put_object(Bucket=pb, Key="a", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=pb, Key="b", Body=b"x", ACL="bucket-owner-read")
    for k in ("a", "b"):
        assert anon("GET", pb, k).status == 403
        assert grants(s3raw.request("GET", path(pb, k), "acl").body) == [("CanonicalUser", OWNER, "FULL_CONTROL")]


@pytest.mark.parametrize("headers", [{"x-amz-acl": "aws-exec-read"}, {"x-amz-acl": "log-delivery-write"},
                                     {"x-amz-grant-read": f'uri="{ALL_USERS}"'}])
def test_unsupported_acls_are_not_implemented(s3, pb, headers):
    r = s3raw.request("PUT", path(pb, "k"), headers=headers, body=b"x")
    assert r.status == 501 and r.code == "NotImplemented", r
    assert not exists(s3, pb, "k")
    r = s3raw.request("PUT", path(pb), "acl", headers=headers)
    assert r.status == 501 and r.code == "NotImplemented", r
    r = s3raw.request("PUT", path(new_bucket_name()), headers=headers)
    assert r.status == 501 and r.code == "NotImplemented", r


def acp_body(owner, *groups):
    g = "".join(
        f'<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">'
        f'<URI>{uri}</URI></Grantee><Permission>{perm}</Permission></Grant>' for uri, perm in groups)
    return (f'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>{owner}</ID></Owner>'
            f'<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:type="CanonicalUser"><ID>{owner}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>'
            f'{g}</AccessControlList></AccessControlPolicy>')


def test_acl_bodies_equal_to_canned(s3, pb):
    s3.put_object(Bucket=pb, Key="k", Body=b"x")
    s3.put_bucket_acl(Bucket=pb, AccessControlPolicy={
        "Owner": {"ID": OWNER},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": OWNER}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
    assert anon("GET", pb).status == 200
    r = s3raw.request("PUT", path(pb, "k"), "acl", body=acp_body(OWNER, (ALL_USERS, "READ")).encode())
    assert r.status == 200, r
    assert anon("GET", pb, "k").status == 200
    # What the Get answers can be put back as is.
    back = s3raw.request("GET", path(pb, "k"), "acl").body
    assert s3raw.request("PUT", path(pb, "k"), "acl", body=back).status == 200
    # Anything a canned ACL cannot say is refused, and changes nothing.
    for body in (acp_body(OWNER, (ALL_USERS, "READ_ACP")),
                 acp_body(OWNER).replace(f"<ID>{OWNER}</ID></Grantee>", "<ID>someone</ID></Grantee>"),
                 acp_body(OWNER, ("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"))):
        r = s3raw.request("PUT", path(pb, "k"), "acl", body=body.encode())
        assert r.status == 501 and r.code == "NotImplemented", r
    assert anon("GET", pb, "k").status == 200
    r = s3raw.request("PUT", path(pb, "k"), "acl", headers={"x-amz-acl": "private"},
                      body=acp_body(OWNER).encode())
    assert r.status == 400, "header and body at once"


def test_policy_and_acl_together(s3):
    # An ACL grants, a policy Deny still wins over it.
    b = make_bucket(s3, ACL="public-read")
    try:
        s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
        assert anon("GET", b, "k").status == 200
        set_policy(s3, b, stmt("Deny", "s3:GetObject", arn(b, "*"), condition={
            "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
        assert anon("GET", b, "k").status == 403
        assert anon("GET", b).status == 200, "listing is not denied"
    finally:
        purge(s3, b)


def test_service_operations_still_need_credentials():
    assert s3raw.send("GET", "/").status == 403
    r = s3raw.send("PUT", "/" + new_bucket_name())
    assert r.status == 403 and r.code == "AccessDenied"


# ---- a second user (users and keys from `cairn admin`) ----------------------

_users = itertools.count()


def cairn_admin(*args):
    """`cairn admin ARGS --json` as root; returns the JSON document."""
    b = os.environ.get("CAIRN_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "cairn")
    e = dict(os.environ, AWS_ACCESS_KEY_ID=s3raw.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3raw.SECRET_KEY,
             CAIRN_ENDPOINT=s3raw.ENDPOINT)
    p = subprocess.run([b, "admin", *args, "--json"], env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return json.loads(p.stdout)


def new_user():
    """A user with one key: (name, boto3 client)."""
    name = f"{new_bucket_name()}-u{next(_users)}"
    cairn_admin("user", "create", name)
    k = cairn_admin("key", "create", name)
    return name, make_client(access_key=k["access_key"], secret_key=k["secret_key"])


def user_arn(name):
    return f"arn:aws:iam::cairn:user/{name}"


def refused(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.value.response
    return e


def test_user_principal_on_a_prefix(s3, pb):
    bob, bob_s3 = new_user()
    carol, carol_s3 = new_user()
    for k in ("pub/a", "priv/b"):
        s3.put_object(Bucket=pb, Key=k, Body=k.encode())
    refused(bob_s3.get_object, Bucket=pb, Key="pub/a")  # not the owner: nothing yet
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "pub/*"), principal={"AWS": user_arn(bob)}))
    assert bob_s3.get_object(Bucket=pb, Key="pub/a")["Body"].read() == b"pub/a"
    refused(bob_s3.get_object, Bucket=pb, Key="priv/b")
    refused(bob_s3.list_objects_v2, Bucket=pb)
    refused(bob_s3.put_object, Bucket=pb, Key="pub/new", Body=b"x")
    assert not exists(s3, pb, "pub/new")
    refused(bob_s3.delete_object, Bucket=pb, Key="pub/a")
    assert exists(s3, pb, "pub/a")
    refused(carol_s3.get_object, Bucket=pb, Key="pub/a")
    assert anon("GET", pb, "pub/a").status == 403


def test_group_principal_follows_membership(s3, pb):
    bob, bob_s3 = new_user()
    group = f"{new_bucket_name()}-readers"
    cairn_admin("group", "create", group)
    s3.put_object(Bucket=pb, Key="g", Body=b"g")
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "*"),
                            principal={"AWS": f"arn:aws:iam::cairn:group/{group}"}))
    refused(bob_s3.get_object, Bucket=pb, Key="g")
    cairn_admin("group", "add-member", group, bob)
    assert bob_s3.get_object(Bucket=pb, Key="g")["Body"].read() == b"g"
    cairn_admin("group", "remove-member", group, bob)
    refused(bob_s3.get_object, Bucket=pb, Key="g")


def test_username_condition_second_user(s3, pb):
    bob, bob_s3 = new_user()
    carol, carol_s3 = new_user()
    s3.put_object(Bucket=pb, Key="u", Body=b"u")
    set_policy(s3, pb, stmt("Allow", "s3:GetObject", arn(pb, "*"),
                            condition={"StringEquals": {"aws:username": bob}}))
    assert bob_s3.get_object(Bucket=pb, Key="u")["Body"].read() == b"u"
    refused(carol_s3.get_object, Bucket=pb, Key="u")
    assert anon("GET", pb, "u").status == 403


def test_authenticated_read_acls_second_user(s3, pb):
    bob, bob_s3 = new_user()
    s3.put_object(Bucket=pb, Key="a", Body=b"x", ACL="authenticated-read")
    s3.put_object(Bucket=pb, Key="p", Body=b"y")
    assert bob_s3.get_object(Bucket=pb, Key="a")["Body"].read() == b"x"
    assert anon("GET", pb, "a").status == 403
    refused(bob_s3.get_object, Bucket=pb, Key="p")
    refused(bob_s3.put_object, Bucket=pb, Key="a", Body=b"overwrite")
    assert s3.get_object(Bucket=pb, Key="a")["Body"].read() == b"x"
    refused(bob_s3.list_objects_v2, Bucket=pb)
    s3.put_bucket_acl(Bucket=pb, ACL="authenticated-read")
    assert [o["Key"] for o in bob_s3.list_objects_v2(Bucket=pb)["Contents"]] == ["a", "p"]
    assert anon("GET", pb, query="list-type=2").status == 403
    refused(bob_s3.get_object, Bucket=pb, Key="p")  # bucket READ lists; it does not read objects


def test_bucket_public_read_does_not_read_objects_for_a_user(s3):
    bob, bob_s3 = new_user()
    b = make_bucket(s3, ACL="public-read")
    try:
        s3.put_object(Bucket=b, Key="k", Body=b"x")
        assert [o["Key"] for o in bob_s3.list_objects_v2(Bucket=b)["Contents"]] == ["k"]
        refused(bob_s3.get_object, Bucket=b, Key="k")
    finally:
        purge(s3, b)


def test_explicit_deny_for_user_beats_allow_for_everyone(s3, pb):
    bob, bob_s3 = new_user()
    carol, carol_s3 = new_user()
    s3.put_object(Bucket=pb, Key="d", Body=b"d")
    set_policy(s3, pb,
               stmt("Allow", "s3:GetObject", arn(pb, "*")),
               stmt("Deny", "s3:GetObject", arn(pb, "*"), principal={"AWS": [user_arn(bob)]}))
    refused(bob_s3.get_object, Bucket=pb, Key="d")
    assert carol_s3.get_object(Bucket=pb, Key="d")["Body"].read() == b"d"
    assert anon("GET", pb, "d").status == 200
