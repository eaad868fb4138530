"""The one place that imports across Airflow 2.11 and 3.x (through ``common.compat``)."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseHook,
    BaseOperator,
    BaseSensorOperator,
    Context,
)
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AirflowException",
    "AirflowFailException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "Context",
]
