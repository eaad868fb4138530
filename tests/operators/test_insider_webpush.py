"""InsiderWebPushCampaignMetricsOperator: checks and planning before any request, then real runs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import AuthenticationError, InvalidParameterError, NotFoundError
from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator
from airflow_provider_wa_analytics.tables.insider_webpush import TABLES
from airflow_provider_wa_analytics.testing.webpush import INSIDER_WEBPUSH_PARTNER_ID
from airflow_provider_wa_analytics.windows import Window
from tests.conftest import unmetered

VENDOR = "insider_webpush"
CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT"


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


def operator(**kwargs):
    return InsiderWebPushCampaignMetricsOperator(
        **{"task_id": "t", "campaign_ids": ["10001", "10002"], **kwargs}
    )


def planned(op, window, today=dt.date(2026, 1, 1)):
    now = pendulum.datetime(today.year, today.month, today.day, 12, tz="UTC")
    return op.plan(op.endpoint.query(op.arguments()), window, now)


@pytest.fixture(autouse=True)
def _connection(monkeypatch):
    """Planning reads the connection (its `retention_days`); tests that fetch set the sandbox's."""
    monkeypatch.setenv(CONN, '{"conn_type": "insider_webpush", "login": "p", "password": "t"}')


def query_of(op):
    return op.endpoint.query(op.arguments())


# -- planning (no I/O) ----------------------------------------------------------------------------
def test_one_call_per_campaign_with_the_windows_days():
    calls = planned(operator(), Window(utc(2025, 3, 1), utc(2025, 3, 8)))
    assert [c.params for c in calls] == [
        {"campaign_ids": ["10001"], "start_date": "2025-03-01", "end_date": "2025-03-07"},
        {"campaign_ids": ["10002"], "start_date": "2025-03-01", "end_date": "2025-03-07"},
    ]
    assert calls[0].label == "2025-03-01..2025-03-07 campaign_ids 10001"


