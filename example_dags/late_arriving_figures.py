"""Daily runs that keep late-arriving figures right: ``{date}`` day partitions and a lookback, one task
per vendor.

Each run writes one object per table and UTC day under ``.../{date}/{table}...`` and re-fetches the
``lookback_days`` days before its own, replacing their objects whole, so the figures a vendor keeps
counting after a day ends (deliveries, reads, clicks) reach the warehouse. Every run also writes
``_manifest.json`` last (each object's table, day, rows, bytes and sha256) and returns, per re-fetched
day and table, how much it moved. A warehouse either replaces the day partitions listed in the
manifest, or merges on each table's primary key (docs/late-arriving-figures.md).

Connections and Variables as in the vendor example DAGs (``wa_analytics_prefix``,
``insider_webpush_campaign_ids``, ``vonage_waba_id``, ``kaleyra_waba_id``, ``kaleyra_template_ids``...).
"""

from __future__ import annotations

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.insider import (
    InsiderWebPushCampaignMetricsOperator,
    InsiderWhatsAppOverallStatisticsOperator,
)
from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.operators.vonage import VonageTemplateAnalyticsOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PREFIX = "{{ var.value.get('wa_analytics_prefix', 's3://wa-analytics') }}/late"

with DAG(
    dag_id="wa_analytics_late_arriving_figures",
    description="Day partitions with a lookback for every vendor: late deliveries, reads and clicks land too",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    # One run at a time: consecutive runs rewrite each other's lookback days.
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["whatsapp", "late-arriving-figures"],
):
    InsiderWhatsAppOverallStatisticsOperator(
        task_id="insider_whatsapp_overall",
        campaign_filter={"campaign_type_ids": ["all"], "statuses": ["all"]},
        destination=PREFIX + "/insider_whatsapp/overall/{date}/{table}.jsonl",
        lookback_days=3,  # asked one day at a time: 4 requests a run
    )
    InsiderWebPushCampaignMetricsOperator(
        task_id="insider_webpush_campaign_metrics",
        campaign_ids="{{ var.value.insider_webpush_campaign_ids }}",
        destination=PREFIX + "/insider_webpush/{date}/{table}.parquet",
        output_format="parquet",
        lookback_days="{{ var.value.get('webpush_lookback_days', 2) }}",  # campaigns x 3 days at 30/min
    )
    VonageTemplateAnalyticsOperator(
        task_id="vonage_template_analytics",
        waba_id="{{ var.value.vonage_waba_id }}",
        template_ids="{{ var.value.vonage_template_ids }}",
        destination=PREFIX + "/vonage/template_analytics/{date}/{table}.jsonl",
        # lookback_days omitted: the endpoint's default (7 days, Meta restates template analytics)
    )
    KaleyraTemplateAnalyticsOperator(
        task_id="kaleyra_template_analytics",
        waba_id="{{ var.value.kaleyra_waba_id }}",
        template_ids="{{ var.value.kaleyra_template_ids }}",
        destination=PREFIX + "/kaleyra/template_analytics/{date}/{table}.csv",
        output_format="csv",
        lookback_days=7,
    )
