"""KaleyraWhatsAppHook: parameter checks, pods, lookback, and every documented error over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from airflow_provider_wa_analytics.client import PageRequest
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    InsightsNotEnabledError,
    InvalidParameterError,
    ServerError,
    ValidationError,
)
from airflow_provider_wa_analytics.hooks.kaleyra import (
    SID,
    TEMPLATE_ANALYTICS,
    WABA_ID,
    KaleyraWhatsAppHook,
)
from airflow_provider_wa_analytics.testing.kaleyra import (
    KALEYRA_API_KEY,
    KALEYRA_NO_API_SID,
    KALEYRA_NO_INSIGHTS_WABA_ID,
    KALEYRA_OTHER_VERSION_WABA_ID,
    KALEYRA_SERVER_ERROR_WABA_ID,
    KALEYRA_WABA_ID,
)

TODAY = dt.date(2025, 11, 5)
NOW = dt.datetime(2025, 11, 5, 12, tzinfo=dt.timezone.utc)


def query(**arguments):
    """The endpoint's checked arguments (what the hook and the operator send)."""
    return TEMPLATE_ANALYTICS.query(
        {"waba_id": "1090", "template_ids": ["1"], "granularity": "DAILY", **arguments}
    )


def plan(start, end, retention_days=90):
    window = TEMPLATE_ANALYTICS.window.of(start, end)
    return TEMPLATE_ANALYTICS.plan(query(), window, now=NOW, retention_days=retention_days)


def conn(monkeypatch, conn_id="kaleyra_whatsapp_default", **fields):
    fields = {"conn_type": "kaleyra_whatsapp", "login": "HXAP16SID97IN", "password": "k-secret", **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))
    return KaleyraWhatsAppHook(kaleyra_conn_id=conn_id)


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["1317", "156"], ["1317", "156"]),
        ("1317, 156", ["1317", "156"]),
        ('["1317", 156]', ["1317", "156"]),
        ("['1317', '156']", ["1317", "156"]),  # a list rendered by a template
        ([1317, "1317", "156"], ["1317", "156"]),  # duplicates would double rows
    ],
)
def test_template_ids_accept_lists_strings_and_drop_duplicates(value, expected):
    assert query(template_ids=value)["template_ids"] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "`template_ids` is required: give at least one, e.g. one non-empty template id"),
        ("", "`template_ids` is required: give at least one"),
        (None, "`template_ids` is required: give at least one"),
        (1317, "`template_ids` must be a list"),
        ([None], r"`template_ids\[0\]` must be one non-empty template id without commas or spaces, got None"),
        (
            ["1,2"],
            r"`template_ids\[0\]` must be one non-empty template id without commas or spaces, got '1,2'",
        ),
        ("[1317", "not a valid list"),
    ],
)
def test_bad_template_ids_name_the_parameter(value, message):
    with pytest.raises(InvalidParameterError, match=message):
        query(template_ids=value)


