"""Daily Insider One WhatsApp statistics into object storage.

Runs unchanged against the real Insider One API (an ``insider_whatsapp`` connection with the API key)
or against the sandbox (the same connection with ``host`` set to the sandbox URL). Objects land under
the Airflow Variable ``wa_analytics_prefix`` (default ``s3://wa-analytics``), one per table and day, so
a rerun or backfill of a day replaces that day's objects.
"""

from __future__ import annotations

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.insider import (
    InsiderWhatsAppOverallStatisticsOperator,
    InsiderWhatsAppTransactionalStatisticsOperator,
)

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PREFIX = "{{ var.value.get('wa_analytics_prefix', 's3://wa-analytics') }}"

with DAG(
    dag_id="insider_whatsapp_statistics",
    description="Insider One WhatsApp overall and transactional statistics, one object per table and day",
    # Daily runs covering [midnight, next midnight) UTC; on Airflow 3 a plain "@daily" has no interval.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["whatsapp", "insider"],
):
    overall = InsiderWhatsAppOverallStatisticsOperator(
        task_id="overall_statistics",
        campaign_filter={"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True},
        destination=PREFIX + "/insider_whatsapp/overall/{table}/{{ data_interval_start | ds }}.jsonl",
        output_format="jsonl",
    )
    transactional = InsiderWhatsAppTransactionalStatisticsOperator(
        task_id="transactional_statistics",
        destination=PREFIX + "/insider_whatsapp/transactional/{table}/{{ data_interval_start | ds }}.csv",
        output_format="csv",
    )
