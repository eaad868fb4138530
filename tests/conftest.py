"""Session-wide test set-up: a private, throw-away Airflow home shared by every test.

Airflow reads its configuration once, on first import, so the environment is set here at module
level: pytest imports this file before any test module (and so before anything imports airflow).
The same set-up works on Airflow 2.11 and 3.x.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
# Samples copied from the vendors' public documents, each with its source (tests/fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# This file may be imported twice in one process (by pytest as `conftest`, by a helper as
# `tests.conftest`); the second import must keep the home that Airflow was configured with.
_OWNER = "WA_ANALYTICS_TEST_PROCESS"
if os.environ.get(_OWNER) == str(os.getpid()):
    AIRFLOW_HOME = Path(os.environ["AIRFLOW_HOME"])
else:
    AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="wa-analytics-airflow-home-"))
    atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)
    os.environ[_OWNER] = str(os.getpid())

# Overridden, not defaulted: the session fixture below drops and recreates the metadata DB, which
# must never be a developer's own AIRFLOW_HOME or database.
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(EXAMPLE_DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# No aws_default / google_cloud_default rows: tests bring their connections as AIRFLOW_CONN_* variables.
os.environ["AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS"] = "False"
# UNIT_TEST_MODE is left off on purpose: it replaces the configuration with Airflow's own
# unit_tests.cfg (dags_folder inside Airflow's test tree, load_examples=True, LocalExecutor, a new
# fernet key per process) and relaxes secret masking, so tests would not see what users run.
os.environ.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)

# No per-example deadline: timings on a loaded 2-core CI machine are noise. CI also draws the same
# examples on every run (derandomize) and keeps no example database between runs.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_report_header() -> list[str]:
    return [
        f"apache-airflow {importlib.metadata.version('apache-airflow')}, AIRFLOW_HOME={AIRFLOW_HOME}",
    ]


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's AIRFLOW_HOME (a temp dir, removed when the session ends)."""
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """Create Airflow's metadata DB (SQLite in the session's AIRFLOW_HOME) once per session.

    Needed by ``dag.test()``; without it the run fails with "no such table: task_instance".
    ``resetdb`` builds the schema from the ORM, which is faster than replaying the migrations of
    ``airflow db migrate``, and has the same name and meaning on 2.11 and 3.x.
    """
    from airflow.utils import db

    started = time.monotonic()
    db.resetdb()
    # Shown with -v / -rA; tells how much of a slow session is the DB.
    print(f"airflow metadata DB ready in {time.monotonic() - started:.1f} s")
    yield


def _write_serialized_dag(dag) -> None:
    """Store ``dag`` in the metadata DB as the dag processor would (Airflow 3 only)."""
    from airflow_provider_wa_analytics.testing.dags import serialize_dag

    serialize_dag(dag)


@pytest.fixture
def run_dag(airflow_db):
    """``run_dag(dag, **kwargs)`` runs ``dag.test(**kwargs)`` on either Airflow line; returns the DagRun.

    Use it for DAGs built inside a test. DAG files in example_dags/ can also call ``dag.test()``
    directly, since that is the configured dags folder.
    """
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

    def run(dag, **kwargs):
        if AIRFLOW_V_3_0_PLUS:
            _write_serialized_dag(dag)
        return dag.test(**kwargs)

    return run


@pytest.fixture(scope="session")
def vendor_sample():
    """``vendor_sample(name)``: a vendor document sample from tests/fixtures/ (sources in its README)."""

    def load(name: str):
        return json.loads((FIXTURES / name).read_text())

    return load


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 for the session, with the AWS test connection set."""
    from tests.destinations.servers import moto_s3, store_connections

    with moto_s3() as endpoint, store_connections(s3_endpoint=endpoint):
        yield endpoint


@pytest.fixture(scope="session")
def gcs_host() -> Iterator[str]:
    """The GCS emulator for the session (one per process: the google client follows only one)."""
    from tests.destinations.servers import gcs_emulator, store_connections

    with gcs_emulator() as host, store_connections(gcs_host=host):
        yield host


def _every_fault() -> list:
    from airflow_provider_wa_analytics.testing import Fault

    return [
        Fault.RATE_LIMIT,
        Fault.SERVER_ERROR,
        Fault.BAD_GATEWAY_HTML,
        Fault.UNAVAILABLE,
        Fault.CONNECTION_RESET,
        Fault.TIMEOUT,
        Fault.TRUNCATED,
        Fault.HTML_200,
    ]


# Every fault kind the sandbox injects, written out (tests/reliability/test_secret_hygiene.py checks
# that none is missing): the clients retry each, then fail.
EVERY_FAULT = _every_fault()


@pytest.fixture(scope="module")
def running_sandbox():
    """A vendor sandbox of its own for each test module (its state is cleared by ``reset()``)."""
    from airflow_provider_wa_analytics.testing import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def sandbox(running_sandbox):
    """The module's running sandbox, for modules that name it ``sandbox``; many override this."""
    return running_sandbox


def set_sandbox_conn(monkeypatch, sandbox, vendor: str, conn_id: str | None = None, **fields) -> dict:
    """Point ``AIRFLOW_CONN_<conn_id>`` (default: ``<vendor>_default``) at ``sandbox``; returns the fields.

    ``fields`` override the sandbox's connection fields (``extra=...``, ``password=...``).
    """
    conn = sandbox.connection(vendor, **fields)
    monkeypatch.setenv(f"AIRFLOW_CONN_{(conn_id or f'{vendor}_default').upper()}", json.dumps(conn))
    return conn


@pytest.fixture
def sandbox_env(running_sandbox, monkeypatch):
    """``sandbox_env(vendor, conn_id=None, **fields)``: sets ``AIRFLOW_CONN_*`` for ``vendor`` from the
    module's running sandbox (see :func:`set_sandbox_conn`); returns the connection fields."""

    def set_conn(vendor: str, conn_id: str | None = None, **fields) -> dict:
        return set_sandbox_conn(monkeypatch, running_sandbox, vendor, conn_id, **fields)

    return set_conn


def unmetered(sandbox, vendor: str, *restore) -> Iterator:
    """For a fixture to ``yield from``: ``sandbox`` reset with ``vendor``'s rate limit off for the test,
    then set back to ``restore`` (``requests, seconds``)."""
    sandbox.reset()
    sandbox.set_rate_limit(vendor, None)
    yield sandbox
    sandbox.set_rate_limit(vendor, *restore)
