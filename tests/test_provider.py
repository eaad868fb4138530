"""Connection forms on both Airflow lines, and DAG-parse hygiene of the operators modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airflow_provider_wa_analytics.get_provider_info import get_provider_info
from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook, InsiderWhatsAppHook
from airflow_provider_wa_analytics.hooks.kaleyra import KaleyraWhatsAppHook
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook
from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS

HOOKS = [InsiderWhatsAppHook, InsiderWebPushHook, VonageWhatsAppHook, KaleyraWhatsAppHook]


def test_provider_info_names_the_distribution_and_every_connection_type():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-wa-analytics"
    assert {c["connection-type"] for c in info["connection-types"]} == {h.conn_type for h in HOOKS}


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.conn_type)
def test_ui_field_behaviour_matches_provider_info(hook):
    behaviour = hook.get_ui_field_behaviour()
    assert "extra" in behaviour["hidden_fields"] and "schema" in behaviour["hidden_fields"]
    assert behaviour["relabeling"]["host"] == "Base URL (optional)"


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.conn_type)
def test_connection_form_fields(hook):
    """Airflow 3 builds the form from provider info; Airflow 2 from the hook's widgets."""
    expected = set(hook._provider_conn_type()["conn-fields"])
    assert {"timeout", "max_retries", "rate_limit"} <= expected
    if AIRFLOW_V_3_0_PLUS:
        from airflow.providers_manager import ProvidersManager

        widgets = ProvidersManager().connection_form_widgets
        prefix = f"extra__{hook.conn_type}__"
        assert {k[len(prefix) :] for k in widgets if k.startswith(prefix)} >= expected
    else:
        assert set(hook.get_connection_form_widgets()) == expected


def test_importing_operators_does_not_import_cloud_sdks():
    """DAG files are parsed constantly: boto3, google and aiohttp load only when a task runs.

    Compared with what importing Airflow alone loads (its providers manager reads every provider's
    metadata), importing our operators and sensors must add none of those packages.
    """
    code = (
        "import sys\n"
        "import airflow.providers.common.compat.sdk, airflow.models\n"
        "before = set(sys.modules)\n"
        "from airflow_provider_wa_analytics.operators import insider, kaleyra, vonage\n"
        "from airflow_provider_wa_analytics.sensors import vonage as vonage_sensor\n"
        "added = set(sys.modules) - before\n"
        "heavy = ('boto3', 'botocore', 'aiohttp', 'google',\n"
        "         'airflow.providers.amazon', 'airflow.providers.google')\n"
        "print(sorted(m for m in added if m.startswith(heavy)))\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_fetching_operator_takes_max_concurrency():
    from airflow_provider_wa_analytics.exceptions import InvalidParameterError
    from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator
    from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
    from airflow_provider_wa_analytics.operators.vonage import VonagePricingAnalyticsOperator

    kaleyra = {"task_id": "k", "waba_id": "1", "template_ids": ["1"]}
    assert KaleyraTemplateAnalyticsOperator(**kaleyra).max_concurrency == 4
    assert KaleyraTemplateAnalyticsOperator(**kaleyra, max_concurrency=1).max_concurrency == 1
    assert VonagePricingAnalyticsOperator(task_id="v", waba_id="1").max_concurrency == 4
    assert InsiderWebPushCampaignMetricsOperator(task_id="w", campaign_ids=["1"]).max_concurrency == 1
    with pytest.raises(InvalidParameterError, match="`max_concurrency` must be a whole number >= 1"):
        KaleyraTemplateAnalyticsOperator(**kaleyra, max_concurrency=0)
