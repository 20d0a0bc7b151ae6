"""Shared fixtures for the pytest suites.

Suites on run.sh's shared gateway (test_boto3.py, test_versioning.py) use s3,
bucket and bucket2: run.sh passes the endpoint and credentials in the
environment (CAIRN_ENDPOINT, CAIRN_ACCESS_KEY, CAIRN_SECRET_KEY, CAIRN_REGION,
CAIRN_BUCKET_PREFIX).

Suites that start their own gateways (crash, lineage, gc, server, seal) use
workdir (a fresh temporary directory, kept with E2E_KEEP=1) and gateways (a
factory of gateway.Gateway, all killed at the end of the test).
"""

import itertools
import os
import shutil
import tempfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from gateway import Gateway

_names = itertools.count()


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        raise RuntimeError(f"{name} is not set: run the suites through tests/e2e/run.sh")
    return v


def make_client(endpoint=None, access_key=None, secret_key=None, signature_version="s3v4",
                addressing_style="path", **cfg):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or env("CAIRN_ENDPOINT"),
        aws_access_key_id=access_key or env("CAIRN_ACCESS_KEY"),
        aws_secret_access_key=secret_key or env("CAIRN_SECRET_KEY"),
        region_name=env("CAIRN_REGION", "us-east-1"),
        config=Config(signature_version=signature_version,
                      s3={"addressing_style": addressing_style},
                      retries={"total_max_attempts": 1},
                      connect_timeout=10, read_timeout=120, **cfg),
    )


def new_bucket_name():
    return f"{env('CAIRN_BUCKET_PREFIX', 'e2e-py')}-{next(_names)}"


def empty_and_delete(s3, name):
    """Best-effort teardown: abort uploads, delete objects, delete the bucket."""
    try:
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=name)
    except ClientError:
        pass


def purge(s3, name):
    """Best-effort teardown of a bucket that may hold versions: every version
    and delete marker, then the bucket."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if objs:
                s3.delete_objects(Bucket=name, Delete={"Objects": objs, "Quiet": True})
        s3.delete_bucket(Bucket=name)
    except ClientError:
        pass


def denied(fn, *args, **kwargs):
    """A boto3 call refused by authorization (403; HEAD has no body, hence no code)."""
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 403, r
    assert r["Error"]["Code"] in ("AccessDenied", "403"), r
    return r


@pytest.fixture(scope="session")
def s3():
    return make_client()


@pytest.fixture
def bucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def bucket2(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


# ---- suites that start their own gateways ----------------------------------

@pytest.fixture
def workdir(request):
    d = tempfile.mkdtemp(prefix=f"cairn-{request.module.__name__.removeprefix('test_')}-")
    yield d
    if os.environ.get("E2E_KEEP") != "1":
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def gateways(workdir):
    """Factory: gateways(name, args=..., start=True, **Gateway kwargs) -> Gateway
    (started unless start=False); all are killed at the end of the test."""
    made = []

    def make(name="gw", args=(), start=True, **kw):
        g = Gateway(workdir, name, args, **kw)
        made.append(g)
        return g.start() if start else g

    yield make
    for g in made:
        g.stop()
