"""The sandbox's Insider One Web Push API through real HTTP: auth, 400 causes, 424, 429 and the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wa_analytics.testing.webpush import (
    INSIDER_WEBPUSH_PARTNER_ID,
    INSIDER_WEBPUSH_TOKEN,
    InsiderWebPushApp,
)
from tests.conftest import unmetered

VENDOR = "insider_webpush"
PATH = "/v1/statistics/campaign-metrics"
BODY = {"partner_id": INSIDER_WEBPUSH_PARTNER_ID, "start_date": "2025-03-01", "end_date": "2025-03-07"}
AUTH = {"Authorization": f"Bearer {INSIDER_WEBPUSH_TOKEN}"}


@pytest.fixture
def sandbox(running_sandbox):
    yield from unmetered(running_sandbox, VENDOR, 30, 60)


@pytest.fixture
def app(sandbox) -> InsiderWebPushApp:
    app = sandbox.app(VENDOR)
    assert isinstance(app, InsiderWebPushApp)
    return app


def post(sandbox, body, headers=AUTH):
    return requests.post(sandbox.url + PATH, json=body, headers=headers, timeout=10)


def test_a_known_campaign_answers_the_documented_shape(sandbox, app, vendor_sample):
    campaign = app.campaign_ids[0]
    answer = post(sandbox, {**BODY, "campaign_id": campaign})
    assert answer.status_code == 200
    assert answer.json() == app.campaign_metrics(campaign, dt.date(2025, 3, 1), dt.date(2025, 3, 7))
    # Same keys at every level as the document's 200 sample.
    sample = vendor_sample("insider_webpush_campaign_metrics_200.json")
    assert shape(answer.json()) == shape(sample)


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


def test_every_figure_is_a_string_as_documented(sandbox, app):
    body = post(sandbox, {**BODY, "campaign_id": app.campaign_ids[1]}).json()
    overview = body["overview"]
    assert re.fullmatch(r"\d+\.\d\d%", overview["total"]["deliveryRate"])
    assert re.fullmatch(r"\d+(\.\d\d)? TRY", overview["revenue"])
    assert all(isinstance(v, str) for device in body["deviceMetrics"] for k, v in device.items())


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": INSIDER_WEBPUSH_TOKEN}]
)
def test_missing_or_wrong_token_is_401(sandbox, app, headers):
    answer = post(sandbox, {**BODY, "campaign_id": app.campaign_ids[0]}, headers=headers)
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"campaign_id": None}, "The campaign_id field is required."),
        ({"partner_id": ""}, "The partner_id field is required."),
        ({"start_date": None}, "The start_date field is required."),
        ({"campaign_id": 10001}, "The campaign_id field must be a string."),
        ({"start_date": "2025-3-1"}, "The start_date does not match the format Y-m-d."),
        ({"end_date": "2025-02-30"}, "The end_date does not match the format Y-m-d."),
        ({"end_date": "01.03.2025"}, "The end_date does not match the format Y-m-d."),
        ({"start_date": "2025-03-08"}, "The start_date must be a date before or equal to end_date."),
    ],
)
def test_validation_failures_are_400_with_their_cause(sandbox, change, message):
    body = {k: v for k, v in {**BODY, "campaign_id": "10001", **change}.items() if v is not None}
    answer = post(sandbox, body)
    assert (answer.status_code, answer.json()) == (400, {"message": message})


def test_a_body_that_is_not_an_object_is_400(sandbox):
    answer = requests.post(sandbox.url + PATH, data=b"[1]", headers=AUTH, timeout=10)
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "change", [{"campaign_id": "99"}, {"campaign_id": "10001", "partner_id": "20000002"}]
)
def test_unknown_campaign_or_other_partner_is_424(sandbox, change):
    answer = post(sandbox, {**BODY, **change})
    assert (answer.status_code, answer.json()) == (424, {"message": "SERVICE:-Campaign not found"})


def test_only_post_is_allowed(sandbox):
    answer = requests.get(sandbox.url + PATH, headers=AUTH, timeout=10)
    assert answer.status_code == 405


def test_the_documented_30_per_minute_and_a_configurable_limit(sandbox, app):
    assert InsiderWebPushApp.default_rate_limit == (30.0, 60.0)
    sandbox.set_rate_limit(VENDOR, 3, 60)
    statuses = [post(sandbox, {**BODY, "campaign_id": app.campaign_ids[0]}) for _ in range(4)]
    assert [a.status_code for a in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json() == {"message": "Request limit exceeded"}
    assert int(statuses[-1].headers["Retry-After"]) >= 1


def test_the_data_is_deterministic_and_depends_on_the_seed():
    first, last = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    assert InsiderWebPushApp().campaign_metrics("10001", first, last) == InsiderWebPushApp().campaign_metrics(
        "10001", first, last
    )
    assert InsiderWebPushApp(seed=1).campaign_metrics(
        "10001", first, last
    ) != InsiderWebPushApp().campaign_metrics("10001", first, last)


def test_campaigns_option():
    app = InsiderWebPushApp(campaigns=3)
    assert app.campaign_ids == ["10001", "10002", "10003"]
    app.configure(campaigns=1)
    assert app.exists("10001") and not app.exists("10002")
    with pytest.raises(TypeError):
        app.configure(pages=2)


def n(text):
    return int(text) if not text.endswith(("%", "TRY")) else float(text.split()[0].rstrip("%"))


@settings(max_examples=60, deadline=None)
@given(
    campaign=st.integers(10001, 10250),
    start=st.dates(dt.date(2023, 1, 1), dt.date(2026, 12, 31)),
    days=st.integers(0, 40),
)
def test_devices_sum_to_the_overview_and_reasons_to_their_totals(campaign, start, days):
    body = InsiderWebPushApp().campaign_metrics(str(campaign), start, start + dt.timedelta(days=days))
    overview, devices = body["overview"], body["deviceMetrics"]
    for key, total in (
        ("sent", overview["targeted"]["sent"]),
        ("delivered", overview["deliveryRate"]["delivered"]),
        ("clicks", overview["ctr"]["clicks"]),
        ("conversions", overview["conversionRate"]["conversions"]),
    ):
        assert sum(n(d[key]) for d in devices) == n(total), key
    assert round(sum(n(d["revenue"]) for d in devices), 2) == n(overview["revenue"])
    dropped = body["unsuccessfulMessages"]["dropped"]
    undelivered = body["unsuccessfulMessages"]["undelivered"]
    assert sum(n(r["count"]) for r in dropped) == n(overview["targeted"]["dropped"])
    assert sum(n(r["count"]) for r in undelivered) == n(overview["deliveryRate"]["undelivered"])
    assert n(overview["total"]["targeted"]) == n(overview["targeted"]["sent"]) + n(
        overview["targeted"]["dropped"]
    )
    assert n(overview["targeted"]["sent"]) == n(overview["deliveryRate"]["delivered"]) + n(
        overview["deliveryRate"]["undelivered"]
    )
