"""Typed parsing of vendor figures and times."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.exceptions import MalformedResponseError
from airflow_provider_wa_analytics.tables import breakdown, iso_utc, money, number, percent, snake


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6", 6),
        (6, 6),
        ("0", 0),
        ("12.5", 12.5),
        (3.0, 3),
        (None, None),
        ("", None),
        ("-4", -4),
        ("1,234", 1234),
        ("1,234,567.5", 1234567.5),
        ("12,5", 12.5),
    ],
)
def test_number(raw, expected):
    assert number(raw) == expected
    assert type(number(raw)) is type(expected)


@pytest.mark.parametrize("raw", ["six", True, [1], {"a": 1}, "1 2", float("inf"), "12%", "5 TRY"])
def test_number_rejects_what_is_not_a_number(raw):
    with pytest.raises(MalformedResponseError):
        number(raw)


def test_percent_and_money():
    assert percent("100.00%") == 100.0
    assert percent("0.00%") == 0.0
    assert money("12 TRY") == (12.0, "TRY")
    assert money("0 TRY") == (0.0, "TRY")
    assert money("3.5") == (3.5, None)
    assert money("1,234.50 TRY") == (1234.5, "TRY")
    with pytest.raises(MalformedResponseError):
        money("5%")


def test_iso_utc_from_epoch_strings_and_iso():
    assert iso_utc(1751328000) == "2025-07-01T00:00:00+00:00"
    assert iso_utc("1543543200") == "2018-11-30T02:00:00+00:00"
    assert iso_utc("2024-11-11T00:00:00Z") == "2024-11-11T00:00:00+00:00"
    assert iso_utc("2023-10-31T21:00:00.000000Z") == "2023-10-31T21:00:00+00:00"
    with pytest.raises(MalformedResponseError):
        iso_utc("soon")


def test_snake():
    assert snake("clickFromResponses") == "click_from_responses"
    assert snake("deliveryRate") == "delivery_rate"
    assert snake("sent") == "sent"


def test_breakdown_keeps_unknown_reasons_in_other():
    row = breakdown("drop", {"a": 1, "b": 2, "newReason": 5}, ("a", "b"), "dropDetails")
    assert row == {"drop_a": 1, "drop_b": 2, "drop_other": 5}