def test_consecutive_daily_runs_ask_for_each_day_once():
    days = [planned(operator(), Window(utc(2025, 3, d), utc(2025, 3, d + 1)))[0].params for d in (1, 2, 3)]
    assert [(d["start_date"], d["end_date"]) for d in days] == [
        ("2025-03-01", "2025-03-01"),
        ("2025-03-02", "2025-03-02"),
        ("2025-03-03", "2025-03-03"),
    ]
    # An hourly interval without a midnight asks for nothing; the one holding it asks for that day.
    assert planned(operator(), Window(utc(2025, 3, 1, 3), utc(2025, 3, 1, 4))) == []
    [call, _] = planned(operator(), Window(utc(2025, 3, 2, 0), utc(2025, 3, 2, 1)))
    assert (call.params["start_date"], call.params["end_date"]) == ("2025-03-02", "2025-03-02")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"campaign_ids": "all"}, r"`campaign_ids\[0\]` must be a numeric campaign ID"),
        ({"campaign_ids": ["10001", "x"]}, r"`campaign_ids\[1\]` must be a numeric campaign ID"),
        ({"on_missing_campaign": "ignore"}, "`on_missing_campaign` must be one of fail, skip, got 'ignore'"),
        ({"partner_id": " "}, "`partner_id` must be a non-empty string"),
    ],
)
def test_bad_parameters_fail_in_validate(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        query_of(operator(**kwargs))


def test_templated_fields():
    fields = InsiderWebPushCampaignMetricsOperator.template_fields
    assert {"campaign_ids", "partner_id", "start", "end", "destination"} <= set(fields)


# -- the operator's pieces over real HTTP -------------------------------------------------------
@pytest.fixture
def sandbox(running_sandbox, sandbox_env):
    sandbox_env(VENDOR, extra={"rate_limit": 1000})
    yield from unmetered(running_sandbox, VENDOR, 30, 60)


def tables_of(op, window):
    """What execute() writes, without the output: (table -> rows)."""
    out: dict[str, list] = {name: [] for name in TABLES}
    calls = planned(op, window)
    hook = op.get_hook()
    for call in calls:
        query = hook.complete(op.endpoint.query(op.arguments()))
        for response in op.fetch(hook, query, call):
            for table, rows in op.normalize(response, query, call):
                out[table].extend(rows)
    return out


def logged(caplog, capfd):
    """Log text on Airflow 2 (logging) and 3 (structlog writes to stdout)."""
    return caplog.text + capfd.readouterr().out


WEEK = Window(utc(2025, 3, 1), utc(2025, 3, 8))


def test_rows_carry_provenance_and_devices_sum_to_the_overview(sandbox):
    ids = sandbox.app(VENDOR).campaign_ids[:5]
    out = tables_of(operator(campaign_ids=ids), WEEK)
    assert [r["campaign_id"] for r in out["overview"]] == ids
    first = out["overview"][0]
    assert {k: first[k] for k in ("vendor", "endpoint", "partner_id", "start_date", "end_date")} == {
        "vendor": VENDOR,
        "endpoint": "statistics/campaign-metrics",
        "partner_id": INSIDER_WEBPUSH_PARTNER_ID,
        "start_date": "2025-03-01",
        "end_date": "2025-03-07",
    }
    assert (first["window_start"], first["window_end"]) == (
        "2025-03-01T00:00:00+00:00",
        "2025-03-08T00:00:00+00:00",
    )
    for overview in out["overview"]:
        cid = overview["campaign_id"]
        devices = [r for r in out["device_metrics"] if r["campaign_id"] == cid]
        for column in ("sent", "delivered", "clicks", "conversions"):
            assert sum(r[column] for r in devices) == overview[column]
        assert round(sum(r["revenue"] for r in devices), 2) == overview["revenue"]
        dropped = [r["count"] for r in out["dropped_reasons"] if r["campaign_id"] == cid]
        undelivered = [r["count"] for r in out["undelivered_reasons"] if r["campaign_id"] == cid]
        assert (sum(dropped), sum(undelivered)) == (overview["dropped"], overview["undelivered"])
    assert out["missing_campaigns"] == []


def test_partner_id_argument_is_sent(sandbox):
    op = operator(campaign_ids=["10001"], partner_id="20000002", on_missing_campaign="skip")
    out = tables_of(op, WEEK)
    assert sandbox.requests[0].json["partner_id"] == "20000002"
    assert out["missing_campaigns"][0]["partner_id"] == "20000002"


def test_unknown_campaign_fails_by_default(sandbox):
    with pytest.raises(NotFoundError, match="Campaign not found"):
        tables_of(operator(campaign_ids=["10001", "99", "10002"]), WEEK)
    assert [r.json["campaign_id"] for r in sandbox.requests] == ["10001", "99"]  # stops at the 424


def test_unknown_campaign_is_recorded_and_the_rest_written_with_skip(sandbox, caplog, capfd):
    op = operator(campaign_ids=["10001", "99", "10002"], on_missing_campaign="skip")
    with caplog.at_level(logging.WARNING):
        out = tables_of(op, WEEK)
    assert [r["campaign_id"] for r in out["overview"]] == ["10001", "10002"]
    [missing] = out["missing_campaigns"]
    assert {k: missing[k] for k in ("campaign_id", "start_date", "end_date", "status_code")} == {
        "campaign_id": "99",
        "start_date": "2025-03-01",
        "end_date": "2025-03-07",
        "status_code": 424,
    }
    assert "SERVICE:-Campaign not found" in missing["message"]
    assert op._missing == ["99"]
    assert "Skipping 2025-03-01..2025-03-07 campaign_ids 99" in logged(caplog, capfd)


def test_no_partner_id_fails_before_any_request(sandbox, monkeypatch):
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, login=None))
    with pytest.raises(InvalidParameterError, match="`partner_id` is not set"):
        tables_of(operator(), WEEK)
    assert sandbox.requests == []


def test_two_hundred_campaigns_proceed_at_the_limit_without_429s(sandbox, monkeypatch):
    # The documented 30 per minute, 200 times faster on both sides: 30 per 0.3 s, 100 per second.
    sandbox.set_rate_limit(VENDOR, 30, 0.3)
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, extra={"rate_limit": 100}))
    ids = sandbox.app(VENDOR).campaign_ids[:200]
    started = time.monotonic()
    out = tables_of(operator(campaign_ids=ids), Window(utc(2025, 3, 1), utc(2025, 3, 2)))
    elapsed = time.monotonic() - started
    assert len(out["overview"]) == 200
    assert [r.status for r in sandbox.requests] == [200] * 200  # no 429, no retry
    # Paced at the limit: 199 gaps of at least 1/98 s. No upper bound here: on a loaded machine any
    # figure is noise; the bench measures utilization.
    assert elapsed >= 199 / 100


