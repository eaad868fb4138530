"""Lineage through real Airflow runs: ``airflow dags test`` with the OpenLineage provider's listener.

One run of ``lineage_dag.py`` (every fetching operator, once) against the sandbox, moto S3 and the GCS
emulator, with OpenLineage's file transport. The COMPLETE event of each task must name the vendor
endpoint as input and every object written as output, with its schema and statistics; the metadata
DB must hold one asset event per object, attached to the task's alias, templated destinations included.

``airflow dags test`` runs in its own process: OpenLineage reads its configuration once per process,
and the other tests' runs must not emit events.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pendulum
import pytest

from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS
from tests.destinations.conftest import make_gcs_bucket, make_s3_bucket

HERE = Path(__file__).resolve().parent
DAG_FILE = HERE / "dags" / "lineage_dag.py"
#: Recent enough for the vendors that keep 90 days.
DAY = pendulum.now("UTC").start_of("day").subtract(days=2)
FAST = {"rate_limit": 1000, "backoff_initial": 0.01, "backoff_max": 0.05, "timeout": 10}
#: The fetching tasks of lineage_dag.py, one per operator kind (it also has an XCom task).
TASK_IDS = [
    "insider_overall",
    "insider_transactional",
    "webpush_metrics",
    "vonage_messaging",
    "vonage_templates",
    "vonage_pricing",
    "kaleyra_templates",
]


@dataclass
class LineageRun:
    sandbox_url: str
    events: list[dict[str, Any]]
    written: dict[str, list[dict[str, Any]]]  # task id -> its XCom return value
    asset_events: list[tuple[str, str, str]]  # (task id, asset URI, alias name)
    aliases: dict[str, str]  # task id -> the alias it declares when the DAG file is parsed
    secrets: list[str]  # the connections' passwords
    operators: dict[str, Any]  # task id -> its operator class

    def complete(self, task_id: str) -> dict[str, Any]:
        (event,) = [
            e
            for e in self.events
            if e["eventType"] == "COMPLETE" and e["job"]["name"] == f"wa_lineage.{task_id}"
        ]
        return event


def _alias_name(outlets: list[Any]) -> str:
    from airflow.providers.common.compat.sdk import AssetAlias

    (alias,) = outlets  # nothing else: a concrete Asset would be built while parsing
    assert isinstance(alias, AssetAlias)
    return alias.name


def _dags_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run(  # noqa: S603 - this venv's airflow, fixed arguments
        [airflow, "dags", "test", "wa_lineage", DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _written(task_ids: list[str]) -> dict[str, Any]:
    from airflow.settings import Session

    from tests.airflow_runner import _xcom

    with Session() as session:
        from airflow.models.dagrun import DagRun

        run_id = session.query(DagRun.run_id).filter_by(dag_id="wa_lineage").scalar()
    return {task_id: _xcom("wa_lineage", run_id, task_id) for task_id in task_ids}


def _asset_events() -> list[tuple[str, str, str]]:
    """(task, URI, alias) of every asset event of the run, read from the metadata DB's own tables."""
    from airflow.settings import Session
    from sqlalchemy import text

    if AIRFLOW_V_3_0_PLUS:
        event, asset, alias, link = "asset_event", "asset", "asset_alias", "asset_alias_asset_event"
        asset_id, alias_id = "asset_id", "alias_id"
    else:
        event, asset, alias, link = "dataset_event", "dataset", "dataset_alias", "dataset_alias_dataset_event"
        asset_id, alias_id = "dataset_id", "alias_id"
    query = text(
        f"SELECT e.source_task_id, a.uri, al.name FROM {event} e "  # noqa: S608 - fixed table names
        f"JOIN {asset} a ON a.id = e.{asset_id} "
        f"JOIN {link} l ON l.event_id = e.id JOIN {alias} al ON al.id = l.{alias_id} "
        "WHERE e.source_dag_id = 'wa_lineage'"
    )
    with Session() as session:
        return sorted(tuple(row) for row in session.execute(query))


