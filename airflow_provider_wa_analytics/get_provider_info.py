"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

_PKG = "airflow_provider_wa_analytics"


def _field(label: str, description: str, kind: str, **schema: Any) -> dict[str, Any]:
    """One connection-form field: optional (nullable) unless ``schema`` declares a default."""
    nullable = kind if "default" in schema else [kind, "null"]
    return {"label": label, "description": description, "schema": {"type": nullable, **schema}}


_CLIENT_FIELDS: dict[str, Any] = {
    "timeout": _field(
        "Timeout (seconds)",
        "Longest time one attempt (headers and body) may take; the connect timeout is the smaller of this "
        "and 10 s.",
        "number",
        minimum=0,
    ),
    "max_retries": _field(
        "Max retries",
        "Retries of a request after a 429, a 5xx, a connection error or a malformed body.",
        "integer",
        minimum=0,
    ),
    "max_retry_time": _field(
        "Max retry time (seconds)", "The most seconds spent on one request, retries included (600).", "number"
    ),
    "rate_limit": _field(
        "Rate limit (requests per second)",
        "Budget of the API key; 0.5 means 30 per minute. Default: the vendor's documented limit.",
        "number",
        exclusiveMinimum=0,
    ),
    "rate_limit_storage": _field(
        "Rate limit storage",
        "A `limits` storage URI shared by every task on this key (redis://host:6379/0); default memory://.",
        "string",
    ),
    "retention_days": _field(
        "Retention (days)",
        "How far back the vendor keeps data; a window starting earlier fails before any request.",
        "integer",
        minimum=1,
    ),
    "max_response_bytes": _field(
        "Max response bytes", "Cap of one response body after decompression (256 MiB).", "integer", minimum=1
    ),
}
_WABA_ID_FIELD = "A WhatsApp Business Account the Test button asks about"


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


#: Module name (hooks/<m>.py, operators/<m>.py) -> the integration it belongs to.
_INTEGRATIONS = {"insider": "Insider One", "vonage": "Vonage", "kaleyra": "Kaleyra"}


def _operator_modules() -> list[dict[str, Any]]:
    """The fetching operators' modules, from the endpoint registry (one entry per integration)."""
    from airflow_provider_wa_analytics.registry import CASES

    modules = dict.fromkeys(case.operator_path.rpartition(".")[0] for case in CASES)
    return [
        {"integration-name": _INTEGRATIONS[module.rpartition(".")[2]], "python-modules": [module]}
        for module in modules
    ]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wa-analytics",
        "name": "WhatsApp Analytics (Insider One, Vonage, Kaleyra)",
        "description": "Pull WhatsApp and Web Push campaign analytics from Insider One, Vonage and Kaleyra "
        "into S3, GCS or XCom.",
        "versions": ["0.1.0"],
        "integrations": [{"integration-name": name, "tags": ["service"]} for name in _INTEGRATIONS.values()],
        "hooks": [
            {"integration-name": name, "python-modules": [f"{_PKG}.hooks.{module}"]}
            for module, name in _INTEGRATIONS.items()
        ],
        "operators": _operator_modules(),
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
                    "application_id": _field(
                        "Application ID (JWT auth)",
                        "With a private key, authenticates with a JWT instead of key/secret.",
                        "string",
                    ),
                    "private_key": _field(
                        "Private key (JWT auth)", "PEM private key of the Vonage application.", "string"
                    )
                    | {"schema": {"type": ["string", "null"], "format": "password"}},
                    "waba_id": _field("WABA ID (for Test)", f"{_WABA_ID_FIELD}.", "string"),
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
                    # A declared default: without one the Airflow 3 form shows the text "null".
                    "pod": _field(
                        "Pod",
                        "Kaleyra pod of the account: in, sg, eu or na (default in).",
                        "string",
                        enum=["in", "sg", "eu", "na"],
                        default="in",
                    ),
                    "waba_id": _field(
                        "WABA ID (for Test)",
                        f"{_WABA_ID_FIELD}; without it, Test checks the SID and API key only.",
                        "string",
                    ),
                },
            ),
        ],
    }
