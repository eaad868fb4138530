"""``run_dag``: run a DAG object defined anywhere (a test file included) on Airflow 2.11 and 3.x.

Airflow is imported inside the functions: the rest of the testing package never imports it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def run_dag(dag: Any, logical_date: dt.datetime | None = None) -> Any:
    """Run ``dag`` once with ``dag.test()`` and return its DagRun.

    ``logical_date`` defaults to now, as ``dag.test()`` does. Needs an initialised metadata database
    (``airflow db migrate``) and nothing else: no DAGs folder, no scheduler.
    """
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

    if not AIRFLOW_V_3_0_PLUS:
        return dag.test(execution_date=logical_date)
    serialize_dag(dag)
    return dag.test(logical_date=logical_date)


def serialize_dag(dag: Any) -> None:
    """Store ``dag`` in the metadata DB as the DAG processor would (Airflow 3 only).

    Airflow 3's ``dag.test()`` refuses a DAG that is not serialized there ("the dag is not
    serialized") and serializes only what it finds in the configured bundles, so a DAG built in a
    test file is written first, under the first configured bundle.
    """
    try:
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    except ImportError:  # Airflow 3.0 / 3.1 kept them in airflow.models.dagbag
        from airflow.models.dagbag import DagBag, sync_bag_to_db  # type: ignore[no-redef,attr-defined]
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundle = next(iter(manager.get_all_dag_bundles()))
    bag = DagBag(collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, bundle.name, None)
