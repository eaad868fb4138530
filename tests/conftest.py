"""Session-wide test set-up: a private, throw-away Airflow home shared by every test.

Airflow reads its configuration once, on first import, so the environment is set here at module
level: pytest imports this file before any test module (and so before anything imports airflow).
The same set-up works on Airflow 2.11 and 3.x.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
# The vendor API documents live beside the repository (../shared), not inside it.
SHARED_DIR = Path(os.environ.get("WA_ANALYTICS_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()
VENDOR_APIS = SHARED_DIR / "vendor-apis"

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="wa-analytics-airflow-home-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)

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


@pytest.fixture(scope="session")
def vendor_apis() -> Path:
    """Directory of the vendor API documents (../shared/vendor-apis).

    Skipped where the repository was cloned alone; a missing directory in CI is an error.
    """
    if not VENDOR_APIS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"vendor API documents not found at {VENDOR_APIS}")
        pytest.skip(f"vendor API documents not found at {VENDOR_APIS} (set WA_ANALYTICS_SHARED_DIR)")
    return VENDOR_APIS
