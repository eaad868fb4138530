"""Bad-input matrix: invalid parameters of every operator, hook and connection fail before any request.

Each case runs against the live sandbox (so a request, if one were sent, would be recorded) and must
raise ``InvalidParameterError`` whose message names the parameter (in backquotes) and the allowed
values, while ``sandbox.requests`` stays empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook, InsiderWhatsAppHook
from airflow_provider_wa_analytics.hooks.kaleyra import KaleyraWhatsAppHook
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook
from airflow_provider_wa_analytics.operators.vonage import VonageEnableInsightsOperator
from airflow_provider_wa_analytics.sensors.vonage import VonageInsightsSensor
from airflow_provider_wa_analytics.testing.kaleyra import KALEYRA_WABA_ID
from airflow_provider_wa_analytics.testing.vonage import VONAGE_WABA_ID
from tests.reliability.cases import CASES, CASES_BY_ID, FAST_EXTRAS, MINIMAL_CONTEXT, days_ago
from tests.reliability.support import TALLY


@dataclass(frozen=True)
class Bad:
    """One invalid input: ``action(sandbox, set_connection)`` must raise naming ``param`` and ``allowed``."""

    id: str
    action: Callable[[Any, Callable[..., str]], Any]
    param: str
    allowed: tuple[str, ...]


def run_case(case_id: str, **overrides: Any) -> Callable[[Any, Callable[..., str]], Any]:
    """Execute the registry case with ``overrides`` (its connection from the sandbox)."""
    case = CASES_BY_ID[case_id]

    def action(sandbox: Any, connect: Callable[..., str]) -> Any:
        conn_id = connect(case.vendor)
        op = case.build(**{case.operator.conn_id_param: conn_id, **overrides})
        return op.execute(MINIMAL_CONTEXT)

    return action


def with_extras(case_id: str, **extras: Any) -> Callable[[Any, Callable[..., str]], Any]:
    """Execute the registry case on a connection with these (bad) extras."""
    case = CASES_BY_ID[case_id]

    def action(sandbox: Any, connect: Callable[..., str]) -> Any:
        conn_id = connect(case.vendor, **extras)
        return case.build(**{case.operator.conn_id_param: conn_id}).execute(MINIMAL_CONTEXT)

    return action


def hook_call(
    hook_cls: type[WaAnalyticsHook], call: Callable[[Any], Any], **extras: Any
) -> Callable[[Any, Callable[..., str]], Any]:
    def action(sandbox: Any, connect: Callable[..., str]) -> Any:
        vendor = {
            InsiderWhatsAppHook: "insider_whatsapp",
            InsiderWebPushHook: "insider_webpush",
            VonageWhatsAppHook: "vonage_whatsapp",
            KaleyraWhatsAppHook: "kaleyra_whatsapp",
        }[hook_cls]
        hook = hook_cls(connect(vendor, **extras))
        result = call(hook)
        return list(result) if hasattr(result, "__next__") else result

    return action


def with_fields(case_id: str, **fields: Any) -> Callable[[Any, Callable[..., str]], Any]:
    """Execute the registry case on a connection whose fields (password, login, host) are replaced;
    ``{url}`` in a value is the sandbox's address without its scheme."""
    case = CASES_BY_ID[case_id]

    def action(sandbox: Any, connect: Callable[..., str]) -> Any:
        where = sandbox.url.partition("://")[2]
        values = {k: v.replace("{url}", where) for k, v in fields.items()}
        conn_id = connect(case.vendor, _fields=values)
        return case.build(**{case.operator.conn_id_param: conn_id}).execute(MINIMAL_CONTEXT)

    return action


#: A distinctive value that a message must never echo (a credential, or a password in the host).
HIDDEN = "Hidden-Secret-789"
HOSTS = {
    "userinfo": f"http://user:{HIDDEN}@{{url}}",
    "backslash": f"http://vm:{HIDDEN}\\@{{url}}",
    "space": f"http://{{url}}/ {HIDDEN}",
}
DAY = dt.date.fromisoformat(days_ago(3))
EVERY_OPERATOR = [case.id for case in CASES]
FORMATS = ("json", "jsonl", "csv")