def test_other_parameters_are_checked_and_normalized():
    assert query(granularity="daily")["granularity"] == "DAILY"
    assert query(product_type=None)["product_type"] is None
    assert query(product_type="cloud_api")["product_type"] == "CLOUD_API"
    assert query(metric_types=None)["metric_types"] == []
    assert query(metric_types=["sent", "READ", "sent"])["metric_types"] == ["SENT", "READ"]
    assert query(metric_types="sent,clicked")["metric_types"] == ["SENT", "CLICKED"]
    assert query(limit=None)["limit"] is None
    assert query(limit="25")["limit"] == 25
    assert query(waba_id=1090)["waba_id"] == "1090"
    assert WABA_ID(1090, "waba_id") == "1090"
    assert query()["sid"] is None  # supplied by the hook from the connection's login
    assert query(sid="HXAP16SID97IN")["sid"] == "HXAP16SID97IN"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: query(granularity="MONTHLY"), "`granularity` must be one of DAILY, got 'MONTHLY'"),
        (
            lambda: query(product_type="SMS"),
            "`product_type` must be one of CLOUD_API, MARKETING_MESSAGES_LITE_API, got 'SMS'",
        ),
        (
            lambda: query(metric_types=["SENT", "COST"]),
            "`metric_types[1]` must be one of SENT, DELIVERED, READ, CLICKED, REPLIED, got 'COST'",
        ),
        (lambda: query(limit=0), "`limit` must be a whole number >= 1, got 0"),
        (lambda: query(limit="ten"), "`limit` must be a whole number >= 1, got 'ten'"),
        (lambda: query(limit=True), "`limit` must be a whole number >= 1, got True"),
        (lambda: query(limit=2.5), "`limit` must be a whole number >= 1, got 2.5"),
        (lambda: query(waba_id=""), "`waba_id` must be the numeric WhatsApp Business Account id"),
        (
            lambda: query(waba_id="1/2"),
            "`waba_id` must be the numeric WhatsApp Business Account id, e.g. '109000000000001', got '1/2'",
        ),
        (lambda: query(sid="HX/../1"), "`sid` must be the account SID (letters and digits"),
        (lambda: SID("HX 1", "sid"), "`sid` must be the account SID (letters and digits"),
        (lambda: query(today="2025-11-05"), "unknown parameter(s) today; allowed: sid, waba_id"),
    ],
)
def test_bad_parameters_name_the_parameter_and_allowed_values(call, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        call()


def test_retention_is_counted_in_utc_days_back_from_today(monkeypatch):
    assert len(plan(TODAY - dt.timedelta(days=90), TODAY - dt.timedelta(days=1))) == 1  # the earliest day
    with pytest.raises(
        InvalidParameterError,
        match=r"`start` 2025-08-06 is outside Kaleyra's 90-day retention: the earliest day it keeps "
        r"analytics for is 2025-08-07",
    ):
        plan(TODAY - dt.timedelta(days=91), TODAY - dt.timedelta(days=80))
    with pytest.raises(InvalidParameterError, match="must not be before"):
        plan(TODAY, TODAY - dt.timedelta(days=1))
    # 91 days: the plan splits them in two; the hook's one request refuses them.
    assert [dict(c.fields) for c in plan(TODAY - dt.timedelta(days=90), TODAY, 365)] == [
        {"start_date": "2025-08-07", "end_date": "2025-11-04"},
        {"start_date": "2025-11-05", "end_date": "2025-11-05"},
    ]
    today = dt.datetime.now(dt.timezone.utc).date()
    with pytest.raises(
        InvalidParameterError,
        match=r"`start_date` to `end_date` spans more than one request covers \(at most 90 days\)",
    ):
        conn(monkeypatch).template_analytics_request("1090", ["1"], today - dt.timedelta(days=90), today)


# -- connection ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pod", "url"),
    [
        (None, "https://api.in.kaleyra.io"),
        ("in", "https://api.in.kaleyra.io"),
        ("sg", "https://api.ap.kaleyra.io"),
        ("EU", "https://api.eu.kaleyra.io"),
        ("na", "https://api.na.kaleyra.io"),
    ],
)
def test_pod_picks_the_domain(monkeypatch, pod, url):
    hook = conn(monkeypatch, extra={"pod": pod} if pod else {})
    assert hook.base_url() == url
    assert hook.client.settings.base_url == url


def test_pod_with_the_legacy_extra_prefix(monkeypatch):
    hook = conn(monkeypatch, extra={"extra__kaleyra_whatsapp__pod": "na"})
    assert hook.base_url() == "https://api.na.kaleyra.io"


def test_invalid_pod_names_pod_and_the_allowed_values(monkeypatch):
    hook = conn(monkeypatch, extra={"pod": "us"})
    with pytest.raises(InvalidParameterError, match="extra `pod` must be one of in, sg, eu, na, got 'us'"):
        hook.base_url()


def test_host_overrides_the_pod(monkeypatch):
    hook = conn(monkeypatch, host="https://proxy.example.com/kaleyra", extra={"pod": "eu"})
    assert hook.base_url() == "https://proxy.example.com/kaleyra"


def test_retention_days_extra(monkeypatch):
    assert conn(monkeypatch).retention_days(90) == 90
    assert conn(monkeypatch, extra={"retention_days": "30"}).retention_days(90) == 30
    with pytest.raises(InvalidParameterError, match="extra `retention_days` must be a whole number >= 1"):
        conn(monkeypatch, extra={"retention_days": 0}).retention_days(90)
    with pytest.warns(DeprecationWarning, match="`lookback_days` is now `retention_days`"):
        assert conn(monkeypatch, extra={"lookback_days": "30"}).retention_days(90) == 30
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(InvalidParameterError, match="extra `lookback_days` must be a whole number >= 1"),
    ):
        conn(monkeypatch, extra={"lookback_days": 0}).retention_days(90)


def test_missing_sid_or_key_is_reported_without_a_request(monkeypatch):
    with pytest.raises(InvalidParameterError, match="has no login"):
        _ = conn(monkeypatch, login=None).sid
    with pytest.raises(InvalidParameterError, match="has no password"):
        conn(monkeypatch, password=None).get_auth()


