"""The pytest plugin (entry point ``pytest11``): the ``wa_sandbox`` fixture for users' DAG tests.

``wa_sandbox`` is the vendor sandbox started once for the test session, with ``AIRFLOW_CONN_*`` set
for the four default connection ids while it runs. It is the :class:`Sandbox` itself: ``url``,
``ids``, ``inject``, ``set_rate_limit``, ``configure``, ``requests``, ``reset`` and the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest import mock

import pytest

from airflow_provider_wa_analytics.testing.sandbox import Sandbox


@pytest.fixture(scope="session")
def wa_sandbox() -> Iterator[Sandbox]:
    """The vendor sandbox for the session, with the default connections pointing at it.

    Vonage insights propagate after one probe (instead of the default two), so an enable-and-wait
    DAG finishes at once. Faults and rate limits set by one test are cleared by ``reset()``.
    """
    options = {"vonage_whatsapp": {"propagation_requests": 1}}
    with Sandbox(vendor_options=options) as sandbox, mock.patch.dict(os.environ, sandbox.connection_env()):
        yield sandbox
