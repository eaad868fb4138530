"""The sandbox's late-arriving figures: deterministic growth with a day's age, final after four days,
and totals consistent across the tables of one response at any "as of"."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest

from airflow_provider_wa_analytics.testing import Sandbox
from airflow_provider_wa_analytics.testing.late import FINAL_AFTER_DAYS, settled_percent

DAY = dt.date(2025, 3, 10)
START = int(dt.datetime(2025, 3, 10, tzinfo=dt.timezone.utc).timestamp())
FILTER = {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def test_a_days_figures_grow_with_its_age_until_final():
    shares = [settled_percent(DAY, DAY + dt.timedelta(days=n)) for n in range(6)]
    assert shares == [40, 60, 80, 95, 100, 100]
    assert settled_percent(DAY, None) == 100 and FINAL_AFTER_DAYS == 4


@pytest.mark.parametrize("age", [0, 1, 2, 3, 4, None])
def test_insider_totals_agree_across_tables_at_any_as_of(sandbox, age):
    sandbox.set_as_of(None if age is None else DAY + dt.timedelta(days=age))
    try:
        body = sandbox.insider_whatsapp.overall(START - 2 * 86_400, START + 86_400, FILTER)
    finally:
        sandbox.set_as_of(None)
    summary, chart, details = body["summary"], body["chart"], body["details"]
    for key in ("sent", "delivered", "open", "click", "conversion"):
        assert sum(chart[key]) == summary[key] == sum(d[key] for d in details), key
    assert summary["sent"] == summary["delivered"] + summary["undelivered"] + summary["deliveryPending"]


def test_figures_are_deterministic_and_final_ones_are_the_defaults(sandbox):
    final = sandbox.insider_whatsapp.overall(START, START + 86_400, FILTER)["summary"]
    sandbox.set_as_of(DAY + dt.timedelta(days=1))
    early = [sandbox.insider_whatsapp.overall(START, START + 86_400, FILTER)["summary"] for _ in range(2)]
    sandbox.reset()  # also clears "as of"
    assert early[0] == early[1]
    assert early[0]["delivered"] < final["delivered"] and early[0]["sent"] == final["sent"]
    assert sandbox.insider_whatsapp.overall(START, START + 86_400, FILTER)["summary"] == final


def test_as_of_through_the_control_endpoint(sandbox):
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        f"{sandbox.url}/__sandbox__/config", data=json.dumps({"as_of": "2025-03-11"}).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - the loopback sandbox
        assert json.load(response)["as_of"] == "2025-03-11"
    assert sandbox.as_of == dt.date(2025, 3, 11)
    for vendor in sandbox.vendors:
        assert sandbox.app(vendor).as_of == dt.date(2025, 3, 11)
    sandbox.reset()
    assert sandbox.as_of is None


def test_every_vendor_serves_late_figures(sandbox):
    from airflow_provider_wa_analytics.registry import KALEYRA_WABA_ID, VONAGE_INSIGHTS_WABA_ID

    def figures():
        kaleyra = sandbox.app("kaleyra_whatsapp").data_point(KALEYRA_WABA_ID, "1002", DAY, [])
        vonage = sandbox.app("vonage_whatsapp").template_entries(
            VONAGE_INSIGHTS_WABA_ID, ["458951126288942"], DAY, DAY
        )
        webpush = sandbox.app("insider_webpush").campaign_metrics("10001", DAY, DAY)
        return int(kaleyra["delivered"]), vonage[0]["delivered"], json.dumps(webpush, sort_keys=True)

    final = figures()
    sandbox.set_as_of(DAY)
    early = figures()
    sandbox.reset()
    assert early[0] < final[0] and early[1] < final[1] and early[2] != final[2]
