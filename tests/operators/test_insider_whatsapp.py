"""Insider WhatsApp operators end to end: real Airflow (dag.test), real HTTP to the sandbox, file output."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pendulum
import pytest

from airflow_provider_wa_analytics.operators.insider import (
    InsiderWhatsAppOverallStatisticsOperator,
    InsiderWhatsAppTransactionalStatisticsOperator,
)
from airflow_provider_wa_analytics.tables.insider_whatsapp import OVERALL_TABLES
from airflow_provider_wa_analytics.testing import Fault
from airflow_provider_wa_analytics.windows import Window
from tests.airflow_runner import daily, load_example_dag, run_dag, run_task

pytestmark = pytest.mark.usefixtures("airflow_db")

DAY = pendulum.datetime(2025, 3, 1, tz="UTC")
FILTER = {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True}
METRICS = ("sent", "delivered", "open", "click", "conversion")


@pytest.fixture(autouse=True)
def connection(sandbox, sandbox_env):
    sandbox.reset()
    extra = sandbox.connection("insider_whatsapp").get("extra", {})
    sandbox_env(
        "insider_whatsapp", extra={**extra, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": 2}
    )


def run(operator_cls, **kwargs):
    """Run one operator in a one-task daily DAG with dag.test() for the day DAY."""
    return run_task(operator_cls, logical_date=DAY, schedule=daily(), dag_id="t_insider", **kwargs)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_example_dag_totals_equal_the_sandbox_summary(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_WA_ANALYTICS_PREFIX", tmp_path.as_uri())
    dag = load_example_dag("insider_whatsapp_statistics")
    run = run_dag(dag, DAY.add(days=1))  # the run of DAY ends at the next midnight
    assert set(run.states.values()) == {"success"}, (run.states, run.error)
    base = tmp_path / "insider_whatsapp"
    daily = read_jsonl(base / "overall" / "daily" / "2025-03-01.jsonl")
    campaigns = read_jsonl(base / "overall" / "campaigns" / "2025-03-01.jsonl")
    (summary,) = read_jsonl(base / "overall" / "summary" / "2025-03-01.jsonl")
    start, end = Window(DAY, DAY.add(days=1)).epoch
    expected = sandbox.insider_whatsapp.overall(start, end, FILTER)["summary"]
    for metric in METRICS:
        assert sum(r[metric] for r in daily) == sum(r[metric] for r in campaigns) == summary[metric]
        assert summary[metric] == expected[metric]
    assert summary["targeted"] == summary["sent"] + summary["drop"]
    assert sum(v for k, v in summary.items() if k.startswith("drop_")) == summary["drop"]
    assert (base / "transactional" / "summary" / "2025-03-01.csv").read_text().startswith("vendor,endpoint,")
    assert {r["window_start"] for r in daily} == {"2025-03-01T00:00:00+00:00"}


def test_three_years_are_fetched_in_yearly_requests_without_gap_or_overlap(sandbox, tmp_path):
    task = run(
        InsiderWhatsAppOverallStatisticsOperator,
        start="2022-01-01",
        end="2025-01-01",
        destination=f"file://{tmp_path}/{{table}}.jsonl",
    )
    assert task.state == "success", task.error
    windows = [(r.json["start_time"], r.json["end_time"]) for r in sandbox.requests]
    assert len(windows) == 4
    assert windows[0][0] == int(pendulum.datetime(2022, 1, 1, tz="UTC").timestamp())
    assert windows[-1][1] == int(pendulum.datetime(2025, 1, 1, tz="UTC").timestamp())
    assert all(b[0] == a[1] for a, b in itertools.pairwise(windows))
    assert all(e - s <= 365 * 86400 for s, e in windows)
    days = [r["date"] for r in read_jsonl(tmp_path / "daily.jsonl")]
    assert len(days) == len(set(days)) == 1096
    assert {r["uri"].rsplit("/", 1)[1] for r in task.result} == {f"{t}.jsonl" for t in OVERALL_TABLES}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"campaign_filter": {"statuses": ["running"]}}, "campaign_filter.statuses"),
        ({"campaign_filter": {"tags": [1.5]}}, "tag at index 0"),
        ({"start": "2025-03-02", "end": "2025-03-01"}, "`end`"),
        ({"start": "not a date"}, "`start`"),
        ({"destination": "ftp://bucket/{{ ds }}.jsonl"}, "`destination`"),
    ],
)
def test_bad_parameters_fail_before_any_request(sandbox, kwargs, message):
    task = run(InsiderWhatsAppOverallStatisticsOperator, **kwargs)
    assert task.state == "failed"
    assert sandbox.requests == []
    assert message in str(task.error)


def test_a_fixed_bad_output_format_fails_when_the_dag_is_parsed():
    from airflow_provider_wa_analytics.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="`output_format`"):
        InsiderWhatsAppOverallStatisticsOperator(task_id="t", output_format="xml")


def test_a_static_bad_destination_fails_when_the_dag_is_parsed():
    from airflow_provider_wa_analytics.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="`destination`"):
        InsiderWhatsAppOverallStatisticsOperator(task_id="t", destination="ftp://bucket/key")


def test_transactional_window_before_2018_fails_before_any_request(sandbox):
    task = run(InsiderWhatsAppTransactionalStatisticsOperator, start="2017-12-01", end="2018-01-02")
    assert task.state == "failed" and sandbox.requests == []
    assert "2018-01-01" in str(task.error)


def test_429_and_503_at_the_start_give_output_identical_to_a_clean_run(sandbox, tmp_path):
    clean, faulty = tmp_path / "clean", tmp_path / "faulty"
    kwargs = {"start": "2024-01-01", "end": "2025-06-01", "campaign_filter": FILTER, "output_format": "csv"}
    assert (
        run(
            InsiderWhatsAppOverallStatisticsOperator, destination=f"file://{clean}/{{table}}.csv", **kwargs
        ).state
        == "success"
    )
    sandbox.reset()
    sandbox.inject(Fault.RATE_LIMIT, "/v1/statistics/overall", times=1, retry_after=0)
    sandbox.inject(Fault.UNAVAILABLE, "/v1/statistics/overall", times=1, retry_after=0)
    task = run(
        InsiderWhatsAppOverallStatisticsOperator, destination=f"file://{faulty}/{{table}}.csv", **kwargs
    )
    assert task.state == "success", task.error
    assert [r.status for r in sandbox.requests][:3] == [429, 503, 200]
    for table in OVERALL_TABLES:
        assert (clean / f"{table}.csv").read_bytes() == (faulty / f"{table}.csv").read_bytes(), table


def test_json_output_keeps_the_responses_byte_for_byte(sandbox, tmp_path):
    target = tmp_path / "raw.json"
    task = run(
        InsiderWhatsAppOverallStatisticsOperator,
        start="2023-06-01",
        end="2025-01-01",
        output_format="json",
        destination=target.as_uri(),
    )
    assert task.state == "success", task.error
    bodies = [r.status for r in sandbox.requests]
    assert bodies == [200, 200]
    served = json.loads(target.read_bytes())
    windows = Window.of("2023-06-01", "2025-01-01").split(dt.timedelta(days=365))
    assert served == [sandbox.insider_whatsapp.overall(*w.epoch) for w in windows]
    assert task.result == [
        {"uri": target.as_uri(), "table": "raw", "rows": 2, "bytes": target.stat().st_size}
    ]


def test_xcom_output_returns_the_tables(sandbox):
    task = run(InsiderWhatsAppTransactionalStatisticsOperator, accounts=["+905000000001"])
    assert task.state == "success", task.error
    assert set(task.result) == {"daily", "summary"}
    assert task.result["summary"][0]["account"] == "+905000000001"
    assert sandbox.requests[0].json["accounts"] == ["+905000000001"]


def test_a_401_fails_at_once_without_retry(sandbox, monkeypatch):
    conn = sandbox.connection("insider_whatsapp", password="INS.revoked")
    monkeypatch.setenv("AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT", json.dumps(conn))
    task = run(InsiderWhatsAppOverallStatisticsOperator, retries=3)
    assert task.state == "failed"
    assert len(sandbox.requests) == 1
    assert "INS.revoked" not in str(task.error)
