"""VonageWhatsAppHook: parameter checks, Basic and JWT auth, lookback, paging and every documented error,
over real HTTP against the sandbox."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest

from airflow_provider_wa_analytics.endpoints import as_list, choices
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InsightsNotEnabledError,
    InvalidParameterError,
    NotFoundError,
    PaginationError,
    ValidationError,
)
from airflow_provider_wa_analytics.hooks.vonage import (
    COUNTRY_CODES,
    JWT_TTL,
    MESSAGING,
    PRICING,
    TEMPLATE,
    TEMPLATE_IDS,
    TIERS,
    WABA_ID,
    VonageWhatsAppHook,
    classify,
    query_array,
)
from airflow_provider_wa_analytics.testing import Fault
from airflow_provider_wa_analytics.testing.vonage import (
    VONAGE_API_KEY,
    VONAGE_API_SECRET,
    VONAGE_APPLICATION_ID,
    VONAGE_INSIGHTS_WABA_ID,
    VONAGE_UNLINKED_WABA_ID,
    VONAGE_WABA_ID,
)

VENDOR = "vonage_whatsapp"
TODAY = dt.datetime.now(dt.timezone.utc).date()
FAST = {"rate_limit": 1000, "backoff_initial": 0.01, "backoff_max": 0.02}


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture
def sandbox(running_sandbox):
    running_sandbox.reset()
    running_sandbox.configure(
        VENDOR,
        page_size=100,
        propagation_requests=2,
        links="vendor",
        repeat_cursor=False,
        enable_insights_body="json",
        already_enabled_status=None,
    )
    return running_sandbox


def hook(monkeypatch, sandbox, conn_id="vonage_whatsapp_default", jwt_auth=False, **fields):
    app = sandbox.app(VENDOR)
    conn = app.jwt_connection(sandbox.url) if jwt_auth else app.connection(sandbox.url)
    extra = {**FAST, **conn.get("extra", {}), **fields.pop("extra", {})}
    conn = {**conn, **fields, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return VonageWhatsAppHook(vonage_conn_id=conn_id)


# -- parameters (no I/O) ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["458951126288942", 458951126288943], ["458951126288942", "458951126288943"]),
        ('["1", "2"]', ["1", "2"]),
        ("['1', '2']", ["1", "2"]),  # a list rendered by a template without native rendering
        ("1, 2", ["1", "2"]),
        (["1", "1", "2"], ["1", "2"]),  # a duplicate would fetch the same rows twice
    ],
)
def test_template_ids_accept_lists_and_rendered_strings(value, expected):
    assert TEMPLATE_IDS(value, "template_ids") == expected
    query = TEMPLATE.query({"waba_id": VONAGE_WABA_ID, "granularity": "DAILY", "template_ids": value})
    assert query["template_ids"] == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: TEMPLATE_IDS([], "template_ids"), "`template_ids` is required"),
        (lambda: TEMPLATE_IDS(["abc"], "template_ids"), r"`template_ids\[0\]` must be a numeric template ID"),
        (lambda: TEMPLATE_IDS("[1, 2", "template_ids"), "`template_ids` is not a valid list"),
        (lambda: TEMPLATE_IDS(42, "template_ids"), "`template_ids` must be a list"),
        (lambda: WABA_ID.check("12/../34", "waba_id"), "`waba_id` must be the numeric ID"),
        (lambda: WABA_ID.check(None, "waba_id"), "`waba_id` must be the numeric ID"),
        (lambda: TEMPLATE.query(template_query(waba_id="12/../34")), "`waba_id` must be the numeric ID"),
        (
            lambda: TEMPLATE.query(template_query(metric_types=["SENT", "OPENED"])),
            r"`metric_types\[1\]` must be one of SENT, DELIVERED, READ, CLICKED, got 'OPENED'",
        ),
        (lambda: TEMPLATE.query(template_query(template_ids=[])), "`template_ids` is required"),
        (
            lambda: TEMPLATE.query(template_query(granularity="MONTHLY")),
            "`granularity` must be one of DAILY, got 'MONTHLY'",
        ),
        (
            lambda: MESSAGING.query(messaging_query(granularity="HOURLY")),
            "`granularity` must be one of HALF_HOUR, DAILY, MONTHLY, got 'HOURLY'",
        ),
        (
            lambda: MESSAGING.query(messaging_query(product_types=[1])),
            r"`product_types\[0\]` must be one of 0, 2, got 1",
        ),
        (lambda: COUNTRY_CODES(["USA"], "country_codes"), r"`country_codes\[0\]` must be a two-letter"),
        (
            lambda: MESSAGING.query(messaging_query(country_codes=["USA"])),
            r"`country_codes\[0\]` must be a two-letter",
        ),
        (lambda: TIERS(["cheap"], "tiers"), r"`tiers\[0\]` must be a tier as 'lower:upper'"),
        (
            lambda: PRICING.query({"waba_id": VONAGE_WABA_ID, "tiers": ["cheap"]}),
            r"`tiers\[0\]` must be a tier as 'lower:upper'",
        ),
        (
            lambda: PRICING.query({"waba_id": VONAGE_WABA_ID, "dimensions": ["REGION"]}),
            r"`dimensions\[0\]` must be one of PRICING_CATEGORY, PRICING_TYPE, COUNTRY, PHONE, TIER, "
            r"got 'REGION'",
        ),
    ],
)
def test_bad_parameters_name_the_parameter_and_allowed_values(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()


def test_choices_are_normalized():
    assert choices(("SENT", "0"))(["sent", 0, "SENT"], "x") == ["SENT", "0"]
    assert TEMPLATE.query(template_query(metric_types=["sent", "READ", "SENT"]))["metric_types"] == [
        "SENT",
        "READ",
    ]
    assert MESSAGING.query(messaging_query(product_types=[0, "2", "0"]))["product_types"] == ["0", "2"]
    assert MESSAGING.query(messaging_query(granularity="half_hour"))["granularity"] == "HALF_HOUR"
    assert COUNTRY_CODES(["us", "GB"], "country_codes") == ["US", "GB"]
    assert MESSAGING.query(messaging_query(country_codes=["us", "GB"]))["country_codes"] == ["US", "GB"]
    assert WABA_ID.check(345688589250625, "waba_id") == "345688589250625"
    assert as_list(None, "x") == []
    assert query_array(["1", "2"]) == "[1,2]"  # the form of the documented _links.self sample


def template_query(**changes):
    return {"waba_id": VONAGE_WABA_ID, "granularity": "DAILY", "template_ids": ["1"], **changes}


def messaging_query(**changes):
    return {"waba_id": VONAGE_WABA_ID, "granularity": "DAILY", **changes}


def plan(first, last, retention_days=90, now=dt.datetime(2025, 6, 30, 12, tzinfo=dt.timezone.utc)):
    query = MESSAGING.query(messaging_query())
    return MESSAGING.plan(query, MESSAGING.window.of(first, last), now=now, retention_days=retention_days)


def test_dates_follow_the_documented_limits(monkeypatch, sandbox):
    (call,) = plan(dt.date(2025, 4, 1), dt.date(2025, 6, 29))  # 90 days inclusive: one request
    assert dict(call.fields) == {"start": "2025-04-01", "end": "2025-06-29"}
    # 91 days need two requests: the plan splits them, a hook method (one request) refuses them.
    assert [dict(c.fields) for c in plan(dt.date(2025, 4, 1), dt.date(2025, 6, 30))] == [
        {"start": "2025-04-01", "end": "2025-06-29"},
        {"start": "2025-06-30", "end": "2025-06-30"},
    ]
    with pytest.raises(
        InvalidParameterError,
        match=r"`start` to `end` spans more than one request covers \(at most 90 days\); the operators split",
    ):
        hook(monkeypatch, sandbox).iter_messaging_analytics(VONAGE_WABA_ID, days_ago(90), TODAY)
    assert sandbox.requests == []
    with pytest.raises(
        InvalidParameterError, match=r"`start` 2025-03-31 is outside Vonage's 90-day retention.*2025-04-01"
    ):
        plan(dt.date(2025, 3, 31), dt.date(2025, 4, 1))
    assert len(plan(dt.date(2025, 3, 31), dt.date(2025, 4, 1), 120)) == 1  # a longer retention allows it
    with pytest.raises(InvalidParameterError, match=r"`end` .* must not be before `start`"):
        plan(dt.date(2025, 6, 2), dt.date(2025, 6, 1))
    with pytest.raises(
        InvalidParameterError, match="`start` must be a date in YYYY-MM-DD format, got '2025-6-1'"
    ):
        plan("2025-6-1", dt.date(2025, 6, 2))


@pytest.mark.parametrize(
    ("status", "title", "detail", "expected"),
    [
        (400, "Insights not enabled", "enable insights first", InsightsNotEnabledError),
        (403, "Forbidden", "You must confirm template analytics first", InsightsNotEnabledError),
        (403, "Unauthorized", "API key is not linked to this WABA ID", None),
        (409, "Conflict", "Insights already enabled", None),
        (401, "Unauthorized", "insights", None),  # an auth failure stays one
    ],
)
def test_insights_not_enabled_is_recognized_by_its_text(status, title, detail, expected):
    assert classify(status, None, title, detail) is expected


# -- auth -----------------------------------------------------------------------------------------
def test_basic_auth_sends_key_and_secret(monkeypatch, sandbox):
    assert hook(monkeypatch, sandbox).test_connection() == (True, "Connection to Vonage WhatsApp works.")
    sent = sandbox.requests[-1].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"{VONAGE_API_KEY}:{VONAGE_API_SECRET}".encode()).decode()


def test_jwt_auth_signs_the_documented_claims_per_request(monkeypatch, sandbox):
    h = hook(monkeypatch, sandbox, jwt_auth=True, login="ignored-when-jwt", password="ignored")
    pages = list(h.iter_messaging_analytics(VONAGE_WABA_ID, days_ago(2), TODAY))
    list(h.iter_messaging_analytics(VONAGE_WABA_ID, days_ago(2), TODAY))
    assert pages[0].status == 200
    tokens = [r.headers["authorization"].removeprefix("Bearer ") for r in sandbox.requests]
    assert len(tokens) == 2
    claims = [jwt.decode(t, options={"verify_signature": False}) for t in tokens]
    assert {c["application_id"] for c in claims} == {VONAGE_APPLICATION_ID}
    assert all(c["exp"] - c["iat"] == JWT_TTL for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]  # unique per token
    assert jwt.get_unverified_header(tokens[0])["alg"] == "RS256"


def test_jwt_key_pasted_with_escaped_newlines_works(monkeypatch, sandbox):
    key = sandbox.app(VENDOR).private_key_pem.replace("\n", "\\n")
    h = hook(monkeypatch, sandbox, jwt_auth=True, extra={"private_key": key})
    assert h.test_connection()[0] is True


def test_a_jwt_of_another_key_is_refused(monkeypatch, sandbox):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ok, message = hook(monkeypatch, sandbox, jwt_auth=True, extra={"private_key": pem}).test_connection()
    assert not ok and "HTTP 401" in message and "signature" in message
    assert "PRIVATE KEY" not in message


def _ec_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"application_id": "app-1"}, "`private_key` is missing"),
        ({"application_id": "app-1", "private_key": _ec_key()}, "must be an RSA key"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----"}, "`application_id` is missing"),
        (
            {"application_id": "app-1", "private_key": "not a key at all"},
            "not an unencrypted PEM private key",
        ),
    ],
)
def test_incomplete_or_broken_jwt_settings_fail_before_any_request(monkeypatch, sandbox, extra, message):
    h = hook(monkeypatch, sandbox, login=None, password=None, extra=extra)
    with pytest.raises(InvalidParameterError, match=message) as info:
        list(h.iter_messaging_analytics(VONAGE_WABA_ID, TODAY, TODAY))
    assert "not a key at all" not in str(info.value)
    assert sandbox.requests == []


def test_wrong_secret_is_an_authentication_error_with_the_rfc7807_text(monkeypatch, sandbox):
    h = hook(monkeypatch, sandbox, password="wrong-secret-value")
    with pytest.raises(AuthenticationError) as info:
        list(h.iter_pricing_analytics(VONAGE_WABA_ID, TODAY, TODAY))
    assert "You did not provide correct credentials." in str(info.value)
    assert info.value.status == 401
    assert "wrong-secret-value" not in str(info.value)
    assert len(sandbox.requests) == 1  # not retried
    assert h.test_connection()[0] is False


def test_connection_checks_the_extra_waba_when_set(monkeypatch, sandbox):
    assert hook(monkeypatch, sandbox, extra={"waba_id": VONAGE_WABA_ID}).test_connection()[0] is True
    ok, message = hook(monkeypatch, sandbox, extra={"waba_id": VONAGE_UNLINKED_WABA_ID}).test_connection()
    assert not ok and "not linked to WABA" in message
    assert hook(monkeypatch, sandbox).test_connection()[0] is True  # no WABA: a 404 proves the credentials
    assert sandbox.requests[-1].path.endswith("/wabas/0/messaging-analytics")


def test_no_credentials_at_all_is_explained(monkeypatch, sandbox):
    h = hook(monkeypatch, sandbox, login=None, password=None)
    ok, message = h.test_connection()
    assert not ok and "set login (API key) and password (API secret), or extras" in message


# -- documented errors ------------------------------------------------------------------------------
def test_403_says_the_key_is_not_linked_to_the_waba(monkeypatch, sandbox):
    with pytest.raises(ForbiddenError, match=f"not linked to WABA {VONAGE_UNLINKED_WABA_ID}") as info:
        hook(monkeypatch, sandbox).enable_insights(VONAGE_UNLINKED_WABA_ID)
    assert info.value.status == 403 and "API key is not linked to this WABA ID" in str(info.value)


def test_404_says_the_waba_is_unknown(monkeypatch, sandbox):
    with pytest.raises(NotFoundError, match="WABA 999 is unknown to Vonage: check `waba_id`"):
        list(hook(monkeypatch, sandbox).iter_template_analytics("999", TODAY, TODAY, ["1"]))


def test_template_analytics_before_insights_are_enabled(monkeypatch, sandbox):
    with pytest.raises(InsightsNotEnabledError, match="run VonageEnableInsightsOperator once"):
        list(hook(monkeypatch, sandbox).iter_template_analytics(VONAGE_WABA_ID, TODAY, TODAY, ["1"]))
    assert len(sandbox.requests) == 1  # not retried: waiting is the sensor's job


def test_vendor_validation_errors_are_not_retried(monkeypatch, sandbox):
    # A lookback raised on our side lets the request through; the sandbox keeps the documented 90 days.
    h = hook(monkeypatch, sandbox, extra={"retention_days": 120})
    with pytest.raises(ValidationError, match="start: must be within the last 90 days"):
        list(h.iter_messaging_analytics(VONAGE_WABA_ID, days_ago(100), days_ago(99)))
    assert len(sandbox.requests) == 1


def test_server_errors_are_retried(monkeypatch, sandbox):
    sandbox.inject(Fault.SERVER_ERROR, times=2)
    pages = list(hook(monkeypatch, sandbox).iter_messaging_analytics(VONAGE_WABA_ID, TODAY, TODAY))
    assert pages[0].status == 200 and len(sandbox.requests) == 3


# -- retention ------------------------------------------------------------------------------------
def test_start_outside_the_retention_fails_before_any_request(monkeypatch, sandbox):
    with pytest.raises(InvalidParameterError, match="outside Vonage's 90-day retention") as info:
        hook(monkeypatch, sandbox).iter_template_analytics(VONAGE_WABA_ID, days_ago(91), days_ago(80), ["1"])
    assert "`retention_days`" in str(info.value)
    assert sandbox.requests == []


@pytest.mark.parametrize("value", [0, -5, "ninety", "90.5"])
def test_retention_days_must_be_a_whole_number(monkeypatch, sandbox, value):
    h = hook(monkeypatch, sandbox, extra={"retention_days": value})
    with pytest.raises(InvalidParameterError, match="extra `retention_days` must be a whole number >= 1"):
        h.retention_days(90)


def test_the_old_lookback_days_extra_is_still_read_with_a_warning(monkeypatch, sandbox):
    assert hook(monkeypatch, sandbox).retention_days(90) == 90
    assert hook(monkeypatch, sandbox, extra={"retention_days": "120"}).retention_days(90) == 120
    with pytest.warns(DeprecationWarning, match="`lookback_days` is now `retention_days`"):
        assert hook(monkeypatch, sandbox, extra={"lookback_days": "120"}).retention_days(90) == 120
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(InvalidParameterError, match="extra `lookback_days` must be a whole number >= 1"),
    ):
        hook(monkeypatch, sandbox, extra={"lookback_days": 0}).retention_days(90)


# -- pages ------------------------------------------------------------------------------------------
def test_messaging_pages_follow_v2_links_on_the_connection_host(monkeypatch, sandbox):
    sandbox.configure(VENDOR, page_size=5)
    pages = list(hook(monkeypatch, sandbox).iter_messaging_analytics(VONAGE_WABA_ID, days_ago(11), TODAY))
    assert len(pages) == 3  # 12 days, 5 per page
    assert pages[0].data["paging"]["next"].startswith("https://api.nexmo.com/v2/")
    paths = [r.path for r in sandbox.requests]
    assert paths[0] == f"/v1/channel-manager/whatsapp/wabas/{VONAGE_WABA_ID}/messaging-analytics"
    assert paths[1:] == [f"/v2/channel-manager/wabas/{VONAGE_WABA_ID}/messaging-analytics"] * 2
    got = [e for p in pages for e in p.data["_embedded"]["messaging_analytics"]]
    assert got == sandbox.app(VENDOR).messaging_entries(VONAGE_WABA_ID, days_ago(11), TODAY)


def test_template_pages_follow_links_next_href(monkeypatch, sandbox):
    sandbox.configure(VENDOR, page_size=4)
    ids = ["11", "12", "13"]
    h = hook(monkeypatch, sandbox)
    pages = list(
        h.iter_template_analytics(VONAGE_INSIGHTS_WABA_ID, days_ago(2), TODAY, ids, metric_types=["sent"])
    )
    assert len(pages) == 3  # 9 entries, 4 per page
    assert "next" not in pages[-1].data["_links"]
    assert sandbox.requests[0].query["template_ids"] == ["[11,12,13]"]
    assert sandbox.requests[0].query["metric_types"] == ["[SENT]"]
    got = [e for p in pages for e in p.data["_embedded"]["template_analytics"]]
    expected = sandbox.app(VENDOR).template_entries(
        VONAGE_INSIGHTS_WABA_ID, ids, days_ago(2), TODAY, ["SENT"]
    )
    assert got == expected and set(got[0]) == {"template_id", "start", "end", "sent"}


def test_more_than_ten_template_ids_is_refused_by_the_hook(monkeypatch, sandbox):
    with pytest.raises(
        InvalidParameterError,
        match=r"`template_ids` holds 11 items; one request takes at most 10 "
        r"\(the operators batch them for you\)",
    ):
        hook(monkeypatch, sandbox).iter_template_analytics(
            VONAGE_INSIGHTS_WABA_ID, TODAY, TODAY, [str(i) for i in range(11)]
        )


def test_a_repeating_cursor_is_an_error_not_a_loop(monkeypatch, sandbox):
    sandbox.configure(VENDOR, page_size=3, repeat_cursor=True)
    with pytest.raises(PaginationError, match="already followed"):
        list(hook(monkeypatch, sandbox).iter_pricing_analytics(VONAGE_WABA_ID, days_ago(9), TODAY))
    assert len(sandbox.requests) == 2


def test_links_to_another_host_are_refused(monkeypatch, sandbox):
    sandbox.configure(VENDOR, page_size=3, links="foreign")
    h = hook(monkeypatch, sandbox)
    with pytest.raises(PaginationError, match=r"Refusing to follow a link to 'api\.example\.net'"):
        list(h.iter_messaging_analytics(VONAGE_WABA_ID, days_ago(9), TODAY))
    assert len(sandbox.requests) == 1


def test_filters_are_sent_with_the_documented_names(monkeypatch, sandbox):
    h = hook(monkeypatch, sandbox)
    list(
        h.iter_messaging_analytics(
            VONAGE_WABA_ID,
            TODAY,
            TODAY,
            "half_hour",
            phone_numbers=["16505550111"],
            product_types=[0],
            country_codes=["us"],
        )
    )
    list(
        h.iter_pricing_analytics(VONAGE_WABA_ID, TODAY, TODAY, None, dimensions=["TIER"], tiers=["0:100000"])
    )
    messaging, pricing = (r.query for r in sandbox.requests)
    assert messaging == {
        "start": [TODAY.isoformat()],
        "end": [TODAY.isoformat()],
        "granularity": ["HALF_HOUR"],
        "phone_number": ["[16505550111]"],  # singular, as the messaging table documents
        "product_types": ["[0]"],
        "country_codes": ["[US]"],
    }
    assert pricing == {
        "start": [TODAY.isoformat()],
        "end": [TODAY.isoformat()],
        "dimensions": ["[TIER]"],
        "tier": ["[0:100000]"],  # `tier`, as the pricing table documents
    }


# -- enable insights --------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["json", "empty"])
def test_enable_insights_is_a_patch_and_idempotent(monkeypatch, sandbox, body):
    sandbox.configure(VENDOR, enable_insights_body=body, propagation_requests=0)
    h = hook(monkeypatch, sandbox)
    h.enable_insights(VONAGE_WABA_ID)
    h.enable_insights(VONAGE_WABA_ID)
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in sandbox.requests] == [
        ("PATCH", "enable_insights", 200)
    ] * 2
    assert sandbox.app(VENDOR).insights_state(VONAGE_WABA_ID) == "enabled"


@pytest.mark.parametrize("status", [400, 409])
def test_enable_insights_takes_already_enabled_as_success(monkeypatch, sandbox, status):
    sandbox.configure(VENDOR, already_enabled_status=status)
    h = hook(monkeypatch, sandbox)
    h.enable_insights(VONAGE_WABA_ID)
    h.enable_insights(VONAGE_WABA_ID)
    assert [r.status for r in sandbox.requests] == [200, status]


def test_insights_available_waits_for_propagation(monkeypatch, sandbox):
    h = hook(monkeypatch, sandbox)
    assert h.insights_available(VONAGE_WABA_ID, "1") is False
    h.enable_insights(VONAGE_WABA_ID)
    assert [h.insights_available(VONAGE_WABA_ID, "1") for _ in range(3)] == [False, False, True]
    with pytest.raises(ForbiddenError):
        h.insights_available(VONAGE_UNLINKED_WABA_ID, "1")
