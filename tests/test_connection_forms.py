"""The connection forms' gaps closed: declared defaults, every client extra, Kaleyra's ``waba_id``,
and Test messages that never name Airflow's temporary connection id (through the sandbox)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook, InsiderWhatsAppHook
from airflow_provider_wa_analytics.hooks.kaleyra import KaleyraWhatsAppHook
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook

HOOKS = [InsiderWhatsAppHook, InsiderWebPushHook, VonageWhatsAppHook, KaleyraWhatsAppHook]
#: What the UI's Test button stores the form under: a random id the user never chose.
TEMPORARY_ID = "xq7Rk2pLmZ"


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.conn_type)
def test_every_client_extra_is_in_the_form(hook):
    assert {"timeout", "max_retries", "max_retry_time", "rate_limit"} <= set(
        hook._provider_conn_type()["conn-fields"]
    )


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.conn_type)
def test_a_choice_field_declares_its_default_and_never_offers_null(hook):
    for name, spec in hook._provider_conn_type()["conn-fields"].items():
        if "enum" in spec["schema"]:
            assert None not in spec["schema"]["enum"], name
            assert spec["schema"]["default"] in spec["schema"]["enum"], name


def test_kaleyra_has_a_waba_id_field_and_its_pod_defaults_to_in():
    fields = KaleyraWhatsAppHook._provider_conn_type()["conn-fields"]
    assert fields["pod"]["schema"]["default"] == "in"
    assert "waba_id" in fields


def test_the_webpush_form_says_test_does_not_check_the_partner_id():
    label = InsiderWebPushHook._provider_conn_type()["ui-field-behaviour"]["relabeling"]["login"]
    assert "not checked by Test" in label


def test_a_wrong_partner_id_passes_test_as_documented(wa_sandbox, monkeypatch):
    conn = wa_sandbox.connection("insider_webpush", login="99999999")
    monkeypatch.setenv(f"AIRFLOW_CONN_{TEMPORARY_ID.upper()}", json.dumps(conn))
    ok, _ = InsiderWebPushHook(TEMPORARY_ID).test_connection()
    assert ok


@pytest.mark.parametrize(
    ("vendor", "hook", "fields"),
    [
        ("insider_whatsapp", InsiderWhatsAppHook, {"password": None}),
        ("kaleyra_whatsapp", KaleyraWhatsAppHook, {"extra": {"pod": "mars"}}),
        ("insider_webpush", InsiderWebPushHook, {"login": None, "password": "wrong-token"}),
    ],
    ids=["no-key", "bad-pod", "wrong-token"],
)
def test_test_messages_never_name_the_temporary_connection_id(wa_sandbox, monkeypatch, vendor, hook, fields):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{TEMPORARY_ID.upper()}", json.dumps(wa_sandbox.connection(vendor, **fields))
    )
    ok, message = hook(TEMPORARY_ID).test_connection()
    assert not ok
    assert TEMPORARY_ID not in message
    assert message
