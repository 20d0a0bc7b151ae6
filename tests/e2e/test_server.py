"""The server around the S3 API: TLS and HTTP/2, virtual-hosted-style
addressing, SIGHUP log reopening, configuration errors and --help, first-start
credentials, /metrics, the body-size limit and the request deadline, and
Expect: 100-continue.

Like test_crash.py this suite starts its OWN gateways (gateway.Gateway through
the gateways fixture of conftest.py: binary from $CAIRN_BIN, default ./cairn at
the repo root), each on a free port of 127.0.0.1 with a fresh temporary data
directory, and does not use run.sh's shared gateway.
It drives them with curl, openssl, boto3 and raw requests signed by botocore's
SigV4 code (s3raw.Signer). A missing tool is a failure, never a skip.

AWS S3 is the reference where it defines the behaviour (addressing, HEAD,
Expect, EntityTooLarge); issue 2 is the reference for the rest (/metrics,
SIGHUP, config errors, credentials printed once at first start).
"""

import hashlib
import os
import re
import select
import signal
import socket
import subprocess
import time
import warnings

import pytest
from botocore.exceptions import ClientError

import s3raw
from gateway import HERE, SECRET_KEY, MiB, cairn_bin, free_port, insecure_ctx, need


def status_of(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def assert_absent(gw, bucket, key):
    """The object is not there: HEAD is 404 and it is not listed."""
    s3 = gw.client()
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert status_of(ei.value) == 404, ei.value.response
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert key not in keys, f"{key} is listed: {keys}"


# ---- 1. TLS and HTTP/2 -------------------------------------------------------

def make_cert(d):
    openssl = need("openssl")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return cert, key


@pytest.fixture
def tls_gw(workdir, gateways):
    cert, key = make_cert(workdir)
    return gateways("tls", ["--set", f"tls.certificate={cert}", "--set", f"tls.key={key}"], tls=True)


def test_tls_http2_curl(tls_gw, workdir):
    gw = tls_gw
    curl = need("curl")
    # Unsigned /health over h2: ALPN must pick HTTP/2.
    r = subprocess.run([curl, "-sS", "-k", "--http2", "-w", "\n%{http_version}", gw.endpoint + "/health"],
                       capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    body, _, version = r.stdout.decode().rpartition("\n")
    assert version == "2", f"curl --http2 negotiated HTTP/{version}, want 2"
    assert body.strip() == "ok"

    # A plain-http request to the TLS port must not be answered as HTTP.
    r = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        f"http://{gw.hostport}/health"], capture_output=True, timeout=20)
    assert r.stdout.decode() in ("000", "400"), f"plain http on the TLS port got {r.stdout!r}"

    # Signed requests over h2: create bucket, PUT 3 MiB, GET byte-exact, HEAD, 404.
    r = gw.curl("PUT", "/h2bucket", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}")
    assert r.returncode == 0 and r.stdout == b"200 2", (r.stdout, r.stderr)
    data = os.urandom(3 * MiB)
    src = os.path.join(workdir, "3mib.bin")
    with open(src, "wb") as f:
        f.write(data)
    r = gw.curl("PUT", "/h2bucket/obj", "--http2", "-D", "-", "-o", "/dev/null",
                "-w", "%{http_code} %{http_version}", body_file=src)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"200 2"), r.stdout
    assert f'etag: "{hashlib.md5(data).hexdigest()}"'.encode() in r.stdout.lower(), r.stdout

    got = os.path.join(workdir, "3mib.got")
    r = gw.curl("GET", "/h2bucket/obj", "--http2", "-o", got, "-w", "%{http_code} %{http_version}")
    assert r.returncode == 0 and r.stdout == b"200 2", (r.stdout, r.stderr)
    with open(got, "rb") as f:
        assert f.read() == data, "GET over h2 did not return the bytes PUT"

    # HEAD over h2: content-length, and no DATA (a body on HEAD resets the stream).
    r = gw.curl("HEAD", "/h2bucket/obj", "--http2", "-w", "%{http_code} %{http_version} %{size_download}")
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = r.stdout.decode()
    assert out.endswith("200 2 0"), out
    assert re.search(rf"(?im)^content-length: {3 * MiB}\r?$", out), out
    names = [ln.split(":", 1)[0] for ln in out.split("\r\n\r\n", 1)[0].split("\r\n")[1:]]
    assert names and all(n == n.lower() for n in names), f"HTTP/2 header names must be lower case: {names}"

    # An S3 error over h2 (header names of the error path must be lower case too).
    r = gw.curl("GET", "/h2bucket/missing", "--http2", "-w", "\n%{http_code} %{http_version}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"404 2") and b"<Code>NoSuchKey</Code>" in r.stdout, r.stdout

    # Virtual-hosted style over h2: the bucket comes from :authority.
    vhost = f"h2bucket.localhost:{gw.port}"
    r = gw.curl("GET", "/obj", "--http2", "-o", got, "-w", "%{http_code} %{http_version}", host=vhost)
    assert r.returncode == 0 and r.stdout == b"200 2", (r.stdout, r.stderr)
    with open(got, "rb") as f:
        assert f.read() == data, "virtual-hosted GET over h2 did not return the bytes PUT"
    r = gw.curl("GET", "/?list-type=2", "--http2", "-w", "\n%{http_code}", host=vhost)
    assert r.returncode == 0 and r.stdout.endswith(b"200"), (r.stdout, r.stderr)
    assert re.findall(rb"<Key>([^<]*)</Key>", r.stdout) == [b"obj"], r.stdout

    # HTTP/1.1 over the same TLS port still works.
    r = gw.curl("GET", "/h2bucket/obj", "--http1.1", "-o", got, "-w", "%{http_code} %{http_version}")
    assert r.returncode == 0 and r.stdout == b"200 1.1", (r.stdout, r.stderr)
    with open(got, "rb") as f:
        assert f.read() == data, "GET over TLS HTTP/1.1 did not return the bytes PUT"


def test_tls_boto3(tls_gw):
    gw = tls_gw
    warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning (verify=False)
    s3 = gw.client()
    s3.create_bucket(Bucket="tlsbucket")
    data = os.urandom(3 * MiB)
    r = s3.put_object(Bucket="tlsbucket", Key="three", Body=data)
    assert r["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.get_object(Bucket="tlsbucket", Key="three")["Body"].read() == data
    h = s3.head_object(Bucket="tlsbucket", Key="three")
    assert h["ContentLength"] == len(data)
    assert h["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(data))

    # HEAD over TLS HTTP/1.1 on a kept-alive connection: a body after the HEAD
    # response would corrupt the next response on the same connection.
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, timeout=20, context=insecure_ctx())
    try:
        conn.request("HEAD", "/tlsbucket/three", headers=gw.sign("HEAD", "/tlsbucket/three"))
        r1 = conn.getresponse()
        assert r1.status == 200 and r1.getheader("content-length") == str(len(data))
        assert r1.read() == b""
        conn.request("GET", "/tlsbucket/three",
                     headers=gw.sign("GET", "/tlsbucket/three", headers={"Range": "bytes=0-99"}))
        r2 = conn.getresponse()
        assert r2.status == 206, (r2.status, r2.read()[:300])
        assert r2.read() == data[:100]
    finally:
        conn.close()


# ---- 2. Virtual-hosted style ---------------------------------------------------

def _vhost_roundtrip(gw, bucket, domain):
    host = f"{bucket}.{domain}:{gw.port}"
    body = os.urandom(70000)
    r = gw.request("PUT", "/dir/vh%20key.bin", body=body, host=host)
    assert r.status == 200, f"virtual-hosted PUT with Host {host}: {r}"
    assert r.headers.get("etag") == f'"{hashlib.md5(body).hexdigest()}"', r

    r = gw.request("GET", "/dir/vh%20key.bin", host=host)
    assert r.status == 200 and r.body == body, f"virtual-hosted GET: {r.status} {r.headers}"

    # Path style on the same gateway sees the same object.
    r = gw.request("GET", f"/{bucket}/dir/vh%20key.bin")
    assert r.status == 200 and r.body == body, r

    r = gw.request("GET", "/", query="list-type=2", host=host)
    assert r.status == 200, r
    assert f"<Name>{bucket}</Name>".encode() in r.body, r.body
    assert re.findall(rb"<Key>([^<]*)</Key>", r.body) == [b"dir/vh key.bin"], r.body
    assert b"<KeyCount>1</KeyCount>" in r.body, r.body

    # HeadBucket and a missing key through the host name.
    assert gw.request("HEAD", "/", host=host).status == 200
    r = gw.request("GET", "/nope", host=host)
    assert r.status == 404 and r.code == "NoSuchKey", r
    # A bucket that does not exist, named by the host.
    r = gw.request("GET", "/", query="list-type=2", host=f"no-such-{bucket}.{domain}:{gw.port}")
    assert r.status == 404 and r.code == "NoSuchBucket", r


def test_virtual_hosted_default_domain(gateways):
    gw = gateways("vhost")
    s3 = gw.client()
    s3.create_bucket(Bucket="vhbucket")
    _vhost_roundtrip(gw, "vhbucket", "localhost")
    # A bucket name with dots is the whole label sequence before the domain.
    s3.create_bucket(Bucket="dotted.vh.bucket")
    _vhost_roundtrip(gw, "dotted.vh.bucket", "localhost")
    # Host equal to the domain itself is path style: GET / lists buckets.
    r = gw.request("GET", "/", host=f"localhost:{gw.port}")
    assert r.status == 200 and b"<ListAllMyBucketsResult" in r.body, r


def test_virtual_hosted_configured_domain(gateways):
    gw = gateways("vhost-domain", ["--domain", "s3.test"])
    gw.client().create_bucket(Bucket="vhdomain")
    _vhost_roundtrip(gw, "vhdomain", "s3.test")
    # CreateBucket itself, virtual-hosted style (PUT / on the bucket's host).
    r = gw.request("PUT", "/", host=f"made-by-host.s3.test:{gw.port}")
    assert r.status == 200, r
    assert "made-by-host" in [b["Name"] for b in gw.client().list_buckets()["Buckets"]]
    # With another domain configured, "<bucket>.localhost" is not virtual-hosted:
    # GET / is ListBuckets, not ListObjects of "vhdomain".
    r = gw.request("GET", "/", host=f"vhdomain.localhost:{gw.port}")
    assert r.status == 200 and b"<ListAllMyBucketsResult" in r.body, r


# ---- keep-alive -------------------------------------------------------------

def test_keepalive_across_errors(gateways):
    """S3 keeps the connection open after error responses (404, 403, 400) and
    HEAD, so SDK connection pools are not churned; every answer has a length."""
    import http.client
    gw = gateways("keepalive")
    gw.client().create_bucket(Bucket="kalive")
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=20)
    seen = []
    try:
        def call(method, path, body=b"", bad_sig=False, query=""):
            hdrs = gw.sign(method, path, query=query, body=body,
                           secret_key=SECRET_KEY + "x" if bad_sig else SECRET_KEY)
            conn.request(method, path + ("?" + query if query else ""), body=body or None, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            seen.append((method, path, r.status, r.getheader("connection"), r.getheader("content-length")))
            assert r.getheader("connection", "").lower() != "close", f"connection closed after {seen[-1]}"
            assert r.getheader("content-length") is not None or r.getheader("transfer-encoding"), seen[-1]
            return r.status, data
        call("GET", "/kalive/missing")
        sock = conn.sock
        assert call("GET", "/kalive/missing")[0] == 404
        assert call("GET", "/kalive", bad_sig=True)[0] == 403
        assert call("HEAD", "/kalive/missing")[0] == 404
        assert call("PUT", "/kalive/obj", body=b"x" * 1000)[0] == 200
        assert call("GET", "/nosuchbucket-ka/obj")[0] == 404
        assert call("PUT", "/kalive/obj", query="tagging", body=b"<Tagging><oops")[0] == 400
        status, data = call("GET", "/kalive/obj")
        assert status == 200 and data == b"x" * 1000
        assert conn.sock is sock, f"the connection was reopened along the way: {seen}"
    finally:
        conn.close()


# ---- 3. SIGHUP reopens the log --------------------------------------------------

def _wait_for(pred, secs=5.0):
    deadline = time.time() + secs
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return None


def test_log_file_written_as_it_goes(gateways, workdir):
    """With log.file set, lines reach the file when they are logged (tail -f,
    and nothing lost when the process is killed), as they do on stderr."""
    log = os.path.join(workdir, "cairn.log")
    gw = gateways("logfile", ["--set", f"log.file={log}"])
    gw.client().create_bucket(Bucket="logged")
    seen = _wait_for(lambda: "listening on" in (_read(log) or ""), 3)
    size_live = len(_read(log) or "")
    gw.proc.send_signal(signal.SIGKILL)
    gw.proc.wait()
    after_kill = _read(log) or ""
    assert seen, (f"3 s after start-up the log file holds {size_live} bytes, no 'listening on' line "
                  f"(log lines are buffered, not written); after SIGKILL it holds {after_kill!r}")
    assert "listening on" in after_kill


def test_sighup_reopens_log(gateways, workdir):
    """logrotate's way: rename the file away, SIGHUP; the gateway creates a new
    file and writes there, and nothing after the reopen goes to the old one."""
    log = os.path.join(workdir, "cairn.log")
    gw = gateways("sighup", ["--set", f"log.file={log}"])
    assert os.path.exists(log), "log.file was not created at start-up"
    os.rename(log, log + ".1")
    gw.proc.send_signal(signal.SIGHUP)
    assert _wait_for(lambda: os.path.exists(log)), "SIGHUP did not create a new log file"
    s3 = gw.client()
    s3.create_bucket(Bucket="hup")
    s3.put_object(Bucket="hup", Key="k", Body=b"after the reopen")
    assert s3.get_object(Bucket="hup", Key="k")["Body"].read() == b"after the reopen"
    assert gw.proc.poll() is None, "the gateway died on SIGHUP"
    gw.proc.send_signal(signal.SIGHUP)  # a second SIGHUP with nothing renamed is harmless
    assert gw.health() == 200
    rc = gw.terminate()  # a clean exit flushes whatever stdio still holds
    assert rc == 0, f"exit status after SIGTERM: {rc}"
    new, old = _read(log) or "", _read(log + ".1") or ""
    assert new.strip(), f"the new log file got no lines; the renamed one holds {old!r}"
    assert "log reopened" in new and "stopped" in new, f"new log: {new!r}"
    assert "listening on" in old, f"the start-up lines are not in the renamed log: {old!r}"
    assert "stopped" not in old and "reopened" not in old, f"the renamed log got lines after the reopen: {old!r}"
    assert SECRET_KEY not in new + old, "the root secret is in the log"


# ---- 4. Configuration errors and --help -----------------------------------------

def _run(args, **kw):
    return subprocess.run([cairn_bin()] + args, capture_output=True, timeout=15, **kw)


def test_config_unknown_key_names_file_and_line(workdir):
    port = free_port()
    conf = os.path.join(workdir, "bad.yaml")
    with open(conf, "w") as f:
        f.write(f"# a comment\nlisten: 127.0.0.1:{port}\ndata_dir: {workdir}/cfgdata\n"
                "http:\n  max_body: 1M\n  no_such_setting: 5\n")
    try:
        r = _run(["serve", "-c", conf])
    except subprocess.TimeoutExpired:
        pytest.fail("cairn serve started with an unknown key in its configuration file")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 2, f"exit status {r.returncode}, want 2; stderr: {err}"
    assert f"{conf}:6" in err, f"the message does not name {conf}:6: {err!r}"
    assert "no_such_setting" in err, err

    # A top-level unknown key.
    with open(conf, "w") as f:
        f.write(f"listen: 127.0.0.1:{port}\nbogus: 1\n")
    r = _run(["serve", "-c", conf])
    assert r.returncode == 2 and f"{conf}:2" in r.stderr.decode(), (r.returncode, r.stderr)

    # Ill-typed value, and a YAML syntax error.
    with open(conf, "w") as f:
        f.write(f"listen: 127.0.0.1:{port}\nhttp:\n  request_timeout: soon\n")
    r = _run(["serve", "-c", conf])
    assert r.returncode == 2 and f"{conf}:3" in r.stderr.decode(), (r.returncode, r.stderr)
    with open(conf, "w") as f:
        f.write("listen: [unclosed\n")
    r = _run(["serve", "-c", conf])
    assert r.returncode == 2 and f"{conf}:" in r.stderr.decode(), (r.returncode, r.stderr)

    # --set with an unknown key, and a missing file.
    r = _run(["serve", "--listen", f"127.0.0.1:{port}", "--data", f"{workdir}/cfgdata",
              "--set", "http.no_such=1"])
    assert r.returncode == 2 and b"http.no_such" in r.stderr, (r.returncode, r.stderr)
    r = _run(["serve", "-c", os.path.join(workdir, "missing.yaml")])
    assert r.returncode == 2 and b"missing.yaml" in r.stderr, (r.returncode, r.stderr)
    assert not os.path.exists(f"{workdir}/cfgdata"), "a failed start created the data directory"


def test_sample_config_is_valid(gateways, workdir):
    """conf/cairn.yaml (which documents every key) loads; --listen/--data override it."""
    sample = os.path.join(HERE, "..", "..", "conf", "cairn.yaml")
    gw = gateways("sample", ["-c", sample])
    assert gw.health() == 200


def test_help_and_unknown_command():
    r = _run(["serve", "--help"])
    assert r.returncode == 0, r
    out = r.stdout.decode()
    for key in ("http.request_timeout", "http.max_body", "tls.certificate", "log.file", "domain"):
        assert key in out, f"cairn serve --help does not list {key}: {out}"
    r = _run(["--help"])
    assert r.returncode == 0 and b"serve" in r.stdout, r
    r = _run(["no-such-command"])
    assert r.returncode == 2, r
    assert b"no-such-command" in r.stderr, r.stderr
    r = _run([])
    assert r.returncode == 2, r


# ---- 5. First-start credentials -------------------------------------------------

def test_first_start_prints_credentials_once(gateways):
    gw = gateways("firststart", root_env=False)
    out = gw.stdout()
    ak = re.search(r"access key:\s*(\S+)", out)
    sk = re.search(r"secret key:\s*(\S+)", out)
    assert ak and sk, f"no credentials on stdout at first start: {out!r}"
    ak, sk = ak.group(1), sk.group(1)
    assert len(ak) >= 16 and len(sk) >= 30, (ak, sk)
    assert sk not in gw.stderr(), "the generated secret key was logged"
    s3 = gw.client(ak, sk)
    s3.create_bucket(Bucket="firstcreds")
    s3.put_object(Bucket="firstcreds", Key="k", Body=b"v")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["firstcreds"]
    # A wrong secret is refused.
    with pytest.raises(ClientError) as ei:
        gw.client(ak, sk[:-1] + ("A" if sk[-1] != "A" else "B")).list_buckets()
    assert status_of(ei.value) == 403 and ei.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

    rc = gw.terminate()
    assert rc == 0, f"exit status after SIGTERM: {rc}"
    gw.start()  # same data dir, still without CAIRN_ROOT_*
    out2 = gw.stdout()
    assert "access key" not in out2 and "secret key" not in out2 and sk not in out2, \
        f"second start printed credentials: {out2!r}"
    assert sk not in gw.stderr()
    assert gw.client(ak, sk).get_object(Bucket="firstcreds", Key="k")["Body"].read() == b"v"


def test_root_env_ignored_after_first_start(gateways):
    """CAIRN_ROOT_* set on a later start do not replace the stored root key."""
    gw = gateways("envlater", root_env=False)
    ak = re.search(r"access key:\s*(\S+)", gw.stdout()).group(1)
    sk = re.search(r"secret key:\s*(\S+)", gw.stdout()).group(1)
    assert gw.terminate() == 0
    gw.root_env = True
    gw.start()
    assert "access key" not in gw.stdout()
    assert "secret key" not in gw.stdout()
    gw.client(ak, sk).create_bucket(Bucket="stillroot")
    assert "stillroot" in [b["Name"] for b in gw.client(ak, sk).list_buckets()["Buckets"]]


# ---- 6. /metrics ---------------------------------------------------------------

def metrics(gw):
    """GET /metrics (unsigned) -> ({series: value}, text)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        r = s3raw.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    samples = {}
    for line in r.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)", line)
        assert m, f"not a Prometheus sample line: {line!r}"
        samples[m.group(1)] = float(m.group(2))
    return samples, r.body.decode()


def test_metrics(gateways):
    gw = gateways("metrics")
    s3 = gw.client()
    before, _ = metrics(gw)
    s3.create_bucket(Bucket="metered")
    sizes = [1000, 20000, 300000, 5]
    for i, n in enumerate(sizes):
        s3.put_object(Bucket="metered", Key=f"k{i}", Body=os.urandom(n))
    s3.get_object(Bucket="metered", Key="k1")["Body"].read()
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket="metered", Key="missing")
    assert status_of(ei.value) == 404

    def settled():
        m, _ = metrics(gw)
        return m.get('cairn_requests_total{op="GetObject",status="404"}', 0) >= 1
    _wait_for(settled, 3)
    after, text = metrics(gw)

    put = 'cairn_requests_total{op="PutObject",status="200"}'
    assert after.get(put) == len(sizes), f"{put} = {after.get(put)}, want {len(sizes)}:\n{text}"
    assert after.get('cairn_requests_total{op="CreateBucket",status="200"}') == 1, text
    assert after.get('cairn_requests_total{op="GetObject",status="200"}') == 1, text
    assert after.get('cairn_requests_total{op="GetObject",status="404"}') == 1, text
    errs = after.get("cairn_errors_total", 0) - before.get("cairn_errors_total", 0)
    assert errs == 1, f"cairn_errors_total grew by {errs} after one 404:\n{text}"
    assert "# TYPE cairn_requests_total counter" in text
    assert "# TYPE cairn_request_duration_seconds histogram" in text

    # Histogram: cumulative buckets, +Inf == _count == every S3 request sent.
    buckets = []
    for line in text.splitlines():
        m = re.fullmatch(r'cairn_request_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            buckets.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), int(m.group(2))))
    assert len(buckets) >= 5, f"too few histogram buckets:\n{text}"
    assert [b[0] for b in buckets] == sorted(b[0] for b in buckets) and buckets[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"buckets not cumulative: {buckets}"
    sent = 1 + len(sizes) + 2
    count = after.get("cairn_request_duration_seconds_count")
    assert buckets[-1][1] == count == sent, f"+Inf {buckets[-1][1]}, _count {count}, sent {sent}:\n{text}"
    assert after.get("cairn_request_duration_seconds_sum", 0) > 0
    received = after.get("cairn_received_bytes_total", 0)
    assert received >= sum(sizes), f"cairn_received_bytes_total {received} < {sum(sizes)}"
    assert after.get("cairn_sent_bytes_total", 0) >= sizes[1]


# ---- 7. Body limit and request deadline ----------------------------------------

def _raw_exchange(gw, head, body=b"", read_timeout=10, send_errors_ok=True):
    """Send head+body on a bare socket, read until close or timeout; returns bytes."""
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=read_timeout)
    got = bytearray()
    try:
        try:
            s.sendall(head)
            # Stop sending as soon as the server answers early (a 413 before or
            # during the body): writing on would only earn a reset.
            for i in range(0, len(body), 65536):
                if select.select([s], [], [], 0.2 if i == 0 else 0)[0]:
                    break
                s.sendall(body[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            if not send_errors_ok:
                raise
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
                if b"\r\n\r\n" in got and _complete(got):
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()
    return bytes(got)


def _complete(resp):
    head, _, rest = resp.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if head.startswith(b"HTTP/1.1 100"):
        return False
    return m is not None and len(rest) >= int(m.group(1))


def _head(gw, method, path, signed, extra_lines):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {gw.hostport}"]
    lines += [f"{k}: {v}" for k, v in signed.items() if k.lower() != "host"]
    lines += extra_lines
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _too_large(resp):
    status = resp.split(b" ", 2)[1] if resp.startswith(b"HTTP/1.1 ") else b""
    return status == b"413" or (status == b"400" and b"<Code>EntityTooLarge</Code>" in resp)


def test_body_over_max_body_rejected(gateways, workdir):
    gw = gateways("maxbody", ["--set", "http.max_body=1M"])
    s3 = gw.client()
    s3.create_bucket(Bucket="limits")

    # Exactly the limit is accepted ("largest request body accepted").
    data = os.urandom(MiB)
    s3.put_object(Bucket="limits", Key="exact", Body=data)
    assert s3.get_object(Bucket="limits", Key="exact")["Body"].read() == data

    # Content-Length over the limit: 413 (before the body) or EntityTooLarge.
    big = os.urandom(MiB + 1)
    signed = gw.sign("PUT", "/limits/big", payload_hash=s3raw.UNSIGNED)
    resp = _raw_exchange(gw, _head(gw, "PUT", "/limits/big", signed, [f"Content-Length: {len(big)}"]), big)
    assert _too_large(resp), f"PUT of {len(big)} bytes with max_body=1M: {resp[:600]!r}"
    assert_absent(gw, "limits", "big")

    # Chunked transfer over the limit.
    chunked = b"".join(b"%x\r\n" % len(big[i:i + 65536]) + big[i:i + 65536] + b"\r\n"
                       for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
    signed = gw.sign("PUT", "/limits/bigchunked", payload_hash=s3raw.UNSIGNED)
    resp = _raw_exchange(gw, _head(gw, "PUT", "/limits/bigchunked", signed, ["Transfer-Encoding: chunked"]),
                         chunked)
    assert _too_large(resp), f"chunked PUT of {len(big)} bytes with max_body=1M: {resp[:600]!r}"
    assert_absent(gw, "limits", "bigchunked")

    # curl with Expect: 100-continue: the refusal replaces the 100, so the body is never sent.
    src = os.path.join(workdir, "2mib.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(2 * MiB))
    r = gw.curl("PUT", "/limits/curlbig", "--http1.1", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}",
                body_file=src, payload_hash=s3raw.UNSIGNED)
    code, uploaded = r.stdout.decode().split()
    assert code in ("413", "400"), f"curl PUT 2 MiB with max_body=1M: {r.stdout!r} {r.stderr!r}"
    assert int(uploaded) < MiB, f"curl uploaded {uploaded} bytes of a refused body (100 sent anyway?)"
    assert_absent(gw, "limits", "curlbig")

    assert gw.health() == 200 and gw.proc.poll() is None
    s3.put_object(Bucket="limits", Key="after", Body=b"still fine")


@pytest.mark.xfail(strict=True, reason=(
    "known limitation of Debian's h2o 2.2.5 (shared/notes/h2o-2.2.5.md, section 2): over HTTP/2 an "
    "over-limit body gets RST_STREAM REFUSED_STREAM, which clients retry, before the gateway sees the "
    "request; strict, so this test fails the day the gateway gets it right and the mark must go"))
def test_body_over_max_body_rejected_http2(gateways, workdir):
    """Over HTTP/2 too, an over-limit body is refused with a status a client can
    report (413 or 400 EntityTooLarge), not a reset stream; nothing is stored."""
    cert, key = make_cert(workdir)
    gw = gateways("maxbody-h2", ["--set", "http.max_body=1M", "--set", f"tls.certificate={cert}",
                                 "--set", f"tls.key={key}"], tls=True)
    warnings.simplefilter("ignore")
    gw.client().create_bucket(Bucket="limits2")
    src = os.path.join(workdir, "2mib-h2.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(2 * MiB))
    r = gw.curl("PUT", "/limits2/big", "--http2", "-w", "\n%{http_code} %{http_version}", body_file=src,
                payload_hash=s3raw.UNSIGNED)
    out = r.stdout.decode(errors="replace")
    ok = r.returncode == 0 and (out.endswith("413 2") or (out.endswith("400 2") and "EntityTooLarge" in out))
    assert ok, (f"PUT of 2 MiB over h2 with max_body=1M: curl exit {r.returncode}, "
                f"stdout {out[-300:]!r}, stderr {r.stderr.decode(errors='replace')[-300:]!r}")
    assert_absent(gw, "limits2", "big")
    assert gw.health() == 200


def test_request_slower_than_timeout_is_cut(gateways):
    gw = gateways("timeout", ["--set", "http.request_timeout=2"])
    gw.client().create_bucket(Bucket="slow")
    body = os.urandom(MiB)
    signed = gw.sign("PUT", "/slow/half", payload_hash=s3raw.UNSIGNED)
    head = _head(gw, "PUT", "/slow/half", signed, [f"Content-Length: {len(body)}"])
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    got = bytearray()
    closed = False
    try:
        s.sendall(head + body[: len(body) // 2])
        t0 = time.time()
        time.sleep(4)
        # By now the gateway must have given up on the request: the socket is
        # closed (EOF or reset), possibly after an error response.
        s.settimeout(0.5)
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    closed = True
                    break
                got += b
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
        if not closed:  # still open: the rest of the body must not make it a success
            try:
                s.sendall(body[len(body) // 2:])
                s.settimeout(5)
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    got += b
                    if _complete(bytes(got)):
                        break
            except (OSError, socket.timeout):
                pass
        waited = time.time() - t0
    finally:
        s.close()
    assert not bytes(got).startswith(b"HTTP/1.1 200"), f"a request slower than the deadline succeeded: {bytes(got)[:400]!r}"
    assert closed, (f"the connection was still open {waited:.1f} s after the 2 s request_timeout; "
                    f"received {bytes(got)[:400]!r}")
    if got:
        assert re.match(rb"HTTP/1\.1 (408|400|5\d\d)", bytes(got)), bytes(got)[:400]
    assert_absent(gw, "slow", "half")
    assert gw.health() == 200 and gw.proc.poll() is None, "gateway unhealthy after a cut request"
    s3 = gw.client()
    s3.put_object(Bucket="slow", Key="fast", Body=body)
    assert s3.get_object(Bucket="slow", Key="fast")["Body"].read() == body
    assert os.listdir(os.path.join(gw.data_dir, "tmp")) == [], "spill files left under data_dir/tmp"


# ---- 8. Expect: 100-continue ---------------------------------------------------

def test_expect_100_continue_curl(gateways, workdir):
    gw = gateways("expect")
    gw.client().create_bucket(Bucket="expect")
    data = os.urandom(2 * MiB + 17)  # over curl's 1 MiB threshold for Expect
    src = os.path.join(workdir, "expect.bin")
    with open(src, "wb") as f:
        f.write(data)
    r = gw.curl("PUT", "/expect/big", "--http1.1", "-v", "-o", "/dev/null", "-w", "%{http_code}", body_file=src)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert re.search(r"(?im)^> Expect: 100-continue", err), f"curl sent no Expect header:\n{err}"
    assert re.search(r"(?m)^< HTTP/1.1 100", err), f"no 100 Continue before the body:\n{err}"
    assert r.stdout == b"200", (r.stdout, err)
    assert gw.client().get_object(Bucket="expect", Key="big")["Body"].read() == data


def test_expect_100_continue_raw(gateways):
    """The client waits for 100 before sending the body, as an SDK does."""
    gw = gateways("expectraw")
    gw.client().create_bucket(Bucket="expectraw")
    body = os.urandom(300000)
    signed = gw.sign("PUT", "/expectraw/k", body=body)
    head = _head(gw, "PUT", "/expectraw/k", signed, [f"Content-Length: {len(body)}", "Expect: 100-continue"])
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    try:
        s.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            b = s.recv(4096)
            assert b, f"connection closed before 100 Continue: {interim!r}"
            interim += b
        assert interim.startswith(b"HTTP/1.1 100"), f"expected 100 Continue, got {interim[:300]!r}"
        rest = interim.split(b"\r\n\r\n", 1)[1]
        s.sendall(body)
        final = rest
        while not _complete(final):
            b = s.recv(65536)
            if not b:
                break
            final += b
    finally:
        s.close()
    assert final.startswith(b"HTTP/1.1 200"), final[:500]
    assert f'"{hashlib.md5(body).hexdigest()}"'.encode() in final, final[:500]
    assert gw.client().get_object(Bucket="expectraw", Key="k")["Body"].read() == body
