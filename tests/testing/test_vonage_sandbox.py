"""The sandbox's Vonage WhatsApp analytics: auth, RFC 7807 errors, insights state and propagation, pages
and data that add up whatever the page size, granularity or dimensions."""

from __future__ import annotations

import base64
import datetime as dt
import time
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.testing.vonage import (
    FIRST_PAGE_CURSOR,
    VONAGE_API_KEY,
    VONAGE_API_SECRET,
    VONAGE_APPLICATION_ID,
    VONAGE_INSIGHTS_WABA_ID,
    VONAGE_UNLINKED_WABA_ID,
    VONAGE_WABA_ID,
    buckets,
    parse_array,
)
from tests.testing.sandbox_options import with_defaults

VENDOR = "vonage_whatsapp"
TODAY = dt.datetime.now(dt.timezone.utc).date()
BASIC = "Basic " + base64.b64encode(f"{VONAGE_API_KEY}:{VONAGE_API_SECRET}".encode()).decode()
V1 = "/v1/channel-manager/whatsapp/wabas"


@pytest.fixture
def sandbox(running_sandbox):
    with_defaults(running_sandbox, VENDOR, today=TODAY.isoformat())
    app = running_sandbox.app(VENDOR)
    app.clock = time.monotonic
    yield running_sandbox
    running_sandbox.configure(VENDOR, today=None)
    app.clock = time.monotonic


def days_ago(n):
    return (TODAY - dt.timedelta(days=n)).isoformat()


def call(sandbox, endpoint, waba_id=VONAGE_WABA_ID, *, auth=BASIC, method="GET", url=None, **params):
    url = url or f"{sandbox.url}{V1}/{waba_id}/{endpoint}"
    headers = {"Authorization": auth} if auth else {}
    response = requests.request(method, url, params=params or None, headers=headers, timeout=10)
    return response.status_code, (response.json() if response.content else None)


def follow(sandbox, status_body, *path):
    """Every page of a call, re-pointing the vendor's links at the sandbox as the client does."""
    status, body = status_body
    pages = [body]
    while True:
        link = body
        for key in path:
            link = link.get(key) if isinstance(link, dict) else None
        if not link:
            return pages
        parts = urlsplit(link)
        status, body = call(sandbox, "", url=f"{sandbox.url}{parts.path}?{parts.query}")
        assert status == 200, body
        pages.append(body)


def messaging(sandbox, **params):
    params = {"start": days_ago(20), "end": TODAY.isoformat(), "granularity": "DAILY", **params}
    pages = follow(sandbox, call(sandbox, "messaging-analytics", **params), "paging", "next")
    return [e for p in pages for e in p["_embedded"]["messaging_analytics"]]


def pricing(sandbox, **params):
    params = {"start": days_ago(20), "end": TODAY.isoformat(), **params}
    pages = follow(sandbox, call(sandbox, "pricing-analytics", **params), "paging", "next")
    return [e for p in pages for e in p["_embedded"]["pricing_analytics"]]


# -- auth and errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [None, "Basic " + base64.b64encode(b"sandbox1:wrong").decode(), "Basic !!!", "Bearer not.a.jwt"],
)
def test_bad_credentials_get_an_rfc7807_401(sandbox, auth):
    status, body = call(sandbox, "messaging-analytics", auth=auth, granularity="DAILY")
    assert status == 401
    assert set(body) == {"type", "title", "detail", "instance"} and body["title"] == "Unauthorized"


def _token(app, **claims):
    now = int(time.time())
    payload = {"application_id": VONAGE_APPLICATION_ID, "iat": now, "exp": now + 60, "jti": "j1", **claims}
    return "Bearer " + jwt.encode(payload, app.private_key_pem, algorithm="RS256")


