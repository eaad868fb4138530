"""Insider One Web Push campaign metrics as tables: overview, device_metrics, dropped_reasons,
undelivered_reasons, and missing_campaigns (campaigns skipped with ``on_missing_campaign="skip"``).

Every figure arrives as a string (``"1"``, ``"100.00%"``, ``"0 TRY"``) and leaves typed. Summing
``device_metrics`` per campaign and window reproduces the ``overview`` sent, delivered, clicks,
conversions and revenue; ``dropped_reasons`` sum to ``dropped`` and ``undelivered_reasons`` to
``undelivered``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_wa_analytics.tables import (
    iso_utc,
    items,
    malformed,
    mapping,
    money,
    number,
    percent,
)
from airflow_provider_wa_analytics.tables.schema import Table
from airflow_provider_wa_analytics.tables.schema import table as define

#: On every row: where it came from, the requested window and the dates sent for it.
PROVENANCE = (
    "vendor",
    "endpoint",
    "partner_id",
    "window_start",
    "window_end",
    "start_date",
    "end_date",
    "campaign_id",
)

OVERVIEW = (
    *PROVENANCE,
    "campaign_name",
    "status_name",
    "status",
    "working_status",
    "send_type",
    "primary_goal",
    "campaign_start",
    "campaign_end",
    "is_recurring",
    "alias",
    "preferred_currency",
    "personalization_status",
    "is_ttl_ended",
    "goal_menu",
    "targeted",
    "sent",
    "dropped",
    "delivered",
    "undelivered",
    "clicks",
    "conversions",
    "delivery_rate",
    "ctr",
    "conversion_rate",
    "revenue",
    "revenue_currency",
)
DEVICE_METRICS = (
    *PROVENANCE,
    "device",
    "sent",
    "delivered",
    "delivery_rate",
    "clicks",
    "ctr",
    "conversions",
    "conversion_rate",
    "revenue",
    "revenue_currency",
)
REASONS = (*PROVENANCE, "reason", "count", "percentage")
MISSING_CAMPAIGNS = (*PROVENANCE, "status_code", "message")

TABLES = {
    "overview": OVERVIEW,
    "device_metrics": DEVICE_METRICS,
    "dropped_reasons": REASONS,
    "undelivered_reasons": REASONS,
    "missing_campaigns": MISSING_CAMPAIGNS,
}

_CAMPAIGN_WINDOW = ("partner_id", "campaign_id", "start_date", "end_date")
#: No table has a day column: under ``{date}`` each campaign is asked one UTC day at a time.
DEFINITIONS: dict[str, Table] = {
    "overview": define("overview", OVERVIEW, key=_CAMPAIGN_WINDOW, types={"status": "integer"}),
    "device_metrics": define("device_metrics", DEVICE_METRICS, key=(*_CAMPAIGN_WINDOW, "device")),
    "dropped_reasons": define("dropped_reasons", REASONS, key=(*_CAMPAIGN_WINDOW, "reason")),
    "undelivered_reasons": define("undelivered_reasons", REASONS, key=(*_CAMPAIGN_WINDOW, "reason")),
    "missing_campaigns": define("missing_campaigns", MISSING_CAMPAIGNS, key=_CAMPAIGN_WINDOW),
}

Row = dict[str, Any]

#: Overview count column -> where the response keeps it under ``overview``.
OVERVIEW_COUNTS = {
    "targeted": ("total", "targeted"),
    "sent": ("targeted", "sent"),
    "dropped": ("targeted", "dropped"),
    "delivered": ("deliveryRate", "delivered"),
    "undelivered": ("deliveryRate", "undelivered"),
    "clicks": ("ctr", "clicks"),
    "conversions": ("conversionRate", "conversions"),
}

RATES = {"delivery_rate": "deliveryRate", "ctr": "ctr", "conversion_rate": "conversionRate"}

_COUNT = re.compile(r"\d+|\d{1,3}(?:[.,]\d{3})+")


def count(value: Any, what: str) -> int | None:
    """A count as int. Counts are whole, so ``"1,234"`` or ``"1.234"`` can only mean 1234."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and _COUNT.fullmatch(value.strip()):
        return int(re.sub(r"[.,]", "", value))
    n = None if isinstance(value, str) else number(value, what)
    if not isinstance(n, int):
        raise malformed(f"{what} should be a whole count", value)
    return n


