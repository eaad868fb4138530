"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

_PKG = "airflow_provider_wa_analytics"

_CLIENT_FIELDS: dict[str, Any] = {
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Read timeout of one request; the connect timeout is the smaller of this and 10 s.",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of a request after a 429, a 5xx, a connection error or a malformed body.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "max_retry_time": {
        "label": "Max retry time (seconds)",
        "description": "The most seconds spent retrying one request (default 600).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "rate_limit": {
        "label": "Rate limit (requests per second)",
        "description": "Client-side limit per connection; 0.5 means 30 per minute. Default: the vendor's.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
}


def _conn_type(
    conn_type: str,
    hook: str,
    hook_name: str,
    *,
    hidden: list[str],
    relabeling: dict[str, str],
    placeholders: dict[str, str],
    extra_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "hook-class-name": f"{_PKG}.hooks.{hook}",
        "hook-name": hook_name,
        "connection-type": conn_type,
        "ui-field-behaviour": {
            "hidden-fields": hidden,
            "relabeling": relabeling,
            "placeholders": placeholders,
        },
        "conn-fields": {**(extra_fields or {}), **_CLIENT_FIELDS},
    }


def get_provider_info() -> dict[str, Any]:
    integrations = ["Insider One", "Vonage", "Kaleyra"]
    return {
        "package-name": "airflow-provider-wa-analytics",
        "name": "WhatsApp Analytics (Insider One, Vonage, Kaleyra)",
        "description": "Pull WhatsApp and Web Push campaign analytics from Insider One, Vonage and Kaleyra "
        "into S3, GCS or XCom.",
        "versions": ["0.1.0"],
        "integrations": [{"integration-name": name, "tags": ["service"]} for name in integrations],
        "hooks": [
            {"integration-name": "Insider One", "python-modules": [f"{_PKG}.hooks.insider"]},
            {"integration-name": "Vonage", "python-modules": [f"{_PKG}.hooks.vonage"]},
            {"integration-name": "Kaleyra", "python-modules": [f"{_PKG}.hooks.kaleyra"]},
        ],
        "operators": [
            {"integration-name": "Insider One", "python-modules": [f"{_PKG}.operators.insider"]},
            {"integration-name": "Vonage", "python-modules": [f"{_PKG}.operators.vonage"]},
            {"integration-name": "Kaleyra", "python-modules": [f"{_PKG}.operators.kaleyra"]},
        ],
        "sensors": [{"integration-name": "Vonage", "python-modules": [f"{_PKG}.sensors.vonage"]}],
        "triggers": [{"integration-name": "Vonage", "python-modules": [f"{_PKG}.triggers.vonage"]}],
        "connection-types": [
            _conn_type(
                "insider_whatsapp",
                "insider.InsiderWhatsAppHook",
                "Insider One WhatsApp",
                hidden=["login", "schema", "port", "extra"],
                relabeling={"password": "API key (x-ins-auth-key)", "host": "Base URL (optional)"},
                placeholders={"host": "https://whatsapp.useinsider.com", "password": "INS.xxxxxxxx"},
            ),
            _conn_type(
                "insider_webpush",
                "insider.InsiderWebPushHook",
                "Insider One Web Push",
                hidden=["schema", "port", "extra"],
                relabeling={
                    # Test proves the token only: the API answers a wrong partner ID as an unknown campaign.
                    "login": "Partner ID (not checked by Test: a wrong one passes)",
                    "password": "API token (Bearer)",
                    "host": "Base URL (optional)",
                },
                placeholders={"host": "https://web-push.api.useinsider.com", "login": "YOURPARTNERID"},
            ),
            _conn_type(
                "vonage_whatsapp",
                "vonage.VonageWhatsAppHook",
                "Vonage WhatsApp",
                hidden=["schema", "port", "extra"],
                relabeling={"login": "API key", "password": "API secret", "host": "Base URL (optional)"},
                placeholders={"host": "https://api.nexmo.com"},
                extra_fields={
                    "application_id": {
                        "label": "Application ID (JWT auth)",
                        "description": "With a private key, authenticates with a JWT instead of key/secret.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "private_key": {
                        "label": "Private key (JWT auth)",
                        "description": "PEM private key of the Vonage application.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "lookback_days": {
                        "label": "Lookback (days)",
                        "description": "How far back the analytics reach; the documented value is 90.",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "waba_id": {
                        "label": "WABA ID (for Test)",
                        "description": "A WhatsApp Business Account the Test button asks about.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            ),
            _conn_type(
                "kaleyra_whatsapp",
                "kaleyra.KaleyraWhatsAppHook",
                "Kaleyra WhatsApp",
                hidden=["schema", "port", "extra"],
                relabeling={"login": "SID", "password": "API key", "host": "Base URL (optional)"},
                placeholders={"host": "https://api.in.kaleyra.io", "login": "HXAP16XXXXXX97IN"},
                extra_fields={
                    "pod": {
                        "label": "Pod",
                        "description": "Kaleyra pod of the account: in, sg, eu or na (default in).",
                        # A declared default: without one the Airflow 3 form shows the text "null".
                        "schema": {"type": "string", "enum": ["in", "sg", "eu", "na"], "default": "in"},
                    },
                    "waba_id": {
                        "label": "WABA ID (for Test)",
                        "description": "A WhatsApp Business Account the Test button asks about; without it, "
                        "Test checks the SID and API key only.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "lookback_days": {
                        "label": "Lookback (days)",
                        "description": "How far back the analytics reach; the documented value is 90.",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                },
            ),
        ],
    }
