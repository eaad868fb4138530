"""A local sandbox of the vendor APIs for tests, demos and users' own DAG tests (no Airflow import).

``with Sandbox() as sandbox:`` serves the documented endpoints on ``sandbox.url`` (127.0.0.1, a free
port) with deterministic data, rate limits, recorded requests and injectable faults.
``python -m airflow_provider_wa_analytics.testing serve`` runs the same from a shell. ``run_dag(dag)``
runs a DAG defined in a test file on Airflow 2.11 and 3.x; the pytest plugin adds ``wa_sandbox``.
"""

from __future__ import annotations

from airflow_provider_wa_analytics.testing.dags import run_dag
from airflow_provider_wa_analytics.testing.insider import (
    INSIDER_WHATSAPP_ALT_SHAPE_KEY,
    INSIDER_WHATSAPP_INACTIVE_KEY,
    INSIDER_WHATSAPP_IP_RESTRICTED_KEY,
    INSIDER_WHATSAPP_KEY,
    INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY,
    InsiderWhatsAppApp,
)
from airflow_provider_wa_analytics.testing.sandbox import VENDOR_APPS, Sandbox
from airflow_provider_wa_analytics.testing.server import Fault, InjectedFault, RecordedRequest

__all__ = [
    "INSIDER_WHATSAPP_ALT_SHAPE_KEY",
    "INSIDER_WHATSAPP_INACTIVE_KEY",
    "INSIDER_WHATSAPP_IP_RESTRICTED_KEY",
    "INSIDER_WHATSAPP_KEY",
    "INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY",
    "VENDOR_APPS",
    "Fault",
    "InjectedFault",
    "InsiderWhatsAppApp",
    "RecordedRequest",
    "Sandbox",
    "run_dag",
]