def test_jwt_of_the_application_is_accepted_and_checked(sandbox):
    app = sandbox.app(VENDOR)
    ok = call(sandbox, "pricing-analytics", auth=_token(app))
    assert ok[0] == 200
    for token, reason in [
        (_token(app, exp=int(time.time()) - 1), "expired"),
        (_token(app, application_id="other"), "unknown application_id"),
        (
            "Bearer " + jwt.encode({"application_id": VONAGE_APPLICATION_ID}, "k" * 32, algorithm="HS256"),
            "sig",
        ),
    ]:
        status, body = call(sandbox, "pricing-analytics", auth=token)
        assert status == 401 and reason in body["detail"], body


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        ("GET", "messaging-analytics"),
        ("GET", "template-analytics"),
        ("GET", "pricing-analytics"),
        ("PATCH", "enable_insights"),
    ],
)
def test_documented_403_and_404_on_every_endpoint(sandbox, method, endpoint):
    status, body = call(sandbox, endpoint, VONAGE_UNLINKED_WABA_ID, method=method)
    assert (status, body["detail"]) == (403, "API key is not linked to this WABA ID")
    status, body = call(sandbox, endpoint, "1234", method=method)
    assert (status, body["detail"]) == (404, "WABA ID is invalid")


def test_enable_insights_is_patch_only(sandbox):
    assert call(sandbox, "enable_insights", method="GET")[0] == 405
    assert call(sandbox, "enable_insights", method="PATCH") == (
        200,
        {"waba_id": VONAGE_WABA_ID, "insights_enabled": True},
    )
    sandbox.configure(VENDOR, enable_insights_body="empty")
    assert call(sandbox, "enable_insights", method="PATCH") == (200, None)


@pytest.mark.parametrize(
    ("endpoint", "params", "detail"),
    [
        ("messaging-analytics", {"start": days_ago(1), "end": days_ago(0)}, "granularity: must be one of"),
        ("messaging-analytics", {"start": "2025/01/01", "granularity": "DAILY"}, "start: required"),
        (
            "messaging-analytics",
            {"start": days_ago(91), "end": days_ago(0), "granularity": "DAILY"},
            "lookback",
        ),
        ("messaging-analytics", {"start": days_ago(0), "end": days_ago(1), "granularity": "DAILY"}, "before"),
        ("pricing-analytics", {"dimensions": "[PHONE,COLOR]"}, "'COLOR' is not one of"),
        ("pricing-analytics", {"after": "bm90IGEgY3Vyc29y"}, "after: the cursor is not valid"),
        ("template-analytics", {"granularity": "DAILY", "template_ids": "[1]"}, "start: required"),
        (
            "template-analytics",
            {
                "start": days_ago(3),
                "end": days_ago(0),
                "granularity": "DAILY",
                "template_ids": "[1,2,3,4,5,6,7,8,9,10,11]",
            },
            "at most 10",
        ),
        (
            "template-analytics",
            {"start": days_ago(3), "end": days_ago(0), "granularity": "MONTHLY", "template_ids": "[1]"},
            "must be one of DAILY",
        ),
    ],
)
def test_invalid_parameters_get_a_422_naming_them(sandbox, endpoint, params, detail):
    status, body = call(sandbox, endpoint, VONAGE_INSIGHTS_WABA_ID, **params)
    assert status == 422 and detail in body["detail"], body
    assert body["invalid_parameters"][0]["name"] in body["detail"]


def test_template_range_is_at_most_90_days(sandbox):
    sandbox.configure(VENDOR, today=(TODAY + dt.timedelta(days=150)).isoformat())
    params = {"granularity": "DAILY", "template_ids": "[1]"}
    ok = call(
        sandbox,
        "template-analytics",
        VONAGE_INSIGHTS_WABA_ID,
        start=days_ago(-100),
        end=days_ago(-190),
        **params,
    )
    too_long = call(
        sandbox,
        "template-analytics",
        VONAGE_INSIGHTS_WABA_ID,
        start=days_ago(-100),
        end=days_ago(-191),
        **params,
    )
    assert ok[0] == 200 and too_long[0] == 422


