"""The late-arriving-figures example DAG, run as written against the sandbox: every vendor's task
writes its day partitions (the run's day and its lookback days) and a manifest that matches them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pendulum

from airflow_provider_wa_analytics.testing import run_dag
from tests.airflow_runner import load_example_dag


def test_the_example_dag_writes_day_partitions_and_manifests(airflow_db, wa_sandbox, tmp_path, monkeypatch):
    ids = wa_sandbox.ids
    monkeypatch.setenv("AIRFLOW_VAR_WA_ANALYTICS_PREFIX", tmp_path.as_uri())
    monkeypatch.setenv("AIRFLOW_VAR_INSIDER_WEBPUSH_CAMPAIGN_IDS", ",".join(ids["webpush_campaign_ids"]))
    monkeypatch.setenv("AIRFLOW_VAR_VONAGE_WABA_ID", ids["vonage_insights_waba_id"])
    monkeypatch.setenv("AIRFLOW_VAR_VONAGE_TEMPLATE_IDS", ",".join(ids["vonage_template_ids"]))
    monkeypatch.setenv("AIRFLOW_VAR_KALEYRA_WABA_ID", ids["kaleyra_waba_id"])
    monkeypatch.setenv("AIRFLOW_VAR_KALEYRA_TEMPLATE_IDS", ",".join(ids["kaleyra_template_ids"]))
    # Web Push at its documented 30 a minute would take minutes: the sandbox connection goes faster.
    monkeypatch.setenv(
        "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT",
        wa_sandbox.connection_json("insider_webpush", extra={"rate_limit": 1000}),
    )
    yesterday = pendulum.now("UTC").start_of("day").subtract(days=1)
    run = run_dag(load_example_dag("wa_analytics_late_arriving_figures"), logical_date=yesterday)
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states

    run_day = pendulum.instance(run.data_interval_start).date().isoformat()
    manifests = sorted(tmp_path.rglob("_manifest.json"))
    assert {m.relative_to(tmp_path / "late").parts[0] for m in manifests} == {
        "insider_whatsapp",
        "insider_webpush",
        "vonage",
        "kaleyra",
    }
    for manifest in manifests:
        objects = json.loads(manifest.read_text())["objects"]
        days = {o["day"] for o in objects}
        assert run_day in days and len(days) >= 2  # the run's own day and its lookback days
        for item in objects:
            path = Path(item["uri"].removeprefix("file://"))
            data = path.read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (item["bytes"], item["sha256"])
            assert f"/{item['day']}/" in item["uri"]
