"""Insider WhatsApp in a DAG run into S3 (moto server) and GCS (emulator), every format, rerun-safe."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pendulum
import pytest

from airflow_provider_wa_analytics.operators.insider import InsiderWhatsAppOverallStatisticsOperator
from airflow_provider_wa_analytics.tables.insider_whatsapp import OVERALL_TABLES
from airflow_provider_wa_analytics.windows import Window
from tests.airflow_runner import daily, run_task
from tests.destinations.conftest import Target, make_gcs_bucket, make_s3_bucket
from tests.destinations.servers import GCS_CONN_ID, S3_CONN_ID

pytestmark = pytest.mark.usefixtures("airflow_db")

DAY = pendulum.datetime(2025, 3, 1, tz="UTC")


@pytest.fixture(autouse=True)
def connection(sandbox, sandbox_env):
    sandbox.reset()
    sandbox_env("insider_whatsapp")


@pytest.fixture(params=["s3", "gs"])
def store(request) -> Target:
    if request.param == "s3":
        request.getfixturevalue("s3_endpoint")
        return Target("s3", make_s3_bucket(), S3_CONN_ID)
    request.getfixturevalue("gcs_host")
    return Target("gs", make_gcs_bucket(), GCS_CONN_ID)


def rows(name: str, body: bytes) -> list[dict]:
    if name.endswith(".gz"):
        body, name = gzip.decompress(body), name[:-3]
    if name.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(body.decode())))
    return [json.loads(line) for line in body.decode().splitlines()]


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv"])
def test_every_format_lands_in_the_store_and_a_rerun_leaves_one_copy(sandbox, store, output_format):
    suffix = {"json": "json", "jsonl": "jsonl.gz", "csv": "csv"}[output_format]
    kwargs = {
        "destination": store.uri("insider/{table}/{{ data_interval_start | ds }}." + suffix),
        "destination_conn_id": store.conn_id,
        "output_format": output_format,
        "compression": "gzip" if suffix.endswith(".gz") else None,
    }
    first = run_task(InsiderWhatsAppOverallStatisticsOperator, schedule=daily(), logical_date=DAY, **kwargs)
    assert first.state == "success", first.error
    objects = store.objects()
    day = DAY.subtract(days=1).to_date_string()  # the run of DAY covers the day before it
    expected_tables = ["raw"] if output_format == "json" else list(OVERALL_TABLES)
    assert sorted(objects) == sorted(f"insider/{t}/{day}.{suffix}" for t in expected_tables)
    assert sorted(first.result, key=lambda r: r["table"]) == sorted(
        (
            {
                "uri": store.uri(key),
                "table": key.split("/")[1],
                "rows": len(rows(key, body)) if output_format != "json" else 1,
                "bytes": len(body),
            }
            for key, body in objects.items()
        ),
        key=lambda r: r["table"],
    )
    window = Window.of(day, DAY)
    served = sandbox.insider_whatsapp.overall(*window.epoch)
    if output_format == "json":
        assert json.loads(objects[f"insider/raw/{day}.json"]) == [served]
    else:
        summary = rows(f"x.{suffix}", objects[f"insider/summary/{day}.{suffix}"])[0]
        assert int(summary["sent"]) == served["summary"]["sent"]

    rerun = run_task(InsiderWhatsAppOverallStatisticsOperator, schedule=daily(), logical_date=DAY, **kwargs)
    assert rerun.state == "success", rerun.error
    assert store.objects() == objects  # same keys, same bytes, nothing staged left behind