# -- insights state -------------------------------------------------------------------------------
def template(sandbox, waba_id=VONAGE_WABA_ID):
    params = {"start": days_ago(1), "end": days_ago(0), "granularity": "DAILY", "template_ids": "[7]"}
    return call(sandbox, "template-analytics", waba_id, **params)


def test_template_analytics_need_insights_and_wait_for_propagation(sandbox):
    app = sandbox.app(VENDOR)
    assert template(sandbox)[1]["title"] == "Insights not enabled"
    assert template(sandbox, VONAGE_INSIGHTS_WABA_ID)[0] == 200  # enabled from the start
    assert (
        call(sandbox, "messaging-analytics", start=days_ago(1), end=days_ago(0), granularity="DAILY")[0]
        == 200
    )
    assert call(sandbox, "enable_insights", method="PATCH")[0] == 200
    assert app.insights_state(VONAGE_WABA_ID) == "propagating"
    first, second = template(sandbox), template(sandbox)
    assert [first[0], second[0]] == [400, 400] and first[1]["title"] == "Insights not available yet"
    assert call(sandbox, "enable_insights", method="PATCH")[0] == 200  # idempotent, no restart
    assert template(sandbox)[0] == 200 and app.insights_state(VONAGE_WABA_ID) == "enabled"
    sandbox.reset()
    assert app.insights_state(VONAGE_WABA_ID) == "disabled"


def test_propagation_can_follow_a_clock_the_test_controls(sandbox):
    app = sandbox.app(VENDOR)
    now = [1000.0]
    app.clock = lambda: now[0]
    sandbox.configure(VENDOR, propagation_requests=0, propagation_seconds=300)
    app.enable_insights(VONAGE_WABA_ID)
    assert template(sandbox)[0] == 400
    now[0] += 299
    assert template(sandbox)[0] == 400
    now[0] += 1
    assert template(sandbox)[0] == 200


# -- pages and data -------------------------------------------------------------------------------
@pytest.mark.parametrize("granularity", ["HALF_HOUR", "DAILY", "MONTHLY"])
def test_messaging_in_several_pages_equals_one_page(sandbox, granularity):
    sandbox.configure(VENDOR, page_size=10_000)
    single = messaging(sandbox, granularity=granularity, country_codes="[US,GB]")
    sandbox.configure(VENDOR, page_size=7)
    paged = messaging(sandbox, granularity=granularity, country_codes="[US,GB]")
    assert paged == single and len(single) == len(buckets(TODAY - dt.timedelta(days=20), TODAY, granularity))
    assert all(e["start"].isdigit() and e["end"].isdigit() for e in single)  # epoch strings, as the sample


def test_messaging_next_links_point_at_v2_on_the_vendor_host(sandbox):
    sandbox.configure(VENDOR, page_size=5)
    _, body = call(sandbox, "messaging-analytics", start=days_ago(20), end=days_ago(0), granularity="DAILY")
    assert body["paging"]["next"].startswith(
        f"https://api.nexmo.com/v2/channel-manager/wabas/{VONAGE_WABA_ID}/"
    )
    assert set(body["paging"]["cursors"]) == {"before", "after"} and "previous" not in body["paging"]
    sandbox.configure(VENDOR, links="self")
    _, body = call(sandbox, "messaging-analytics", start=days_ago(20), end=days_ago(0), granularity="DAILY")
    assert body["paging"]["next"].startswith(sandbox.url)


def test_totals_agree_across_granularities_and_filters(sandbox):
    total = sum(e["sent"] for e in messaging(sandbox, granularity="DAILY"))
    assert sum(e["sent"] for e in messaging(sandbox, granularity="HALF_HOUR")) == total
    assert sum(e["sent"] for e in messaging(sandbox, granularity="MONTHLY")) == total
    by_product = [sum(e["sent"] for e in messaging(sandbox, product_types=f"[{p}]")) for p in (0, 2)]
    assert sum(by_product) == total and all(by_product)


