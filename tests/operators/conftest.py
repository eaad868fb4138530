"""Fixtures the operator tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def s3_bucket(request, monkeypatch):
    """``(S3Hook, bucket)``: ``aws_default`` pointing at moto S3, whose objects outlive the test, so
    the bucket is the module's own (``wa-vonage`` for test_vonage.py) and tests list only theirs."""
    from tests.destinations.servers import moto_bucket

    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with moto_bucket(monkeypatch, f"wa-{module.replace('_', '-')}") as bucket:
        yield bucket
