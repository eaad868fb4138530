"""The installed provider registers with Airflow's providers manager, on 2.11 and 3.x alike."""

from __future__ import annotations

import pytest

DISTRIBUTION = "airflow-provider-wa-analytics"
CONN_TYPES = {
    "insider_whatsapp": "airflow_provider_wa_analytics.hooks.insider.InsiderWhatsAppHook",
    "insider_webpush": "airflow_provider_wa_analytics.hooks.insider.InsiderWebPushHook",
    "vonage_whatsapp": "airflow_provider_wa_analytics.hooks.vonage.VonageWhatsAppHook",
    "kaleyra_whatsapp": "airflow_provider_wa_analytics.hooks.kaleyra.KaleyraWhatsAppHook",
}


@pytest.fixture(scope="module")
def providers_manager():
    # Airflow 3 tasks look hooks up through the Task SDK's manager; 2.x has only the core one.
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:
        from airflow.providers_manager import ProvidersManager as Manager  # type: ignore[no-redef]

    return Manager()


def test_provider_is_registered_under_its_distribution_name(providers_manager):
    from airflow_provider_wa_analytics import __version__

    info = providers_manager.providers[DISTRIBUTION]
    assert info.version == __version__
    assert info.data["package-name"] == DISTRIBUTION


@pytest.mark.parametrize("conn_type", sorted(CONN_TYPES))
def test_connection_type_resolves_to_its_hook(providers_manager, conn_type):
    # Reading the entry imports the hook class; the manager stores None when that import fails.
    hook_info = providers_manager.hooks[conn_type]
    assert hook_info is not None, f"hook for {conn_type} could not be imported"
    assert hook_info.hook_class_name == CONN_TYPES[conn_type]
    assert hook_info.package_name == DISTRIBUTION