def test_request_is_built_with_the_vendor_names_and_checks(monkeypatch):
    hook = conn(monkeypatch)
    today = dt.datetime.now(dt.timezone.utc).date()  # the hook counts retention back from now
    yesterday = today - dt.timedelta(days=1)
    req = hook.template_analytics_request(
        "1090",
        ["1317", "156"],
        yesterday,
        today,
        product_type="cloud_api",
        metric_types=["sent"],
        limit=1,
    )
    assert req.url == "/v2/HXAP16SID97IN/whatsapp/1090/templates_analytics"
    assert dict(req.params) == {
        "whatsapp_template_ids": "1317,156",
        "start_date": yesterday.isoformat(),
        "end_date": today.isoformat(),
        "granularity": "DAILY",
        "product_type": "CLOUD_API",
        "metric_types": "SENT",
        "limit": "1",
    }
    with pytest.raises(InvalidParameterError, match="outside Kaleyra's 90-day retention"):
        hook.template_analytics_request(
            "1090", ["1"], today - dt.timedelta(days=91), today - dt.timedelta(days=90)
        )


# -- over real HTTP against the sandbox ----------------------------------------------------------
VENDOR = "kaleyra_whatsapp"
FAST = {"backoff_initial": 0.01, "backoff_max": 0.02, "max_retries": 2, "rate_limit": 1000}


@pytest.fixture
def sandbox(running_sandbox):
    running_sandbox.reset()
    running_sandbox.configure(VENDOR, paging_placement="data", default_page_size=100, counts="mixed")
    return running_sandbox


def sandbox_hook(monkeypatch, sandbox, conn_id="kaleyra_sandbox", **fields):
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sandbox.connection_json(VENDOR, **fields))
    return KaleyraWhatsAppHook(kaleyra_conn_id=conn_id, **FAST)


def days_back(first, last):
    today = dt.datetime.now(dt.timezone.utc).date()
    return today - dt.timedelta(days=first), today - dt.timedelta(days=last)


@pytest.mark.parametrize("placement", ["data", "top", "alternate"])
def test_every_page_is_followed_whichever_paging_placement(monkeypatch, sandbox, placement):
    sandbox.configure(VENDOR, paging_placement=placement)
    hook = sandbox_hook(monkeypatch, sandbox)
    ids = [f"7{n}" for n in range(10)]
    start, end = days_back(20, 16)  # 5 days x 10 templates = 50 data points
    pages = list(hook.iter_template_analytics(KALEYRA_WABA_ID, ids, start, end, limit=7))
    assert len(pages) == 8  # ceil(50 / 7)
    got = [p for page in pages for group in page.data["data"] for p in group["data_points"]]
    assert got == sandbox.app(VENDOR).data_points(KALEYRA_WABA_ID, ids, start, end)
    sent = sandbox.requests
    assert [r.query.get("after") is None for r in sent] == [True] + [False] * 7
    assert {r.query["limit"][0] for r in sent} == {"7"}


def test_request_carries_sid_in_path_api_key_and_content_type(monkeypatch, sandbox):
    hook = sandbox_hook(monkeypatch, sandbox)
    start, end = days_back(3, 2)
    list(hook.iter_template_analytics(KALEYRA_WABA_ID, ["1", "2"], start, end, metric_types=["sent", "read"]))
    (request,) = sandbox.requests
    assert request.path == f"/v2/{hook.sid}/whatsapp/{KALEYRA_WABA_ID}/templates_analytics"
    assert request.headers["api-key"] == KALEYRA_API_KEY
    assert request.headers["content-type"] == "application/json"
    assert request.query["whatsapp_template_ids"] == ["1,2"]
    assert request.query["metric_types"] == ["SENT,READ"]
    assert request.query["granularity"] == ["DAILY"]


def fails(hook, waba_id=KALEYRA_WABA_ID, ids=("1",)):
    start, end = days_back(3, 2)
    with pytest.raises(Exception) as info:
        list(hook.iter_template_analytics(waba_id, list(ids), start, end))
    assert KALEYRA_API_KEY not in str(info.value)
    return info.value


def test_wrong_sid_fails_at_once_with_rbc001(monkeypatch, sandbox):
    error = fails(sandbox_hook(monkeypatch, sandbox, login="HXWRONGSID000IN"))
    assert isinstance(error, AuthenticationError)
    assert (error.status, error.code) == (401, "RBC001")
    assert "code RBC001" in str(error) and "Incorrect SID or API key." in str(error)
    assert len(sandbox.requests) == 1  # not retried


def test_wrong_key_is_rbc001_and_never_shown(monkeypatch, sandbox):
    error = fails(sandbox_hook(monkeypatch, sandbox, password="A-wrong-key-123"))
    assert isinstance(error, AuthenticationError) and error.code == "RBC001"
    assert "A-wrong-key-123" not in str(error)


