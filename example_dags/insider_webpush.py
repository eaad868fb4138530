"""Daily Insider One Web Push campaign metrics into object storage.

Runs unchanged against the real Insider One API (an ``insider_webpush`` connection: the API token as
password, the partner ID as login) or against the sandbox (the same connection with ``host`` set to
the sandbox URL). The campaigns come from the Airflow Variable ``insider_webpush_campaign_ids`` (a
JSON list of builderIds). Objects land under the Variable ``wa_analytics_prefix`` (default
``s3://wa-analytics``), one per table and day, so a rerun or backfill of a day replaces that day.

The API allows 30 requests per minute per token and each campaign is one request: 200 campaigns take
about 6.6 minutes. ``max_active_runs=1`` keeps backfill runs from sharing that budget at once (the
client-side limiter paces one task); put every Web Push task of a token in one pool of size 1 when
several DAGs use it.
"""

from __future__ import annotations

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PREFIX = "{{ var.value.get('wa_analytics_prefix', 's3://wa-analytics') }}"

with DAG(
    dag_id="insider_webpush_campaign_metrics",
    description="Insider One Web Push campaign metrics, one object per table and day",
    # Data intervals of one day on Airflow 3 too (a plain "@daily" there has none).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["webpush", "insider"],
):
    InsiderWebPushCampaignMetricsOperator(
        task_id="campaign_metrics",
        campaign_ids="{{ var.json.get('insider_webpush_campaign_ids', []) }}",
        on_missing_campaign="skip",  # a deleted campaign is listed in missing_campaigns, not fatal
        destination=PREFIX + "/insider_webpush/campaign_metrics/{table}/{{ data_interval_start | ds }}.jsonl",
        output_format="jsonl",
    )
