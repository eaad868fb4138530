"""VonageInsightsTrigger: serializable, and its async generator run with asyncio against the sandbox."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_wa_analytics.testing import Fault
from airflow_provider_wa_analytics.testing.vonage import (
    VONAGE_INSIGHTS_WABA_ID,
    VONAGE_UNLINKED_WABA_ID,
    VONAGE_WABA_ID,
)
from airflow_provider_wa_analytics.triggers.vonage import VonageInsightsTrigger, error_from_event
from tests.vonage_fixtures import FAST, TEMPLATE, VENDOR, insights_sandbox

sandbox = insights_sandbox(propagation_requests=3)


def first_event(trigger: VonageInsightsTrigger):
    async def run():
        async for event in trigger.run():
            return event.payload
        return None

    return asyncio.run(asyncio.wait_for(run(), timeout=30))


def trigger(waba_id=VONAGE_WABA_ID, **kwargs):
    return VonageInsightsTrigger(waba_id=waba_id, template_id=TEMPLATE, poll_interval=0, **kwargs)


def test_serializes_to_its_import_path_and_plain_kwargs():
    path, kwargs = trigger(vonage_conn_id="c1").serialize()
    assert path == "airflow_provider_wa_analytics.triggers.vonage.VonageInsightsTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    rebuilt = VonageInsightsTrigger(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)


def test_fires_success_once_insights_have_propagated(sandbox):
    sandbox.app(VENDOR).enable_insights(VONAGE_WABA_ID)
    assert first_event(trigger()) == {"status": "success", "waba_id": VONAGE_WABA_ID}
    statuses = [r.status for r in sandbox.requests]
    assert statuses == [400, 400, 400, 200]  # three "not available yet", then the answer


def test_waits_while_insights_are_not_enabled_then_succeeds(sandbox):
    async def run():
        gen = trigger().run()
        task = asyncio.ensure_future(gen.__anext__())
        # Let it poll a few times against a WABA whose insights nobody enabled yet (bounded wait:
        # nothing signals "the trigger has polled" besides the sandbox's recordings).
        deadline = asyncio.get_running_loop().time() + 20
        while len(sandbox.requests) < 5 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert not task.done()
        sandbox.app(VENDOR).enable_insights(VONAGE_WABA_ID)
        return (await asyncio.wait_for(task, 30)).payload

    assert asyncio.run(run())["status"] == "success"


def test_transient_errors_keep_it_waiting(sandbox):
    sandbox.inject(Fault.SERVER_ERROR, times=2)
    sandbox.inject(Fault.CONNECTION_RESET, times=1)
    assert first_event(trigger(VONAGE_INSIGHTS_WABA_ID))["status"] == "success"
    assert [r.status for r in sandbox.requests] == [500, 500, None, 200]


@pytest.mark.parametrize(
    ("waba_id", "conn", "error", "status", "text"),
    [
        (VONAGE_UNLINKED_WABA_ID, {}, "ForbiddenError", 403, "not linked to WABA"),
        ("999", {}, "NotFoundError", 404, "unknown to Vonage"),
        (VONAGE_WABA_ID, {"password": "bad-secret-1"}, "AuthenticationError", 401, "correct credentials"),
    ],
)
def test_permanent_errors_fire_an_error_event_at_once(
    sandbox, monkeypatch, waba_id, conn, error, status, text
):
    fields = {**sandbox.connection(VENDOR, extra=FAST), **conn}
    monkeypatch.setenv("AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT", json.dumps(fields))
    event = first_event(trigger(waba_id))
    assert (event["status"], event["error"], event["http_status"]) == ("error", error, status)
    assert text in event["message"] and "bad-secret-1" not in json.dumps(event)
    assert len(sandbox.requests) == 1
    rebuilt = error_from_event(event)
    assert type(rebuilt).__name__ == error and rebuilt.status == status


def test_jwt_connections_work_in_the_trigger(sandbox, monkeypatch):
    conn = {**sandbox.app(VENDOR).jwt_connection(sandbox.url), "extra": {}}
    conn["extra"] = {**sandbox.app(VENDOR).jwt_connection(sandbox.url)["extra"], **FAST}
    monkeypatch.setenv("AIRFLOW_CONN_VONAGE_JWT", json.dumps(conn))
    event = first_event(trigger(VONAGE_INSIGHTS_WABA_ID, vonage_conn_id="vonage_jwt"))
    assert event["status"] == "success"
    assert sandbox.requests[0].headers["authorization"].startswith("Bearer ")


def test_a_missing_connection_setting_fires_an_error_event(sandbox, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT", json.dumps({"conn_type": VENDOR, "host": sandbox.url})
    )
    event = first_event(trigger())
    assert event["error"] == "InvalidParameterError" and "has no credentials" in event["message"]
