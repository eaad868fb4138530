"""The DAG the lineage tests run with ``airflow dags test``: every fetching operator, once each.

Read by Airflow from a dags folder of its own (``WA_LINEAGE_DAGS``); the buckets and the dates
come from environment variables set by ``tests/lineage/test_runs.py``. Every destination is templated
(``{{ ds }}``) except one per store, so both forms of assets are exercised.
"""

from __future__ import annotations

import os

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wa_analytics.operators.insider import (
    InsiderWebPushCampaignMetricsOperator,
    InsiderWhatsAppOverallStatisticsOperator,
    InsiderWhatsAppTransactionalStatisticsOperator,
)
from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.operators.vonage import (
    VonageMessagingAnalyticsOperator,
    VonagePricingAnalyticsOperator,
    VonageTemplateAnalyticsOperator,
)
from airflow_provider_wa_analytics.testing.kaleyra import KALEYRA_WABA_ID
from airflow_provider_wa_analytics.testing.vonage import VONAGE_INSIGHTS_WABA_ID, VONAGE_WABA_ID

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef]

S3 = f"s3://{os.environ.get('WA_LINEAGE_S3_BUCKET', 'unset-bucket')}"
GS = f"gs://{os.environ.get('WA_LINEAGE_GCS_BUCKET', 'unset-bucket')}"
FILES = os.environ.get("WA_LINEAGE_FILES", "/tmp/unset")
S3_CONN, GCS_CONN = "wa_test_s3", "wa_test_gcs"
#: Kaleyra and Vonage keep 90 days: the runs' day is recent (the test passes yesterday).
RECENT = {"start": "{{ data_interval_start }}", "end": "{{ data_interval_end }}"}

with DAG(
    dag_id="wa_lineage",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2020, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
) as dag:
    InsiderWhatsAppOverallStatisticsOperator(
        task_id="insider_overall",
        destination=S3 + "/insider/overall/{{ ds }}/{table}.jsonl",
        destination_conn_id=S3_CONN,
    )
    InsiderWhatsAppOverallStatisticsOperator(task_id="insider_overall_xcom")  # no destination: XCom
    InsiderWhatsAppTransactionalStatisticsOperator(
        task_id="insider_transactional",
        destination=GS + "/insider/transactional/{{ ds }}/{table}.csv",
        destination_conn_id=GCS_CONN,
        output_format="csv",
    )
    InsiderWebPushCampaignMetricsOperator(
        task_id="webpush_metrics",
        campaign_ids=["10001", "10002"],
        destination="file://" + FILES + "/webpush/{{ ds }}/{table}.jsonl",
    )
    VonageMessagingAnalyticsOperator(
        task_id="vonage_messaging",
        waba_id=VONAGE_WABA_ID,
        granularity="DAILY",
        destination=S3 + "/vonage/messaging/static.jsonl",  # static: the same object every run
        destination_conn_id=S3_CONN,
        **RECENT,
    )
    VonageTemplateAnalyticsOperator(
        task_id="vonage_templates",
        waba_id=VONAGE_INSIGHTS_WABA_ID,
        template_ids=["458951126200000", "458951126200001"],
        destination=GS + "/vonage/templates/static_{table}.jsonl",
        destination_conn_id=GCS_CONN,
        **RECENT,
    )
    VonagePricingAnalyticsOperator(
        task_id="vonage_pricing",
        waba_id=VONAGE_WABA_ID,
        granularity="DAILY",
        destination="file://" + FILES + "/vonage/pricing/{{ ds }}.json",
        output_format="json",
        **RECENT,
    )
    KaleyraTemplateAnalyticsOperator(
        task_id="kaleyra_templates",
        waba_id=KALEYRA_WABA_ID,
        template_ids=["1000", "1001"],
        destination=S3 + "/kaleyra/{{ ds }}/{table}.csv",
        destination_conn_id=S3_CONN,
        output_format="csv",
        **RECENT,
    )