@pytest.mark.parametrize(
    "dimensions",
    ["[PRICING_CATEGORY]", "[COUNTRY,PHONE]", "[PRICING_CATEGORY,PRICING_TYPE,COUNTRY,PHONE,TIER]"],
)
def test_pricing_with_dimensions_sums_to_the_volume_without(sandbox, dimensions):
    sandbox.configure(VENDOR, page_size=25)
    plain = pricing(sandbox)
    split = pricing(sandbox, dimensions=dimensions)
    assert sum(e["volume"] for e in split) == sum(e["volume"] for e in plain) > 0
    fields = set(split[0]) - {"start", "end", "volume"}
    assert len(fields) == len(parse_array([dimensions]))
    assert split[0]["start"].endswith("T00:00:00Z")  # ISO strings, as the sample
    for day in {e["start"] for e in plain}:
        day_plain = sum(e["volume"] for e in plain if e["start"] == day)
        assert sum(e["volume"] for e in split if e["start"] == day) == day_plain


def test_pricing_next_link_carries_a_before_cursor_as_the_sample(sandbox):
    sandbox.configure(VENDOR, page_size=3)
    _, body = call(sandbox, "pricing-analytics", start=days_ago(3), end=days_ago(0))
    assert "/pricing-analytics?before=" in body["paging"]["next"]


def test_template_pages_chain_through_links_next_href(sandbox):
    sandbox.configure(VENDOR, page_size=4)
    params = {"start": days_ago(2), "end": days_ago(0), "granularity": "DAILY", "template_ids": "[5,6,7]"}
    first = call(sandbox, "template-analytics", VONAGE_INSIGHTS_WABA_ID, **params)
    assert f"cursor={FIRST_PAGE_CURSOR}" in first[1]["_links"]["self"]["href"]
    pages = follow(sandbox, first, "_links", "next", "href")
    entries = [e for p in pages for e in p["_embedded"]["template_analytics"]]
    assert len(pages) == 3 and "next" not in pages[-1]["_links"]
    assert sorted((e["start"], e["template_id"]) for e in entries) == sorted(
        (f"{days_ago(n)}T00:00:00Z", t) for n in range(3) for t in ("5", "6", "7")
    )
    assert all(e["start"] == e["end"] for e in entries)  # as the sample shows


def test_repeat_cursor_option_hands_back_the_same_link(sandbox):
    sandbox.configure(VENDOR, page_size=3, repeat_cursor=True)
    _, page1 = call(sandbox, "pricing-analytics", start=days_ago(11), end=days_ago(0))
    parts = urlsplit(page1["paging"]["next"])
    _, page2 = call(sandbox, "", url=f"{sandbox.url}{parts.path}?{parts.query}")
    assert page2["paging"]["next"] == page1["paging"]["next"]


def test_data_is_deterministic_per_seed():
    first, last = TODAY - dt.timedelta(days=3), TODAY
    with Sandbox(seed=1) as a, Sandbox(seed=1) as b, Sandbox(seed=2) as c:
        rows = [s.app(VENDOR).pricing_entries(VONAGE_WABA_ID, first, last, "DAILY") for s in (a, b, c)]
    assert rows[0] == rows[1] != rows[2]


def test_options_are_checked_and_reachable_through_the_control_endpoint(sandbox):
    with pytest.raises(TypeError, match="no options"):
        sandbox.configure(VENDOR, colour="red")
    with pytest.raises(ValueError, match="links must be one of"):
        sandbox.configure(VENDOR, links="elsewhere")
    with pytest.raises(ValueError, match="page_size must be an integer >= 1"):
        sandbox.configure(VENDOR, page_size=0)
    response = requests.post(
        f"{sandbox.url}/__sandbox__/config", json={"vendors": {VENDOR: {"page_size": 5}}}, timeout=10
    )
    assert response.json()["vendors"][VENDOR]["page_size"] == 5
    assert response.json()["vendors"][VENDOR]["insights"][VONAGE_INSIGHTS_WABA_ID] == "enabled"
