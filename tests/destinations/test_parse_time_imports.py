"""DAG files are parsed constantly: importing the destinations must not pull in the cloud SDKs."""

from __future__ import annotations


def test_importing_destinations_imports_no_cloud_sdk(parse_time_imports):
    assert parse_time_imports() == "[]"
