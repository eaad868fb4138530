"""Servers of the scale-out tests: a real Redis for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_wa_analytics.testing.redis import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a redis-server started for the session."""
    with redis_server() as url:
        yield url
