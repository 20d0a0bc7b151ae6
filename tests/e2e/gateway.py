"""Gateways that a suite starts itself (crash, lineage, gc, server, seal).

Gateway runs the built `cairn serve` (binary from $CAIRN_BIN, default ./cairn at
the repo root) on a free port of 127.0.0.1 with its own data directory, fixed
root credentials (unless root_env=False) and any extra command-line arguments
(--set KEY=VALUE, -c FILE). stdout and stderr of each start go to their own
files in the gateway's directory (stdout carries the first-start credentials).

Besides S3 clients (boto3, raw requests signed by botocore, curl) it runs the
store commands against the same data directory and arguments (`cairn scrub`,
`cairn key rotate`): Gateway.cairn().

The fixtures `workdir` and `gateways` that use it are in conftest.py.
"""

import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections import namedtuple

import boto3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import s3raw

KiB = 1024
MiB = 1024 * 1024
ACCESS_KEY = "AKIACAIRNOWNGATEWAY1"
SECRET_KEY = "ownGatewaySecretKey/0123456789abcdefghij"
REGION = "us-east-1"
HERE = os.path.dirname(os.path.abspath(__file__))


def need(tool):
    path = shutil.which(tool)
    assert path, f"required tool '{tool}' is not installed (a missing tool fails this suite)"
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cairn_bin():
    b = os.environ.get("CAIRN_BIN") or os.path.join(HERE, "..", "..", "cairn")
    assert os.access(b, os.X_OK), f"gateway binary {b} missing (run ./configure && make)"
    return b


def insecure_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# "scrub: N blobs, S shards verified; B bad, R repaired; U blobs unrecoverable"
Scrub = namedtuple("Scrub", "rc blobs shards bad repaired unrecoverable output")
_SCRUB_RE = re.compile(r"scrub: (\d+) blobs, (\d+) shards verified; (\d+) bad, (\d+) repaired; "
                       r"(\d+) blobs unrecoverable")


