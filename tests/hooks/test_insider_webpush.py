"""InsiderWebPushHook: parameter checks, partner ID, Bearer auth and every documented error over real HTTP."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_wa_analytics.client import RATE_HEADROOM, PageRequest
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from airflow_provider_wa_analytics.hooks.insider import CAMPAIGN_METRICS, InsiderWebPushHook
from airflow_provider_wa_analytics.testing import Fault
from airflow_provider_wa_analytics.testing.webpush import (
    INSIDER_WEBPUSH_PARTNER_ID,
    INSIDER_WEBPUSH_TOKEN,
    INSIDER_WEBPUSH_UPSTREAM_FAILURE_CAMPAIGN_ID,
)
from tests.conftest import unmetered

VENDOR = "insider_webpush"
PATH = "/v1/statistics/campaign-metrics"
FIRST, LAST = dt.date(2025, 3, 1), dt.date(2025, 3, 7)
FAST = {"backoff_initial": 0.01, "backoff_max": 0.02, "max_retries": 2, "rate_limit": 1000}


# -- parameters (no I/O) --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["10001", 10002], ["10001", "10002"]),
        (("10001", "10001", "10002"), ["10001", "10002"]),  # a duplicate would double rows
        ("['10001', '10002']", ["10001", "10002"]),  # a list rendered by a template
        ("[10001, 10002]", ["10001", "10002"]),
        ("10001,10002", ["10001", "10002"]),
        ([], []),
    ],
)
def test_campaign_ids_accept_lists_and_rendered_lists(value, expected):
    assert CAMPAIGN_METRICS.query({"campaign_ids": value})["campaign_ids"] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10001, r"`campaign_ids` must be a list \(or a comma-separated string\), got int"),
        (
            "{{ var.value.ids }}",
            r"`campaign_ids\[0\]` must be a numeric campaign ID \(the builderId, e\.g\. '11111'\), "
            r"got '\{\{ var\.value\.ids \}\}'",
        ),
        (["10001", "abc"], r"`campaign_ids\[1\]` must be a numeric campaign ID .*got 'abc'"),
        ([True], r"`campaign_ids\[0\]` must be a numeric campaign ID .*got True"),
        ([None], r"`campaign_ids\[0\]` must be a numeric campaign ID .*got None"),
    ],
)
def test_bad_campaign_ids_name_the_parameter(value, message):
    with pytest.raises(InvalidParameterError, match=message):
        CAMPAIGN_METRICS.query({"campaign_ids": value})


def date_range(start, end):
    return CAMPAIGN_METRICS.window.send(CAMPAIGN_METRICS.window.of(start, end))


def test_dates_become_the_bodys_strings():
    assert date_range(FIRST, "2025-03-07") == {"start_date": "2025-03-01", "end_date": "2025-03-07"}
    assert date_range(FIRST, FIRST) == {"start_date": "2025-03-01", "end_date": "2025-03-01"}
    # One request per campaign for the whole window (the endpoint documents no longest range).
    query = CAMPAIGN_METRICS.query({"campaign_ids": ["10001", "10002"]})
    calls = CAMPAIGN_METRICS.plan(
        query,
        CAMPAIGN_METRICS.window.of(FIRST, LAST),
        now=dt.datetime(2025, 3, 8, tzinfo=dt.timezone.utc),
        retention_days=None,
    )
    assert [c.params for c in calls] == [
        {"start_date": "2025-03-01", "end_date": "2025-03-07", "campaign_ids": ["10001"]},
        {"start_date": "2025-03-01", "end_date": "2025-03-07", "campaign_ids": ["10002"]},
    ]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-3-1", LAST, "`start_date` must be a date in YYYY-MM-DD format, got '2025-3-1'"),
        (FIRST, "2025-02-30", "`end_date` must be a date in YYYY-MM-DD format"),
        (FIRST, 20250307, "`end_date` must be a date in YYYY-MM-DD format"),
        (LAST, FIRST, r"`end_date` \(2025-03-01\) must not be before `start_date` \(2025-03-07\)"),
    ],
)
def test_bad_dates_are_refused(start, end, message):
    with pytest.raises(InvalidParameterError, match=message):
        date_range(start, end)


def test_default_rate_limit_is_the_documented_30_per_minute(monkeypatch):
    conn = {"conn_type": VENDOR, "login": "1", "password": "t0ken-value"}
    monkeypatch.setenv("AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT", json.dumps(conn))
    assert InsiderWebPushHook().client.settings.rate_limit == 0.5
    budget = InsiderWebPushHook().client.limiter
    assert (budget.requests, budget.seconds) == (1, 2)  # 30 per minute: 1 per 2 s, no burst
    assert budget.local.rate == pytest.approx(0.5 * (1 - RATE_HEADROOM))
    monkeypatch.setenv(
        "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT", json.dumps({**conn, "extra": {"rate_limit": 2}})
    )
    assert InsiderWebPushHook().client.settings.rate_limit == 2


# -- over real HTTP against the sandbox ---------------------------------------------------------
@pytest.fixture
def sandbox(running_sandbox):
    yield from unmetered(running_sandbox, VENDOR, 30, 60)


@pytest.fixture
def hook(sandbox, monkeypatch):
    def make(**fields):
        monkeypatch.setenv("AIRFLOW_CONN_WEBPUSH_TEST", sandbox.connection_json(VENDOR, **fields))
        return InsiderWebPushHook(insider_webpush_conn_id="webpush_test", **FAST)

    return make


def campaign(sandbox, i=0):
    return sandbox.app(VENDOR).campaign_ids[i]


def test_campaign_metrics_sends_the_documented_request(sandbox, hook):
    response = hook().campaign_metrics(int(campaign(sandbox)), FIRST, "2025-03-07")
    assert response.data == sandbox.app(VENDOR).campaign_metrics(campaign(sandbox), FIRST, LAST)
    assert json.loads(response.body) == response.data
    (request,) = sandbox.requests
    assert (request.method, request.path) == ("POST", PATH)
    assert request.headers["authorization"] == f"Bearer {INSIDER_WEBPUSH_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "partner_id": INSIDER_WEBPUSH_PARTNER_ID,
        "start_date": "2025-03-01",
        "end_date": "2025-03-07",
        "campaign_id": campaign(sandbox),
    }


def test_partner_id_argument_wins_over_the_connection_login(sandbox, hook):
    with pytest.raises(NotFoundError):  # the sandbox has no campaigns for another partner
        hook().campaign_metrics(campaign(sandbox), FIRST, LAST, partner_id="20000002")
    assert sandbox.requests[0].json["partner_id"] == "20000002"


def test_no_partner_id_anywhere_fails_before_sending(sandbox, hook):
    with pytest.raises(
        InvalidParameterError, match="`partner_id` is not set: pass `partner_id` or set the login"
    ):
        hook(login=None).campaign_metrics(campaign(sandbox), FIRST, LAST)
    assert sandbox.requests == []


def test_start_after_end_fails_before_sending(sandbox, hook):
    with pytest.raises(InvalidParameterError, match="must not be before `start_date`"):
        hook().campaign_metrics(campaign(sandbox), LAST, FIRST)
    assert sandbox.requests == []


def test_wrong_token_is_an_authentication_error_at_once_and_never_shown(sandbox, hook):
    with pytest.raises(AuthenticationError) as info:
        hook(password="a-wrong-token-123").campaign_metrics(campaign(sandbox), FIRST, LAST)
    assert isinstance(info.value, PermanentError)  # Airflow does not use the task's retries either
    assert info.value.status == 401 and "Unauthorized" in str(info.value)
    assert "a-wrong-token-123" not in str(info.value)
    assert len(sandbox.requests) == 1  # not retried


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (
            {"start_date": "2025-03-01", "end_date": "2025-03-07", "campaign_id": "10001"},
            "partner_id field is required",
        ),
        (
            {"partner_id": "1", "start_date": "2025/03/01", "end_date": "2025-03-07", "campaign_id": "1"},
            "format Y-m-d",
        ),
        (
            {"partner_id": "1", "start_date": "2025-03-08", "end_date": "2025-03-07", "campaign_id": "1"},
            "before or equal",
        ),
    ],
)
def test_the_vendors_400s_are_validation_errors_with_their_cause(sandbox, hook, body, cause):
    # Sent as is, past the hook's own checks, to see how a vendor 400 surfaces.
    with pytest.raises(ValidationError, match=cause) as info:
        hook().client.request(PageRequest("POST", PATH, json=body))
    assert info.value.status == 400
    assert len(sandbox.requests) == 1


def test_unknown_campaign_is_not_found_and_not_retried(sandbox, hook):
    with pytest.raises(NotFoundError, match="SERVICE:-Campaign not found") as info:
        hook().campaign_metrics("99", FIRST, LAST)
    assert info.value.status == 424
    assert len(sandbox.requests) == 1


def test_a_424_from_a_failing_upstream_is_retried_as_a_server_error(sandbox, hook):
    with pytest.raises(ServerError, match="Upstream dependency failed"):
        hook().campaign_metrics(INSIDER_WEBPUSH_UPSTREAM_FAILURE_CAMPAIGN_ID, FIRST, LAST)
    assert len(sandbox.requests) == 1 + FAST["max_retries"]


def test_a_429_is_retried_after_retry_after(sandbox, hook):
    sandbox.inject(Fault.RATE_LIMIT, PATH, retry_after=0)
    response = hook().campaign_metrics(campaign(sandbox), FIRST, LAST)
    assert response.status == 200
    assert [r.status for r in sandbox.requests] == [429, 200]


def test_the_sandbox_limit_answers_429_that_surfaces_as_rate_limited(sandbox, monkeypatch):
    sandbox.set_rate_limit(VENDOR, 2, 60)
    monkeypatch.setenv("AIRFLOW_CONN_WEBPUSH_TEST", sandbox.connection_json(VENDOR))
    hook = InsiderWebPushHook(insider_webpush_conn_id="webpush_test", **{**FAST, "max_retries": 0})
    for _ in range(2):
        hook.campaign_metrics(campaign(sandbox), FIRST, LAST)
    with pytest.raises(RateLimitedError, match="Request limit exceeded") as info:
        hook.campaign_metrics(campaign(sandbox), FIRST, LAST)
    assert info.value.status == 429 and info.value.retry_after >= 1


def test_test_connection(sandbox, hook):
    assert hook().test_connection() == (True, "Connection to Insider One Web Push works.")
    assert sandbox.requests[-1].status == 424  # a campaign that cannot exist: the token was accepted
    ok, message = hook(password="a-wrong-token-123").test_connection()
    assert not ok and "Unauthorized" in message and "a-wrong-token-123" not in message
    ok, message = hook(login=None).test_connection()
    assert not ok and "partner_id" in message
