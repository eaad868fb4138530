"""The sandbox's Kaleyra template analytics: the documented bodies, paging placements, page size, data."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from airflow_provider_wa_analytics.testing.kaleyra import (
    KALEYRA_API_KEY,
    KALEYRA_NO_API_SID,
    KALEYRA_NO_INSIGHTS_WABA_ID,
    KALEYRA_OTHER_VERSION_WABA_ID,
    KALEYRA_SERVER_ERROR_WABA_ID,
    KALEYRA_SID,
    KALEYRA_WABA_ID,
    KaleyraWhatsAppApp,
    decode_cursor,
    encode_cursor,
)
from tests.testing.sandbox_options import with_defaults

VENDOR = "kaleyra_whatsapp"
INVALID_STATUS = "invalid status given. valid values are : accepted, pending, rejected, paused, disabled"
TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def sandbox(running_sandbox):
    with_defaults(running_sandbox, VENDOR, today=TODAY.isoformat())
    yield running_sandbox
    running_sandbox.configure(VENDOR, today=None)


def get(sandbox, *, sid=KALEYRA_SID, waba_id=KALEYRA_WABA_ID, key=KALEYRA_API_KEY, **params):
    params = {
        "whatsapp_template_ids": "1317,156",
        "start_date": (TODAY - dt.timedelta(days=2)).isoformat(),
        "end_date": TODAY.isoformat(),
        "granularity": "daily",  # the doc's sample sends lower case
        **params,
    }
    headers = {"api-key": key, "Content-Type": "application/json"} if key else {}
    url = f"{sandbox.url}/v2/{sid}/whatsapp/{waba_id}/templates_analytics"
    response = requests.get(
        url, params={k: v for k, v in params.items() if v is not None}, headers=headers, timeout=5
    )
    return response.status_code, response.json()


def test_success_body_has_the_documented_shape(sandbox):
    status, body = get(sandbox, product_type="CLOUD_API")
    assert status == 200
    assert (body["code"], body["message"], body["error"]) == ("WA200", "Request successfully executed!", {})
    (group,) = body["data"]
    assert (group["granularity"], group["product_type"]) == ("DAILY", "cloud_api")
    assert group["paging"] == {"cursors": {"before": "", "after": ""}}  # the doc's sample placement
    assert len(group["data_points"]) == 6  # 2 templates x 3 days
    point = group["data_points"][0]
    assert point["template_id"] == "1317" and point["end"] - point["start"] == 86_400
    assert set(point) >= {"template_id", "start", "end", "sent", "delivered", "read", "replied"}


@pytest.mark.parametrize(
    ("kwargs", "status", "body"),
    [
        (
            {"sid": "HXWRONG"},
            401,
            {
                "code": "RBC001",
                "message": "Incorrect SID or API key.",
                "data": [],
                "error": {"error": "Incorrect SID or API key."},
            },
        ),
        (
            {"key": "wrong"},
            401,
            {
                "code": "RBC001",
                "message": "Incorrect SID or API key.",
                "data": [],
                "error": {"error": "Incorrect SID or API key."},
            },
        ),
        (
            {"key": None},
            401,
            {
                "code": "RBC001",
                "message": "Incorrect SID or API key.",
                "data": [],
                "error": {"error": "Incorrect SID or API key."},
            },
        ),
        (
            {"sid": KALEYRA_NO_API_SID},
            401,
            {
                "code": "WA-401",
                "message": "API is not available for given customer.Please contact support for more info",
                "data": {},
                "error": "API is not available for given customer.Please contact support for more info",
            },
        ),
        (
            {"waba_id": "42"},
            401,
            {
                "code": "WA401",
                "message": "Waba_Id is not present or does not belong to the account.",
                "data": {},
                "error": {"waba_id": "Waba_Id is not present or does not belong to the account."},
            },
        ),
        (
            {"waba_id": KALEYRA_OTHER_VERSION_WABA_ID},
            401,
            {
                "code": "WA401",
                "message": "The waba_id you're using is associated with different Version of our WA API. "
                "Please use the appropriate endpoint.",
                "data": {},
                "error": {
                    "waba_id": "The waba_id you're using is associated with different Version of our WA API. "
                    "Please use the appropriate endpoint."
                },
            },
        ),
        (
            {"waba_id": KALEYRA_NO_INSIGHTS_WABA_ID},
            400,
            {
                "code": "WA400",
                "message": "error returned from meta",
                "data": {},
                "error": {
                    "error": "Template Insights are not available yet for this WhatsApp Business account."
                },
            },
        ),
        (
            {"status": "live"},
            400,
            {
                "code": "WA400",
                "message": INVALID_STATUS,
                "data": [],
                "error": {"status": INVALID_STATUS},
            },
        ),
        (
            {"waba_id": KALEYRA_SERVER_ERROR_WABA_ID},
            500,
            {
                "code": "WA-500",
                "message": "Please try again later",
                "data": {},
                "error": {"error": "Internal server error"},
            },
        ),
    ],
)
def test_documented_error_bodies(sandbox, kwargs, status, body):
    assert get(sandbox, **kwargs) == (status, body)


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"whatsapp_template_ids": ""}, "whatsapp_template_ids is required"),
        ({"start_date": "04-11-2025"}, "start_date is required in the format YYYY-MM-DD"),
        ({"granularity": "MONTHLY"}, "granularity is required and must be DAILY"),
        ({"product_type": "SMS"}, "product_type must be one of"),
        ({"metric_types": "SENT,COST"}, "metric_types must be among"),
        ({"limit": "0"}, "limit must be a positive integer"),
        ({"after": "!!"}, "the after cursor is not valid"),
        (
            {
                "start_date": (TODAY - dt.timedelta(days=91)).isoformat(),
                "end_date": (TODAY - dt.timedelta(days=85)).isoformat(),
            },
            "within the last 90 days",
        ),
        ({"end_date": (TODAY - dt.timedelta(days=5)).isoformat()}, "end must be after start"),
        ({"whatsapp_template_ids": ",".join(map(str, range(11)))}, "at most 10 ids"),
    ],
)
def test_bad_parameters_are_wa400(sandbox, params, text):
    status, body = get(sandbox, **params)
    assert status == 400 and body["code"] == "WA400"
    assert text in body["message"] or text in body["error"].get("error", "")


def test_server_error_fault_uses_the_wa_500_body(sandbox):
    sandbox.inject("server_error", vendor=VENDOR)
    assert get(sandbox)[1]["code"] == "WA-500"
    assert get(sandbox)[0] == 200


def follow(sandbox, **params):
    pages, after = [], None
    while True:
        status, body = get(sandbox, after=after, **params)
        assert status == 200
        pages.append(body)
        paging = body.get("paging") or body["data"][0].get("paging")
        after = paging["cursors"]["after"]
        if not after:
            return pages


@pytest.mark.parametrize("placement", ["data", "top", "alternate"])
def test_paging_placement_and_limit(sandbox, placement):
    sandbox.configure(VENDOR, paging_placement=placement)
    ids = "1,2,3,4,5"
    pages = follow(sandbox, whatsapp_template_ids=ids, limit="4")  # 15 data points
    assert [len(p["data"][0]["data_points"]) for p in pages] == [4, 4, 4, 3]
    at_top = ["paging" in p for p in pages]
    in_data = ["paging" in p["data"][0] for p in pages]
    expected_top = {"data": [False] * 4, "top": [True] * 4, "alternate": [False, True, False, True]}[
        placement
    ]
    assert at_top == expected_top and in_data == [not t for t in expected_top]
    points = [dp for p in pages for dp in p["data"][0]["data_points"]]
    app = sandbox.app(VENDOR)
    start = TODAY - dt.timedelta(days=2)
    assert points == app.data_points(KALEYRA_WABA_ID, ids.split(","), start, TODAY)


def test_default_page_size_is_configurable(sandbox):
    sandbox.configure(VENDOR, default_page_size=2)
    assert len(follow(sandbox)) == 3


def test_data_is_deterministic_and_consistent():
    a, b = KaleyraWhatsAppApp(seed=1, counts="number"), KaleyraWhatsAppApp(seed=1, counts="string")
    day = dt.date(2025, 11, 4)
    points = [a.data_point("w", str(t), day, []) for t in range(50)]
    assert points == [
        KaleyraWhatsAppApp(seed=1, counts="number").data_point("w", str(t), day, []) for t in range(50)
    ]
    as_strings = [b.data_point("w", str(t), day, []) for t in range(50)]
    assert [p["sent"] for p in points] == [int(p["sent"]) for p in as_strings]
    for p in points:
        assert p["sent"] >= p["delivered"] >= p["read"] >= p["replied"] >= 0
        assert all(c["count"] <= p["read"] for c in p.get("clicked", []))
    assert any("clicked" in p for p in points) and any("clicked" not in p for p in points)
    assert KaleyraWhatsAppApp(seed=2).data_point("w", "1", day, []) != KaleyraWhatsAppApp(seed=1).data_point(
        "w", "1", day, []
    )


def test_metric_types_filter_the_fields():
    point = KaleyraWhatsAppApp().data_point("w", "3", dt.date(2025, 11, 4), ["SENT", "CLICKED"])
    assert set(point) <= {"template_id", "start", "end", "sent", "clicked"}


def test_cursor_round_trip():
    assert decode_cursor(encode_cursor(40)) == 40
    assert decode_cursor("garbage") is None


def test_options_are_checked():
    app = KaleyraWhatsAppApp()
    for bad in ({"paging_placement": "bottom"}, {"default_page_size": 0}, {"counts": "roman"}):
        with pytest.raises(ValueError):
            app.configure(**bad)
    with pytest.raises(TypeError):
        app.configure(page_size=3)
    app.configure(today="2025-11-05")
    assert app.options()["today"] == "2025-11-05"


def test_connection_authenticates(sandbox):
    conn = sandbox.connection(VENDOR)
    assert (conn["login"], conn["password"], conn["host"]) == (KALEYRA_SID, KALEYRA_API_KEY, sandbox.url)