class Gateway:
    """One `cairn serve`: start() (again after a stop or kill: same port and
    data directory), kill(), terminate(), stop() (SIGKILL if still running)."""

    def __init__(self, workdir, name="gw", args=(), root_env=True, tls=False, data_dir=None):
        self.bin = cairn_bin()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.args = list(args)
        self.root_env = root_env
        self.tls = tls
        self.port = free_port()
        self.proc = None
        self.starts = 0

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def endpoint(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def hostport(self):
        return f"127.0.0.1:{self.port}"

    def paths(self):
        return (os.path.join(self.dir, f"stdout.{self.starts}"), os.path.join(self.dir, f"stderr.{self.starts}"))

    def env(self):
        env = dict(os.environ)
        env.pop("CAIRN_ROOT_ACCESS_KEY", None)
        env.pop("CAIRN_ROOT_SECRET_KEY", None)
        if self.root_env:
            env.update(CAIRN_ROOT_ACCESS_KEY=ACCESS_KEY, CAIRN_ROOT_SECRET_KEY=SECRET_KEY)
        return env

    def start(self, timeout=30):
        self.starts += 1
        out_path, err_path = self.paths()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--listen", self.hostport, "--data", self.data_dir] + self.args,
                stdout=out, stderr=err, env=self.env())
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, \
                f"gateway exited with {self.proc.returncode}: {self.output()}"
            if self.health() == 200:
                return self
            time.sleep(0.05)
        raise AssertionError(f"gateway not healthy within {timeout} s: {self.output()}")

    def health(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            if self.tls:
                s = insecure_ctx().wrap_socket(s, server_hostname="localhost")
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            s.close()
            return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None
        except (OSError, ValueError, IndexError):
            return None

    def _read(self, i):
        try:
            with open(self.paths()[i], "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stdout(self):
        return self._read(0)

    def stderr(self):
        return self._read(1)

    def output(self):
        return f"\n--- stdout:\n{self.stdout()[-2000:]}\n--- stderr:\n{self.stderr()[-3000:]}"

    def log_tail(self, n=4000):
        return self.stderr()[-n:]

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, pool=4):
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name=REGION, verify=False,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120,
                          max_pool_connections=pool))

    def kill(self, sig=signal.SIGKILL, timeout=30):
        """Sends sig and waits; returns the exit status ("timeout" if it had
        to be SIGKILLed after timeout seconds)."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "timeout"

    def terminate(self, timeout=30):
        """SIGTERM; returns the exit status ("timeout" if it had to be killed)."""
        return self.kill(signal.SIGTERM, timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # ---- store commands on the same data directory and arguments -----------

    def cairn(self, *command, timeout=120):
        """`cairn COMMAND... --data DIR ARGS...` (scrub, key rotate): the
        CompletedProcess, text output."""
        return subprocess.run([self.bin, *command, "--data", self.data_dir] + self.args,
                              capture_output=True, text=True, timeout=timeout, env=self.env())

    def scrub(self):
        r = self.cairn("scrub")
        m = _SCRUB_RE.search(r.stdout)
        assert m, f"cairn scrub (exit {r.returncode}) printed no summary: {r.stdout!r} {r.stderr[-2000:]!r}"
        return Scrub(r.returncode, *map(int, m.groups()), r.stdout + r.stderr)

    # ---- signed raw requests -------------------------------------------

    def sign(self, method, path, query="", headers=None, body=b"", payload_hash=None, host=None,
             access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        """SigV4 headers (botocore) for a request to this gateway; host overrides
        the Host that is signed (virtual-hosted style)."""
        netloc = host or self.hostport
        url = f"{self.scheme}://{netloc}{path}" + ("?" + query if query else "")
        req = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
        s3raw.Signer(Credentials(access_key, secret_key), REGION, payload_hash).add_auth(req)
        hdrs = dict(req.headers.items())
        hdrs["Host"] = netloc
        return hdrs

    def request(self, method, path, query="", headers=None, body=b"", host=None, payload_hash=None,
                timeout=30):
        """Sign and send over HTTP/1.1 (http.client, TLS when the gateway has it)."""
        hdrs = self.sign(method, path, query, headers, body, payload_hash, host)
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=insecure_ctx())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path + ("?" + query if query else ""), body=body or None, headers=hdrs)
            r = conn.getresponse()
            return s3raw.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def raw_head(self, method, path, length, payload_hash=s3raw.UNSIGNED):
        """The head of a request with a body of length bytes (UNSIGNED-PAYLOAD),
        to send over a socket in pieces."""
        hdrs = self.sign(method, path, payload_hash=payload_hash)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.hostport}"]
        lines += [f"{k}: {v}" for k, v in hdrs.items() if k.lower() != "host"]
        lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def curl(self, method, path, *curl_args, body_file=None, headers=None, payload_hash=None, timeout=60,
             host=None):
        """curl with SigV4 headers from botocore; returns CompletedProcess
        (stdout bytes). The payload hash is the file's SHA-256 unless given.
        host ("name:port") is resolved to 127.0.0.1 (virtual-hosted style)."""
        curl = need("curl")
        if payload_hash is None:
            if body_file is not None:
                with open(body_file, "rb") as f:
                    payload_hash = hashlib.sha256(f.read()).hexdigest()
            else:
                payload_hash = s3raw.EMPTY_SHA256
        hdrs = self.sign(method, path, headers=headers, payload_hash=payload_hash, host=host)
        cmd = [curl, "-sS", "-k", "--max-time", str(timeout)]
        if host is not None:
            cmd += ["--resolve", f"{host}:127.0.0.1"]
        if method == "HEAD":
            cmd.append("-I")
        elif body_file is not None:
            cmd += ["-T", body_file]
            if method != "PUT":
                cmd += ["-X", method]
        elif method != "GET":
            cmd += ["-X", method]
        for k, v in hdrs.items():
            if k.lower() != "host":
                cmd += ["-H", f"{k}: {v}"]
        cmd += list(curl_args) + [f"{self.scheme}://{host or self.hostport}{path}"]
        return subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
