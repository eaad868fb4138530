"""Local object stores on 127.0.0.1 for tests, DAG tests and the demo: moto (S3) and gcp-storage-emulator.

with moto_s3() as endpoint, gcs_emulator() as gcs_host, store_connections(endpoint, gcs_host):
    ...  # AIRFLOW_CONN_WA_TEST_S3 / AIRFLOW_CONN_WA_TEST_GCS now reach them through S3Hook / GCSHook
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

S3_CONN_ID = "wa_test_s3"
GCS_CONN_ID = "wa_test_gcs"


@contextmanager
def moto_s3() -> Iterator[str]:
    """A moto S3 server in this process (port chosen by the OS); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def gcs_emulator() -> Iterator[str]:
    """An in-memory gcp-storage-emulator (port chosen by the OS); yields the STORAGE_EMULATOR_HOST value."""
    from gcp_storage_emulator.server import create_server

    logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
    server = create_server("127.0.0.1", 0, in_memory=True)
    server._api.daemon = True  # a forgotten stop() must not keep the interpreter alive
    server.start()  # returns once the socket is bound
    port = server._api._httpd.server_address[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def aws_connection(endpoint: str) -> str:
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )


def gcs_connection() -> str:
    return json.dumps(
        {"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "test-project"}}
    )


@contextmanager
def store_connections(s3_endpoint: str | None = None, gcs_host: str | None = None) -> Iterator[None]:
    """Set the AIRFLOW_CONN_* (and STORAGE_EMULATOR_HOST) environment variables, restored on exit."""
    values: dict[str, str] = {}
    if s3_endpoint:
        values[f"AIRFLOW_CONN_{S3_CONN_ID.upper()}"] = aws_connection(s3_endpoint)
    if gcs_host:
        values[f"AIRFLOW_CONN_{GCS_CONN_ID.upper()}"] = gcs_connection()
        values["STORAGE_EMULATOR_HOST"] = gcs_host
    with mock.patch.dict(os.environ, values):
        yield


@contextmanager
def moto_bucket(monkeypatch, name: str):
    """A moto S3 server of its own with bucket ``name``, ``aws_default`` pointing at it; yields
    ``(S3Hook, name)``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    with moto_s3() as endpoint:
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection(endpoint))
        hook = S3Hook(aws_conn_id="aws_default")
        hook.create_bucket(name)
        yield hook, name
