"""InsiderWebPushCampaignMetricsOperator: checks and planning before any request, then real runs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError, NotFoundError
from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator
from airflow_provider_wa_analytics.tables.insider_webpush import TABLES
from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.testing.webpush import INSIDER_WEBPUSH_PARTNER_ID
from airflow_provider_wa_analytics.windows import Window

VENDOR = "insider_webpush"
CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT"


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


def operator(**kwargs):
    return InsiderWebPushCampaignMetricsOperator(
        **{"task_id": "t", "campaign_ids": ["10001", "10002"], **kwargs}
    )


def planned(op, window):
    op.validate()
    return op.plan(window)


# -- planning (no I/O) ----------------------------------------------------------------------------
def test_one_call_per_campaign_with_the_windows_days():
    calls = planned(operator(), Window(utc(2025, 3, 1), utc(2025, 3, 8)))
    assert [c.params for c in calls] == [
        {"campaign_id": "10001", "start_date": "2025-03-01", "end_date": "2025-03-07"},
        {"campaign_id": "10002", "start_date": "2025-03-01", "end_date": "2025-03-07"},
    ]
    assert calls[0].label == "campaign 10001 (2025-03-01..2025-03-07)"


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
        ({"campaign_ids": "all"}, "`campaign_ids` must be a list of numeric campaign IDs"),
        ({"campaign_ids": ["10001", "x"]}, r"`campaign_ids\[1\]` must be a numeric campaign ID"),
        ({"on_missing_campaign": "ignore"}, "`on_missing_campaign` must be one of fail, skip, got 'ignore'"),
        ({"partner_id": " "}, "`partner_id` must be a non-empty string"),
    ],
)
def test_bad_parameters_fail_in_validate(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        operator(**kwargs).validate()


def test_templated_fields():
    fields = InsiderWebPushCampaignMetricsOperator.template_fields
    assert {"campaign_ids", "partner_id", "start", "end", "destination"} <= set(fields)


# -- the operator's pieces over real HTTP -------------------------------------------------------
@pytest.fixture(scope="module")
def running_sandbox():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running_sandbox, monkeypatch):
    running_sandbox.reset()
    running_sandbox.set_rate_limit(VENDOR, None)
    monkeypatch.setenv(CONN, running_sandbox.connection_json(VENDOR, extra={"rate_limit": 1000}))
    yield running_sandbox
    running_sandbox.set_rate_limit(VENDOR, 30, 60)


def tables_of(op, window):
    """What execute() writes, without the output: (table -> rows)."""
    out: dict[str, list] = {name: [] for name in TABLES}
    calls = planned(op, window)
    hook = op.get_hook()
    for call in calls:
        for response in op.fetch(hook, call):
            for table, rows in op.normalize(response, call):
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
    assert "Skipping campaign 99 (2025-03-01..2025-03-07)" in logged(caplog, capfd)


def test_no_partner_id_fails_before_any_request(sandbox, monkeypatch):
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, login=None))
    with pytest.raises(InvalidParameterError, match="`partner_id` is not set"):
        tables_of(operator(), WEEK)
    assert sandbox.requests == []


def test_two_hundred_campaigns_proceed_at_the_limit_without_429s(sandbox, monkeypatch):
    # The documented 30/minute scaled down 200x so the test is fast: 100 per second on both sides,
    # the sandbox's bucket holding only 2 requests (no slack for a burst).
    sandbox.set_rate_limit(VENDOR, 2, 0.02)
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, extra={"rate_limit": 100}))
    ids = sandbox.app(VENDOR).campaign_ids[:200]
    started = time.monotonic()
    out = tables_of(operator(campaign_ids=ids), Window(utc(2025, 3, 1), utc(2025, 3, 2)))
    elapsed = time.monotonic() - started
    assert len(out["overview"]) == 200
    assert [r.status for r in sandbox.requests] == [200] * 200  # no 429, no retry
    assert elapsed >= 199 / 100
    gaps = [
        b.received_at - a.received_at for a, b in zip(sandbox.requests, sandbox.requests[1:], strict=False)
    ]
    assert sum(gaps) / len(gaps) == pytest.approx(0.01, rel=0.2)


def test_without_the_client_limit_the_same_run_meets_429s(sandbox, monkeypatch):
    # The control of the test above: the sandbox's limit is real.
    sandbox.set_rate_limit(VENDOR, 2, 0.02)
    extra = {"rate_limit": 100000, "max_retries": 0}
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR, extra=extra))
    with pytest.raises(Exception, match="Request limit exceeded"):
        tables_of(operator(campaign_ids=sandbox.app(VENDOR).campaign_ids[:50]), WEEK)


def test_the_expected_duration_is_logged_before_the_first_request(sandbox, monkeypatch, caplog, capfd):
    monkeypatch.setenv(CONN, sandbox.connection_json(VENDOR))  # the default 0.5 per second
    op = operator(campaign_ids=sandbox.app(VENDOR).campaign_ids[:200])
    op.validate()
    with caplog.at_level(logging.INFO):
        op.get_hook()
    assert (
        "200 campaign(s) at 30 requests/minute (connection extra `rate_limit`): about 6 min 38 s"
        in logged(caplog, capfd)
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
