"""What the Vonage insights sensor and trigger tests share: the sandbox set up for the wait."""

from __future__ import annotations

import pytest

from tests.conftest import set_sandbox_conn

VENDOR = "vonage_whatsapp"
TEMPLATE = "458951126288942"
# No retries: a fault shows on the poke or event it hits.
FAST = {"rate_limit": 1000, "backoff_initial": 0.01, "backoff_max": 0.02, "max_retries": 0}


def insights_sandbox(propagation_requests: int):
    """A ``sandbox`` fixture: the module's sandbox, reset, with insights propagating after
    ``propagation_requests`` probes and no delay, and the default Vonage connection pointing at it."""

    @pytest.fixture
    def sandbox(running_sandbox, monkeypatch):
        running_sandbox.reset()
        running_sandbox.configure(VENDOR, propagation_requests=propagation_requests, propagation_seconds=0.0)
        set_sandbox_conn(monkeypatch, running_sandbox, VENDOR, extra=FAST)
        return running_sandbox

    return sandbox
