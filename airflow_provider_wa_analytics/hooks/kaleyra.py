"""Hook for Kaleyra WhatsApp template analytics (``kaleyra_whatsapp``)."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_wa_analytics.hooks.base import HeaderAuth, WaAnalyticsHook


class KaleyraWhatsAppHook(WaAnalyticsHook):
    """Kaleyra WhatsApp template analytics.

    Connection ``kaleyra_whatsapp``: login = SID, password = API key (sent as ``api-key``), extra
    ``pod`` = ``in``, ``sg``, ``eu`` or ``na``.

    :param kaleyra_conn_id: the Airflow connection id.
    """

    conn_name_attr = "kaleyra_conn_id"
    default_conn_name = "kaleyra_whatsapp_default"
    conn_type = "kaleyra_whatsapp"
    hook_name = "Kaleyra WhatsApp"
    vendor = "kaleyra"
    default_host = "https://api.in.kaleyra.io"
    default_rate_limit = 10.0

    def __init__(self, kaleyra_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(kaleyra_conn_id, **kwargs)

    def get_auth(self) -> requests.auth.AuthBase:
        return HeaderAuth("api-key", self.secret(self.connection.password, "password (the API key)"))
