"""``{date}`` partitions, the manifest, Parquet and bad late-figure input, on S3 (moto), GCS (emulator)
and file://, through real HTTP to the sandbox (the operator's ``execute`` with an explicit window)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import sys

import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.insider import CAMPAIGN_METRICS
from airflow_provider_wa_analytics.lookback import late_plan, plan_calls
from airflow_provider_wa_analytics.operators.insider import (
    InsiderWebPushCampaignMetricsOperator,
    InsiderWhatsAppOverallStatisticsOperator,
)
from airflow_provider_wa_analytics.registry import CASES
from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.windows import Window

FILTER = {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True}
DAY = dt.date(2025, 3, 10)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb, pytest.MonkeyPatch.context() as mp:
        for key, value in sb.connection_env().items():
            mp.setenv(key, value)
        yield sb


@pytest.fixture(autouse=True)
def fresh(sandbox):
    sandbox.reset()


def overall(destination: str, conn_id: str | None = None, day: dt.date = DAY, **kwargs):
    return InsiderWhatsAppOverallStatisticsOperator(
        task_id="t",
        start=day.isoformat(),
        end=(day + dt.timedelta(days=1)).isoformat(),
        campaign_filter=FILTER,
        destination=destination,
        destination_conn_id=conn_id,
        **kwargs,
    )


def test_day_objects_and_manifest_on_every_store(sandbox, target):
    for i, as_of in enumerate(("2025-03-11", "2025-03-12")):
        sandbox.set_as_of(as_of)
        result = overall(
            target.uri("wa/{date}/{table}.jsonl"),
            target.conn_id,
            day=DAY + dt.timedelta(days=i),
            lookback_days=1,
        ).execute({})
    objects = target.objects()
    manifest = json.loads(objects.pop("wa/_manifest.json"))
    # Three days (2 runs x (1 + lookback 1), one shared) x 5 tables, nothing staged left behind.
    assert sorted({key.split("/")[1] for key in objects}) == ["2025-03-09", "2025-03-10", "2025-03-11"]
    assert len(objects) == 15
    assert len(manifest["objects"]) == 10  # the last run's objects
    for entry in manifest["objects"]:
        data = objects[entry["uri"].split(target.root + "/", 1)[1]]
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    (summary,) = [e for e in result if e["table"] == "summary" and e["day"] == "2025-03-10"]
    assert summary["change"]["totals"]["delivered"] > 0  # read back from the store: it moved


def test_an_empty_day_gets_an_empty_object_csv_with_its_header(sandbox, file_target):
    sandbox.configure("insider_whatsapp", campaigns_per_day=0)
    try:
        result = overall(file_target.uri("{date}/{table}.csv"), output_format="csv", lookback_days=0).execute(
            {}
        )
    finally:
        sandbox.configure("insider_whatsapp", campaigns_per_day=2)
    (tags,) = [e for e in result if e["table"] == "campaign_tags"]
    assert tags["rows"] == 0
    assert file_target.objects()[f"{DAY}/campaign_tags.csv"].startswith(b"vendor,endpoint,account")


def test_parquet_types_and_values_equal_the_jsonl_output(sandbox, target):
    import pyarrow.parquet as pq

    sandbox.set_as_of("2025-03-11")
    overall(target.uri("j/{date}/{table}.jsonl"), target.conn_id, lookback_days=2).execute({})
    result = overall(
        target.uri("p/{date}/{table}.parquet"), target.conn_id, lookback_days=2, output_format="parquet"
    ).execute({})
    objects = target.objects()
    assert len(result) == 15
    for entry in result:
        key = entry["uri"].split(target.root + "/", 1)[1]
        table = pq.read_table(io.BytesIO(objects[key]))
        assert table.num_rows == entry["rows"]
        schema = InsiderWhatsAppOverallStatisticsOperator.endpoint.schemas[entry["table"]]
        assert table.schema.names == list(schema.column_names)
        kinds = {c.name: str(table.schema.field(c.name).type) for c in schema.columns}
        assert kinds["window_start"] == "timestamp[us, tz=UTC]"
        if "sent" in kinds:
            assert kinds["sent"] == "int64"
        if "date" in kinds:
            assert kinds["date"] == "date32[day]"
        lines = objects[key.replace("p/", "j/", 1).replace(".parquet", ".jsonl")].splitlines()
        for row, line in zip(table.to_pylist(), lines, strict=True):
            expected = json.loads(line)
            for name, value in row.items():
                if isinstance(value, (dt.datetime, dt.date)):
                    value = value.isoformat()
                want = expected[name]
                assert value == want or (isinstance(value, float) and value == float(want)), (
                    name,
                    value,
                    want,
                )


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"lookback_days": -1}, "lookback_days"),
        ({"lookback_days": 1.5}, "lookback_days"),
        ({"lookback_days": "three"}, "lookback_days"),
        ({"destination": "file:///tmp/wa/{date}/{date}/{table}.jsonl"}, "destination"),
        ({"destination": "file:///tmp/wa/{day}/{table}.jsonl"}, "destination"),
        ({"destination": "{date}/{table}.jsonl"}, "destination"),
    ],
)
def test_bad_late_figure_input_fails_at_parse_time_naming_the_parameter(kwargs, param):
    arguments = {"destination": "file:///tmp/wa/{date}/{table}.jsonl", **kwargs}
    with pytest.raises(InvalidParameterError, match=f"`{param}`"):
        overall(**arguments)


def test_a_rendered_lookback_that_is_garbage_fails_before_any_request(sandbox, file_target):
    op = overall(file_target.uri("{date}/{table}.jsonl"), lookback_days="{{ params.n }}")
    op.lookback_days = "2 days"  # what the template rendered to
    with pytest.raises(InvalidParameterError, match="`lookback_days`"):
        op.execute({})
    assert sandbox.requests == []


def test_parquet_without_pyarrow_names_the_extra_before_any_request(sandbox, file_target, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(InvalidParameterError, match=r"airflow-provider-wa-analytics\[parquet\]"):
        overall(file_target.uri("{date}/{table}.parquet"), output_format="parquet").execute({})
    assert sandbox.requests == []


def test_date_needs_a_row_format(sandbox, file_target):
    with pytest.raises(InvalidParameterError, match="`destination` with \\{date\\}"):
        overall(file_target.uri("{date}/{table}.json"), output_format="json").execute({})
    assert sandbox.requests == []


def test_a_lookback_past_the_retention_is_clamped_with_a_log_line(caplog):
    endpoint = InsiderWebPushCampaignMetricsOperator.endpoint
    now = dt.datetime(2025, 3, 20, 12, tzinfo=dt.timezone.utc)
    window = Window.of("2025-03-15", "2025-03-16")
    with caplog.at_level(logging.INFO, logger="airflow_provider_wa_analytics.lookback"):
        plan = late_plan(endpoint, window, 30, "file:///x/{date}/{table}.jsonl", now=now, retention_days=10)
    assert plan.lookback_days == 5 and plan.refetched[0] == dt.date(2025, 3, 10)
    assert "clamped to 5" in caplog.text


def test_web_push_is_asked_one_day_at_a_time_and_the_cost_is_logged(caplog):
    query = CAMPAIGN_METRICS.query({"partner_id": "p", "campaign_ids": ["1", "2"]})
    now = dt.datetime(2025, 3, 20, tzinfo=dt.timezone.utc)
    window = Window.of("2025-03-15", "2025-03-16")
    plan = late_plan(
        CAMPAIGN_METRICS, window, None, "s3://b/{date}/{table}.jsonl", now=now, retention_days=None
    )
    with caplog.at_level(logging.INFO, logger="airflow_provider_wa_analytics.lookback"):
        calls = plan_calls(
            CAMPAIGN_METRICS,
            query,
            plan.window,
            plan,
            now=now,
            retention_days=None,
            max_calls=100,
            batch_size=None,
        )
    assert len(calls) == 2 * 4  # campaigns x (the day + the default lookback of 3)
    assert {(c.fields["start_date"], c.fields["end_date"]) for c in calls} == {
        (d, d) for d in ("2025-03-12", "2025-03-13", "2025-03-14", "2025-03-15")
    }
    assert "4 day(s) x 2 request(s) a day = 8 request(s)" in caplog.text


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_table_has_a_day_under_date(case):
    """A day column, or an endpoint asked one day at a time: no row can belong to several days."""
    endpoint = case.endpoint
    assert set(endpoint.schemas) == set(endpoint.tables)
    for table in endpoint.schemas.values():
        assert table.day_column or endpoint.aggregates_window, (endpoint.id, table.name)
        assert table.primary_key, table.name
