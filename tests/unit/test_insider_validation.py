"""Insider WhatsApp parameters are checked before sending, in the vendor's words, naming the parameter."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.insider import check_campaign_filter, check_times


@pytest.mark.parametrize(
    ("campaign_filter", "message"),
    [
        (
            {"campaign_type_ids": [4]},
            r"campaign_type_ids`: invalid campaign_type_id: 4, allowed values are: all, 1, 2, 3, 5, 6",
        ),
        ({"campaign_type_ids": "all"}, r"campaign_type_ids` must be a list"),
        ({"campaign_type_ids": [True]}, r"invalid campaign_type_id: True"),
        (
            {"statuses": ["running"]},
            r"statuses`: invalid status: running, allowed values are: all, active, test",
        ),
        ({"statuses": "all"}, r"statuses` must be a list"),
        ({"tags": [42, "promo", 1.5]}, r"tags`: tag at index 2 must be a string or integer"),
        ({"tags": [None]}, r"tag at index 0 must be a string or integer"),
        ({"accounts": [123]}, r"accounts\[0\]` must be a sender phone number"),
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


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (174078720, 1743379200, "`start_time` must be a 10-digit unix timestamp"),
        (1740787200, 17433792000, "`end_time` must be a 10-digit unix timestamp"),
        ("1740787200", 1743379200, "`start_time` must be a 10-digit"),
        (1743379200, 1740787200, "`end_time` must be greater than start_time"),
        (1640995200, 1740787200, "cannot exceed 1 year"),
    ],
)
def test_bad_times_are_refused(start, end, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_times(start, end)