def test_without_the_client_limit_the_same_run_meets_429s(sandbox, monkeypatch):
    # The control of the test above: the sandbox's limit is real. A strict 1 per minute refuses the
    # second request however slowly a loaded machine sends it (a token bucket refilling in
    # milliseconds did not, once).
    sandbox.set_rate_limit(VENDOR, 1, 60, strict=True)
    extra = {"rate_limit": 100000, "max_retries": 0}
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, extra=extra))
    with pytest.raises(Exception, match="Request limit exceeded"):
        tables_of(operator(campaign_ids=sandbox.app(VENDOR).campaign_ids[:50]), WEEK)


def test_the_expected_duration_is_logged_before_the_first_request(sandbox, monkeypatch, caplog, capfd):
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR))  # the default 0.5 per second
    op = operator(campaign_ids=sandbox.app(VENDOR).campaign_ids[:200])
    with caplog.at_level(logging.INFO):
        planned(op, WEEK)
    assert "200 call(s) at 30 requests/minute (connection extra `rate_limit`): about 6 min 38 s" in logged(
        caplog, capfd
    )
    assert sandbox.requests == []


def test_dates_are_typed_strings_in_the_request(sandbox):
    tables_of(operator(campaign_ids=["10001"]), Window(utc(2025, 3, 1), utc(2025, 4, 1)))
    body = sandbox.requests[0].json
    assert body == {
        "partner_id": INSIDER_WEBPUSH_PARTNER_ID,
        "start_date": "2025-03-01",
        "end_date": "2025-03-31",
        "campaign_id": "10001",
    }
    assert dt.date.fromisoformat(body["end_date"]) - dt.date.fromisoformat(
        body["start_date"]
    ) == dt.timedelta(days=30)
    assert json.dumps(body)


# -- real Airflow runs (dag.test on the session's metadata DB) ----------------------------------
DAY = pendulum.datetime(2025, 3, 1, tz="UTC")
FAST_CONN = {"rate_limit": 100, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": 5}


@pytest.fixture
def airflow_run(airflow_db, sandbox, monkeypatch):
    """Run the operator in a one-task daily DAG for DAY, against the sandbox at 100 requests/s."""
    from tests.airflow_runner import daily, run_task

    sandbox.set_rate_limit(VENDOR, 30, 0.3)  # the documented 30/minute, 200 times faster
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, extra=FAST_CONN))

    def run(dag_id, **kwargs):
        return run_task(
            InsiderWebPushCampaignMetricsOperator, logical_date=DAY, schedule=daily(), dag_id=dag_id, **kwargs
        )

    return run


def test_example_dag_pulls_fifty_campaigns_into_s3_and_devices_sum_to_the_overview(
    airflow_run, sandbox, s3_bucket, monkeypatch
):
    from tests.airflow_runner import load_example_dag, run_dag

    hook, bucket = s3_bucket
    ids = sandbox.app(VENDOR).campaign_ids[:50]
    monkeypatch.setenv("AIRFLOW_VAR_WA_ANALYTICS_PREFIX", f"s3://{bucket}")
    monkeypatch.setenv("AIRFLOW_VAR_INSIDER_WEBPUSH_CAMPAIGN_IDS", json.dumps(ids))
    run = run_dag(load_example_dag("insider_webpush_campaign_metrics"), DAY.add(days=1))
    assert run.state == "success", run.error

    def rows(table):
        body = hook.read_key(f"insider_webpush/campaign_metrics/{table}/2025-03-01.jsonl", bucket)
        return [json.loads(line) for line in body.splitlines() if line]

    assert sorted(hook.list_keys(bucket)) == sorted(
        f"insider_webpush/campaign_metrics/{table}/2025-03-01.jsonl" for table in TABLES
    )
    overview, devices = rows("overview"), rows("device_metrics")
    assert [r["campaign_id"] for r in overview] == ids
    assert len(devices) == 2 * 50 and rows("missing_campaigns") == []
    for row in overview:
        mine = [d for d in devices if d["campaign_id"] == row["campaign_id"]]
        for column in ("sent", "delivered", "clicks", "conversions"):
            assert sum(d[column] for d in mine) == row[column], (row["campaign_id"], column)
        assert round(sum(d["revenue"] for d in mine), 2) == row["revenue"]
        # ... and the overview is the vendor's own figure.
        body = sandbox.app(VENDOR).campaign_metrics(
            row["campaign_id"], dt.date(2025, 3, 1), dt.date(2025, 3, 1)
        )
        assert row["sent"] == int(body["overview"]["targeted"]["sent"])
    assert [r.status for r in sandbox.requests] == [200] * 50  # paced: no 429
    assert {r.json["start_date"] for r in sandbox.requests} == {"2025-03-01"}
    assert {r.json["end_date"] for r in sandbox.requests} == {"2025-03-01"}
    assert {(r["window_start"], r["window_end"]) for r in overview} == {
        ("2025-03-01T00:00:00+00:00", "2025-03-02T00:00:00+00:00")
    }
    assert {(r["table"], r["rows"]) for r in run.result} >= {("overview", 50), ("device_metrics", 100)}


