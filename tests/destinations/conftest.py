"""Session-wide local S3 (moto) and GCS (emulator) servers, and one fresh bucket per test."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.destinations.servers import GCS_CONN_ID, S3_CONN_ID


def _bucket_name() -> str:
    return f"wa-{uuid.uuid4().hex[:12]}"


@dataclass
class Target:
    """A place to write to, and a way to list everything it holds (to prove nothing else was left)."""

    scheme: str
    root: str  # bucket, or the directory for file://
    conn_id: str | None

    def uri(self, key: str) -> str:
        if self.scheme == "file":
            return f"file://{self.root}/{key}"
        return f"{self.scheme}://{self.root}/{key}"

    def objects(self) -> dict[str, bytes]:
        if self.scheme == "s3":
            client = s3_hook(self.conn_id).get_conn()
            keys = s3_hook(self.conn_id).list_keys(self.root) or []
            return {key: client.get_object(Bucket=self.root, Key=key)["Body"].read() for key in keys}
        if self.scheme == "gs":
            gcs = gcs_hook(self.conn_id or GCS_CONN_ID)
            return {name: gcs.download(self.root, name) for name in gcs.list(self.root)}
        root = Path(self.root)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    def put(self, key: str, data: bytes) -> None:
        if self.scheme == "s3":
            s3_hook(self.conn_id).load_bytes(data, key, self.root, replace=True)
        elif self.scheme == "gs":
            gcs_hook(self.conn_id or GCS_CONN_ID).upload(self.root, key, data=data)
        else:
            path = Path(self.root, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@functools.cache
def s3_hook(conn_id: str | None = S3_CONN_ID):
    """One hook per connection for the assertions: building a boto3 client costs ~0.2 s."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=conn_id)


@functools.cache
def gcs_hook(conn_id: str = GCS_CONN_ID):
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook(gcp_conn_id=conn_id)


def make_s3_bucket(name: str | None = None) -> str:
    name = name or _bucket_name()
    s3_hook().create_bucket(name)
    return name


def make_gcs_bucket(name: str | None = None) -> str:
    name = name or _bucket_name()
    gcs_hook().create_bucket(bucket_name=name, project_id="test-project")
    return name


@pytest.fixture
def s3_target(s3_endpoint) -> Target:
    return Target("s3", make_s3_bucket(), S3_CONN_ID)


@pytest.fixture
def gcs_target(gcs_host) -> Target:
    return Target("gs", make_gcs_bucket(), GCS_CONN_ID)


@pytest.fixture
def file_target(tmp_path) -> Target:
    root = tmp_path / "out"
    root.mkdir()
    return Target("file", str(root), None)


@pytest.fixture(params=["s3", "gs", "file"])
def target(request) -> Target:
    """Each test using it runs against S3 (moto), GCS (emulator) and a local directory."""
    name = {"s3": "s3_target", "gs": "gcs_target", "file": "file_target"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture(autouse=True)
def _no_default_cloud_connections(monkeypatch):
    # A developer's own aws_default / google_cloud_default must never be reached from these tests.
    for name in ("AIRFLOW_CONN_AWS_DEFAULT", "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(os.environ, "AWS_EC2_METADATA_DISABLED", "true")


_IMPORT_PROBE = """
import sys
import airflow
import airflow_provider_wa_analytics.exceptions
before = set(sys.modules)
import airflow_provider_wa_analytics.destinations
new = set(sys.modules) - before
sdks = ("boto3", "botocore", "aiohttp")
print(sorted(m for m in new if m.split(".")[0] in sdks or m.startswith("google.")))
"""


@pytest.fixture(scope="session", autouse=True)
def parse_time_imports() -> Iterator[Callable[[], str]]:
    """What importing the destinations adds among boto3/botocore/google.*/aiohttp, in a fresh interpreter.

    Started with the session so that its interpreter start (seconds: Airflow compiles on import here)
    overlaps the other tests; the test reading it runs last.
    """
    probe = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _IMPORT_PROBE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def result() -> str:
        out, err = probe.communicate(timeout=120)
        assert probe.returncode == 0, err
        return out.strip().splitlines()[-1]

    try:
        yield result
    finally:
        if probe.poll() is None:
            probe.kill()
        probe.communicate()
