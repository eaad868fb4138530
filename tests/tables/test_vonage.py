"""Vonage tables from the document's own samples: typed rows, ISO-8601 UTC times, malformed shapes."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.exceptions import MalformedResponseError
from airflow_provider_wa_analytics.tables.vonage import (
    MESSAGING,
    PRICING,
    TEMPLATE,
    messaging_rows,
    pricing_rows,
    template_rows,
)

BASE = {"vendor": "vonage", "endpoint": "e", "waba_id": "1", "window_start": "w0", "window_end": "w1"}
MESSAGING_SAMPLE = {
    "id": "345688589250625",
    "granularity": "HALF_HOUR",
    "phone_numbers": ["16505550111"],
    "country_codes": ["US"],
    "_embedded": {
        "messaging_analytics": [{"start": "1543543200", "end": "1543629600", "sent": 100, "delivered": 90}]
    },
    "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
}
TEMPLATE_SAMPLE = {
    "granularity": "DAILY",
    "product_type": "cloud_api",
    "page_size": 100,
    "_embedded": {
        "template_analytics": [
            {
                "template_id": "458951126288942",
                "start": "2024-11-11T00:00:00Z",
                "end": "2024-11-11T00:00:00Z",
                "sent": 100,
                "delivered": 90,
                "read": 80,
                "clicked": 70,
            }
        ]
    },
}
PRICING_SAMPLE = {
    "granularity": "DAILY",
    "product_type": "cloud_api",
    "_embedded": {
        "pricing_analytics": [
            {
                "start": "2024-11-11T00:00:00Z",
                "end": "2024-11-11T00:00:00Z",
                "volume": 100,
                "phone_number": "14155552671",
                "country": "US",
                "tier": "75000:150000",
                "pricing_type": "REGULAR",
                "pricing_category": "AUTHENTICATION",
            }
        ]
    },
}


def test_messaging_epoch_strings_become_iso_utc():
    base = {**BASE, "phone_numbers": None, "country_codes": None, "product_types": None}
    (row,) = messaging_rows(MESSAGING_SAMPLE, base)
    assert set(row) == set(MESSAGING)
    assert (row["start"], row["end"], row["date"]) == (
        "2018-11-30T02:00:00+00:00",
        "2018-12-01T02:00:00+00:00",
        "2018-11-30",
    )
    assert (row["granularity"], row["sent"], row["delivered"]) == ("HALF_HOUR", 100, 90)


def test_template_and_pricing_iso_strings_become_iso_utc():
    (row,) = template_rows(TEMPLATE_SAMPLE, BASE)
    assert set(row) == set(TEMPLATE)
    assert (row["start"], row["date"], row["product_type"]) == (
        "2024-11-11T00:00:00+00:00",
        "2024-11-11",
        "cloud_api",
    )
    assert [row[k] for k in ("sent", "delivered", "read", "clicked")] == [100, 90, 80, 70]
    (row,) = pricing_rows(PRICING_SAMPLE, BASE)
    assert set(row) == set(PRICING)
    assert (row["tier"], row["pricing_category"], row["volume"]) == ("75000:150000", "AUTHENTICATION", 100)


def test_a_per_button_clicked_list_is_summed():
    entry = {
        **TEMPLATE_SAMPLE["_embedded"]["template_analytics"][0],
        "clicked": [{"count": 3}, {"count": "4"}],
    }
    (row,) = template_rows({"_embedded": {"template_analytics": [entry]}}, BASE)
    assert row["clicked"] == 7


def test_a_page_without_embedded_has_no_rows():
    assert list(pricing_rows({"granularity": "DAILY"}, BASE)) == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"_embedded": "none"},
        {"_embedded": {"pricing_analytics": {"volume": 1}}},
        {"_embedded": {"pricing_analytics": [{"start": "yesterday", "volume": 1}]}},
        {"_embedded": {"pricing_analytics": [{"start": "2024-11-11T00:00:00Z", "volume": "many"}]}},
    ],
)
def test_malformed_shapes_raise_malformed_response(body):
    with pytest.raises(MalformedResponseError):
        list(pricing_rows(body, BASE))
