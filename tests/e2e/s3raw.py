"""Raw, hand-signed S3 requests for the e2e tests (botocore's signers + http.client).

boto3 validates and normalises what it sends; hostile-input tests need the
opposite: exact paths, exact headers, wrong hashes, skewed clocks, truncated
bodies. Everything here signs with botocore's own SigV4 code so that a request
is rejected for the reason the test intends, not for a signing mistake (the
positive controls in test_boto3.py prove that).

Endpoint and credentials come from the environment that tests/e2e/run.sh sets.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import os
import re
import socket
import urllib.parse
import zlib

from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Defaults only let test_crash.py (which starts its own gateways) import this
# module; the shared-gateway tests fail against them, as they should.
ENDPOINT = os.environ.get("CAIRN_ENDPOINT", "http://127.0.0.1:1")
ACCESS_KEY = os.environ.get("CAIRN_ACCESS_KEY", "unset")
SECRET_KEY = os.environ.get("CAIRN_SECRET_KEY", "unset")
REGION = os.environ.get("CAIRN_REGION", "us-east-1")
_u = urllib.parse.urlsplit(ENDPOINT)
HOST, PORT = _u.hostname, _u.port
HOSTPORT = f"{HOST}:{PORT}"

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


class Signer(S3SigV4Auth):
    """botocore's S3 SigV4 signer with a settable clock and payload hash."""

    def __init__(self, creds, region, payload_hash=None, when=None):
        super().__init__(creds, "s3", region)
        self.payload_hash = payload_hash
        self.when = when
        self.signing_key = None

    def payload(self, request):
        if self.payload_hash is not None:
            return self.payload_hash
        body = request.body or b""
        return hashlib.sha256(body).hexdigest()

    def add_auth(self, request):
        when = self.when or datetime.datetime.utcnow()
        request.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        sts = self.string_to_sign(request, canonical)
        sig = self.signature(sts, request)
        self._inject_signature_to_request(request, sig)
        self.seed_signature = sig
        self.timestamp = request.context["timestamp"]
        self.scope_str = self.credential_scope(request)
        k = ("AWS4" + self.credentials.secret_key).encode()
        for part in (self.timestamp[:8], self._region_name, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        self.signing_key = k


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body
        m = re.search(rb"<Code>([^<]*)</Code>", body or b"")
        self.code = m.group(1).decode() if m else None

    @property
    def request_id(self):
        return self.headers.get("x-amz-request-id")

    def __repr__(self):
        return f"<{self.status} code={self.code} headers={self.headers} body={self.body[:600]!r}>"


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


def prepare(method, path, query="", headers=None, body=b"", payload_hash=None,
            when=None, access_key=None, secret_key=None, region=None):
    """Sign a request; returns (headers dict, signer). path is sent verbatim."""
    url = ENDPOINT + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
    signer = Signer(Credentials(access_key or ACCESS_KEY, secret_key or SECRET_KEY),
                    region or REGION, payload_hash, when)
    signer.add_auth(req)
    return dict(req.headers.items()), signer


def send(method, path, query="", headers=None, body=None, timeout=60, conn=None):
    """Send without signing; returns Response. body may be bytes or an iterable
    (sent with Transfer-Encoding: chunked)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    target = path + ("?" + query if query else "")
    hdrs = dict(headers or {})
    try:
        if body is not None and not isinstance(body, (bytes, bytearray)):
            conn.request(method, target, body=body, headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, target, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        if own:
            conn.close()


def request(method, path, query="", headers=None, body=b"", payload_hash=None,
            when=None, access_key=None, secret_key=None, region=None, timeout=60,
            conn=None):
    """Sign (SigV4, signed payload unless payload_hash says otherwise) and send."""
    hdrs, _ = prepare(method, path, query, headers, body, payload_hash, when,
                      access_key, secret_key, region)
    return send(method, path, query, hdrs, body if body else None, timeout, conn)


# ---- aws-chunked bodies ---------------------------------------------------

def chunk_signature(signer, prev_sig, chunk):
    sts = "\n".join([
        "AWS4-HMAC-SHA256-PAYLOAD", signer.timestamp, signer.scope_str, prev_sig,
        EMPTY_SHA256, hashlib.sha256(chunk).hexdigest()])
    return hmac.new(signer.signing_key, sts.encode(), hashlib.sha256).hexdigest()


def streaming_signed_put(path, data, chunk_size=64 * 1024, tamper_chunk=None, headers=None):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signed).
    tamper_chunk=i flips one byte of chunk i after signing it."""
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    hdrs = dict(headers or {})
    hdrs.update({"Content-Encoding": "aws-chunked",
                 "x-amz-decoded-content-length": str(len(data))})
    signed, signer = prepare("PUT", path, headers=hdrs, payload_hash=STREAMING_SIGNED)
    out = bytearray()
    prev = signer.seed_signature
    for i, c in enumerate(chunks):
        sig = chunk_signature(signer, prev, c)
        prev = sig
        if tamper_chunk == i and c:
            c = bytes([c[0] ^ 0xFF]) + c[1:]
        out += f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n"
    return send("PUT", path, headers=signed, body=bytes(out))


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def trailer_put(path, data, checksum_b64=None, algo="crc32", chunk_size=64 * 1024, headers=None):
    """PUT with STREAMING-UNSIGNED-PAYLOAD-TRAILER and an x-amz-checksum-ALGO trailer
    (what current AWS SDKs send by default)."""
    if checksum_b64 is None:
        checksum_b64 = crc32_b64(data)
    hdrs = dict(headers or {})
    hdrs.update({"Content-Encoding": "aws-chunked",
                 "x-amz-decoded-content-length": str(len(data)),
                 "x-amz-trailer": f"x-amz-checksum-{algo}"})
    signed, _ = prepare("PUT", path, headers=hdrs, payload_hash=STREAMING_UNSIGNED_TRAILER)
    out = bytearray()
    for i in range(0, len(data), chunk_size):
        c = data[i:i + chunk_size]
        out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
    out += f"0\r\nx-amz-checksum-{algo}:{checksum_b64}\r\n\r\n".encode()
    return send("PUT", path, headers=signed, body=bytes(out))


# ---- raw sockets ------------------------------------------------------------

def raw_head(method, path, signed_headers, content_length=None, extra=None):
    """An HTTP/1.1 request head (bytes) for a bare socket: the Host that the
    signature covers, the signed headers, then unsigned extras."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOSTPORT}"]
    lines += [f"{k}: {v}" for k, v in signed_headers.items() if k.lower() != "host"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def raw_socket_exchange(head, body_part, close_early=True, read_timeout=5.0):
    """Send a request head and part of a body over a bare socket, then half-close
    (close_early) and read whatever comes back. Returns the bytes received."""
    s = socket.create_connection((HOST, PORT), timeout=read_timeout)
    try:
        s.sendall(head + body_part)
        if close_early:
            s.shutdown(socket.SHUT_WR)
        got = bytearray()
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        except (socket.timeout, ConnectionResetError):
            pass
        return bytes(got)
    finally:
        s.close()


def health():
    try:
        return send("GET", "/health", timeout=5).status
    except OSError:
        return None
