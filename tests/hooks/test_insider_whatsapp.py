"""InsiderWhatsAppHook through real HTTP against the sandbox: auth, errors, retries, faults, pacing."""

from __future__ import annotations

import json

import pytest

from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InvalidParameterError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from airflow_provider_wa_analytics.hooks.insider import InsiderWhatsAppHook
from airflow_provider_wa_analytics.testing import (
    INSIDER_WHATSAPP_INACTIVE_KEY,
    INSIDER_WHATSAPP_IP_RESTRICTED_KEY,
    INSIDER_WHATSAPP_KEY,
    INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY,
    Fault,
)
from tests.conftest import EVERY_FAULT

START, END = 1740787200, 1743379200  # 2025-03-01 .. 2025-03-31
FAST = {"backoff_initial": 0.01, "backoff_max": 0.05}


@pytest.fixture
def hook(sandbox, monkeypatch):
    sandbox.reset()

    def make(password=INSIDER_WHATSAPP_KEY, **overrides):
        conn = sandbox.connection("insider_whatsapp", password=password)
        monkeypatch.setenv("AIRFLOW_CONN_INSIDER_WHATSAPP_TEST", json.dumps(conn))
        made = InsiderWhatsAppHook(insider_whatsapp_conn_id="insider_whatsapp_test", **{**FAST, **overrides})
        made.client._sleep = lambda seconds: None  # backoff waits are measured, not served, here
        return made

    return make


def test_overall_statistics_returns_the_body_as_received(hook, sandbox):
    response = hook().overall_statistics(START, END, {"statuses": ["all"]})
    assert response.data == sandbox.insider_whatsapp.overall(START, END, {"statuses": ["all"]})
    assert json.loads(response.body) == response.data
    (request,) = sandbox.requests
    assert request.headers["x-ins-auth-key"] == INSIDER_WHATSAPP_KEY
    assert request.headers["user-agent"].startswith("airflow-provider-wa-analytics/")
    assert request.json == {"start_time": START, "end_time": END, "campaign_filter": {"statuses": ["all"]}}


def test_transactional_statistics(hook, sandbox):
    response = hook().transactional_statistics(START, END, accounts=None)
    assert response.data == sandbox.insider_whatsapp.transactional(START, END)


def test_test_connection(hook):
    assert hook().test_connection() == (True, "Connection to Insider One WhatsApp works.")
    ok, message = hook(password="INS.wrong-key").test_connection()
    assert not ok and "unauthorized" in message and "INS.wrong-key" not in message


@pytest.mark.parametrize(
    ("password", "error", "code"),
    [
        ("INS.wrong-key", AuthenticationError, None),
        (INSIDER_WHATSAPP_IP_RESTRICTED_KEY, ForbiddenError, "1088"),
        (INSIDER_WHATSAPP_INACTIVE_KEY, ForbiddenError, "3007"),
    ],
)
def test_key_errors_are_typed_and_not_retried(hook, sandbox, password, error, code):
    with pytest.raises(error) as info:
        hook(password=password).overall_statistics(START, END)
    assert info.value.status in (401, 403) and info.value.code == code
    assert password not in str(info.value)
    assert len(sandbox.requests) == 1


def test_missing_key_header_maps_1001(hook, sandbox, monkeypatch):
    h = hook()
    h.client.session.auth = None  # what a proxy that strips the header would cause
    with pytest.raises(AuthenticationError) as info:
        h.overall_statistics(START, END)
    assert info.value.code == "1001"


def test_transactional_not_active_maps_3005(hook):
    with pytest.raises(ForbiddenError) as info:
        hook(password=INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY).transactional_statistics(START, END)
    assert info.value.code == "3005" and info.value.status == 403


def test_unknown_tag_name_is_a_422_validation_error(hook):
    with pytest.raises(ValidationError) as info:
        hook().overall_statistics(START, END, {"tags": [1, "no-such-tag"]})
    assert info.value.status == 422 and "no-such-tag" in str(info.value)


