"""KaleyraTemplateAnalyticsOperator: validation and planning before any request, then real runs.

The runs use real Airflow (dag.test on the session's metadata DB) and real HTTP to the sandbox. Kaleyra
only serves the last 90 days, so their windows are relative to today (UTC).
"""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import AuthenticationError, InvalidParameterError
from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.tables.kaleyra import TABLES
from airflow_provider_wa_analytics.testing.kaleyra import KALEYRA_API_KEY, KALEYRA_WABA_ID
from airflow_provider_wa_analytics.windows import Window
from tests.airflow_runner import load_example_dag, run_dag, run_task
from tests.destinations.conftest import Target, make_gcs_bucket
from tests.destinations.servers import GCS_CONN_ID

TODAY = dt.date(2025, 11, 5)
TEMPLATES = [f"10{n:02d}" for n in range(30)]


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


@pytest.fixture
def kaleyra_conn(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_WHATSAPP_DEFAULT",
        json.dumps({"conn_type": "kaleyra_whatsapp", "login": "SID", "password": "key"}),
    )


def operator(**kwargs):
    kwargs = {"task_id": "t", "waba_id": "1090", "template_ids": TEMPLATES, **kwargs}
    return KaleyraTemplateAnalyticsOperator(**kwargs)


def planned(op, window, today=TODAY):
    now = pendulum.datetime(today.year, today.month, today.day, 12, tz="UTC")
    return op.plan(op.endpoint.query(op.arguments()), window, now)


def query_of(op):
    return op.endpoint.query(op.arguments())


def test_thirty_templates_over_sixty_days_is_three_batches_of_ten(kaleyra_conn):
    window = Window(utc(2025, 9, 1), utc(2025, 10, 31))
    calls = planned(operator(), window)
    assert [c.params["template_ids"] for c in calls] == [TEMPLATES[0:10], TEMPLATES[10:20], TEMPLATES[20:30]]
    assert {(c.params["start_date"], c.params["end_date"]) for c in calls} == {
        ("2025-09-01", "2025-10-30")  # end-inclusive: 60 days
    }
    assert calls[0].label == "2025-09-01..2025-10-30 template_ids 1-10 of 30"


def test_batch_size_is_configurable(kaleyra_conn):
    calls = planned(operator(templates_per_request=7), Window(utc(2025, 11, 1), utc(2025, 11, 2)))
    assert [len(c.params["template_ids"]) for c in calls] == [7, 7, 7, 7, 2]


def test_consecutive_daily_runs_ask_for_each_day_once(kaleyra_conn):
    days = [
        planned(operator(), Window(utc(2025, 11, d), utc(2025, 11, d + 1)))[0].params["start_date"]
        for d in (1, 2, 3)
    ]
    assert days == ["2025-11-01", "2025-11-02", "2025-11-03"]
    # An hourly interval that holds no midnight asks for nothing.
    assert planned(operator(), Window(utc(2025, 11, 1, 3), utc(2025, 11, 1, 4))) == []


def test_window_outside_the_lookback_fails_before_any_request(kaleyra_conn):
    with pytest.raises(
        InvalidParameterError, match=r"`start` 2025-07-01 is outside Kaleyra's 90-day retention"
    ):
        planned(operator(), Window(utc(2025, 7, 1), utc(2025, 11, 1)))


def test_lookback_extra_shortens_the_allowed_window(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_SHORT",
        json.dumps(
            {"conn_type": "kaleyra_whatsapp", "login": "S", "password": "k", "extra": {"lookback_days": 30}}
        ),
    )
    op = operator(kaleyra_conn_id="kaleyra_short")
    with pytest.raises(InvalidParameterError, match="30-day retention"):
        planned(op, Window(utc(2025, 9, 1), utc(2025, 10, 1)))


