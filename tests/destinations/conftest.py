"""Session-wide local S3 (moto) and GCS (emulator) servers, and one fresh bucket per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.destinations.servers import GCS_CONN_ID, S3_CONN_ID, gcs_emulator, moto_s3, store_connections


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint, store_connections(s3_endpoint=endpoint):
        yield endpoint


@pytest.fixture(scope="session")
def gcs_host() -> Iterator[str]:
    with gcs_emulator() as host, store_connections(gcs_host=host):
        yield host


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
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            hook = S3Hook(aws_conn_id=self.conn_id)
            return {key: _s3_read(hook, self.root, key) for key in hook.list_keys(self.root) or []}
        if self.scheme == "gs":
            from airflow.providers.google.cloud.hooks.gcs import GCSHook

            gcs = GCSHook(gcp_conn_id=self.conn_id)
            return {name: gcs.download(self.root, name) for name in gcs.list(self.root)}
        root = Path(self.root)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    def put(self, key: str, data: bytes) -> None:
        if self.scheme == "s3":
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            S3Hook(aws_conn_id=self.conn_id).load_bytes(data, key, self.root, replace=True)
        elif self.scheme == "gs":
            from airflow.providers.google.cloud.hooks.gcs import GCSHook

            GCSHook(gcp_conn_id=self.conn_id).upload(self.root, key, data=data)
        else:
            path = Path(self.root, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def _s3_read(hook, bucket: str, key: str) -> bytes:
    return hook.get_conn().get_object(Bucket=bucket, Key=key)["Body"].read()


def make_s3_bucket(name: str | None = None) -> str:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    name = name or _bucket_name()
    S3Hook(aws_conn_id=S3_CONN_ID).create_bucket(name)
    return name


def make_gcs_bucket(name: str | None = None) -> str:
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    name = name or _bucket_name()
    GCSHook(gcp_conn_id=GCS_CONN_ID).create_bucket(name, project_id="test-project")
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