BAD: list[Bad] = [
    # -- the shared parameters, on every operator --------------------------------------------------
    *(
        Bad(f"{c}-output_format", run_case(c, output_format="xml"), "output_format", FORMATS)
        for c in EVERY_OPERATOR
    ),
    *(
        Bad(
            f"{c}-destination",
            run_case(c, destination="ftp://bucket/key.jsonl"),
            "destination",
            ("s3", "gs", "file"),
        )
        for c in EVERY_OPERATOR
    ),
    *(
        Bad(f"{c}-compression", run_case(c, compression="zip"), "compression", ("gzip",))
        for c in EVERY_OPERATOR
    ),
    *(
        Bad(f"{c}-end-before-start", run_case(c, start="2025-03-02", end="2025-03-01"), "end", ("after",))
        for c in EVERY_OPERATOR
    ),
    *(
        Bad(f"{c}-start-not-a-date", run_case(c, start="next tuesday"), "start", ("ISO",))
        for c in EVERY_OPERATOR
    ),
    # -- far-future windows, oversized plans, arguments checked when the DAG is parsed ----------
    *(Bad(f"{c}-far-future", run_case(c, end="2100-01-01"), "end", ("future",)) for c in EVERY_OPERATOR),
    *(Bad(f"{c}-end-9999", run_case(c, end="9999-12-31"), "end", ("future",)) for c in EVERY_OPERATOR),
    *(  # every case whose sandbox run plans more than one call (Vonage messaging/pricing: one range)
        Bad(f"{c}-max-calls", run_case(c, max_calls=1), "max_calls", ("requests",))
        for c in EVERY_OPERATOR
        if c not in ("vonage.messaging", "vonage.pricing")
    ),
    *(
        Bad(f"{c}-xcom-max-bytes-{kind}", run_case(c, xcom_max_bytes=value), "xcom_max_bytes", (">= 1",))
        for c in EVERY_OPERATOR
        for kind, value in (("text", "abc"), ("negative", -1))
    ),
    Bad(
        "vonage.template-nested-ids",
        run_case("vonage.template", template_ids="[" * 100_000 + "]" * 100_000),
        "template_ids",
        ("valid list",),
    ),
    # -- identifiers placed in URL paths: the vendor's documented form ---------------------------
    *(
        Bad(f"kaleyra-waba-{kind}", run_case("kaleyra.template", waba_id=value), "waba_id", ("numeric",))
        for kind, value in (("dot", "."), ("dotdot", ".."), ("encoded", "%2e%2e"))
    ),
    *(
        Bad(
            f"kaleyra-sid-{kind}",
            with_fields("kaleyra.template", login=value),
            "login (the account SID)",
            ("letters and digits",),
        )
        for kind, value in (("dot", "."), ("dotdot", ".."), ("slash", "HX/../x"))
    ),
    Bad("vonage-waba-dotdot", run_case("vonage.messaging", waba_id=".."), "waba_id", ("numeric ID",)),
    # -- credentials and host as read from the connection (hostile world) -----------------------
    *(
        Bad(f"{c}-password-{kind}", with_fields(c, password=value), "password", ("whitespace",))
        for c in EVERY_OPERATOR
        for kind, value in (("newline", f"{HIDDEN}\n"), ("space", f" {HIDDEN}"))
    ),
    *(
        Bad(f"{c}-host-{kind}", with_fields(c, host=host), "host", ("user:password@",))
        for c in EVERY_OPERATOR
        for kind, host in HOSTS.items()
    ),
    Bad(
        "vonage.messaging-login",
        with_fields("vonage.messaging", login=f"{HIDDEN}\r\n"),
        "login",
        ("line break",),
    ),
    Bad(
        "kaleyra.template-login",
        with_fields("kaleyra.template", login=f"\t{HIDDEN}"),
        "login",
        ("whitespace",),
    ),
    *(
        Bad(
            f"{c}-max-response-bytes", with_extras(c, max_response_bytes=value), "max_response_bytes", (want,)
        )
        for c, value, want in (
            ("vonage.template", 0, "positive"),
            ("insider_webpush.campaign_metrics", "big", "number"),
        )
    ),
    # -- Insider WhatsApp ----------------------------------------------------------------------
    Bad(
        "overall-status",
        run_case("insider_whatsapp.overall", campaign_filter={"statuses": ["running"]}),
        "campaign_filter.statuses",
        ("active", "completed"),
    ),
    Bad(
        "overall-type-id",
        run_case("insider_whatsapp.overall", campaign_filter={"campaign_type_ids": [4]}),
        "campaign_filter.campaign_type_ids",
        ("1, 2, 3, 5, 6",),
    ),
    Bad(
        "overall-filter-key",
        run_case("insider_whatsapp.overall", campaign_filter={"channel": "sms"}),
        "campaign_filter",
        ("campaign_type_ids", "show_architect"),
    ),
    Bad(
        "overall-tag",
        run_case("insider_whatsapp.overall", campaign_filter={"tags": [1.5]}),
        "campaign_filter.tags",
        ("string or integer",),
    ),
    Bad(
        "overall-show-architect",
        run_case("insider_whatsapp.overall", campaign_filter={"show_architect": "yes"}),
        "campaign_filter.show_architect",
        ("true or false",),
    ),
    Bad(
        "overall-filter-type",
        run_case("insider_whatsapp.overall", campaign_filter="statuses=all"),
        "campaign_filter",
        ("dict",),
    ),
    Bad(
        "transactional-accounts-string",
        run_case("insider_whatsapp.transactional", accounts=[905000000001]),
        "accounts[0]",
        ("sender phone number string",),
    ),
    Bad(
        "transactional-account-empty",
        run_case("insider_whatsapp.transactional", accounts=[" "]),
        "accounts[0]",
        ("phone number",),
    ),
    Bad(
        "transactional-before-2018",
        run_case("insider_whatsapp.transactional", start="2017-12-01", end="2018-01-02"),
        "start",
        ("2018-01-01",),
    ),
    Bad(
        "hook-overall-start-time",
        hook_call(InsiderWhatsAppHook, lambda h: h.overall_statistics(12345, 1_700_000_000)),
        "start_time",
        ("10-digit unix timestamp",),
    ),
    Bad(
        "hook-overall-range",
        hook_call(InsiderWhatsAppHook, lambda h: h.overall_statistics(1_600_000_000, 1_700_000_000)),
        "start_time",
        ("1 year",),
    ),
    # -- Insider Web Push ---------------------------------------------------------------------
    Bad(
        "webpush-campaign-ids",
        run_case("insider_webpush.campaign_metrics", campaign_ids="all"),
        "campaign_ids[0]",
        ("numeric campaign ID",),
    ),
    Bad(
        "webpush-campaign-id",
        run_case("insider_webpush.campaign_metrics", campaign_ids=["10001", "x"]),
        "campaign_ids[1]",
        ("numeric campaign ID",),
    ),
    Bad(
        "webpush-on-missing",
        run_case("insider_webpush.campaign_metrics", on_missing_campaign="ignore"),
        "on_missing_campaign",
        ("fail", "skip"),
    ),
    Bad(
        "webpush-partner-id",
        run_case("insider_webpush.campaign_metrics", partner_id=" "),
        "partner_id",
        ("non-empty string",),
    ),
    Bad(
        "hook-webpush-date",
        hook_call(InsiderWebPushHook, lambda h: h.campaign_metrics("10001", "01/03/2025", "2025-03-02")),
        "start_date",
        ("YYYY-MM-DD",),
    ),
    Bad(
        "hook-webpush-campaign",
        hook_call(InsiderWebPushHook, lambda h: h.campaign_metrics("abc", "2025-03-01", "2025-03-02")),
        "campaign_ids[0]",
        ("numeric campaign ID",),
    ),
    # -- Vonage ------------------------------------------------------------------------------
    Bad(
        "messaging-granularity",
        run_case("vonage.messaging", granularity="WEEKLY"),
        "granularity",
        ("HALF_HOUR, DAILY, MONTHLY",),
    ),
    Bad(
        "messaging-product-types",
        run_case("vonage.messaging", product_types=[1]),
        "product_types[0]",
        ("0, 2",),
    ),
    Bad(
        "messaging-country",
        run_case("vonage.messaging", country_codes=["USA"]),
        "country_codes[0]",
        ("two-letter",),
    ),
    Bad("messaging-waba", run_case("vonage.messaging", waba_id="waba-1"), "waba_id", ("numeric ID",)),
    Bad(
        "messaging-concurrency", run_case("vonage.messaging", max_concurrency=0), "max_concurrency", (">= 1",)
    ),
    Bad(
        "messaging-lookback",
        run_case("vonage.messaging", start=days_ago(120)),
        "start",
        ("90-day retention",),
    ),
    Bad(
        "template-ids-empty", run_case("vonage.template", template_ids=[]), "template_ids", ("at least one",)
    ),
    Bad(
        "template-metric",
        run_case("vonage.template", metric_types=["OPENED"]),
        "metric_types[0]",
        ("SENT, DELIVERED, READ, CLICKED",),
    ),
    Bad(
        "template-granularity", run_case("vonage.template", granularity="MONTHLY"), "granularity", ("DAILY",)
    ),
    Bad(
        "pricing-dimension",
        run_case("vonage.pricing", dimensions=["CITY"]),
        "dimensions[0]",
        ("PRICING_CATEGORY, PRICING_TYPE, COUNTRY, PHONE, TIER",),
    ),
    Bad("pricing-tier", run_case("vonage.pricing", tiers=["cheap"]), "tiers[0]", ("lower:upper",)),
    Bad(
        "pricing-phone", run_case("vonage.pricing", phone_numbers=["call me"]), "phone_numbers[0]", ("E.164",)
    ),
    Bad(
        "vonage-lookback-extra",
        with_extras("vonage.messaging", lookback_days="ninety"),
        "lookback_days",
        (">= 1",),
    ),
    Bad(
        "vonage-jwt-half",
        with_extras("vonage.messaging", application_id="app-1"),
        "private_key",
        ("application_id",),
    ),
    Bad(
        "hook-vonage-template-batch",
        hook_call(
            VonageWhatsAppHook,
            lambda h: h.iter_template_analytics(VONAGE_WABA_ID, DAY, DAY, [str(n) for n in range(11)]),
        ),
        "template_ids",
        ("at most 10",),
    ),
    Bad(
        "enable-insights-waba",
        lambda sb, connect: VonageEnableInsightsOperator(
            task_id="e", waba_id="my waba", vonage_conn_id=connect("vonage_whatsapp")
        ).execute(MINIMAL_CONTEXT),
        "waba_id",
        ("numeric ID",),
    ),
    Bad(
        "sensor-template-id",
        lambda sb, connect: VonageInsightsSensor(
            task_id="s",
            waba_id=VONAGE_WABA_ID,
            template_id="welcome",
            vonage_conn_id=connect("vonage_whatsapp"),
        ).poke(MINIMAL_CONTEXT),
        "template_ids[0]",
        ("numeric template ID",),
    ),
    # -- Kaleyra -----------------------------------------------------------------------------
    Bad("kaleyra-granularity", run_case("kaleyra.template", granularity="WEEKLY"), "granularity", ("DAILY",)),
    Bad(
        "kaleyra-product-type",
        run_case("kaleyra.template", product_type="SMS"),
        "product_type",
        ("CLOUD_API", "MARKETING_MESSAGES_LITE_API"),
    ),
    Bad(
        "kaleyra-metric",
        run_case("kaleyra.template", metric_types=["OPENED"]),
        "metric_types[0]",
        ("SENT", "REPLIED"),
    ),
    Bad("kaleyra-limit", run_case("kaleyra.template", limit=0), "limit", (">= 1",)),
    Bad(
        "kaleyra-batch",
        run_case("kaleyra.template", templates_per_request=0),
        "templates_per_request",
        (">= 1",),
    ),
    Bad("kaleyra-waba", run_case("kaleyra.template", waba_id="a/b"), "waba_id", ("numeric",)),
    Bad(
        "kaleyra-template-ids",
        run_case("kaleyra.template", template_ids=[]),
        "template_ids",
        ("at least one",),
    ),
    Bad(
        "kaleyra-lookback", run_case("kaleyra.template", start=days_ago(100)), "start", ("90-day retention",)
    ),
    Bad("kaleyra-pod", with_extras("kaleyra.template", pod="us"), "pod", ("in, sg, eu", "na")),
    Bad(
        "hook-kaleyra-product-type",
        hook_call(
            KaleyraWhatsAppHook,
            lambda h: h.template_analytics_request(KALEYRA_WABA_ID, ["1"], DAY, DAY, product_type="SMS"),
        ),
        "product_type",
        ("CLOUD_API", "MARKETING_MESSAGES_LITE_API"),
    ),
    # -- connection extras of the shared client, one per hook ---------------------------------
    Bad(
        "insider-rate-limit",
        with_extras("insider_whatsapp.overall", rate_limit="fast"),
        "rate_limit",
        ("number",),
    ),
    Bad(
        "webpush-timeout",
        with_extras("insider_webpush.campaign_metrics", timeout=0),
        "timeout",
        ("positive",),
    ),
    Bad("vonage-max-retries", with_extras("vonage.pricing", max_retries=-1), "max_retries", ("0 or more",)),
    Bad(
        "kaleyra-backoff",
        with_extras("kaleyra.template", backoff_initial=-1),
        "backoff_initial",
        ("positive",),
    ),
]


@pytest.fixture
def connect(sandbox, monkeypatch):
    sandbox.reset()

    def connect(vendor: str, _fields: dict[str, Any] | None = None, **extras: Any) -> str:
        conn = {**sandbox.connection(vendor), **(_fields or {})}
        conn["extra"] = {**(conn.get("extra") or {}), **FAST_EXTRAS, **extras}
        conn_id = f"bad_input_{vendor}"
        import json

        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return connect


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_fails_before_any_request_naming_the_parameter(sandbox, connect, bad):
    with pytest.raises(InvalidParameterError) as caught:
        bad.action(sandbox, connect)
    message = str(caught.value)
    assert HIDDEN not in repr(caught.value) and HIDDEN not in message, message
    assert f"`{bad.param}`" in message, message
    for allowed in bad.allowed:
        assert allowed in message, message
    assert sandbox.requests == []
    TALLY["bad_input"] += 1


def test_the_matrix_has_at_least_forty_cases_and_covers_every_operator_and_hook():
    assert len(BAD) >= 40
    assert {b.id.split("-")[0] for b in BAD} >= set(EVERY_OPERATOR)
