"""A local sandbox of the vendor APIs for tests, demos and users' own DAG tests (no Airflow import).

``with Sandbox() as sandbox:`` serves the documented endpoints on ``sandbox.url`` (127.0.0.1, a free
port) with deterministic data, rate limits, recorded requests and injectable faults.
``python -m airflow_provider_wa_analytics.testing serve`` runs the same from a shell. ``run_dag(dag)``
runs a DAG defined in a test file on Airflow 2.11 and 3.x; the pytest plugin adds ``wa_sandbox``.

Each vendor's app and constants live in its module (``testing.insider``, ``testing.webpush``,
``testing.vonage``, ``testing.kaleyra``); they are also importable from here by name
(``from airflow_provider_wa_analytics.testing import INSIDER_WHATSAPP_KEY, KALEYRA_SID``).
"""

from __future__ import annotations

import importlib
from typing import Any

from airflow_provider_wa_analytics.testing.dags import run_dag
from airflow_provider_wa_analytics.testing.sandbox import VENDOR_APPS, Sandbox
from airflow_provider_wa_analytics.testing.server import Fault, InjectedFault, RecordedRequest

__all__ = [
    "VENDOR_APPS",
    "Fault",
    "InjectedFault",
    "RecordedRequest",
    "Sandbox",
    "run_dag",
    *(cls.__name__ for cls in VENDOR_APPS),
]


def __getattr__(name: str) -> Any:
    """A vendor module's public name (its app class, keys, ids), every vendor alike."""
    if not name.startswith("_"):
        for module in dict.fromkeys(cls.__module__ for cls in VENDOR_APPS):
            values = vars(importlib.import_module(module))
            if name in values:
                return values[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