def _revenue(value: Any, what: str, currency: str | None) -> Row:
    amount, unit = money(value, what)
    return {"revenue": amount, "revenue_currency": unit or (currency if amount is not None else None)}


def overview_row(data: Mapping[str, Any], base: Row) -> Row:
    overview = mapping(data.get("overview"), "overview")

    def part(name: str) -> Mapping[str, Any]:
        return mapping(overview.get(name) or {}, f"overview.{name}")

    total = part("total")
    goal_menu = data.get("goalMenu")
    row: Row = {
        **base,
        "campaign_name": data.get("name"),
        "status_name": data.get("statusName"),
        "status": number(data.get("status"), "status"),
        "working_status": number(data.get("workingStatus"), "workingStatus"),
        "send_type": number(data.get("sendType"), "sendType"),
        "primary_goal": data.get("primaryGoal"),
        "campaign_start": iso_utc(data.get("startDate"), "startDate"),
        "campaign_end": iso_utc(data.get("endDate"), "endDate"),
        "is_recurring": data.get("isRecurring"),
        "alias": data.get("alias"),
        "preferred_currency": data.get("preferredCurrency"),
        "personalization_status": data.get("personalizationStatus"),
        "is_ttl_ended": data.get("isTTLEnded"),
        "goal_menu": json.dumps(goal_menu, sort_keys=True) if goal_menu else None,
    }
    for column, (group, key) in OVERVIEW_COUNTS.items():
        row[column] = count(part(group).get(key), f"overview.{group}.{key}")
    for column, key in (
        ("delivery_rate", "deliveryRate"),
        ("ctr", "ctr"),
        ("conversion_rate", "conversionRate"),
    ):
        row[column] = percent(total.get(key), f"overview.total.{key}")
    return {
        **row,
        **_revenue(overview.get("revenue"), "overview.revenue", data.get("preferredCurrency")),
    }


def device_row(item: Any, what: str, base: Row, currency: str | None) -> Row:
    item = mapping(item, what)

    def c(key: str) -> int | None:
        return count(item.get(key), f"{what}.{key}")

    def p(key: str) -> float | None:
        return percent(item.get(key), f"{what}.{key}")

    return {
        **base,
        "device": item.get("device"),
        "sent": c("sent"),
        "delivered": c("delivered"),
        "delivery_rate": p("deliveryRate"),
        "clicks": c("clicks"),
        "ctr": p("ctr"),
        "conversions": c("conversions"),
        "conversion_rate": p("conversionRate"),
        **_revenue(item.get("revenue"), f"{what}.revenue", currency),
    }


def device_rows(data: Mapping[str, Any], base: Row) -> list[Row]:
    currency = data.get("preferredCurrency")
    return [
        device_row(item, f"deviceMetrics[{i}]", base, currency)
        for i, item in enumerate(items(data.get("deviceMetrics"), "deviceMetrics"))
    ]


def reason_rows(data: Mapping[str, Any], kind: str, base: Row) -> list[Row]:
    """One row per reason label of ``unsuccessfulMessages.dropped`` or ``.undelivered``."""
    unsuccessful = mapping(data.get("unsuccessfulMessages") or {}, "unsuccessfulMessages")
    rows = []
    for i, item in enumerate(items(unsuccessful.get(kind), f"unsuccessfulMessages.{kind}")):
        what = f"unsuccessfulMessages.{kind}[{i}]"
        item = mapping(item, what)
        label = item.get("label")
        if not isinstance(label, str) or not label:
            raise malformed(f"{what}.label should be a reason name", label)
        rows.append(
            {
                **base,
                "reason": label,
                "count": count(item.get("count"), f"{what}.count"),
                "percentage": percent(item.get("percentage"), f"{what}.percentage"),
            }
        )
    return rows


def campaign_metrics_tables(data: Any, base: Row) -> Iterator[tuple[str, list[Row]]]:
    """``(table, rows)`` pairs of one campaign-metrics response; ``base`` holds the provenance."""
    data = mapping(data, "response")
    yield "overview", [overview_row(data, base)]
    yield "device_metrics", device_rows(data, base)
    yield "dropped_reasons", reason_rows(data, "dropped", base)
    yield "undelivered_reasons", reason_rows(data, "undelivered", base)


def missing_campaign_row(base: Row, status: int | None, message: str | None) -> Row:
    return {**base, "status_code": status, "message": message}
