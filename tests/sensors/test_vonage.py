"""VonageInsightsSensor: poke, defer, resume, and whole DAG runs through ``dag.test()`` (which runs the
trigger inline), against the sandbox."""

from __future__ import annotations

import json

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import AuthenticationError, ForbiddenError, NotFoundError
from airflow_provider_wa_analytics.operators.vonage import VonageEnableInsightsOperator
from airflow_provider_wa_analytics.sensors.vonage import VonageInsightsSensor
from airflow_provider_wa_analytics.testing import Fault
from airflow_provider_wa_analytics.testing.vonage import (
    VONAGE_INSIGHTS_WABA_ID,
    VONAGE_UNLINKED_WABA_ID,
    VONAGE_WABA_ID,
)
from airflow_provider_wa_analytics.triggers.vonage import VonageInsightsTrigger
from tests.vonage_fixtures import FAST, TEMPLATE, VENDOR, insights_sandbox

sandbox = insights_sandbox(propagation_requests=2)


def sensor(waba_id=VONAGE_WABA_ID, **kwargs):
    return VonageInsightsSensor(task_id="wait", waba_id=waba_id, template_id=TEMPLATE, **kwargs)


def test_poke_is_false_until_insights_have_propagated(sandbox):
    s = sensor()
    assert s.poke({}) is False  # not enabled
    sandbox.app(VENDOR).enable_insights(VONAGE_WABA_ID)
    assert [s.poke({}) for _ in range(3)] == [False, False, True]


def test_poke_keeps_waiting_through_transient_errors(sandbox):
    sandbox.inject(Fault.SERVER_ERROR, times=1)
    assert sensor(VONAGE_INSIGHTS_WABA_ID).poke({}) is False
    assert sensor(VONAGE_INSIGHTS_WABA_ID).poke({}) is True


@pytest.mark.parametrize(
    ("waba_id", "password", "error"),
    [
        (VONAGE_UNLINKED_WABA_ID, None, ForbiddenError),
        ("999", None, NotFoundError),
        (VONAGE_WABA_ID, "wrong-secret", AuthenticationError),
    ],
)
def test_poke_fails_at_once_on_permanent_errors(sandbox, monkeypatch, waba_id, password, error):
    if password:
        conn = sandbox.connection(VENDOR, password=password, extra=FAST)
        monkeypatch.setenv("AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT", json.dumps(conn))
    with pytest.raises(error):
        sensor(waba_id).poke({})
    assert len(sandbox.requests) == 1


def test_deferrable_sensor_defers_to_the_trigger_when_not_ready(sandbox):
    from airflow.providers.common.compat.sdk import TaskDeferred

    s = sensor(deferrable=True, poke_interval=30, timeout=600, vonage_conn_id="vonage_whatsapp_default")
    with pytest.raises(TaskDeferred) as info:
        s.execute({})
    deferred = info.value
    assert isinstance(deferred.trigger, VonageInsightsTrigger)
    assert deferred.trigger.serialize()[1] == {
        "waba_id": VONAGE_WABA_ID,
        "template_id": TEMPLATE,
        "vonage_conn_id": "vonage_whatsapp_default",
        "poll_interval": 30.0,
    }
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == pendulum.duration(seconds=600)


def test_deferrable_sensor_does_not_defer_when_already_ready(sandbox):
    assert sensor(VONAGE_INSIGHTS_WABA_ID, deferrable=True).execute({}) is None


def test_execute_complete_raises_the_typed_error_of_the_event():
    s = sensor(deferrable=True)
    s.execute_complete({}, {"status": "success", "waba_id": VONAGE_WABA_ID})
    event = {"status": "error", "error": "ForbiddenError", "message": "not linked", "http_status": 403}
    with pytest.raises(ForbiddenError, match=r"\[vonage, HTTP 403\] not linked"):
        s.execute_complete({}, event)


def test_bad_parameters_fail_before_any_request(sandbox):
    from airflow_provider_wa_analytics.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="`waba_id`"):
        sensor("not-a-waba").poke({})
    assert sandbox.requests == []


# -- whole runs ----------------------------------------------------------------------------------
def _dag(dag_id, waba_id, *, deferrable):
    from airflow.providers.common.compat.sdk import DAG

    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False) as dag:
        enable = VonageEnableInsightsOperator(task_id="enable", waba_id=waba_id)
        wait = VonageInsightsSensor(
            task_id="wait",
            waba_id=waba_id,
            template_id=TEMPLATE,
            deferrable=deferrable,
            poke_interval=0,
            timeout=60,
        )
        enable >> wait
    return dag


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "poke"])
def test_a_dag_enables_insights_and_waits_for_them(sandbox, run_dag, deferrable):
    run = run_dag(_dag(f"vonage_insights_{deferrable}", VONAGE_WABA_ID, deferrable=deferrable))
    assert run.state == "success"
    requests = [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in sandbox.requests]
    assert requests == [
        ("PATCH", "enable_insights", 200),
        ("GET", "template-analytics", 400),
        ("GET", "template-analytics", 400),
        ("GET", "template-analytics", 200),
    ]
    # The first poke runs in the task; deferred, the others come from the trigger (async httpx).
    from_trigger = ["triggerer; httpx/" in r.headers["user-agent"] for r in sandbox.requests]
    assert from_trigger == [False, False, deferrable, deferrable]


def test_a_deferred_wait_on_an_unknown_waba_fails_without_waiting(sandbox, run_dag):
    dag = _dag("vonage_insights_unknown", "999", deferrable=True)
    dag.task_dict["enable"].waba_id = VONAGE_INSIGHTS_WABA_ID  # enabling works; waiting cannot
    run = run_dag(dag)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed" and states == {"enable": "success", "wait": "failed"}
    assert [r.status for r in sandbox.requests] == [200, 404]