def test_a_longer_lookback_splits_into_ranges_of_at_most_90_days(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_LONG",
        json.dumps(
            {"conn_type": "kaleyra_whatsapp", "login": "S", "password": "k", "extra": {"lookback_days": 365}}
        ),
    )
    calls = planned(
        operator(kaleyra_conn_id="kaleyra_long", template_ids=["1"]),
        Window(utc(2025, 5, 1), utc(2025, 11, 1)),
    )
    ranges = [(c.params["start_date"], c.params["end_date"]) for c in calls]
    assert ranges == [
        ("2025-05-01", "2025-07-29"),
        ("2025-07-30", "2025-10-27"),
        ("2025-10-28", "2025-10-31"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template_ids": []}, "`template_ids` is required"),
        ({"granularity": "HOURLY"}, "`granularity` must be one of DAILY"),
        ({"product_type": "SMS"}, "`product_type` must be one of CLOUD_API"),
        (
            {"metric_types": ["OPENED"]},
            r"`metric_types\[0\]` must be one of SENT, DELIVERED, READ, CLICKED, REPLIED",
        ),
        ({"limit": -1}, "`limit` must be a whole number >= 1"),
        ({"templates_per_request": 0}, "`templates_per_request` must be a whole number >= 1"),
        ({"waba_id": None}, "`waba_id` must be the numeric WhatsApp Business Account id"),
    ],
)
def test_bad_parameters_fail_in_validate(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        query_of(operator(**kwargs))


# -- real runs ----------------------------------------------------------------------------------
VENDOR = "kaleyra_whatsapp"
MIDNIGHT = pendulum.now("UTC").start_of("day")


@pytest.fixture
def sandbox_conn(sandbox, sandbox_env, airflow_db):
    sandbox.reset()
    sandbox.configure(VENDOR, paging_placement="data", default_page_size=100, counts="mixed")
    # rate_limit: the default paces at 10 requests/s, a guess for the real API; the sandbox has no limit.
    fast = {"backoff_initial": 0.01, "backoff_max": 0.05, "timeout": 5, "rate_limit": 1000}
    return sandbox_env(VENDOR, extra={**sandbox.connection(VENDOR)["extra"], **fast})


def run(**kwargs):
    kwargs = {"waba_id": KALEYRA_WABA_ID, "template_ids": TEMPLATES, "dag_id": "t_kaleyra", **kwargs}
    return run_task(KaleyraTemplateAnalyticsOperator, **kwargs)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def expected_points(sandbox, ids, first, last):
    return sandbox.app(VENDOR).data_points(KALEYRA_WABA_ID, ids, first, last)


def check_exactly_once(sandbox, points, buttons, ids, first, last):
    """Every (template, day) once, with the sandbox's counts; buttons sum to the parent's clicks."""
    keys = [(p["template_id"], p["date"]) for p in points]
    assert len(keys) == len(set(keys))
    expected = expected_points(sandbox, ids, first, last)
    assert len(points) == len(expected)
    by_key = {(p["template_id"], p["date"]): p for p in points}
    for e in expected:
        row = by_key[
            (e["template_id"], dt.datetime.fromtimestamp(e["start"], dt.timezone.utc).date().isoformat())
        ]
        assert [row[m] for m in ("sent", "delivered", "read", "replied")] == [
            int(e[m]) for m in ("sent", "delivered", "read", "replied")
        ]
        assert row["clicked"] == (sum(int(c["count"]) for c in e["clicked"]) if "clicked" in e else None)
    clicks: dict = {}
    for b in buttons:
        key = (b["template_id"], b["date"])
        clicks[key] = clicks.get(key, 0) + b["count"]
    assert clicks == {k: p["clicked"] for k, p in by_key.items() if p["clicked"] is not None}


@pytest.fixture
def gcs(gcs_host):
    """The session's GCS emulator (tests/conftest.py), reached through the official GCSHook."""
    return gcs_host


@pytest.mark.parametrize("placement", ["data", "top", "alternate"])
def test_thirty_templates_over_sixty_days_into_gcs_exactly_once(sandbox, sandbox_conn, gcs, placement):
    sandbox.configure(VENDOR, paging_placement=placement)
    bucket = Target("gs", make_gcs_bucket(), GCS_CONN_ID)
    start, end = MIDNIGHT.subtract(days=70), MIDNIGHT.subtract(days=10)
    first, last = start.date(), end.date() - dt.timedelta(days=1)
    destination = bucket.uri(f"kaleyra/{{table}}/{first}_{last}.jsonl")
    task = run(start=start, end=end, limit=97, destination=destination, destination_conn_id=GCS_CONN_ID)
    assert task.state == "success", task.error
    objects = bucket.objects()
    names = [f"kaleyra/{table}/{first}_{last}.jsonl" for table in ("data_points", "button_clicks")]
    assert sorted(objects) == sorted(names)
    points, buttons = ([json.loads(line) for line in objects[name].splitlines()] for name in names)
    check_exactly_once(sandbox, points, buttons, TEMPLATES, first, last)
    # 3 batches of 10 templates x 60 days = 600 data points each, 97 per page: 7 pages per batch.
    assert len(sandbox.requests) == 21 and {r.status for r in sandbox.requests} == {200}
    assert {r.query["whatsapp_template_ids"][0] for r in sandbox.requests} == {
        ",".join(TEMPLATES[i : i + 10]) for i in (0, 10, 20)
    }
    assert {(r.query["start_date"][0], r.query["end_date"][0]) for r in sandbox.requests} == {
        (first.isoformat(), last.isoformat())
    }
    assert {r["window_start"] for r in points} == {start.isoformat()}
    assert {r["waba_id"] for r in points} == {KALEYRA_WABA_ID}
    assert task.result == [
        {"uri": bucket.uri(name), "table": name.split("/")[1], "rows": len(rows), "bytes": len(objects[name])}
        for name, rows in zip(names, (points, buttons), strict=True)
    ]
    if placement == "data":  # a rerun of the window replaces the objects, never adds to them
        again = run(start=start, end=end, limit=97, destination=destination, destination_conn_id=GCS_CONN_ID)
        assert again.state == "success" and bucket.objects() == objects


def test_example_dag_writes_one_object_per_table_for_the_day(sandbox, sandbox_conn, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_WA_ANALYTICS_GCS_PREFIX", tmp_path.as_uri())
    monkeypatch.setenv("AIRFLOW_VAR_KALEYRA_WABA_ID", KALEYRA_WABA_ID)
    monkeypatch.setenv("AIRFLOW_VAR_KALEYRA_TEMPLATE_IDS", "1317,156,1999")
    day = MIDNIGHT.subtract(days=3)
    dag = load_example_dag("kaleyra_whatsapp_template_analytics")
    result = run_dag(dag, day.add(days=1))  # the run of `day` ends at the next midnight
    assert set(result.states.values()) == {"success"}, (result.states, result.error)
    base = tmp_path / "kaleyra" / "template_analytics"
    points = read_jsonl(base / "data_points" / f"{day.date()}.jsonl")
    buttons = read_jsonl(base / "button_clicks" / f"{day.date()}.jsonl")
    check_exactly_once(sandbox, points, buttons, ["1317", "156", "1999"], day.date(), day.date())
    (request,) = sandbox.requests
    assert request.query["metric_types"] == ["SENT,DELIVERED,READ,CLICKED,REPLIED"]


def test_wrong_sid_fails_at_once_with_the_vendor_code(sandbox, sandbox_conn, monkeypatch):
    conn = {**sandbox_conn, "login": "HXWRONGSID000IN"}
    monkeypatch.setenv("AIRFLOW_CONN_KALEYRA_WHATSAPP_DEFAULT", json.dumps(conn))
    task = run(start=MIDNIGHT.subtract(days=3), end=MIDNIGHT.subtract(days=2), retries=3)
    assert task.state == "failed"  # not up_for_retry: no retry can fix a wrong SID
    assert isinstance(task.error, AuthenticationError)
    assert "code RBC001" in str(task.error) and "Incorrect SID or API key." in str(task.error)
    assert KALEYRA_API_KEY not in str(task.error)
    # No request is retried: at most one per batch (the batches already in flight), each a 401.
    batches = [r.query["whatsapp_template_ids"][0] for r in sandbox.requests]
    assert len(batches) == 1  # the first call goes alone: one request, not one per worker
    assert {r.status for r in sandbox.requests} == {401}


def test_window_outside_the_lookback_sends_nothing(sandbox, sandbox_conn):
    task = run(start=MIDNIGHT.subtract(days=120), end=MIDNIGHT.subtract(days=60))
    assert task.state == "failed" and sandbox.requests == []
    assert isinstance(task.error, InvalidParameterError) and "90-day retention" in str(task.error)


def test_xcom_output_returns_both_tables(sandbox, sandbox_conn):
    task = run(
        template_ids="1317, 156",
        metric_types="sent,clicked",
        start=MIDNIGHT.subtract(days=2),
        end=MIDNIGHT,
    )
    assert task.state == "success", task.error
    assert set(task.result) == set(TABLES)
    points = task.result["data_points"]
    assert len(points) == 4 and {p["read"] for p in points} == {None}  # READ was not asked for
    assert sandbox.requests[0].query["metric_types"] == ["SENT,CLICKED"]


def test_json_output_keeps_the_pages_as_received(sandbox, sandbox_conn, tmp_path):
    sandbox.configure(VENDOR, paging_placement="top")
    target = tmp_path / "raw.json"
    start, end = MIDNIGHT.subtract(days=5), MIDNIGHT
    task = run(
        template_ids=["1", "2"],
        limit=4,
        start=start,
        end=end,
        output_format="json",
        destination=target.as_uri(),
    )
    assert task.state == "success", task.error
    pages = json.loads(target.read_bytes())
    assert len(pages) == 3  # 10 data points, 4 per page
    served = [p for page in pages for p in page["data"][0]["data_points"]]
    assert served == expected_points(sandbox, ["1", "2"], start.date(), end.date() - dt.timedelta(days=1))
