"""Vonage operators: validation and planning before any request, then real runs through ``dag.test()``
against the sandbox (XCom, files, and S3 on moto for the example DAG)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import warnings

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import ForbiddenError, InvalidParameterError
from airflow_provider_wa_analytics.operators.vonage import (
    VonageEnableInsightsOperator,
    VonageMessagingAnalyticsOperator,
    VonagePricingAnalyticsOperator,
    VonageTemplateAnalyticsOperator,
)
from airflow_provider_wa_analytics.tables.vonage import MESSAGING, PRICING, TEMPLATE
from airflow_provider_wa_analytics.testing.vonage import (
    VONAGE_API_SECRET,
    VONAGE_INSIGHTS_WABA_ID,
    VONAGE_UNLINKED_WABA_ID,
    VONAGE_WABA_ID,
)
from airflow_provider_wa_analytics.windows import Window
from tests.airflow_runner import DAG, DEFAULT_DATE, load_example_dag, run_dag, run_task

VENDOR = "vonage_whatsapp"
MIDNIGHT = pendulum.now("UTC").start_of("day")
TODAY = MIDNIGHT.date()
TEMPLATES = [f"4589511262{n:05d}" for n in range(25)]
FAST = {"rate_limit": 1000, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": 10}


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


@pytest.fixture
def vonage_conn(monkeypatch):
    conn = {"conn_type": VENDOR, "login": "k", "password": "s", "extra": {"lookback_days": 90}}
    monkeypatch.setenv("AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT", json.dumps(conn))
    return conn


def templates_op(**kwargs):
    return VonageTemplateAnalyticsOperator(
        **{"task_id": "t", "waba_id": VONAGE_WABA_ID, "template_ids": TEMPLATES, **kwargs}
    )


def planned(op, window, today=dt.date(2025, 11, 30)):
    now = pendulum.datetime(today.year, today.month, today.day, 12, tz="UTC")
    return op.plan(op.endpoint.query(op.arguments()), window, now)


def query_of(op):
    return op.endpoint.query(op.arguments())


# -- validation and planning (no request) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: templates_op(waba_id="waba-1"), "`waba_id` must be the numeric ID"),
        (lambda: templates_op(template_ids=[]), "`template_ids` is required"),
        (lambda: templates_op(granularity="MONTHLY"), "`granularity` must be one of DAILY"),
        (lambda: templates_op(metric_types=["SENT", "OPENED"]), "SENT, DELIVERED, READ, CLICKED"),
        (lambda: templates_op(max_concurrency=0), "`max_concurrency` must be a whole number >= 1"),
        (
            lambda: VonageMessagingAnalyticsOperator(task_id="m", waba_id="1", granularity="WEEKLY"),
            "`granularity` must be one of HALF_HOUR, DAILY, MONTHLY",
        ),
        (
            lambda: VonageMessagingAnalyticsOperator(task_id="m", waba_id="1", product_types=[1]),
            r"`product_types\[0\]` must be one of 0, 2",
        ),
        (
            lambda: VonagePricingAnalyticsOperator(task_id="p", waba_id="1", dimensions=["CITY"]),
            "PRICING_CATEGORY, PRICING_TYPE, COUNTRY, PHONE, TIER",
        ),
        (
            lambda: VonagePricingAnalyticsOperator(task_id="p", waba_id="1", phone_numbers=["call me"]),
            r"`phone_numbers\[0\]` must be a phone number",
        ),
    ],
)
def test_bad_parameters_fail_in_validate(make, message):
    with pytest.raises(InvalidParameterError, match=message):
        query_of(make())


def test_twenty_five_templates_are_three_batches_over_one_range(vonage_conn):
    window = Window(utc(2025, 9, 11), utc(2025, 11, 30))  # 80 days
    calls = planned(templates_op(), window)
    assert [c.params["template_ids"] for c in calls] == [TEMPLATES[0:10], TEMPLATES[10:20], TEMPLATES[20:25]]
    assert {(c.params["start"], c.params["end"]) for c in calls} == {("2025-09-11", "2025-11-29")}
    assert calls[0].label == "2025-09-11..2025-11-29 template_ids 1-10 of 25" and calls[0].window == window


def test_a_longer_lookback_splits_windows_into_90_day_ranges(vonage_conn, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT",
        json.dumps({**vonage_conn, "extra": {"lookback_days": 365}}),
    )
    window = Window(utc(2025, 5, 1), utc(2025, 11, 17))  # 200 days
    calls = planned(templates_op(template_ids=TEMPLATES[:3]), window)
    ranges = [(c.params["start"], c.params["end"]) for c in calls]
    assert ranges == [
        ("2025-05-01", "2025-07-29"),
        ("2025-07-30", "2025-10-27"),
        ("2025-10-28", "2025-11-16"),
    ]
    assert [c.window.end for c in calls[:-1]] == [c.window.start for c in calls[1:]]  # no gap, no overlap


def test_start_outside_the_lookback_fails_in_plan(vonage_conn):
    op = VonageMessagingAnalyticsOperator(task_id="m", waba_id=VONAGE_WABA_ID)
    with pytest.raises(
        InvalidParameterError, match=r"2025-08-31 is outside Vonage's 90-day retention.*2025-09-01"
    ):
        planned(op, Window(utc(2025, 8, 31), utc(2025, 9, 2)))


def test_consecutive_hourly_runs_ask_for_each_day_once(vonage_conn):
    op = VonagePricingAnalyticsOperator(task_id="p", waba_id=VONAGE_WABA_ID)
    hours = [Window(utc(2025, 11, 1, h), utc(2025, 11, 1, h + 1)) for h in range(23)]
    hours.append(Window(utc(2025, 11, 1, 23), utc(2025, 11, 2)))
    calls = [c for w in hours for c in planned(op, w)]
    assert [(c.params["start"], c.params["end"]) for c in calls] == [("2025-11-01", "2025-11-01")]


# -- real runs against the sandbox ---------------------------------------------------------------
@pytest.fixture
def sandbox_conn(sandbox, sandbox_env, airflow_db):
    sandbox.reset()
    sandbox.configure(VENDOR, page_size=100, propagation_requests=2, links="vendor", repeat_cursor=False)
    return sandbox_env(VENDOR, extra=FAST)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_messaging_across_several_pages_matches_the_single_page_result(sandbox, sandbox_conn):
    window = {"start": MIDNIGHT.subtract(days=6), "end": MIDNIGHT}
    args = {"waba_id": VONAGE_WABA_ID, "granularity": "HALF_HOUR", "country_codes": ["US"], **window}
    sandbox.configure(VENDOR, page_size=10_000)
    single = run_task(VonageMessagingAnalyticsOperator, dag_id="t_vonage_messaging_1", **args)
    assert single.state == "success", single.error
    assert len(sandbox.requests) == 1
    sandbox.reset()
    sandbox.configure(VENDOR, page_size=50)
    paged = run_task(VonageMessagingAnalyticsOperator, dag_id="t_vonage_messaging_n", **args)
    assert paged.state == "success", paged.error
    assert len(sandbox.requests) == 6  # 6 days x 48 half hours, 50 per page; pages 2..6 via /v2/ links
    rows = paged.result["messaging_analytics"]
    assert rows == single.result["messaging_analytics"] and len(rows) == 6 * 48
    first = rows[0]
    assert list(first) == list(MESSAGING)
    assert (first["start"], first["end"], first["date"]) == (
        MIDNIGHT.subtract(days=6).isoformat(),
        MIDNIGHT.subtract(days=6).add(minutes=30).isoformat(),
        MIDNIGHT.subtract(days=6).date().isoformat(),
    )  # epoch strings became ISO-8601 UTC
    assert (first["vendor"], first["endpoint"], first["waba_id"], first["country_codes"]) == (
        "vonage",
        "messaging-analytics",
        VONAGE_WABA_ID,
        "US",
    )


def test_default_args_supply_the_endpoint_arguments_and_the_old_retention_extra_warns_once(
    sandbox, sandbox_env, airflow_db
):
    # The operator's arguments come from its endpoint's parameters: Airflow's default_args fill them
    # (the connection id and waba_id here) like any explicit argument.
    sandbox.reset()
    sandbox_env(VENDOR, conn_id="vonage_team_b", extra={**FAST, "lookback_days": 90})
    defaults = {"vonage_conn_id": "vonage_team_b", "waba_id": VONAGE_WABA_ID, "retries": 0}
    with DAG("t_vonage_default_args", schedule=None, default_args=defaults) as dag:
        op = VonageMessagingAnalyticsOperator(task_id="task", start=MIDNIGHT.subtract(days=2), end=MIDNIGHT)
    assert (op.vonage_conn_id, op.waba_id, op.granularity) == ("vonage_team_b", VONAGE_WABA_ID, "DAILY")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = run_dag(dag, DEFAULT_DATE, register=True)
    assert task.state == "success", task.error
    assert len(task.result["messaging_analytics"]) == 2
    assert [r.path for r in sandbox.requests] == [
        f"/v1/channel-manager/whatsapp/wabas/{VONAGE_WABA_ID}/messaging-analytics"
    ]
    renamed = [w for w in caught if "`lookback_days` is now `retention_days`" in str(w.message)]
    assert len(renamed) == 1  # the connection's retention is read once a run


def test_destination_and_lookback_from_an_upstream_task(sandbox, sandbox_conn, tmp_path):
    # Templated arguments may be XComArgs (another task's output): they are checked once resolved,
    # not when the DAG is parsed.
    from airflow.providers.common.compat.sdk import task

    with DAG("t_vonage_xcomarg", schedule=None, default_args={"retries": 0}) as dag:

        @task
        def where() -> str:
            return f"{tmp_path.as_uri()}/{{date}}/{{table}}.jsonl"

        @task
        def lookback() -> int:
            return 1

        VonageMessagingAnalyticsOperator(
            task_id="messaging",
            waba_id=VONAGE_WABA_ID,
            start=MIDNIGHT.subtract(days=2),
            end=MIDNIGHT,
            destination=where(),
            lookback_days=lookback(),
        )
    run = run_dag(dag, DEFAULT_DATE, register=True)
    assert run.states == {"where": "success", "lookback": "success", "messaging": "success"}, run.error
    days = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert days == [MIDNIGHT.subtract(days=n).date().isoformat() for n in (3, 2, 1)]  # lookback 1
    assert (tmp_path / "_manifest.json").exists()


@pytest.mark.parametrize("granularity", ["DAILY", "MONTHLY"])
def test_pricing_with_dimensions_sums_to_the_same_volume_as_without(sandbox, sandbox_conn, granularity):
    sandbox.configure(VENDOR, page_size=40)
    window = {"start": MIDNIGHT.subtract(days=35), "end": MIDNIGHT, "granularity": granularity}
    plain = run_task(
        VonagePricingAnalyticsOperator, dag_id="t_vonage_pricing", waba_id=VONAGE_WABA_ID, **window
    )
    split = run_task(
        VonagePricingAnalyticsOperator,
        dag_id="t_vonage_pricing_dims",
        waba_id=VONAGE_WABA_ID,
        dimensions=["PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER"],
        **window,
    )
    assert plain.state == split.state == "success", (plain.error, split.error)
    plain_rows, split_rows = plain.result["pricing_analytics"], split.result["pricing_analytics"]
    total = sum(r["volume"] for r in plain_rows)
    assert total > 0 and sum(r["volume"] for r in split_rows) == total
    assert len(split_rows) > 40  # several pages
    assert {r["pricing_category"] for r in plain_rows} == {None}
    assert None not in {r["tier"] for r in split_rows}
    assert list(split_rows[0]) == list(PRICING) and split_rows[0]["start"].endswith("T00:00:00+00:00")


def test_template_analytics_with_all_calls_concurrent_write_every_row_once(sandbox, sandbox_conn, tmp_path):
    sandbox.configure(VENDOR, page_size=97)
    start, end = MIDNIGHT.subtract(days=80), MIDNIGHT
    task = run_task(
        VonageTemplateAnalyticsOperator,
        dag_id="t_vonage_templates",
        waba_id=VONAGE_INSIGHTS_WABA_ID,
        template_ids=TEMPLATES,
        start=start,
        end=end,
        max_concurrency=3,
        destination=f"{tmp_path.as_uri()}/{{table}}.jsonl",
    )
    assert task.state == "success", task.error
    rows = read_jsonl(tmp_path / "template_analytics.jsonl")
    first, last = start.date(), TODAY - dt.timedelta(days=1)
    expected = sandbox.app(VENDOR).template_entries(VONAGE_INSIGHTS_WABA_ID, TEMPLATES, first, last)
    assert len(rows) == len(expected) == 25 * 80
    assert {(r["template_id"], r["date"]) for r in rows} == {
        (e["template_id"], e["start"][:10]) for e in expected
    }
    by_key = {(r["template_id"], r["date"]): r for r in rows}
    for e in expected:
        row = by_key[(e["template_id"], e["start"][:10])]
        assert [row[k] for k in ("sent", "delivered", "read", "clicked")] == [
            e[k] for k in ("sent", "delivered", "read", "clicked")
        ]
    assert list(rows[0]) == list(TEMPLATE)
    batches = [r.query["template_ids"][0] for r in sandbox.requests]
    # 3 batches (800, 800, 400 rows at 97 per page: 9 + 9 + 5 pages), all asking for the same 80 days
    assert sorted({b: batches.count(b) for b in batches}.values()) == [5, 9, 9]
    assert {(r.query["start"][0], r.query["end"][0]) for r in sandbox.requests} == {
        (first.isoformat(), last.isoformat())
    }


def test_window_outside_the_lookback_sends_nothing(sandbox, sandbox_conn):
    task = run_task(
        VonageTemplateAnalyticsOperator,
        dag_id="t_vonage_lookback",
        waba_id=VONAGE_INSIGHTS_WABA_ID,
        template_ids=["1"],
        start=MIDNIGHT.subtract(days=120),
        end=MIDNIGHT,
    )
    assert task.state == "failed" and sandbox.requests == []
    assert isinstance(task.error, InvalidParameterError) and "90-day retention" in str(task.error)


def test_enable_insights_operator(sandbox, sandbox_conn):
    task = run_task(VonageEnableInsightsOperator, dag_id="t_vonage_enable", waba_id=VONAGE_WABA_ID)
    assert task.state == "success" and task.result == {"waba_id": VONAGE_WABA_ID, "insights_enabled": True}
    assert sandbox.app(VENDOR).insights_state(VONAGE_WABA_ID) == "propagating"
    failed = run_task(
        VonageEnableInsightsOperator, dag_id="t_vonage_enable_403", waba_id=VONAGE_UNLINKED_WABA_ID, retries=3
    )
    assert failed.state == "failed" and isinstance(failed.error, ForbiddenError)
    assert "not linked to WABA" in str(failed.error) and VONAGE_API_SECRET not in str(failed.error)


# -- the example DAG: enable, wait deferred, pull 25 templates over 80 days into S3 ----------------
def test_example_dag_enables_waits_deferred_and_pulls_everything_into_s3(
    sandbox, sandbox_conn, s3_bucket, monkeypatch
):
    hook, bucket = s3_bucket
    sandbox.configure(
        VENDOR, propagation_requests=1
    )  # the task's own poke says "not yet", the trigger's "ready"
    monkeypatch.setenv("AIRFLOW_VAR_WA_ANALYTICS_PREFIX", f"s3://{bucket}")
    monkeypatch.setenv("AIRFLOW_VAR_VONAGE_WABA_ID", VONAGE_WABA_ID)
    monkeypatch.setenv("AIRFLOW_VAR_VONAGE_TEMPLATE_IDS", ", ".join(TEMPLATES))
    dag = load_example_dag("vonage_whatsapp_analytics")
    day = MIDNIGHT  # a manual run at today's midnight covers yesterday: [yesterday, today)
    from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        run = dag.test(logical_date=day, run_conf={"days": 80})
    else:
        run = dag.test(execution_date=day, run_conf={"days": 80})
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states

    first, last = (MIDNIGHT.subtract(days=80).date(), TODAY - dt.timedelta(days=1))
    window = f"{first}_{TODAY}"
    keys = sorted(hook.list_keys(bucket))
    assert keys == [
        f"vonage/messaging_analytics/{window}.csv",
        f"vonage/pricing_analytics/{window}.jsonl",
        f"vonage/template_analytics/{window}.jsonl",
    ]
    body = hook.read_key(f"vonage/template_analytics/{window}.jsonl", bucket)
    rows = [json.loads(line) for line in body.splitlines() if line]
    assert len(rows) == 25 * 80
    assert len({(r["template_id"], r["date"]) for r in rows}) == 25 * 80  # every row exactly once
    assert {r["date"] for r in rows} == {(first + dt.timedelta(days=i)).isoformat() for i in range(80)}
    assert {r["template_id"] for r in rows} == set(TEMPLATES)
    messaging = list(
        csv.DictReader(io.StringIO(hook.read_key(f"vonage/messaging_analytics/{window}.csv", bucket)))
    )
    assert len(messaging) == 80
    pricing = [
        json.loads(line)
        for line in hook.read_key(f"vonage/pricing_analytics/{window}.jsonl", bucket).splitlines()
    ]
    expected_volume = sum(
        e["volume"] for e in sandbox.app(VENDOR).pricing_entries(VONAGE_WABA_ID, first, last, "DAILY")
    )
    assert sum(r["volume"] for r in pricing) == expected_volume

    template_requests = [r for r in sandbox.requests if r.path.endswith("template-analytics")]
    # One probe from the task ("not yet"), one from the trigger ("ready"), then 3 batches x 8/8/4 pages.
    assert [r.status for r in template_requests[:2]] == [400, 200]
    assert "triggerer; httpx/" in template_requests[1].headers["user-agent"]
    batches = [r.query["template_ids"][0] for r in template_requests[2:]]
    assert sorted(batches.count(b) for b in set(batches)) == [4, 8, 8]
