"""``testing.run_dag`` and the ``wa_sandbox`` fixture of the pytest plugin, as a user's test uses them."""

from __future__ import annotations

import os

import pendulum

from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.testing import Fault, run_dag

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef]


def test_the_fixture_points_the_default_connections_at_the_sandbox(wa_sandbox):
    for conn_id in ("insider_whatsapp", "insider_webpush", "vonage_whatsapp", "kaleyra_whatsapp"):
        assert wa_sandbox.url in os.environ[f"AIRFLOW_CONN_{conn_id.upper()}_DEFAULT"]
    assert {
        "vonage_waba_id",
        "vonage_template_ids",
        "kaleyra_waba_id",
        "kaleyra_template_ids",
        "webpush_campaign_ids",
    } <= set(wa_sandbox.ids)


def test_run_dag_runs_a_dag_defined_in_a_test_file(wa_sandbox, airflow_db):
    wa_sandbox.reset()
    wa_sandbox.inject(Fault.RATE_LIMIT, times=1, vendor="kaleyra_whatsapp")
    day = pendulum.now("UTC").start_of("day").subtract(days=2)
    with DAG("user_test_dag", schedule=None, start_date=day, catchup=False) as dag:
        KaleyraTemplateAnalyticsOperator(
            task_id="templates",
            waba_id=wa_sandbox.ids["kaleyra_waba_id"],
            template_ids=wa_sandbox.ids["kaleyra_template_ids"],
            start=day.isoformat(),
            end=day.add(days=1).isoformat(),
        )
    dag_run = run_dag(dag, logical_date=day)
    assert str(getattr(dag_run.state, "value", dag_run.state)) == "success"
    assert [r.status for r in wa_sandbox.requests][:2] == [429, 200]
