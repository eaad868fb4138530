"""Hook for Vonage WhatsApp analytics (``vonage_whatsapp``)."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook


class VonageWhatsAppHook(WaAnalyticsHook):
    """Vonage WhatsApp messaging, template and pricing analytics.

    Connection ``vonage_whatsapp``: login = API key and password = API secret (Basic auth).

    :param vonage_conn_id: the Airflow connection id.
    """

    conn_name_attr = "vonage_conn_id"
    default_conn_name = "vonage_whatsapp_default"
    conn_type = "vonage_whatsapp"
    hook_name = "Vonage WhatsApp"
    vendor = "vonage"
    default_host = "https://api.nexmo.com"
    default_rate_limit = 10.0
    vendor_hosts = ("api.nexmo.com",)

    def __init__(self, vonage_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(vonage_conn_id, **kwargs)

    def get_auth(self) -> requests.auth.AuthBase:
        conn = self.connection
        return requests.auth.HTTPBasicAuth(
            self.secret(conn.login, "login (the API key)"),
            self.secret(conn.password, "password (the API secret)"),
        )
