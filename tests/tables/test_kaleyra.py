"""Kaleyra template analytics responses become typed data_points and button_clicks rows."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.exceptions import MalformedResponseError
from airflow_provider_wa_analytics.tables.kaleyra import BUTTON_CLICKS, DATA_POINTS, template_analytics_tables

BASE = {
    "vendor": "kaleyra",
    "endpoint": "templates_analytics",
    "waba_id": "1090",
    "window_start": "2025-07-01T00:00:00+00:00",
    "window_end": "2025-07-03T00:00:00+00:00",
}

# The doc's sample (paging inside data[0]), with one count as the documented string type.
DOC_SAMPLE = {
    "code": "WA200",
    "message": "Request successfully executed!",
    "data": [
        {
            "granularity": "DAILY",
            "product_type": "cloud_api",
            "data_points": [
                {
                    "template_id": "1317XXXXXXXXXX67",
                    "start": 1751328000,
                    "end": 1751414400,
                    "sent": "6",
                    "delivered": 6,
                    "read": 6,
                    "replied": 0,
                    "clicked": [
                        {"type": "quick_reply_button", "button_content": "Contact Support", "count": 6},
                        {"type": "unique_url_button", "button_content": "Tell me more", "count": "5"},
                    ],
                },
                {
                    "template_id": "156XXXXXXXXXX011",
                    "start": 1751414400,
                    "end": 1751500800,
                    "sent": 0,
                    "delivered": 0,
                    "read": 0,
                    "replied": 0,
                },
            ],
            "paging": {"cursors": {"before": "", "after": ""}},
        }
    ],
    "error": {},
}


def tables(body):
    return {name: list(rows) for name, rows in template_analytics_tables(body, BASE)}


def test_doc_sample_becomes_typed_rows_with_buttons_keyed_to_their_data_point():
    out = tables(DOC_SAMPLE)
    first, second = out["data_points"]
    assert first == {
        **BASE,
        "template_id": "1317XXXXXXXXXX67",
        "product_type": "cloud_api",
        "granularity": "DAILY",
        "date": "2025-07-01",
        "start": "2025-07-01T00:00:00+00:00",
        "end": "2025-07-02T00:00:00+00:00",
        "sent": 6,
        "delivered": 6,
        "read": 6,
        "replied": 0,
        "clicked": 11,
    }
    assert second["clicked"] is None and second["date"] == "2025-07-02"
    buttons = out["button_clicks"]
    assert [(b["button_index"], b["button_type"], b["button_content"], b["count"]) for b in buttons] == [
        (0, "quick_reply_button", "Contact Support", 6),
        (1, "unique_url_button", "Tell me more", 5),
    ]
    for b in buttons:  # the parent key
        assert (b["waba_id"], b["template_id"], b["product_type"], b["start"]) == (
            "1090",
            "1317XXXXXXXXXX67",
            "cloud_api",
            first["start"],
        )
    assert all(set(row) == set(DATA_POINTS) for row in out["data_points"])
    assert all(set(row) == set(BUTTON_CLICKS) for row in buttons)
    # No click is lost: the child table sums to the parent's total.
    assert sum(b["count"] for b in buttons) == first["clicked"]


def test_counts_as_strings_and_numbers_are_the_same():
    as_numbers = tables(DOC_SAMPLE)
    strings = {
        **DOC_SAMPLE,
        "data": [
            {
                **DOC_SAMPLE["data"][0],
                "data_points": [
                    {
                        k: (str(v) if k in ("sent", "delivered", "read", "replied") else v)
                        for k, v in p.items()
                    }
                    for p in DOC_SAMPLE["data"][0]["data_points"]
                ],
            }
        ],
    }
    assert tables(strings) == as_numbers


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": {}},  # error-style empty object
        {"data": [{"granularity": "DAILY", "data_points": []}]},
        {"code": "WA200", "data": [{"granularity": "DAILY"}], "paging": {"cursors": {"after": ""}}},
    ],
)
def test_empty_pages_give_no_rows(body):
    assert tables(body) == {"data_points": [], "button_clicks": []}


def test_an_empty_click_list_is_zero_clicks():
    body = {"data": [{"data_points": [{"template_id": "1", "start": 1751328000, "clicked": []}]}]}
    assert tables(body)["data_points"][0]["clicked"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"data": "x"}, "data should be a list"),
        ({"data": [{"data_points": {}}]}, r"data\[0\].data_points should be a list"),
        ({"data": [{"data_points": [{"start": 1}]}]}, "template_id is missing"),
        ({"data": [{"data_points": [{"template_id": "1", "sent": "many"}]}]}, "sent should be a number"),
        ({"data": [{"data_points": [{"template_id": "1", "clicked": [{"count": "x"}]}]}]}, "count should be"),
        ({"data": [{"data_points": [{"template_id": "1", "start": "yesterday"}]}]}, "start should be epoch"),
        ([], "response should be an object"),
    ],
)
def test_wrong_shapes_raise_malformed_response(body, message):
    with pytest.raises(MalformedResponseError, match=message):
        tables(body)
