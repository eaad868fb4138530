"""Every DAG and every test in README.md and docs/ runs as written, against the sandbox, moto and
the GCS emulator; the generated column tables agree with the code; the site builds strictly.

A python block is a DAG when it builds ``DAG(`` and a test when it defines ``def test_``; other
blocks are fragments (a return value, one operator) and are only compiled.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from airflow_provider_wa_analytics.testing import run_dag
from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import REPO_ROOT
from tests.destinations.conftest import make_gcs_bucket, make_s3_bucket
from tests.destinations.servers import aws_connection, gcs_connection

pytest_plugins = ["pytester"]

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            blocks.append((f"{page.relative_to(REPO_ROOT)}:{line}", match.group(1)))
    return blocks


BLOCKS = python_blocks()
DAG_BLOCKS = [(where, code) for where, code in BLOCKS if "DAG(" in code and "def test_" not in code]
TEST_BLOCKS = [(where, code) for where, code in BLOCKS if "def test_" in code]


def test_the_pages_have_dags_and_tests_to_run():
    assert len(DAG_BLOCKS) >= 5  # README + one per vendor page
    assert TEST_BLOCKS


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_every_block_compiles_and_keys_objects_by_the_interval_start(where, code):
    compile(code, where, "exec")
    # {{ ds }} is the run's logical date: on a daily data interval, the day after the rows' day.
    assert not re.search(r"\{\{\s*ds\s*\}\}", code), f"{where}: key by {{{{ data_interval_start | ds }}}}"


@pytest.fixture(scope="module")
def storage(s3_endpoint, gcs_host):
    """The default AWS and Google connections on moto and the emulator, with the docs' bucket."""
    make_s3_bucket("my-bucket")
    make_gcs_bucket("my-bucket")
    return s3_endpoint, gcs_host


def load_dag_file(path: Path):
    if AIRFLOW_V_3_0_PLUS:
        from airflow.dag_processing.dagbag import DagBag

        return DagBag(dag_folder=str(path))
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    return DagBag(dag_folder=str(path), include_examples=False)


@pytest.mark.parametrize(("where", "code"), DAG_BLOCKS, ids=[where for where, _ in DAG_BLOCKS])
def test_every_dag_runs_as_written(where, code, wa_sandbox, storage, airflow_db, monkeypatch, tmp_path):
    ids = wa_sandbox.ids
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection(storage[0]))
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", gcs_connection())
    for name in ("vonage_waba_id", "kaleyra_waba_id"):
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", ids[name])
    monkeypatch.setenv("AIRFLOW_VAR_VONAGE_TEMPLATE_IDS", ",".join(ids["vonage_template_ids"]))
    monkeypatch.setenv("AIRFLOW_VAR_KALEYRA_TEMPLATE_IDS", ",".join(ids["kaleyra_template_ids"]))
    monkeypatch.setenv("AIRFLOW_VAR_INSIDER_WEBPUSH_CAMPAIGN_IDS", ",".join(ids["webpush_campaign_ids"]))
    wa_sandbox.reset()
    # Loaded as Airflow loads a DAG file, so `with DAG(...):` without `as dag` counts too.
    path = tmp_path / "docs_dag.py"
    path.write_text(code)
    bag = load_dag_file(path)
    assert not bag.import_errors, bag.import_errors
    dags = list(bag.dags.values())
    assert dags, f"{where}: no DAG"
    for dag in dags:
        dag_run = run_dag(dag, logical_date=pendulum.today("UTC").subtract(days=2))
        states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
        assert set(states.values()) == {"success"}, f"{where}: {states}"
    assert wa_sandbox.requests, f"{where}: the DAG sent no request"


@pytest.mark.parametrize(("where", "code"), TEST_BLOCKS, ids=[where for where, _ in TEST_BLOCKS])
def test_every_test_passes_as_written(where, code, pytester, airflow_db):
    pytester.makepyfile(test_from_docs=code)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=code.count("def test_"))


def test_the_column_tables_agree_with_the_code():
    result = subprocess.run(
        [sys.executable, "scripts/docs_tables.py", "--check"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_readme_is_short():
    assert len((REPO_ROOT / "README.md").read_text().splitlines()) <= 250


def test_every_docs_page_is_in_the_nav():
    nav = (REPO_ROOT / "mkdocs.yml").read_text()
    assert [p.name for p in Path(REPO_ROOT / "docs").glob("*.md") if p.name not in nav] == []