@pytest.fixture(scope="module")
def lineage_run(airflow_db, s3_endpoint, gcs_host, tmp_path_factory) -> LineageRun:
    tmp = tmp_path_factory.mktemp("lineage")
    events_file = tmp / "openlineage.jsonl"
    with Sandbox() as sandbox:
        sandbox.set_rate_limit("insider_webpush", None)
        env = {
            **os.environ,
            **{
                f"AIRFLOW_CONN_{vendor.upper()}_DEFAULT": sandbox.connection_json(vendor, extra=FAST)
                for vendor in sandbox.vendors
            },
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "wa-tests",
            "WA_LINEAGE_S3_BUCKET": make_s3_bucket(),
            "WA_LINEAGE_GCS_BUCKET": make_gcs_bucket(),
            "WA_LINEAGE_FILES": str(tmp / "files"),
        }
        with mock.patch.dict(os.environ, env):
            dag = runpy.run_path(str(DAG_FILE))["dag"]
            aliases = {task.task_id: _alias_name(task.outlets) for task in dag.tasks if task.outlets}
            operators = {task.task_id: type(task) for task in dag.tasks}
        done = _dags_test(env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        url = sandbox.url
        secrets = [json.loads(sandbox.connection_json(vendor))["password"] for vendor in sandbox.vendors]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    written = _written([*TASK_IDS, "insider_overall_xcom"])
    return LineageRun(url, events, written, _asset_events(), aliases, secrets, operators)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_complete_event_names_the_endpoint_and_every_object_written(lineage_run, task_id):
    event = lineage_run.complete(task_id)
    written = lineage_run.written[task_id]
    assert written, "the task wrote no object"
    (source,) = event["inputs"]
    assert source["namespace"] == lineage_run.sandbox_url.rstrip("/")
    operator = lineage_run.operators[task_id]
    assert source["name"].startswith("/v") and source["name"].endswith("/" + operator.endpoint.name)
    outputs = {(o["namespace"], o["name"]): o for o in event["outputs"]}
    assert len(outputs) == len(written) == len(event["outputs"])
    tables = operator.tables
    for item in written:
        scheme, _, rest = item["uri"].partition("://")
        bucket, _, key = rest.partition("/")
        namespace, name = ("file", rest) if scheme == "file" else (f"{scheme}://{bucket}", key)
        output = outputs[(namespace, name)]
        stats = output["outputFacets"]["outputStatistics"]
        assert (stats["rowCount"], stats["size"]) == (item["rows"], item["bytes"])
        if item["table"] == "raw":  # output_format json: the responses as received, no columns
            assert "schema" not in output["facets"]
        else:
            fields = output["facets"]["schema"]["fields"]
            assert [f["name"] for f in fields] == list(tables[item["table"]])
            typed = operator.endpoint.schemas[item["table"]].columns  # types from the table definitions
            assert [f["type"] for f in fields] == [column.type for column in typed]


def test_each_task_emits_start_and_complete(lineage_run):
    assert sorted(lineage_run.operators) == sorted([*TASK_IDS, "insider_overall_xcom"])
    for task_id in TASK_IDS:
        kinds = [e["eventType"] for e in lineage_run.events if e["job"]["name"] == f"wa_lineage.{task_id}"]
        assert sorted(kinds) == ["COMPLETE", "START"], (task_id, kinds)


def test_events_carry_no_credential(lineage_run):
    text = json.dumps(lineage_run.events)
    assert len(lineage_run.secrets) == 4
    for secret in lineage_run.secrets:
        assert secret not in text


def test_asset_events_name_every_object_written_templated_or_static(lineage_run):
    expected = sorted(
        (task_id, item["uri"], lineage_run.aliases[task_id])
        for task_id, written in lineage_run.written.items()
        if task_id in TASK_IDS
        for item in written
    )
    assert lineage_run.asset_events == expected
    templated = lineage_run.aliases["insider_overall"]
    assert templated.endswith("/insider/overall/{{ ds }}/{table}.jsonl")
    day = DAY.to_date_string()
    uris = [uri for task, uri, _ in expected if task == "insider_overall"]
    assert uris and all(f"/overall/{day}/" in uri for uri in uris)


def test_a_run_to_xcom_has_the_endpoint_as_input_and_no_output(lineage_run):
    event = lineage_run.complete("insider_overall_xcom")
    assert [(i["namespace"], i["name"]) for i in event["inputs"]] == [
        (lineage_run.sandbox_url.rstrip("/"), "/v1/statistics/overall")
    ]
    assert event["outputs"] == []
    tables = lineage_run.operators["insider_overall_xcom"].tables
    assert set(lineage_run.written["insider_overall_xcom"]) == set(tables)
    assert "insider_overall_xcom" not in lineage_run.aliases
    assert all(task != "insider_overall_xcom" for task, _, _ in lineage_run.asset_events)
