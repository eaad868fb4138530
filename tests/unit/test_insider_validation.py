"""Insider WhatsApp parameters are checked before sending, in the vendor's words, naming the parameter."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.insider import (
    OVERALL,
    TRANSACTIONAL,
    InsiderWhatsAppHook,
    check_campaign_filter,
)


@pytest.mark.parametrize(
    ("campaign_filter", "message"),
    [
        (
            {"campaign_type_ids": [4]},
            r"campaign_type_ids`: invalid campaign_type_id: 4, allowed values are: all, 1, 2, 3, 5, 6",
        ),
        # A string is now a comma-separated list (test_good_filters_pass_and_normalize); other scalars fail.
        (
            {"campaign_type_ids": 5},
            r"`campaign_filter\.campaign_type_ids` must be a list \(or a comma-separated string\), got int",
        ),
        (
            {"campaign_type_ids": "all, 4"},
            r"invalid campaign_type_id: 4, allowed values are: all, 1, 2, 3, 5, 6",
        ),
        ({"campaign_type_ids": [True]}, r"invalid campaign_type_id: True"),
        (
            {"statuses": ["running"]},
            r"statuses`: invalid status: running, allowed values are: all, active, test",
        ),
        (
            {"statuses": True},
            r"`campaign_filter\.statuses` must be a list \(or a comma-separated string\), got bool",
        ),
        (
            {"statuses": "active,running"},
            r"statuses`: invalid status: running, allowed values are: all, active, test",
        ),
        ({"tags": [42, "promo", 1.5]}, r"tags`: tag at index 2 must be a string or integer"),
        ({"tags": [None]}, r"tag at index 0 must be a string or integer"),
        ({"accounts": [123]}, r"accounts\[0\]` must be a sender phone number"),
        (
            {"accounts": 905},
            r"`campaign_filter\.accounts` must be a list \(or a comma-separated string\), got int",
        ),
        ({"tags": 42}, r"`campaign_filter\.tags` must be a list \(or a comma-separated string\), got int"),
        ({"show_architect": "yes"}, r"show_architect` must be true or false"),
        (
            {"campaign_types": ["all"]},
            r"unknown key\(s\) campaign_types; allowed keys are: campaign_type_ids",
        ),
        (["all"], r"`campaign_filter` must be a dict"),
        ("{not json", r"`campaign_filter` must be a dict \(or its JSON\)"),
    ],
)
def test_bad_campaign_filters_are_refused(campaign_filter, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_campaign_filter(campaign_filter)


def test_good_filters_pass_and_normalize():
    assert check_campaign_filter(None) is None
    assert check_campaign_filter({}) is None
    assert check_campaign_filter({"campaign_type_ids": ["all", "5", 1], "tags": [42, "promo"]}) == {
        "campaign_type_ids": ["all", 5, 1],
        "tags": [42, "promo"],
    }
    assert check_campaign_filter('{"statuses": ["all"]}') == {"statuses": ["all"]}
    # Deliberate change: like the other vendors' lists, these accept comma-separated strings.
    assert check_campaign_filter({"campaign_type_ids": "all"}) == {"campaign_type_ids": ["all"]}
    assert check_campaign_filter({"campaign_type_ids": "1, 5"}) == {"campaign_type_ids": [1, 5]}
    assert check_campaign_filter({"statuses": "all"}) == {"statuses": ["all"]}
    assert check_campaign_filter({"statuses": "active,test"}) == {"statuses": ["active", "test"]}
    assert check_campaign_filter({"accounts": "+905000000001, +905000000002"}) == {
        "accounts": ["+905000000001", "+905000000002"]
    }
    assert check_campaign_filter({"tags": "promo"}) == {"tags": ["promo"]}
    # Through the endpoints, as the hooks and the operators check them.
    assert OVERALL.query({"campaign_filter": {"statuses": "all"}})["campaign_filter"] == {"statuses": ["all"]}
    assert OVERALL.query({})["campaign_filter"] is None
    assert TRANSACTIONAL.query({"accounts": "+905000000001"})["accounts"] == ["+905000000001"]
    with pytest.raises(InvalidParameterError, match=r"`campaign_filter` has unknown key\(s\) campaign_types"):
        OVERALL.query({"campaign_filter": {"campaign_types": ["all"]}})
    with pytest.raises(InvalidParameterError, match=r"`accounts\[0\]` must be a sender phone number"):
        TRANSACTIONAL.query({"accounts": [123]})


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (174078720, 1743379200, "`start_time` must be a 10-digit unix timestamp"),
        (1740787200, 17433792000, "`end_time` must be a 10-digit unix timestamp"),
        ("1740787200", 1743379200, "`start_time` must be a 10-digit"),
        (True, 1743379200, "`start_time` must be a 10-digit"),
        (1743379200, 1740787200, "`end_time` must be greater than start_time"),
        (1743379200, 1743379200, "`end_time` must be greater than start_time"),
    ],
)
def test_bad_times_are_refused(start, end, message):
    with pytest.raises(InvalidParameterError, match=message):
        OVERALL.window.of(start, end)


NOW = dt.datetime(2025, 4, 1, tzinfo=dt.timezone.utc)


def test_one_request_covers_at_most_a_year():
    query = OVERALL.query({})
    (call,) = OVERALL.plan(query, OVERALL.window.of(1709251200, 1740787200), now=NOW, retention_days=None)
    assert dict(call.fields) == {"start_time": 1709251200, "end_time": 1740787200}  # 365 days: one request
    calls = OVERALL.plan(query, OVERALL.window.of(1640995200, 1740787200), now=NOW, retention_days=None)
    assert [dict(c.fields) for c in calls] == [
        {"start_time": 1640995200, "end_time": 1672531200},
        {"start_time": 1672531200, "end_time": 1704067200},
        {"start_time": 1704067200, "end_time": 1735603200},
        {"start_time": 1735603200, "end_time": 1740787200},
    ]


def test_a_hook_method_refuses_more_than_a_year_before_sending(monkeypatch):
    conn = {"conn_type": "insider_whatsapp", "host": "http://127.0.0.1:9", "password": "k"}
    monkeypatch.setenv("AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT", json.dumps(conn))
    with pytest.raises(
        InvalidParameterError,
        match=r"`start_time` to `end_time` spans more than one request covers \(1 year\); "
        r"the operators split",
    ):
        InsiderWhatsAppHook().overall_statistics(1640995200, 1740787200)
    with pytest.raises(
        InvalidParameterError,
        match=r"`start` \(2017-12-31T00:00:00\+00:00\) is before 2018-01-01T00:00:00\+00:00, "
        r"the earliest date Insider One keeps transactional statistics for",
    ):
        InsiderWhatsAppHook().transactional_statistics(1514678400, 1514764800 + 86400)