def test_account_without_the_api_is_wa_401(monkeypatch, sandbox):
    error = fails(sandbox_hook(monkeypatch, sandbox, login=KALEYRA_NO_API_SID))
    assert isinstance(error, AuthenticationError) and error.code == "WA-401"
    assert "API is not available for given customer" in str(error)


@pytest.mark.parametrize(
    ("waba_id", "text"),
    [
        ("999", "Waba_Id is not present or does not belong to the account."),
        (KALEYRA_OTHER_VERSION_WABA_ID, "associated with different Version of our WA API"),
    ],
)
def test_both_wa401_variants(monkeypatch, sandbox, waba_id, text):
    error = fails(sandbox_hook(monkeypatch, sandbox), waba_id=waba_id)
    assert isinstance(error, AuthenticationError) and error.code == "WA401"
    assert text in str(error)
    assert len(sandbox.requests) == 1


def test_insights_not_available_is_its_own_error(monkeypatch, sandbox):
    error = fails(sandbox_hook(monkeypatch, sandbox), waba_id=KALEYRA_NO_INSIGHTS_WABA_ID)
    assert isinstance(error, InsightsNotEnabledError) and error.code == "WA400"
    assert "Template Insights are not available yet for this WhatsApp Business account." in str(error)


def test_other_wa400_passes_metas_message_through(monkeypatch, sandbox):
    # Kaleyra documents no maximum of ids; Meta's (10) comes back as a WA400 "error returned from meta".
    error = fails(sandbox_hook(monkeypatch, sandbox), ids=[str(n) for n in range(11)])
    assert type(error) is ValidationError and error.code == "WA400"
    assert "error returned from meta" in str(error) and "template_ids can hold at most 10" in str(error)


def test_documented_invalid_status_wa400(monkeypatch, sandbox):
    hook = sandbox_hook(monkeypatch, sandbox)
    with pytest.raises(ValidationError, match=r"invalid status given\. valid values are : accepted, pending"):
        path = TEMPLATE_ANALYTICS.path.format(sid=hook.sid, waba_id=KALEYRA_WABA_ID)
        hook.client.request(PageRequest("GET", path, (("status", "live"),)))


def test_wa_500_is_retried_as_a_server_error(monkeypatch, sandbox):
    hook = sandbox_hook(monkeypatch, sandbox)
    error = fails(hook, waba_id=KALEYRA_SERVER_ERROR_WABA_ID)
    assert (
        isinstance(error, ServerError) and error.code == "WA-500" and "Please try again later" in str(error)
    )
    assert len(sandbox.requests) == 3  # max_retries=2


def test_a_transient_wa_500_is_survived(monkeypatch, sandbox):
    hook = sandbox_hook(monkeypatch, sandbox)
    sandbox.inject("server_error", times=2, vendor=VENDOR)
    start, end = days_back(3, 3)
    pages = list(hook.iter_template_analytics(KALEYRA_WABA_ID, ["1"], start, end))
    assert pages[0].data["code"] == "WA200"
    assert hook.client.retries == 2 and [r.status for r in sandbox.requests] == [500, 500, 200]


def test_lookback_is_checked_before_sending(monkeypatch, sandbox):
    hook = sandbox_hook(monkeypatch, sandbox, extra={"retention_days": 10})
    start, end = days_back(11, 10)
    with pytest.raises(InvalidParameterError, match="outside Kaleyra's 10-day retention"):
        list(hook.iter_template_analytics(KALEYRA_WABA_ID, ["1"], start, end))
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("fields", "ok", "text"),
    [
        ({}, True, "works"),
        ({"extra": {"waba_id": KALEYRA_WABA_ID}}, True, "works"),
        ({"login": "HXWRONGSID000IN"}, False, "RBC001"),
        ({"password": "A-wrong-key-123"}, False, "RBC001"),
        ({"login": KALEYRA_NO_API_SID}, False, "WA-401"),
        ({"extra": {"waba_id": "999"}}, False, "Waba_Id is not present"),
        (
            {"extra": {"waba_id": KALEYRA_NO_INSIGHTS_WABA_ID}},
            False,
            "Template Insights are not available yet",
        ),
        ({"extra": {"pod": "mars"}}, False, "extra `pod` must be one of in, sg, eu, na"),
    ],
)
def test_test_connection(monkeypatch, sandbox, fields, ok, text):
    result, message = sandbox_hook(monkeypatch, sandbox, **fields).test_connection()
    assert (result, text in message) == (ok, True), message
    assert "A-wrong-key-123" not in message and KALEYRA_API_KEY not in message
