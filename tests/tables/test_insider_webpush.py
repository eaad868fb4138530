"""Web Push campaign-metrics responses become typed overview, device and reason rows."""

from __future__ import annotations

import copy

import pytest

from airflow_provider_wa_analytics.exceptions import MalformedResponseError
from airflow_provider_wa_analytics.tables.insider_webpush import (
    TABLES,
    campaign_metrics_tables,
    count,
)

BASE = {
    "vendor": "insider_webpush",
    "endpoint": "statistics/campaign-metrics",
    "partner_id": "10000001",
    "window_start": "2023-06-01T00:00:00+00:00",
    "window_end": "2023-06-09T00:00:00+00:00",
    "start_date": "2023-06-01",
    "end_date": "2023-06-08",
    "campaign_id": "11111",
}


@pytest.fixture(scope="module")
def doc_sample(vendor_sample):
    """The 200 sample of the vendor document."""
    return vendor_sample("insider_webpush_campaign_metrics_200.json")


def tables_of(data):
    return {table: list(rows) for table, rows in campaign_metrics_tables(data, BASE)}


def test_the_documented_sample_becomes_typed_rows(doc_sample):
    out = tables_of(doc_sample)
    [overview] = out["overview"]
    assert overview == {
        **BASE,
        "campaign_name": "The campaign",
        "status_name": "completed",
        "status": 1,
        "working_status": 3,
        "send_type": 0,
        "primary_goal": "salesFromClick",
        "campaign_start": "2023-10-31T21:00:00+00:00",
        "campaign_end": "2023-11-30T20:59:59.999999+00:00",
        "is_recurring": False,
        "alias": "single",
        "preferred_currency": "TRY",
        "personalization_status": "Active",
        "is_ttl_ended": True,
        "goal_menu": '{"camp-join": "Clicks", "sales-from-click": "Purchases From Click..."}',
        "targeted": 1,
        "sent": 1,
        "dropped": 0,
        "delivered": 1,
        "undelivered": 0,
        "clicks": 0,
        "conversions": 0,
        "delivery_rate": 100.0,
        "ctr": 0.0,
        "conversion_rate": 0.0,
        "revenue": 0.0,
        "revenue_currency": "TRY",
    }
    assert [r["device"] for r in out["device_metrics"]] == ["Desktop", "Mobile"]
    desktop = out["device_metrics"][0]
    assert (desktop["sent"], desktop["delivery_rate"], desktop["revenue"], desktop["revenue_currency"]) == (
        1,
        100.0,
        0.0,
        "TRY",
    )
    assert type(desktop["sent"]) is int and type(desktop["delivery_rate"]) is float
    assert [r["reason"] for r in out["dropped_reasons"]] == [
        "frequencyCapped",
        "unsubscriptions",
        "serviceProviderErrors",
        "internalErrors",
    ]
    assert [r["reason"] for r in out["undelivered_reasons"]] == ["offlineRecipients", "other"]
    assert out["undelivered_reasons"][0] == {
        **BASE,
        "reason": "offlineRecipients",
        "count": 0,
        "percentage": 0.0,
    }


def test_every_row_has_exactly_its_tables_columns(doc_sample):
    for table, rows in tables_of(doc_sample).items():
        for row in rows:
            assert list(row) == list(TABLES[table]), table


def test_device_rows_sum_to_the_overview(doc_sample):
    data = copy.deepcopy(doc_sample)
    data["overview"]["targeted"] = {"sent": "1,500", "dropped": "20"}
    data["overview"]["total"]["targeted"] = "1,520"
    data["overview"]["deliveryRate"] = {"delivered": "1,400", "undelivered": "100"}
    data["overview"]["ctr"]["clicks"] = "70"
    data["overview"]["revenue"] = "150.5 TRY"
    data["deviceMetrics"][0].update(sent="1,000", delivered="950", clicks="50", revenue="100.25 TRY")
    data["deviceMetrics"][1].update(sent="500", delivered="450", clicks="20", revenue="50.25 TRY")
    out = tables_of(data)
    [overview] = out["overview"]
    for column in ("sent", "delivered", "clicks", "conversions"):
        assert sum(r[column] for r in out["device_metrics"]) == overview[column], column
    assert sum(r["revenue"] for r in out["device_metrics"]) == pytest.approx(overview["revenue"])
    assert overview["targeted"] == overview["sent"] + overview["dropped"] == 1520


def test_revenue_without_a_currency_takes_the_preferred_currency(doc_sample):
    data = copy.deepcopy(doc_sample)
    data["overview"]["revenue"] = "12.5"
    [overview] = tables_of(data)["overview"]
    assert (overview["revenue"], overview["revenue_currency"]) == (12.5, "TRY")


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", 1), (7, 7), ("1,234", 1234), ("1.234.567", 1234567), ("", None)]
)
def test_counts_are_whole_numbers(raw, expected):
    assert count(raw, "x") == expected


@pytest.mark.parametrize("raw", ["1.5", "12%", "many", True])
def test_a_count_that_is_not_whole_is_malformed(raw):
    with pytest.raises(MalformedResponseError):
        count(raw, "x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("overview"), "overview should be an object"),
        (lambda d: d.update(deviceMetrics={"Desktop": {}}), "deviceMetrics should be a list"),
        (lambda d: d["deviceMetrics"][0].update(ctr="fast"), r"deviceMetrics\[0\].ctr should be a number"),
        (lambda d: d["overview"].update(revenue="5%"), "overview.revenue should be an amount"),
        (lambda d: d["unsuccessfulMessages"]["dropped"][0].pop("label"), "should be a reason name"),
        (lambda d: d["overview"]["total"].update(deliveryRate="12 TRY"), "should be a percentage"),
    ],
)
def test_a_wrong_shape_is_a_malformed_response(doc_sample, change, message):
    data = copy.deepcopy(doc_sample)
    change(data)
    with pytest.raises(MalformedResponseError, match=message):
        tables_of(data)


def test_a_response_that_is_not_an_object_is_malformed():
    with pytest.raises(MalformedResponseError):
        tables_of([])