def test_vendor_validation_codes_are_mapped(hook):
    # A body the client would never send, to see the vendor's 3002 mapped: bypass the hook's checks.
    from airflow_provider_wa_analytics.client import PageRequest

    h = hook()
    with pytest.raises(ValidationError) as info:
        h.client.request(PageRequest("POST", "/v1/statistics/overall", json={"start_time": START}))
    assert info.value.code == "3002" and "end_time is required" in str(info.value)
    with pytest.raises(ValidationError) as info:
        h.client.request(
            PageRequest("POST", "/v1/statistics/overall", json={"start_time": "x", "end_time": END})
        )
    assert info.value.code == "3001"


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.overall_statistics(START, START),
        lambda h: h.overall_statistics(1640995200, END),
        lambda h: h.overall_statistics(START, END, {"statuses": ["running"]}),
        lambda h: h.transactional_statistics(1483228800, 1514764800 + 86400),
    ],
)
def test_bad_input_sends_nothing(hook, sandbox, call):
    with pytest.raises(InvalidParameterError):
        call(hook())
    assert sandbox.requests == []


@pytest.mark.parametrize("fault", EVERY_FAULT)
def test_transient_faults_are_retried_to_the_same_result(hook, sandbox, fault):
    h = hook(timeout=0.5)
    sandbox.inject(fault, "/v1/statistics/overall", times=2, retry_after=0)
    response = h.overall_statistics(START, END)
    assert response.data == sandbox.insider_whatsapp.overall(START, END)
    assert len(sandbox.requests) == 3 and h.client.retries == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.RATE_LIMIT, RateLimitedError),
        (Fault.SERVER_ERROR, ServerError),
        (Fault.CONNECTION_RESET, TransportError),
        (Fault.TRUNCATED, MalformedResponseError),
        (Fault.BAD_GATEWAY_HTML, ServerError),
    ],
)
def test_exhausted_retries_raise_the_typed_error(hook, sandbox, fault, error):
    sandbox.inject(fault, "/v1/statistics/overall", times=None, retry_after=0)
    with pytest.raises(error):
        hook(max_retries=2).overall_statistics(START, END)
    assert len(sandbox.requests) == 3


def test_retry_after_is_honoured(hook, sandbox):
    slept: list[float] = []
    h = hook()
    h.client._sleep = slept.append
    sandbox.inject(Fault.RATE_LIMIT, "/v1/statistics/overall", times=1, retry_after=7)
    h.overall_statistics(START, END)
    assert slept and slept[0] >= 7


def test_a_day_long_retry_after_is_capped_by_the_retry_time_left(hook, sandbox):
    slept: list[float] = []
    h = hook(max_retry_time=5)
    h.client._sleep = slept.append
    sandbox.inject(Fault.RATE_LIMIT, "/v1/statistics/overall", times=1, retry_after=86400)
    h.overall_statistics(START, END)
    assert slept and slept[0] <= 5


def test_bad_client_extras_name_the_connection(hook):
    with pytest.raises(InvalidParameterError, match="Connection 'insider_whatsapp_test': `timeout`"):
        hook(timeout=-1).client  # noqa: B018 - building the client checks the settings


def test_client_pacing_keeps_under_the_sandbox_limit(hook, sandbox):
    sandbox.set_rate_limit("insider_whatsapp", 20, per=1.0)
    try:
        h = hook(rate_limit=20)
        for _ in range(30):
            h.overall_statistics(START, START + 86400)
        assert [r.status for r in sandbox.requests] == [200] * 30
    finally:
        sandbox.set_rate_limit("insider_whatsapp", 100, per=1.0)


def test_plain_http_to_a_remote_host_is_refused(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_INSIDER_WHATSAPP_REMOTE",
        json.dumps({"conn_type": "insider_whatsapp", "password": "k", "host": "http://example.com"}),
    )
    with pytest.raises(InvalidParameterError, match="plain http"):
        InsiderWhatsAppHook("insider_whatsapp_remote").overall_statistics(START, END)
