"""The sandbox's Insider WhatsApp API, through real HTTP: auth, validation, 422s and the data invariants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.testing.insider import (
    INSIDER_WHATSAPP_ALT_SHAPE_KEY,
    INSIDER_WHATSAPP_INACTIVE_KEY,
    INSIDER_WHATSAPP_IP_RESTRICTED_KEY,
    INSIDER_WHATSAPP_KEY,
    INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY,
    InsiderWhatsAppApp,
)

DAY = 86_400
MARCH_2025 = (1740787200, 1743379200)  # the documents' sample window
OVERALL = "/v1/statistics/overall"
TRANSACTIONAL = "/v1/statistics/transactional"
TOTALS = (
    *("sent", "delivered", "open", "click", "conversion", "revenue", "drop", "targeted", "unsubscribe"),
    *("undelivered", "deliveryPending"),
)
DROP_KEYS = {
    "frequencyCapped",
    "duplicates",
    "invalidPhoneNumbers",
    "tierLimitation",
    "templateFailures",
    "pausedTemplates",
    "recipientRelatedErrors",
    "metaTemporaryErrors",
    "accountIntegrationErrors",
    "internalErrors",
    "rateLimits",
    "policyFailures",
}
UNDELIVERED_KEYS = {
    "recipientRelatedErrors",
    "accountVerificationErrors",
    "mediaErrors",
    "heldMessages",
    "metaExperiment",
    "metaErrors",
    "invalidMessages",
    "metaRecipientLimitsErrors",
    "deliveryReportMissing",
}
CHART_KEYS = [
    "dates",
    "datesAsTimestamp",
    "sent",
    "delivered",
    "open",
    "click",
    "conversion",
    "verified",
    "responses",
    "clickFromResponses",
    "conversionFromResponses",
]
DETAIL_KEYS = {
    "id",
    "status",
    "campName",
    "isConversational",
    "campaignType",
    "startsOn",
    "endsOn",
    "campaignLastDeliveryDate",
    "tags",
    "phoneNumber",
    "phoneNumberName",
    *TOTALS,
    "dropDetails",
    "undeliveredDetails",
}
TYPE_IDS = {"standard": 1, "abTest": 2, "split": 3, "transactional": 5, "other": 6}
TAG_IDS = {"promo": 1, "newsletter": 2, "vip": 3}


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Iterator[Sandbox]:
    running_sandbox.reset()
    yield running_sandbox
    running_sandbox.configure("insider_whatsapp", campaigns_per_day=2)


def post(sandbox: Sandbox, path: str, body: Any, key: str | None = INSIDER_WHATSAPP_KEY) -> requests.Response:
    headers = {"x-ins-auth-key": key} if key is not None else {}
    if isinstance(body, (bytes, str)):
        return requests.post(sandbox.url + path, data=body, headers=headers, timeout=10)
    return requests.post(sandbox.url + path, json=body, headers=headers, timeout=10)


def window(start: int, end: int, **campaign_filter: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"start_time": start, "end_time": end}
    if campaign_filter:
        body["campaign_filter"] = campaign_filter
    return body


# -- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [OVERALL, TRANSACTIONAL])
@pytest.mark.parametrize(
    ("key", "status", "expected"),
    [
        (None, 401, {"message": "authentication required", "errorCode": "1001"}),
        ("", 401, {"message": "authentication required", "errorCode": "1001"}),
        ("INS.someone-else", 401, {"message": "unauthorized", "error": {"message": "unauthorized"}}),
        (
            INSIDER_WHATSAPP_IP_RESTRICTED_KEY,
            403,
            {"message": "ip-restricted", "error": {"message": "ip-restricted", "code": 1088}},
        ),
        (
            INSIDER_WHATSAPP_INACTIVE_KEY,
            403,
            {"message": "WhatsApp product is not active", "errorCode": "3007"},
        ),
    ],
)
def test_auth_errors_have_the_documented_bodies(sandbox, path, key, status, expected):
    response = post(sandbox, path, window(*MARCH_2025), key=key)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == expected


def test_no_transactional_key_works_on_overall_only(sandbox):
    assert post(sandbox, OVERALL, window(*MARCH_2025), key=INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY).ok
    response = post(sandbox, TRANSACTIONAL, window(*MARCH_2025), key=INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY)
    assert response.status_code == 403
    assert response.json() == {"message": "transactional messaging is not active", "errorCode": "3005"}


def test_alt_shape_key_answers_the_second_documented_shape_with_the_same_totals(sandbox):
    app = sandbox.insider_whatsapp
    overall = post(sandbox, OVERALL, window(*MARCH_2025), key=INSIDER_WHATSAPP_ALT_SHAPE_KEY).json()
    summary = app.overall(*MARCH_2025)["summary"]
    expected = {"sent": summary["sent"], "delivered": summary["delivered"], "read": summary["open"]}
    assert overall == {"data": {"statistics": expected}}
    assert overall == app.overall(*MARCH_2025, alt_shape=True)
    transactional = post(
        sandbox, TRANSACTIONAL, window(*MARCH_2025), key=INSIDER_WHATSAPP_ALT_SHAPE_KEY
    ).json()
    figures = app.transactional(*MARCH_2025)
    assert transactional["data"]["statistics"] == {
        "sent": figures["sent"],
        "delivered": figures["delivered"],
        "read": figures["open"],
    }


def test_only_post_is_routed(sandbox):
    response = requests.get(
        sandbox.url + OVERALL, headers={"x-ins-auth-key": INSIDER_WHATSAPP_KEY}, timeout=10
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert requests.post(sandbox.url + "/v1/statistics/nope", timeout=10).status_code == 404


# -- parse errors (3001) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        (OVERALL, b"", "EOF"),
        (OVERALL, b"start_time=1", "invalid character 's' looking for beginning of value"),
        (OVERALL, b'{"start_time": 1740787200', "unexpected EOF"),
        (
            OVERALL,
            b"[]",
            "json: cannot unmarshal array into Go value of type statistics.OverallStatisticsRequest",
        ),
        (
            OVERALL,
            {"start_time": "1740787200", "end_time": 1743379200},
            "json: cannot unmarshal string into Go struct field OverallStatisticsRequest.start_time"
            " of type int64",
        ),
        (
            OVERALL,
            {"start_time": 1740787200, "end_time": 1743379200.5},
            "json: cannot unmarshal number 1743379200.5 into Go struct field"
            " OverallStatisticsRequest.end_time of type int64",
        ),
        (
            OVERALL,
            {"start_time": True, "end_time": 1743379200},
            "json: cannot unmarshal bool into Go struct field OverallStatisticsRequest.start_time"
            " of type int64",
        ),
        (
            OVERALL,
            window(*MARCH_2025) | {"campaign_filter": ["all"]},
            "json: cannot unmarshal array into Go struct field OverallStatisticsRequest.campaign_filter"
            " of type statistics.CampaignFilter",
        ),
        (
            OVERALL,
            window(*MARCH_2025, statuses=[1]),
            "json: cannot unmarshal number into Go struct field"
            " OverallStatisticsRequest.campaign_filter.statuses of type string",
        ),
        (
            OVERALL,
            window(*MARCH_2025, campaign_type_ids="all"),
            "json: cannot unmarshal string into Go struct field"
            " OverallStatisticsRequest.campaign_filter.campaign_type_ids of type []interface {}",
        ),
        (
            OVERALL,
            window(*MARCH_2025, show_architect="yes"),
            "json: cannot unmarshal string into Go struct field"
            " OverallStatisticsRequest.campaign_filter.show_architect of type bool",
        ),
        (
            TRANSACTIONAL,
            window(*MARCH_2025) | {"accounts": "+905000000001"},
            "json: cannot unmarshal string into Go struct field TransactionalStatisticsRequest.accounts"
            " of type []string",
        ),
    ],
)
def test_unparsable_bodies_are_3001(sandbox, path, body, errors):
    response = post(sandbox, path, body)
    assert response.status_code == 400
    assert response.json() == {"message": "failed to parse request", "errorCode": "3001", "errors": errors}


# -- validation (3002), in the documented order ----------------------------------------------------

ALLOWED_TYPES = "allowed values are: all, 1, 2, 3, 5, 6"
ALLOWED_STATUSES = "allowed values are: all, active, test, passive, completed, failed, scheduled, draft, stop"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, "start_time is required"),
        ({"end_time": 1743379200}, "start_time is required"),
        ({"start_time": 0, "end_time": 1743379200}, "start_time is required"),
        ({"start_time": None, "end_time": None}, "start_time is required"),
        ({"start_time": 1740787200}, "end_time is required"),
        (
            {"start_time": 1740787200000, "end_time": 1743379200},
            "start_time must be a 10-digit unix timestamp",
        ),
        ({"start_time": 999999999, "end_time": 1743379200}, "start_time must be a 10-digit unix timestamp"),
        ({"start_time": -1740787200, "end_time": 1743379200}, "start_time must be a 10-digit unix timestamp"),
        ({"start_time": 1740787200, "end_time": 1743379200000}, "end_time must be a 10-digit unix timestamp"),
        ({"start_time": 1740787200, "end_time": 1740787200}, "end_time must be greater than start_time"),
        ({"start_time": 1743379200, "end_time": 1740787200}, "end_time must be greater than start_time"),
        (
            {"start_time": 1704067200, "end_time": 1704067200 + 365 * DAY + 1},
            "date range cannot exceed 1 year",
        ),
        (window(*MARCH_2025, campaign_type_ids=[4]), f"invalid campaign_type_id: 4, {ALLOWED_TYPES}"),
        (window(*MARCH_2025, campaign_type_ids=[1, "x"]), f"invalid campaign_type_id: x, {ALLOWED_TYPES}"),
        (window(*MARCH_2025, campaign_type_ids=[True]), f"invalid campaign_type_id: true, {ALLOWED_TYPES}"),
        (window(*MARCH_2025, statuses=["all", "running"]), f"invalid status: running, {ALLOWED_STATUSES}"),
        (window(*MARCH_2025, statuses=["Active"]), f"invalid status: Active, {ALLOWED_STATUSES}"),
        (window(*MARCH_2025, tags=[1, 2.5]), "tag at index 1 must be a string or integer"),
        (window(*MARCH_2025, tags=[{"id": 1}]), "tag at index 0 must be a string or integer"),
        (window(*MARCH_2025, tags=[True]), "tag at index 0 must be a string or integer"),
        # The order: the window first, then types, statuses and tags.
        (
            {"start_time": 1740787200, "campaign_filter": {"campaign_type_ids": [9], "statuses": ["x"]}},
            "end_time is required",
        ),
        (
            window(*MARCH_2025, statuses=["x"], campaign_type_ids=[9]),
            f"invalid campaign_type_id: 9, {ALLOWED_TYPES}",
        ),
        (window(*MARCH_2025, statuses=["x"], tags=[None]), f"invalid status: x, {ALLOWED_STATUSES}"),
    ],
)
def test_invalid_overall_requests_are_3002_with_the_documented_message(sandbox, body, errors):
    response = post(sandbox, OVERALL, body)
    assert response.status_code == 400
    assert response.json() == {"message": "validation failed", "errorCode": "3002", "errors": errors}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"end_time": 1743379200}, "start_time is required"),
        ({"start_time": 1740787200}, "end_time is required"),
        ({"start_time": 174078720, "end_time": 1743379200}, "start_time must be a 10-digit unix timestamp"),
        ({"start_time": 1740787200, "end_time": 17433792000}, "end_time must be a 10-digit unix timestamp"),
        ({"start_time": 1743379200, "end_time": 1743379200}, "end_time must be greater than start_time"),
        ({"start_time": 1704067200, "end_time": 1704067200 + 366 * DAY}, "date range cannot exceed 1 year"),
    ],
)
def test_invalid_transactional_requests_are_3002(sandbox, body, errors):
    response = post(sandbox, TRANSACTIONAL, body)
    assert response.status_code == 400
    assert response.json() == {"message": "validation failed", "errorCode": "3002", "errors": errors}


def test_exactly_one_year_is_allowed(sandbox):
    assert post(sandbox, OVERALL, window(1704067200, 1704067200 + 365 * DAY)).status_code == 200
    assert post(sandbox, TRANSACTIONAL, window(1704067200, 1704067200 + 365 * DAY)).status_code == 200


def test_unknown_tag_names_are_422_after_validation(sandbox):
    response = post(sandbox, OVERALL, window(*MARCH_2025, tags=[42, "promo", "summer", "black-friday"]))
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {
            "campaign_filter": {"tags": ["The following tag names could not be found: summer, black-friday"]}
        },
    }
    # An unknown tag *id* is no error: it matches nothing.
    body = post(sandbox, OVERALL, window(*MARCH_2025, tags=[42])).json()
    assert body["details"] == [] and body["summary"]["sent"] == 0


def test_transactional_start_before_2018_is_422(sandbox):
    response = post(sandbox, TRANSACTIONAL, window(1514764799, 1514764799 + DAY))
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {"time.start": ["The time.start must be at least 1514764800."]},
    }
    assert post(sandbox, TRANSACTIONAL, window(1514764800, 1514764800 + DAY)).status_code == 200
    assert post(sandbox, OVERALL, window(1514764799, 1514764799 + DAY)).status_code == 200


def test_app_methods_reject_invalid_requests_like_the_server(sandbox):
    with pytest.raises(ValueError, match="date range cannot exceed 1 year"):
        sandbox.insider_whatsapp.overall(1704067200, 1704067200 + 400 * DAY)
    with pytest.raises(ValueError, match="could not be found: gold"):
        sandbox.insider_whatsapp.overall(*MARCH_2025, {"tags": ["gold"]})
    with pytest.raises(ValueError, match=r"time\.start must be at least"):
        sandbox.insider_whatsapp.transactional(1500000000, 1500000000 + DAY)


# -- the data and its invariants -------------------------------------------------------------------


def midnights(start: int, end: int) -> list[int]:
    first = start + (-start) % DAY
    return list(range(first, end, DAY))


def check_overall(body: dict[str, Any], start: int, end: int) -> None:
    """Every invariant the sandbox promises for an overall body."""
    chart, summary, details = body["chart"], body["summary"], body["details"]
    days = midnights(start, end)
    assert list(chart) == CHART_KEYS
    assert chart["datesAsTimestamp"] == days
    assert chart["dates"] == [
        dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d") for t in days
    ]
    assert all(len(chart[key]) == len(days) for key in CHART_KEYS)
    assert set(summary) == {*TOTALS, "dropDetails", "undeliveredDetails"}
    for key in ("sent", "delivered", "open", "click", "conversion"):
        assert sum(chart[key]) == summary[key] == sum(d[key] for d in details), key
    for key in TOTALS:
        assert summary[key] == sum(d[key] for d in details), key
    for figures in [summary, *details]:
        assert figures["targeted"] == figures["sent"] + figures["drop"]
        assert figures["sent"] == figures["delivered"] + figures["undelivered"]
        assert set(figures["dropDetails"]) == DROP_KEYS
        assert set(figures["undeliveredDetails"]) == UNDELIVERED_KEYS
        assert sum(figures["dropDetails"].values()) == figures["drop"]
        assert sum(figures["undeliveredDetails"].values()) == figures["undelivered"]
        assert figures["delivered"] >= figures["open"] >= figures["click"] >= figures["conversion"] >= 0
    for key in DROP_KEYS:
        assert summary["dropDetails"][key] == sum(d["dropDetails"][key] for d in details)
    for key in UNDELIVERED_KEYS:
        assert summary["undeliveredDetails"][key] == sum(d["undeliveredDetails"][key] for d in details)
    assert len({d["id"] for d in details}) == len(details)
    for d in details:
        extra = {"responses", "responseSummary"} if d["isConversational"] else set()
        assert set(d) == DETAIL_KEYS | extra
        assert any(start <= t < end for t in range(d["startsOn"], d["endsOn"], DAY)), "no day in the window"
        assert d["campaignType"] in TYPE_IDS
        assert all(TAG_IDS[tag["name"]] == tag["id"] for tag in d["tags"])
    conversational = [d for d in details if d["isConversational"]]
    assert sum(chart["responses"]) == sum(d["responseSummary"]["buttonClick"] for d in conversational)
    clicks = sum(r["click"] for d in conversational for r in d["responses"])
    conversions = sum(r["conversion"] for d in conversational for r in d["responses"])
    assert sum(chart["clickFromResponses"]) == clicks
    assert sum(chart["conversionFromResponses"]) == conversions
    for d in conversational:
        responses, response_summary = d["responses"], d["responseSummary"]
        assert [r["cardId"] for r in responses] == list(range(1, len(responses) + 1))
        for key in ("sent", "open", "click", "conversion"):
            assert response_summary[key] == sum(r[key] for r in responses)
        assert response_summary["buttonClick"] == sum(
            r["sent"] for r in responses if not r["isNoReplyMessage"]
        )


WINDOWS = {
    "march-2025": MARCH_2025,
    "one-day": (1740787200, 1740787200 + DAY),
    "unaligned": (1740787200 + 12 * 3600, 1740787200 + 3 * DAY + 12 * 3600),
    "ends-at-midnight": (1740787200 - 1, 1740787200 + 2 * DAY),
    "no-midnight": (1740787200 + 3600, 1740787200 + 20 * 3600),
    "leap-year": (1704067200, 1704067200 + 365 * DAY),
}


@pytest.mark.parametrize("name", WINDOWS)
def test_overall_invariants_over_windows(sandbox, name):
    start, end = WINDOWS[name]
    response = post(sandbox, OVERALL, window(start, end))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    check_overall(body, start, end)
    assert body == sandbox.insider_whatsapp.overall(start, end)
    if name == "no-midnight":
        assert body["details"] == [] and body["chart"]["dates"] == [] and body["summary"]["sent"] == 0


FILTERS: dict[str, dict[str, Any]] = {
    "all": {"campaign_type_ids": ["all"], "statuses": ["all"]},
    "types": {"campaign_type_ids": [1, "2", 5]},
    "statuses": {"statuses": ["completed", "active", "draft"]},
    "accounts": {"accounts": ["+905000000001", "+905000000003"]},
    "tags": {"tags": [1, "vip"]},
    "architect": {"show_architect": True},
    "combined": {"campaign_type_ids": [1, 3], "statuses": ["all"], "tags": ["promo"], "show_architect": True},
    "empty-lists": {"campaign_type_ids": [], "statuses": [], "accounts": [], "tags": []},
}


def visible_match(detail: dict[str, Any], campaign_filter: dict[str, Any]) -> bool:
    types = [t for t in campaign_filter.get("campaign_type_ids") or [] if t != "all"]
    statuses = [s for s in campaign_filter.get("statuses") or [] if s != "all"]
    if "all" in (campaign_filter.get("campaign_type_ids") or []):
        types = []
    if "all" in (campaign_filter.get("statuses") or []):
        statuses = []
    tag_ids = {t if isinstance(t, int) else TAG_IDS[t] for t in campaign_filter.get("tags") or []}
    return (
        (not types or TYPE_IDS[detail["campaignType"]] in {int(t) for t in types})
        and (not statuses or detail["status"] in statuses)
        and (not campaign_filter.get("accounts") or detail["phoneNumber"] in campaign_filter["accounts"])
        and (not tag_ids or any(tag["id"] in tag_ids for tag in detail["tags"]))
    )


@pytest.mark.parametrize("name", FILTERS)
def test_filters_apply_to_chart_summary_and_details_alike(sandbox, name):
    campaign_filter = FILTERS[name]
    start, end = MARCH_2025
    body = post(sandbox, OVERALL, window(start, end, **campaign_filter)).json()
    check_overall(body, start, end)
    # The filtered details are exactly the matching rows of the unfiltered answer (same architect choice).
    everything = sandbox.insider_whatsapp.overall(
        start, end, {"show_architect": bool(campaign_filter.get("show_architect"))}
    )
    assert body["details"] == [d for d in everything["details"] if visible_match(d, campaign_filter)]
    assert body["details"], "the filter should match some campaigns in a month"


def test_architect_campaigns_only_come_with_show_architect(sandbox):
    without = sandbox.insider_whatsapp.overall(*MARCH_2025)
    with_architect = sandbox.insider_whatsapp.overall(*MARCH_2025, {"show_architect": True})
    ids_without = {d["id"] for d in without["details"]}
    ids_with = {d["id"] for d in with_architect["details"]}
    assert ids_without < ids_with
    assert with_architect["summary"]["sent"] > without["summary"]["sent"]


def test_the_data_covers_every_documented_kind(sandbox):
    details = sandbox.insider_whatsapp.overall(*MARCH_2025, {"show_architect": True})["details"]
    assert {d["campaignType"] for d in details} == set(TYPE_IDS)
    assert {d["phoneNumber"] for d in details} == {"+905000000001", "+905000000002", "+905000000003"}
    assert {tag["name"] for d in details for tag in d["tags"]} == set(TAG_IDS)
    assert {"completed", "active", "draft", "scheduled"} <= {d["status"] for d in details}
    assert any(d["isConversational"] for d in details)
    assert any(r["isNoReplyMessage"] for d in details if d["isConversational"] for r in d["responses"])
    silent = [d for d in details if d["status"] in ("draft", "scheduled")]
    assert all(d["sent"] == 0 and d["campaignLastDeliveryDate"] == 0 for d in silent)


def test_transactional_is_the_type_5_campaigns_in_the_flat_shape(sandbox):
    start, end = MARCH_2025
    body = post(sandbox, TRANSACTIONAL, window(start, end)).json()
    assert list(body) == [
        "sent",
        "delivered",
        "open",
        "click",
        "conversion",
        "revenue",
        "drop",
        "targeted",
        "unsubscribe",
        "undelivered",
        "chart",
        "dropDetails",
        "undeliveredDetails",
    ]
    assert body == sandbox.insider_whatsapp.transactional(start, end)
    overall = sandbox.insider_whatsapp.overall(start, end, {"campaign_type_ids": [5], "show_architect": True})
    for key in TOTALS[:-1]:
        assert body[key] == overall["summary"][key], key
    assert body["chart"] == overall["chart"]
    assert body["dropDetails"] == overall["summary"]["dropDetails"]
    assert body["undeliveredDetails"] == overall["summary"]["undeliveredDetails"]
    assert body["sent"] > 0


def test_transactional_accounts_filter(sandbox):
    start, end = MARCH_2025
    accounts = ["+905000000002"]
    body = post(sandbox, TRANSACTIONAL, window(start, end) | {"accounts": accounts}).json()
    overall = sandbox.insider_whatsapp.overall(start, end, {"campaign_type_ids": [5], "accounts": accounts})
    assert body["sent"] == overall["summary"]["sent"] > 0
    assert body["sent"] < sandbox.insider_whatsapp.transactional(start, end)["sent"]
    assert body == sandbox.insider_whatsapp.transactional(start, end, accounts)


def test_campaigns_per_day_is_configurable_and_ids_are_stable(sandbox):
    start, end = 1740787200, 1740787200 + DAY
    few = post(sandbox, OVERALL, window(start, end, show_architect=True)).json()["details"]
    sandbox.configure("insider_whatsapp", campaigns_per_day=10)
    many = post(sandbox, OVERALL, window(start, end, show_architect=True)).json()["details"]
    assert len(many) > len(few)
    by_id = {d["id"]: d for d in many}
    assert all(by_id[d["id"]] == d for d in few), "a campaign does not change when more are generated"
    sandbox.configure("insider_whatsapp", campaigns_per_day=0)
    assert post(sandbox, OVERALL, window(start, end)).json()["details"] == []
    with pytest.raises(ValueError, match="campaigns_per_day"):
        sandbox.configure("insider_whatsapp", campaigns_per_day=-1)


def test_data_is_a_pure_function_of_the_seed():
    window_ = MARCH_2025
    assert InsiderWhatsAppApp(seed=7).overall(*window_) == InsiderWhatsAppApp(seed=7).overall(*window_)
    assert InsiderWhatsAppApp(seed=7).overall(*window_) != InsiderWhatsAppApp(seed=8).overall(*window_)
    # A window's figures are the sum of its parts: day by day gives the same totals as the month.
    app = InsiderWhatsAppApp()
    month = app.overall(*window_)["summary"]
    days = [app.overall(t, t + DAY)["summary"] for t in range(window_[0], window_[1], DAY)]
    for key in TOTALS:
        assert month[key] == sum(day[key] for day in days), key


def test_bench_sized_days_stay_consistent():
    app = InsiderWhatsAppApp(campaigns_per_day=1000)
    start = 1740787200
    body = app.overall(start, start + DAY, {"show_architect": True})
    check_overall(body, start, start + DAY)
    assert len(body["details"]) > 1000


@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(min_value=1514764800, max_value=1800000000),
    length=st.integers(min_value=1, max_value=365 * DAY),
    types=st.lists(st.sampled_from([1, 2, 3, 5, 6, "all"]), max_size=3),
    statuses=st.lists(st.sampled_from(["all", "active", "completed", "stop", "draft"]), max_size=3),
    tags=st.lists(st.sampled_from([1, 2, 3, "promo", "vip"]), max_size=2),
    show_architect=st.booleans(),
)
def test_invariants_hold_for_any_window_and_filter(start, length, types, statuses, tags, show_architect):
    app = InsiderWhatsAppApp(seed=3)
    campaign_filter = {
        "campaign_type_ids": types,
        "statuses": statuses,
        "tags": tags,
        "show_architect": show_architect,
    }
    body = app.overall(start, start + length, campaign_filter)
    check_overall(body, start, start + length)
    assert all(visible_match(d, campaign_filter) for d in body["details"])
