"""Users, groups and access keys against a running cairn: the admin API
(docs/ADMIN.md) through `cairn admin` (every command, human and --json) and
through raw signed requests (s3raw), then what the keys it makes can do with
boto3 and aws-cli, and bucket ownership between users: another user's bucket
is AccessDenied for every bucket and object operation, and ListBuckets shows
each user their own buckets only. Run through tests/e2e/run.sh, which starts
the gateway (root credentials in CAIRN_ACCESS_KEY / CAIRN_SECRET_KEY).
"""

import itertools
import json
import os
import subprocess

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import s3raw
from conftest import denied, empty_and_delete, env, make_client, new_bucket_name

ADMIN = "/_cairn/admin"
_seq = itertools.count()


# ---- helpers ----------------------------------------------------------------

def cairn_bin():
    b = os.environ.get("CAIRN_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "cairn")
    assert os.access(b, os.X_OK), f"no cairn binary at {b}"
    return b


def new_name(kind="u"):
    """A user or group name unique to this run (the prefix is letters, digits and '-')."""
    return f"{env('CAIRN_BUCKET_PREFIX', 'e2e-admin')}-{kind}{next(_seq)}"


def cli(*args, ak=None, sk=None, extra_env=None):
    """Runs `cairn admin ARGS` with the root credentials (or ak/sk) in the
    environment, as a user would."""
    e = dict(os.environ)
    e.update({"CAIRN_ENDPOINT": env("CAIRN_ENDPOINT"),
              "AWS_ACCESS_KEY_ID": ak or env("CAIRN_ACCESS_KEY"),
              "AWS_SECRET_ACCESS_KEY": sk or env("CAIRN_SECRET_KEY")})
    e.update(extra_env or {})
    return subprocess.run([cairn_bin(), "admin", *args], env=e, capture_output=True, text=True, timeout=60)


def ok(*args, **kw):
    p = cli(*args, **kw)
    assert p.returncode == 0, f"cairn admin {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def ok_json(*args, **kw):
    return json.loads(ok(*args, "--json", **kw).stdout)


def fails(status_code, *args, **kw):
    """An API error: exit 1, the message on stderr; with --json the error document on stdout."""
    p = cli(*args, **kw)
    assert p.returncode == 1, f"cairn admin {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stderr.strip(), "no message on stderr"
    pj = cli(*args, "--json", **kw)
    assert pj.returncode == 1
    doc = json.loads(pj.stdout)
    assert doc["error"] == status_code, doc
    assert doc["message"] and doc["request_id"], doc
    return p, doc


def api(method, path, body=b"", ak=None, sk=None, **kw):
    """A raw SigV4-signed admin request; returns (status, JSON document or None)."""
    r = s3raw.request(method, ADMIN + path, body=body, access_key=ak, secret_key=sk, **kw)
    try:
        doc = json.loads(r.body) if r.body else None
    except ValueError:
        doc = None
    return r.status, doc, r


def api_error(resp_tuple, status, code):
    st, doc, r = resp_tuple
    assert st == status, r
    assert doc is not None and doc["error"] == code, r
    assert doc["message"] and doc["request_id"] == r.request_id, r
    assert r.headers.get("content-type") == "application/json", r


def make_user(with_key=True):
    name = new_name()
    ok("user", "create", name)
    if not with_key:
        return name, None, None
    k = ok_json("key", "create", name)
    return name, k["access_key"], k["secret_key"]


def user_client(ak, sk):
    return make_client(access_key=ak, secret_key=sk)


def refused_key(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 403, r
    assert r["Error"]["Code"] in ("InvalidAccessKeyId", "AccessDenied"), r


def users_now():
    return sorted(u["name"] for u in ok_json("user", "list")["users"])


def groups_now():
    return sorted(g["name"] for g in ok_json("group", "list")["groups"])


@pytest.fixture(scope="module")
def admins_group():
    """The group "admins", created by this suite unless it exists."""
    p = cli("group", "create", "admins")
    assert p.returncode == 0 or "already exists" in p.stderr, p.stderr
    return "admins"


# ---- the command line -------------------------------------------------------

def test_help_and_usage_errors():
    p = subprocess.run([cairn_bin(), "admin", "--help"], capture_output=True, text=True)
    assert p.returncode == 0
    for words in ("user create NAME", "group add-member GROUP USER", "key disable ACCESS_KEY", "--json",
                  "--endpoint", "AWS_ACCESS_KEY_ID"):
        assert words in p.stdout, p.stdout
    assert "admin" in subprocess.run([cairn_bin(), "--help"], capture_output=True, text=True).stdout
    assert subprocess.run([cairn_bin(), "admin"], capture_output=True, text=True).returncode == 2
    for args in (["user", "frob"], ["frob", "list"], ["user", "create"], ["user", "create", "a", "b"],
                 ["group", "add-member", "g"], ["user", "list", "--bogus"], ["user", "list", "--endpoint"]):
        p = cli(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr, args
    p = cli("user", "list", extra_env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert p.returncode == 2 and "credentials" in p.stderr, p.stderr


def test_options_override_environment():
    """--endpoint, --access-key and --secret-key win over the environment."""
    p = cli("user", "list", "--endpoint", env("CAIRN_ENDPOINT"), "--access-key", env("CAIRN_ACCESS_KEY"),
            "--secret-key", env("CAIRN_SECRET_KEY"),
            extra_env={"CAIRN_ENDPOINT": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "AKIANOBODY",
                       "AWS_SECRET_ACCESS_KEY": "nothing"})
    assert p.returncode == 0, p.stderr
    assert "root" in p.stdout
    p = cli("user", "list", "--endpoint=http://127.0.0.1:1")
    assert p.returncode == 1 and "127.0.0.1:1" in p.stderr, p.stderr
    p = cli("user", "list", "--secret-key", "wrong")
    assert p.returncode == 1 and "SignatureDoesNotMatch" in p.stderr, p.stderr


def test_user_commands():
    name = new_name()
    assert ok("user", "create", name).stdout == f"created user {name}\n"
    other = new_name()
    doc = ok_json("user", "create", other)
    assert doc["name"] == other and doc["created"].endswith("Z")
    fails("EntityAlreadyExists", "user", "create", name)

    out = ok("user", "list").stdout.splitlines()
    assert out[0].split() == ["NAME", "CREATED"]
    assert any(line.split()[0] == name for line in out[1:])
    assert {name, other, "root"} <= set(users_now())

    show = ok("user", "show", name).stdout
    assert f"user:     {name}" in show and "groups:   -" in show and "buckets:  -" in show, show
    doc = ok_json("user", "show", name)
    assert doc == {"name": name, "created": doc["created"], "groups": [], "keys": [], "buckets": []}

    assert ok("user", "delete", name).stdout.startswith(f"deleted user {name}")
    assert ok_json("user", "delete", other) == {"user": other, "deleted": True}
    p, _ = fails("NoSuchUser", "user", "show", name)
    assert "does not exist" in p.stderr
    fails("NoSuchUser", "user", "delete", name)
    assert name not in users_now() and other not in users_now()


def test_root_cannot_be_deleted():
    p, doc = fails("Conflict", "user", "delete", "root")
    assert "root" in doc["message"]
    assert "root" in users_now()


def test_group_commands():
    g, u = new_name("g"), new_name()
    ok("user", "create", u)
    assert ok("group", "create", g).stdout == f"created group {g}\n"
    fails("EntityAlreadyExists", "group", "create", g)
    g2 = new_name("g")
    assert ok_json("group", "create", g2) == {"name": g2, "created": ok_json("group", "show", g2)["created"],
                                              "members": []}

    assert ok("group", "add-member", g, u).stdout == f"added user {u} to group {g}\n"
    assert ok_json("group", "add-member", g, u) == {"group": g, "user": u, "member": True}  # again: harmless
    assert ok_json("group", "add-member", g2, u)["member"] is True
    fails("NoSuchUser", "group", "add-member", g, new_name())
    fails("NoSuchGroup", "group", "add-member", new_name("g"), u)

    lines = ok("group", "list").stdout.splitlines()
    assert lines[0].split() == ["NAME", "CREATED", "MEMBERS"]
    assert any(line.split()[0] == g and line.split()[-1] == u for line in lines[1:]), lines
    listed = {x["name"]: x for x in ok_json("group", "list")["groups"]}
    assert listed[g]["members"] == [u]
    show = ok("group", "show", g).stdout
    assert f"group:    {g}" in show and f"members:  {u}" in show
    assert ok_json("group", "show", g)["members"] == [u]
    assert sorted(ok_json("user", "show", u)["groups"]) == sorted([g, g2])
    assert "groups:   " + ", ".join(sorted([g, g2])) in ok("user", "show", u).stdout

    assert ok("group", "remove-member", g, u).stdout == f"removed user {u} from group {g}\n"
    _, doc = fails("NoSuchMember", "group", "remove-member", g, u)
    assert "not a member" in doc["message"]
    assert ok_json("group", "remove-member", g2, u) == {"group": g2, "user": u, "member": False}
    assert ok_json("group", "show", g)["members"] == []

    ok("group", "add-member", g, u)
    assert ok("group", "delete", g).stdout == f"deleted group {g}\n"
    assert ok_json("group", "delete", g2) == {"group": g2, "deleted": True}
    fails("NoSuchGroup", "group", "show", g)
    fails("NoSuchGroup", "group", "delete", g)
    assert ok_json("user", "show", u)["groups"] == [], "memberships go with the group"
    ok("user", "delete", u)


def test_key_commands():
    u = new_name()
    ok("user", "create", u)
    p = ok("key", "create", u)
    fields = dict(line.split(":", 1) for line in p.stdout.splitlines())
    ak, sk = fields["access key"].strip(), fields["secret key"].strip()
    assert len(ak) == 20 and ak.startswith("AKIA") and ak.isalnum() and ak.isupper(), ak
    assert len(sk) == 40 and sk.isalnum(), sk
    assert fields["user"].strip() == u
    assert "only now" in p.stderr
    k2 = ok_json("key", "create", u)
    assert set(k2) == {"access_key", "secret_key", "user", "created"} and k2["user"] == u

    lines = ok("key", "list", u).stdout.splitlines()
    assert lines[0].split() == ["ACCESS", "KEY", "USER", "STATUS", "CREATED"]
    assert {line.split()[0] for line in lines[1:]} == {ak, k2["access_key"]}
    assert all(line.split()[2] == "enabled" for line in lines[1:])
    listed = ok_json("key", "list", u)
    assert listed["user"] == u and len(listed["keys"]) == 2
    for k in listed["keys"]:
        assert set(k) == {"access_key", "user", "created", "disabled"}, "never a secret"
        assert sk not in json.dumps(listed) and k2["secret_key"] not in json.dumps(listed)
    assert ak in ok("key", "show", ak).stdout
    assert ok_json("key", "show", ak)["user"] == u
    assert sk not in ok("user", "show", u).stdout

    assert ok("key", "disable", ak).stdout == f"disabled access key {ak} of user {u}\n"
    assert ok_json("key", "show", ak)["disabled"] is True
    assert "disabled" in ok("key", "list", u).stdout
    assert ok_json("key", "disable", k2["access_key"])["disabled"] is True
    assert ok("key", "enable", ak).stdout == f"enabled access key {ak} of user {u}\n"
    assert ok_json("key", "enable", k2["access_key"])["disabled"] is False

    assert ok("key", "delete", ak).stdout == f"deleted access key {ak} of user {u}\n"
    assert ok_json("key", "delete", k2["access_key"]) == {"access_key": k2["access_key"], "user": u,
                                                          "deleted": True}
    for verb in ("show", "disable", "enable", "delete"):
        fails("NoSuchAccessKey", "key", verb, ak)
    fails("NoSuchUser", "key", "create", new_name())
    fails("NoSuchUser", "key", "list", new_name())
    assert ok_json("key", "list", u)["keys"] == []
    ok("user", "delete", u)


def test_root_keeps_its_last_key():
    root_ak = env("CAIRN_ACCESS_KEY")
    _, doc = fails("Conflict", "key", "disable", root_ak)
    assert "last enabled access key of root" in doc["message"]
    fails("Conflict", "key", "delete", root_ak)
    ok("user", "list")


# ---- what a new key can do --------------------------------------------------

def test_new_key_works_with_boto3_and_sees_only_its_buckets(s3):
    u, ak, sk = make_user()
    mine = make_client(access_key=ak, secret_key=sk)
    root_bucket = new_bucket_name()
    s3.create_bucket(Bucket=root_bucket)
    b = new_bucket_name()
    try:
        mine.create_bucket(Bucket=b)
        mine.put_object(Bucket=b, Key="hello.txt", Body=b"hi")
        assert mine.get_object(Bucket=b, Key="hello.txt")["Body"].read() == b"hi"
        names = [x["Name"] for x in mine.list_buckets()["Buckets"]]
        assert names == [b], names
        owner = mine.list_buckets()["Owner"]
        assert owner["ID"] == u
        assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]
        assert root_bucket in [x["Name"] for x in s3.list_buckets()["Buckets"]]
        assert ok_json("user", "show", u)["buckets"] == [b]
        # a user who owns a bucket cannot be deleted
        p, doc = fails("Conflict", "user", "delete", u)
        assert b in doc["message"] and b in p.stderr
        mine.head_object(Bucket=b, Key="hello.txt")
    finally:
        empty_and_delete(mine, b)
        empty_and_delete(s3, root_bucket)
    ok("user", "delete", u)


def test_new_key_works_with_awscli(tmp_path):
    u, ak, sk = make_user()
    b = new_bucket_name()
    e = {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": env("CAIRN_REGION"),
         "AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
         "AWS_PAGER": "", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    (tmp_path / "f.txt").write_text("from aws-cli\n")

    def aws(*args):
        return subprocess.run(["/usr/bin/aws", "--endpoint-url", env("CAIRN_ENDPOINT"), *args], env=e,
                              capture_output=True, text=True, timeout=120)

    try:
        assert aws("s3", "mb", f"s3://{b}").returncode == 0
        p = aws("s3", "cp", str(tmp_path / "f.txt"), f"s3://{b}/f.txt")
        assert p.returncode == 0, p.stderr
        p = aws("s3", "ls")
        assert p.returncode == 0 and b in p.stdout, p.stdout
        assert len(p.stdout.strip().splitlines()) == 1, f"only its own bucket: {p.stdout}"
        ok("key", "disable", ak)
        p = aws("s3", "ls")
        assert p.returncode != 0 and "InvalidAccessKeyId" in p.stderr, p.stderr
        ok("key", "enable", ak)
        p = aws("s3", "rm", f"s3://{b}/f.txt")
        assert p.returncode == 0, p.stderr
        assert aws("s3", "rb", f"s3://{b}").returncode == 0
    finally:
        ok("key", "enable", ak)
        empty_and_delete(user_client(ak, sk), b)
    ok("user", "delete", u)


def test_disabled_key_refused_at_once_and_enabled_again():
    u, ak, sk = make_user()
    c = user_client(ak, sk)
    c.list_buckets()
    ok("key", "disable", ak)
    refused_key(c.list_buckets)
    refused_key(c.create_bucket, Bucket=new_bucket_name())
    # the admin API refuses it too
    api_error(api("GET", "/users/" + u, ak=ak, sk=sk), 403, "InvalidAccessKeyId")
    ok("key", "enable", ak)
    c.list_buckets()
    ok("user", "delete", u)


def test_deleted_key_and_deleted_user_refused():
    u, ak, sk = make_user()
    k2 = ok_json("key", "create", u)
    c, c2 = user_client(ak, sk), user_client(k2["access_key"], k2["secret_key"])
    c.list_buckets()
    c2.list_buckets()
    ok("key", "delete", ak)
    refused_key(c.list_buckets)
    c2.list_buckets()
    ok("user", "delete", u)
    refused_key(c2.list_buckets)
    fails("NoSuchAccessKey", "key", "show", k2["access_key"])
    # a new user of the same name does not get the old keys back
    ok("user", "create", u)
    refused_key(c2.list_buckets)
    assert ok_json("key", "list", u)["keys"] == []
    ok("user", "delete", u)


# ---- who may use the admin API ----------------------------------------------

def test_non_admin_user_gets_403():
    u, ak, sk = make_user()
    before = users_now()
    p = cli("user", "list", ak=ak, sk=sk)
    assert p.returncode == 1 and "AccessDenied" in p.stderr, p.stderr
    p = cli("user", "create", new_name(), ak=ak, sk=sk)
    assert p.returncode == 1 and "AccessDenied" in p.stderr
    p = cli("key", "create", u, ak=ak, sk=sk)
    assert p.returncode == 1 and "AccessDenied" in p.stderr
    for method, path, body in (("GET", "/users", b""), ("POST", "/users", b'{"name":"x"}'),
                               ("GET", "/nothing-here", b""), ("DELETE", "/users/root", b""),
                               ("POST", "/keys/" + ak + "/disable", b"")):
        api_error(api(method, path, body, ak=ak, sk=sk), 403, "AccessDenied")
    assert users_now() == before
    assert ok_json("key", "show", ak)["disabled"] is False
    ok("user", "delete", u)


def test_member_of_admins_may_use_it(admins_group):
    u, ak, sk = make_user()
    assert cli("user", "list", ak=ak, sk=sk).returncode == 1
    ok("group", "add-member", admins_group, u)
    assert u in ok("user", "list", ak=ak, sk=sk).stdout
    other = new_name()
    ok("user", "create", other, ak=ak, sk=sk)
    k = ok_json("key", "create", other, ak=ak, sk=sk)
    assert k["user"] == other
    ok("user", "delete", other, ak=ak, sk=sk)
    # an admin cannot delete root either
    fails("Conflict", "user", "delete", "root", ak=ak, sk=sk)
    # out of the group: refused at the next request
    ok("group", "remove-member", admins_group, u, ak=ak, sk=sk)
    p = cli("user", "list", ak=ak, sk=sk)
    assert p.returncode == 1 and "AccessDenied" in p.stderr
    ok("user", "delete", u)


def test_unsigned_and_badly_signed_requests_403():
    before = users_now()
    r = s3raw.send("GET", ADMIN + "/users")
    assert r.status == 403 and json.loads(r.body)["error"] == "AccessDenied", r
    r = s3raw.send("POST", ADMIN + "/users", body=b'{"name":"anon"}', headers={"Content-Type": "application/json"})
    assert r.status == 403 and json.loads(r.body)["error"] == "AccessDenied", r
    api_error(api("GET", "/users", sk="wrong-secret"), 403, "SignatureDoesNotMatch")
    api_error(api("POST", "/users", b'{"name":"badsig"}', sk="wrong-secret"), 403, "SignatureDoesNotMatch")
    api_error(api("GET", "/users", ak="AKIANOSUCHKEY0000000", sk="x"), 403, "InvalidAccessKeyId")
    # signed, but the body is not the one signed
    hdrs, _ = s3raw.prepare("POST", ADMIN + "/users", body=b'{"name":"signed-name"}')
    r = s3raw.send("POST", ADMIN + "/users", headers=hdrs, body=b'{"name":"other-name"}')
    assert r.status == 400 and json.loads(r.body)["error"] == "XAmzContentSHA256Mismatch", r
    # a payload whose hash was not signed
    st, doc, r = api("POST", "/users", b'{"name":"unsigned-body"}', payload_hash=s3raw.UNSIGNED)
    assert st == 403 and doc["error"] == "AccessDenied" and "payload" in doc["message"], r
    # SigV2 authenticates, but the admin API takes SigV4 only
    req = AWSRequest(method="GET", url=env("CAIRN_ENDPOINT") + ADMIN + "/users")
    HmacV1Auth(Credentials(env("CAIRN_ACCESS_KEY"), env("CAIRN_SECRET_KEY"))).add_auth(req)
    r = s3raw.send("GET", ADMIN + "/users", headers=dict(req.headers.items()))
    assert r.status == 403 and "SigV4" in json.loads(r.body)["message"], r
    assert users_now() == before


def test_signed_request_control():
    """The positive control of the raw requests above."""
    st, doc, r = api("GET", "/users")
    assert st == 200 and "root" in [u["name"] for u in doc["users"]], r


# ---- bad input: 400 and nothing changed ---------------------------------------

BAD_BODIES = [b"", b"{", b"[]", b'"alice"', b"null", b'{"name": 5}', b'{"name": null}', b'{"nom": "x"}',
              b'{"name": "x", "extra": 1}', b'{"name": "a", "name": "b"}', b'{"name": ""}',
              b'{"name": "bad name"}', b'{"name": "a/b"}', b'{"name": "caf\\u00e9"}', b'{"name": "a\\u0000b"}',
              b'{"name": "' + b"a" * 65 + b'"}', b"\xff\xfe"]


@pytest.mark.parametrize("resource", ["users", "groups"])
def test_bad_json_and_names_400(resource):
    before = users_now(), groups_now()
    for body in BAD_BODIES:
        st, doc, r = api("POST", "/" + resource, body)
        assert st == 400, (body, r)
        assert doc["error"] in ("InvalidRequest", "InvalidName"), (body, r)
    assert (users_now(), groups_now()) == before
    st, doc, r = api("POST", "/" + resource, b"x" * (70 * 1024))
    assert st == 400 and doc["error"] == "EntityTooLarge", r
    assert (users_now(), groups_now()) == before


def test_bad_names_from_the_command_line():
    before = users_now(), groups_now()
    for name in ("bad name", "a" * 65, "a/b", "x:y", "caf\u00e9"):
        _, doc = fails("InvalidName", "user", "create", name)
        fails("InvalidName", "group", "create", name)
    assert (users_now(), groups_now()) == before


def test_bad_names_in_paths_400():
    for path in ("/users/bad%20name", "/users/" + "a" * 65, "/users/caf%C3%A9/keys", "/groups/a%2Fb",
                 "/groups/admins/members/x%3Ay"):
        api_error(api("GET" if path.count("/") < 4 else "PUT", path), 400, "InvalidName")
    api_error(api("GET", "/keys/AKIA%2B"), 400, "InvalidName")
    api_error(api("GET", "/users/%ZZ"), 400, "InvalidRequest")


def test_unknown_resources_and_methods():
    api_error(api("GET", "/"), 404, "NoSuchResource")
    api_error(api("GET", "/usersx"), 404, "NoSuchResource")
    api_error(api("GET", "/users/root/keys/extra/more"), 404, "NoSuchResource")
    api_error(api("PATCH", "/users/root"), 405, "MethodNotAllowed")
    api_error(api("PUT", "/users"), 405, "MethodNotAllowed")
    # "/_cairn/adminx" is not the admin API: an S3 request (XML), on a bucket that cannot exist
    r = s3raw.request("GET", "/_cairn/adminx")
    assert r.status in (400, 404) and r.code in ("NoSuchBucket", "InvalidBucketName"), r


def test_names_with_at_and_dots():
    name = new_name() + ".x@example.com"
    ok("user", "create", name)
    assert ok_json("user", "show", name)["name"] == name
    st, doc, _ = api("GET", "/users/" + name.replace("@", "%40"))
    assert st == 200 and doc["name"] == name
    st, doc, _ = api("GET", "/users/" + name)
    assert st == 200 and doc["name"] == name
    ok("user", "delete", name)


# ---- ownership: another user's bucket -----------------------------------------

@pytest.fixture(scope="module")
def two_users():
    a_name, a_ak, a_sk = make_user()
    b_name, b_ak, b_sk = make_user()
    alice, bob = user_client(a_ak, a_sk), user_client(b_ak, b_sk)
    ab, bb = new_bucket_name(), new_bucket_name()
    alice.create_bucket(Bucket=ab)
    bob.create_bucket(Bucket=bb)
    alice.put_object(Bucket=ab, Key="secret.txt", Body=b"alice's")
    bob.put_object(Bucket=bb, Key="mine.txt", Body=b"bob's")
    up = alice.create_multipart_upload(Bucket=ab, Key="big")["UploadId"]
    yield {"alice": alice, "bob": bob, "ab": ab, "bb": bb, "upload": up, "names": (a_name, b_name)}
    try:
        alice.abort_multipart_upload(Bucket=ab, Key="big", UploadId=up)
    except ClientError:
        pass
    empty_and_delete(alice, ab)
    empty_and_delete(bob, bb)
    ok("user", "delete", a_name)
    ok("user", "delete", b_name)


def test_list_buckets_shows_own_buckets_only(two_users, s3):
    t = two_users
    assert [b["Name"] for b in t["alice"].list_buckets()["Buckets"]] == [t["ab"]]
    assert [b["Name"] for b in t["bob"].list_buckets()["Buckets"]] == [t["bb"]]
    root_names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert t["ab"] not in root_names and t["bb"] not in root_names


@pytest.mark.parametrize("op", [
    "get_object", "head_object", "put_object", "delete_object", "list_objects", "list_objects_v2",
    "list_object_versions", "head_bucket", "get_bucket_acl", "put_bucket_versioning", "get_bucket_versioning",
    "get_bucket_location", "delete_bucket", "delete_objects", "get_object_tagging", "put_object_tagging",
    "get_object_acl", "create_multipart_upload", "upload_part", "list_parts", "complete_multipart_upload",
    "abort_multipart_upload", "list_multipart_uploads", "put_bucket_tagging",
])
def test_foreign_bucket_access_denied(two_users, op):
    t = two_users
    bob, ab, up = t["bob"], t["ab"], t["upload"]
    calls = {
        "get_object": lambda: bob.get_object(Bucket=ab, Key="secret.txt"),
        "head_object": lambda: bob.head_object(Bucket=ab, Key="secret.txt"),
        "put_object": lambda: bob.put_object(Bucket=ab, Key="secret.txt", Body=b"bob was here"),
        "delete_object": lambda: bob.delete_object(Bucket=ab, Key="secret.txt"),
        "list_objects": lambda: bob.list_objects(Bucket=ab),
        "list_objects_v2": lambda: bob.list_objects_v2(Bucket=ab),
        "list_object_versions": lambda: bob.list_object_versions(Bucket=ab),
        "head_bucket": lambda: bob.head_bucket(Bucket=ab),
        "get_bucket_acl": lambda: bob.get_bucket_acl(Bucket=ab),
        "put_bucket_versioning": lambda: bob.put_bucket_versioning(
            Bucket=ab, VersioningConfiguration={"Status": "Enabled"}),
        "get_bucket_versioning": lambda: bob.get_bucket_versioning(Bucket=ab),
        "get_bucket_location": lambda: bob.get_bucket_location(Bucket=ab),
        "delete_bucket": lambda: bob.delete_bucket(Bucket=ab),
        "delete_objects": lambda: bob.delete_objects(Bucket=ab, Delete={"Objects": [{"Key": "secret.txt"}]}),
        "get_object_tagging": lambda: bob.get_object_tagging(Bucket=ab, Key="secret.txt"),
        "put_object_tagging": lambda: bob.put_object_tagging(
            Bucket=ab, Key="secret.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        "get_object_acl": lambda: bob.get_object_acl(Bucket=ab, Key="secret.txt"),
        "create_multipart_upload": lambda: bob.create_multipart_upload(Bucket=ab, Key="bobs"),
        "upload_part": lambda: bob.upload_part(Bucket=ab, Key="big", UploadId=up, PartNumber=1, Body=b"x"),
        "list_parts": lambda: bob.list_parts(Bucket=ab, Key="big", UploadId=up),
        "complete_multipart_upload": lambda: bob.complete_multipart_upload(
            Bucket=ab, Key="big", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
        "abort_multipart_upload": lambda: bob.abort_multipart_upload(Bucket=ab, Key="big", UploadId=up),
        "list_multipart_uploads": lambda: bob.list_multipart_uploads(Bucket=ab),
        "put_bucket_tagging": lambda: bob.put_bucket_tagging(
            Bucket=ab, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
    }
    if op == "delete_objects":
        # authorized key by key since bucket policies (handle.c SCOPE_KEYS): 200, each key AccessDenied
        r = calls[op]()
        assert [(e["Key"], e["Code"]) for e in r.get("Errors", [])] == [("secret.txt", "AccessDenied")], r
        assert not r.get("Deleted"), r
    else:
        denied(calls[op])
    # nothing changed for alice
    alice = t["alice"]
    assert alice.get_object(Bucket=ab, Key="secret.txt")["Body"].read() == b"alice's"
    assert alice.get_bucket_versioning(Bucket=ab).get("Status") is None
    assert [u["UploadId"] for u in alice.list_multipart_uploads(Bucket=ab).get("Uploads", [])] == [up]
    assert alice.get_object_tagging(Bucket=ab, Key="secret.txt")["TagSet"] == []


def test_copy_from_a_foreign_source_denied(two_users):
    t = two_users
    bob, ab, bb = t["bob"], t["ab"], t["bb"]
    denied(bob.copy_object, Bucket=bb, Key="stolen", CopySource={"Bucket": ab, "Key": "secret.txt"})
    up = bob.create_multipart_upload(Bucket=bb, Key="stolen-mpu")["UploadId"]
    try:
        denied(bob.upload_part_copy, Bucket=bb, Key="stolen-mpu", UploadId=up, PartNumber=1,
               CopySource={"Bucket": ab, "Key": "secret.txt"})
    finally:
        bob.abort_multipart_upload(Bucket=bb, Key="stolen-mpu", UploadId=up)
    assert "Contents" not in bob.list_objects_v2(Bucket=bb, Prefix="stolen")
    # and into a foreign destination from its own source
    denied(bob.copy_object, Bucket=ab, Key="planted", CopySource={"Bucket": bb, "Key": "mine.txt"})
    assert "Contents" not in t["alice"].list_objects_v2(Bucket=ab, Prefix="planted")
    # the control: copying within its own bucket works
    bob.copy_object(Bucket=bb, Key="copy", CopySource={"Bucket": bb, "Key": "mine.txt"})
    bob.delete_object(Bucket=bb, Key="copy")


def test_foreign_bucket_name_taken(two_users):
    t = two_users
    with pytest.raises(ClientError) as ei:
        t["bob"].create_bucket(Bucket=t["ab"])
    assert ei.value.response["Error"]["Code"] == "BucketAlreadyExists"


def test_root_has_no_access_to_users_buckets(two_users, s3):
    """Root administers users; it does not own their buckets."""
    denied(s3.get_object, Bucket=two_users["ab"], Key="secret.txt")
    denied(s3.list_objects_v2, Bucket=two_users["ab"])
