"""Run operators and example DAGs through real Airflow (``dag.test()`` on the session's metadata DB).

Works on Airflow 2.11 and 3.x. On Airflow 3 ``dag.test()`` only runs DAGs the metadata DB knows, so a
DAG built inside a test is written there first, as the DAG processor would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pendulum

from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef]

from tests.conftest import EXAMPLE_DAGS, _write_serialized_dag

DEFAULT_DATE = pendulum.datetime(2025, 3, 1, tz="UTC")


@dataclass
class TaskRun:
    state: str | None
    result: Any = None
    error: BaseException | None = None
    states: dict[str, str | None] = field(default_factory=dict)


def _xcom(dag_id: str, run_id: str, task_id: str) -> Any:
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel
        from airflow.settings import Session

        with Session() as session:
            row = (
                session.query(XComModel)
                .filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, key="return_value")
                .one_or_none()
            )
            return None if row is None else row.value
    from airflow.models.xcom import XCom

    return XCom.get_one(run_id=run_id, dag_id=dag_id, task_id=task_id, key="return_value")


def run_dag(dag: Any, logical_date: dt.datetime, register: bool = False) -> TaskRun:
    errors: dict[str, BaseException] = {}

    def remember(context: Any) -> None:
        errors[context["task_instance"].task_id] = context.get("exception")

    for task in dag.tasks:
        task.on_failure_callback = [remember]
    if register and AIRFLOW_V_3_0_PLUS:
        _write_serialized_dag(dag)
    dr = dag.test(logical_date=logical_date) if AIRFLOW_V_3_0_PLUS else dag.test(execution_date=logical_date)
    states = {
        ti.task_id: (str(ti.state.value) if hasattr(ti.state, "value") else ti.state)
        for ti in dr.get_task_instances()
    }
    first = dag.tasks[0].task_id
    return TaskRun(
        state=states.get(first),
        result=_xcom(dag.dag_id, dr.run_id, first),
        error=next(iter(errors.values()), None),
        states=states,
    )


def run_task(
    operator_cls: type,
    *,
    logical_date: dt.datetime = DEFAULT_DATE,
    dag_id: str = "t_task",
    schedule: Any = None,
    **kwargs: Any,
) -> TaskRun:
    """Run one operator in a one-task DAG; ``schedule=None`` means ``start``/``end`` are given."""
    with DAG(
        dag_id, schedule=schedule, start_date=pendulum.datetime(2020, 1, 1, tz="UTC"), catchup=False
    ) as dag:
        operator_cls(task_id="task", **{"retries": 0, **kwargs})
    return run_dag(dag, logical_date, register=True)


def daily() -> Any:
    """A daily schedule whose runs cover [day, next day) on Airflow 2.11 and 3.x alike."""
    from airflow.timetables.interval import CronDataIntervalTimetable

    return CronDataIntervalTimetable("@daily", timezone="UTC")


def load_example_dag(dag_id: str) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    bag = (
        DagBag(dag_folder=str(EXAMPLE_DAGS), include_examples=False)
        if not AIRFLOW_V_3_0_PLUS
        else DagBag(dag_folder=str(EXAMPLE_DAGS))
    )
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)
