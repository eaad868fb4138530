"""Vonage WhatsApp: enable insights, wait (deferred) until they propagate, then pull messaging, template
and pricing analytics into object storage.

Runs unchanged against the real Vonage API (a ``vonage_whatsapp`` connection: API key and secret, or
extras ``application_id`` + ``private_key``) or against the sandbox (the same connection with ``host``
set to the sandbox URL). The WABA and its templates come from the Airflow Variables ``vonage_waba_id``
and ``vonage_template_ids`` (comma-separated; the first one is used to probe for insights). Objects land
under the Variable ``wa_analytics_prefix`` (default ``s3://wa-analytics``), one per table and window.

Each daily run covers the previous UTC day. Trigger it with ``{"days": N}`` to pull the last N days
instead (at most 90: Vonage's lookback); enabling insights again is harmless.
"""

from __future__ import annotations

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.vonage import (
    VonageEnableInsightsOperator,
    VonageMessagingAnalyticsOperator,
    VonagePricingAnalyticsOperator,
    VonageTemplateAnalyticsOperator,
)
from airflow_provider_wa_analytics.sensors.vonage import VonageInsightsSensor

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PREFIX = "{{ var.value.get('wa_analytics_prefix', 's3://wa-analytics') }}"
WABA_ID = "{{ var.value.vonage_waba_id }}"
TEMPLATE_IDS = "{{ var.value.vonage_template_ids }}"
START = "{{ data_interval_end.subtract(days=params.days | int) }}"
WINDOW = "{{ data_interval_end.subtract(days=params.days | int) | ds }}_{{ data_interval_end | ds }}"

with DAG(
    dag_id="vonage_whatsapp_analytics",
    description="Vonage WhatsApp insights enablement, then messaging, template and pricing analytics",
    # Daily runs covering [midnight, next midnight) UTC; on Airflow 3 a plain "@daily" has no interval.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    params={"days": 1},
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["whatsapp", "vonage"],
):
    enable = VonageEnableInsightsOperator(task_id="enable_insights", waba_id=WABA_ID)
    wait = VonageInsightsSensor(
        task_id="wait_for_insights",
        waba_id=WABA_ID,
        template_id="{{ var.value.vonage_template_ids.split(',')[0] | trim }}",
        deferrable=True,  # minutes of propagation spent in the triggerer, not in a worker slot
        poke_interval=60,
        timeout=60 * 60,
    )
    templates = VonageTemplateAnalyticsOperator(
        task_id="template_analytics",
        waba_id=WABA_ID,
        template_ids=TEMPLATE_IDS,
        start=START,
        destination=PREFIX + "/vonage/{table}/" + WINDOW + ".jsonl",
    )
    messaging = VonageMessagingAnalyticsOperator(
        task_id="messaging_analytics",
        waba_id=WABA_ID,
        granularity="DAILY",
        start=START,
        destination=PREFIX + "/vonage/{table}/" + WINDOW + ".csv",
        output_format="csv",
    )
    pricing = VonagePricingAnalyticsOperator(
        task_id="pricing_analytics",
        waba_id=WABA_ID,
        granularity="DAILY",
        dimensions=["PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY"],
        start=START,
        destination=PREFIX + "/vonage/{table}/" + WINDOW + ".jsonl",
    )
    enable >> wait >> [templates, messaging, pricing]