def test_unknown_campaign_fails_the_task_without_retries(airflow_run, sandbox):
    run = airflow_run("t_webpush_missing_fail", campaign_ids=["10001", "99", "10002"], retries=3)
    assert run.state == "failed" and isinstance(run.error, NotFoundError)
    assert [r.json["campaign_id"] for r in sandbox.requests] == ["10001", "99"]


def test_unknown_campaign_with_skip_is_recorded_and_the_rest_written(airflow_run, sandbox):
    run = airflow_run(
        "t_webpush_missing_skip", campaign_ids=["10001", "99", "10002"], on_missing_campaign="skip"
    )
    assert run.state == "success", run.error
    assert [r["campaign_id"] for r in run.result["overview"]] == ["10001", "10002"]
    [missing] = run.result["missing_campaigns"]
    assert (missing["campaign_id"], missing["status_code"]) == ("99", 424)
    assert missing["message"].endswith("SERVICE:-Campaign not found")


def test_wrong_token_fails_at_once_with_no_retry(airflow_run, sandbox, monkeypatch):
    extra = {**FAST_CONN, "max_retries": 5}
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, password="a-wrong-token-123", extra=extra))
    run = airflow_run("t_webpush_401", campaign_ids=["10001", "10002"], retries=3)
    assert run.state == "failed" and isinstance(run.error, AuthenticationError)
    assert len(sandbox.requests) == 1  # neither the client nor Airflow retried
    assert "a-wrong-token-123" not in str(run.error)


def test_raw_json_keeps_the_responses_as_received(airflow_run, sandbox):
    run = airflow_run("t_webpush_raw", campaign_ids=["10001", "10002"], output_format="json")
    assert run.state == "success", run.error
    day = dt.date.fromisoformat(sandbox.requests[0].json["start_date"])  # the run's data interval
    bodies = [sandbox.app(VENDOR).campaign_metrics(c, day, day) for c in ("10001", "10002")]
    assert run.result == {"raw": bodies}


def test_templated_campaign_ids_and_partner_id(airflow_run, sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_WEBPUSH_IDS", json.dumps(["10003", "10004"]))
    monkeypatch.setenv("AIRFLOW_VAR_WEBPUSH_PARTNER", INSIDER_WEBPUSH_PARTNER_ID)
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, login=None, extra=FAST_CONN))
    run = airflow_run(
        "t_webpush_templated",
        campaign_ids="{{ var.json.webpush_ids }}",
        partner_id="{{ var.value.webpush_partner }}",
    )
    assert run.state == "success", run.error
    assert [r.json["campaign_id"] for r in sandbox.requests] == ["10003", "10004"]
    assert {r["partner_id"] for r in run.result["overview"]} == {INSIDER_WEBPUSH_PARTNER_ID}


def test_progress_reads_campaign_n_of_total_with_rate_and_time_left(airflow_run, sandbox, caplog, capfd):
    with caplog.at_level(logging.INFO):
        run = airflow_run("t_webpush_progress", campaign_ids=["10001", "10002", "10003"])
    assert run.state == "success", run.error
    text = logged(caplog, capfd)
    assert "3 call(s) at 6000 requests/minute (connection extra `rate_limit`): about 0.0 s" in text
    assert re.search(r"call 1/3 \S+ campaign_ids 10001: page 1", text)
    last = (
        r"call 3/3 \S+ campaign_ids 10003: page 1, 9 rows "
        r"\(total 27 rows, 3 pages, [\d.]+ pages/s, about [\d.]+ s left"
    )
    assert re.search(last, text)
