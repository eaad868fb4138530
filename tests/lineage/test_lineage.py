"""lineage.py in small pieces: what a task declares at parse time, the input namespace, the schema facet,
and the endpoints the client records (through real HTTP to the sandbox)."""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest

from airflow_provider_wa_analytics import lineage
from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook
from airflow_provider_wa_analytics.operators.insider import InsiderWhatsAppOverallStatisticsOperator
from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.testing.vonage import VONAGE_WABA_ID


def test_a_destination_declares_one_alias_named_as_written_and_no_asset():
    from airflow.providers.common.compat.sdk import AssetAlias

    for destination in ("s3://bkt/wa/{table}.jsonl", "gs://bkt/wa/{{ ds }}/{table}.csv"):
        op = InsiderWhatsAppOverallStatisticsOperator(task_id="t", destination=destination)
        assert op.outlets == [AssetAlias(name=destination)]


def test_user_outlets_are_kept_beside_the_alias():
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    mine = Asset("s3://bkt/other")
    op = InsiderWhatsAppOverallStatisticsOperator(task_id="t", destination="s3://bkt/x.jsonl", outlets=[mine])
    assert op.outlets == [mine, AssetAlias(name="s3://bkt/x.jsonl")]


def test_xcom_declares_nothing():
    assert InsiderWhatsAppOverallStatisticsOperator(task_id="t").outlets == []


def test_a_bad_static_destination_still_fails_at_parse_time():
    with pytest.raises(InvalidParameterError, match="`destination`"):
        InsiderWhatsAppOverallStatisticsOperator(task_id="t", destination="ftp://host/x.jsonl")


@pytest.mark.parametrize(
    ("base_url", "namespace"),
    [
        ("https://whatsapp.useinsider.com", "https://whatsapp.useinsider.com"),
        ("https://user:s3cret@Proxy.example.com:8443/insider/", "https://proxy.example.com:8443/insider"),
        ("http://127.0.0.1:8080/?token=abc#frag", "http://127.0.0.1:8080"),
        ("https://[::1]:9/x", "https://[::1]:9/x"),
    ],
)
def test_the_input_namespace_is_the_base_url_without_credentials(base_url, namespace):
    assert lineage.api_namespace(base_url) == namespace


def test_schema_fields_follow_the_table_definition_in_order():
    columns = KaleyraTemplateAnalyticsOperator.tables["data_points"]
    facet = lineage.schema_facet(columns, "jsonl")
    assert [f.name for f in facet.fields] == list(columns)
    assert {f.type for f in facet.fields} == {None}  # untyped definitions: no type is invented
    assert {f.type for f in lineage.schema_facet(columns, "csv").fields} == {"string"}


def test_schema_types_come_from_typed_definitions():
    class Column:
        def __init__(self, name, type):
            self.name, self.type = name, type

    for columns in (
        {"day": "date32", "sent": "int64"},
        [("day", "date32"), ("sent", "int64")],
        [Column("day", "date32"), Column("sent", "int64")],
    ):
        fields = lineage.schema_facet(columns, "csv").fields
        assert [(f.name, f.type) for f in fields] == [("day", "date32"), ("sent", "int64")]


def test_lineage_of_a_run_that_did_not_complete_here_is_empty():
    assert lineage.operator_lineage(None, {}, "jsonl").inputs == []


def test_outputs_per_store_and_statistics():
    completed = lineage.Completed(
        "https://api.nexmo.com",
        ("/v1/x",),
        (
            {"uri": "s3://bkt/a/daily.jsonl", "table": "daily", "rows": 3, "bytes": 120},
            {"uri": "gs://bkt/a/b.jsonl", "table": "summary", "rows": 1, "bytes": 40},
            {"uri": "file:///data/wa/raw.json", "table": "raw", "rows": 2, "bytes": 99},
        ),
    )
    result = lineage.operator_lineage(completed, {"daily": ["day", "sent"], "summary": ["sent"]}, "jsonl")
    assert [(d.namespace, d.name) for d in result.inputs] == [("https://api.nexmo.com", "/v1/x")]
    assert [(d.namespace, d.name) for d in result.outputs] == [
        ("s3://bkt", "a/daily.jsonl"),
        ("gs://bkt", "a/b.jsonl"),
        ("file", "/data/wa/raw.json"),
    ]
    stats = [d.outputFacets["outputStatistics"] for d in result.outputs]
    assert [(s.rowCount, s.size) for s in stats] == [(3, 120), (1, 40), (2, 99)]
    assert [sorted(d.facets) for d in result.outputs] == [["schema"], ["schema"], []]


def test_the_client_records_each_call_once_by_its_first_path(monkeypatch):
    """Vonage's next links point at /v2/: the call stays the documented /v1/ endpoint."""
    with Sandbox() as sandbox:
        sandbox.configure("vonage_whatsapp", page_size=10)
        conn = sandbox.connection("vonage_whatsapp", extra={"rate_limit": 1000})
        monkeypatch.setenv("AIRFLOW_CONN_VONAGE_WHATSAPP_DEFAULT", json.dumps(conn))
        hook = VonageWhatsAppHook()
        today = pendulum.now("UTC").date()
        start = today - dt.timedelta(days=3)
        for _ in range(2):
            pages = list(hook.iter_messaging_analytics(VONAGE_WABA_ID, start, today, "HALF_HOUR"))
        assert len(pages) > 2
        assert any("/v2/" in r.path for r in sandbox.requests)
    assert list(hook.client.endpoints) == [
        f"/v1/channel-manager/whatsapp/wabas/{VONAGE_WABA_ID}/messaging-analytics"
    ]
