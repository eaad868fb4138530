"""Daily Kaleyra WhatsApp template analytics into object storage.

Runs unchanged against the real Kaleyra API (a ``kaleyra_whatsapp`` connection: SID as login, API key
as password, extra ``pod``) or against the sandbox (the same connection with ``host`` set to the sandbox
URL). The WABA and the template ids come from the Airflow Variables ``kaleyra_waba_id`` and
``kaleyra_template_ids`` (comma-separated or a JSON list). Objects land under the Variable
``wa_analytics_gcs_prefix`` (default ``gs://wa-analytics``, through ``google_cloud_default``),
one per table and day, so a rerun or backfill
of a day replaces that day's objects. Backfills reach back 90 days at most (Kaleyra's lookback).
"""

from __future__ import annotations

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PREFIX = "{{ var.value.get('wa_analytics_gcs_prefix', 'gs://wa-analytics') }}"

with DAG(
    dag_id="kaleyra_whatsapp_template_analytics",
    description="Kaleyra WhatsApp template analytics per day: data points and button clicks",
    # Daily runs covering [midnight, next midnight) UTC; on Airflow 3 a plain "@daily" has no interval.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["whatsapp", "kaleyra"],
):
    KaleyraTemplateAnalyticsOperator(
        task_id="template_analytics",
        waba_id="{{ var.value.kaleyra_waba_id }}",
        template_ids="{{ var.value.kaleyra_template_ids }}",
        metric_types=["SENT", "DELIVERED", "READ", "CLICKED", "REPLIED"],
        destination=PREFIX + "/kaleyra/template_analytics/{table}/{{ data_interval_start | ds }}.jsonl",
        output_format="jsonl",
    )
