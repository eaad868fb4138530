"""Insider One WhatsApp statistics as tables: daily, campaigns, campaign_tags, campaign_responses, summary.

Summing ``daily`` or ``campaigns`` reproduces ``summary`` for sent, delivered, open, click and conversion;
the ``drop_*`` and ``undelivered_*`` columns sum to ``drop`` and ``undelivered``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_wa_analytics.tables import (
    breakdown,
    iso_utc,
    items,
    malformed,
    mapping,
    number,
    snake,
)
from airflow_provider_wa_analytics.tables.schema import Table
from airflow_provider_wa_analytics.tables.schema import table as define

PROVENANCE = ("vendor", "endpoint", "account", "window_start", "window_end")

CHART_SERIES = (
    "sent",
    "delivered",
    "open",
    "click",
    "conversion",
    "verified",
    "responses",
    "clickFromResponses",
    "conversionFromResponses",
)
FIGURES = (
    "sent",
    "delivered",
    "open",
    "click",
    "conversion",
    "revenue",
    "drop",
    "targeted",
    "unsubscribe",
    "undelivered",
    "deliveryPending",
)
DROP_REASONS = (
    "frequencyCapped",
    "duplicates",
    "invalidPhoneNumbers",
    "tierLimitation",
    "templateFailures",
    "pausedTemplates",
    "recipientRelatedErrors",
    "metaTemporaryErrors",
    "accountIntegrationErrors",
    "internalErrors",
    "rateLimits",
    "policyFailures",
)
UNDELIVERED_REASONS = (
    "recipientRelatedErrors",
    "accountVerificationErrors",
    "mediaErrors",
    "heldMessages",
    "metaExperiment",
    "metaErrors",
    "invalidMessages",
    "metaRecipientLimitsErrors",
    "deliveryReportMissing",
)
RESPONSE_FIGURES = ("sent", "delivered", "open", "click", "conversion", "revenue")
RESPONSE_SUMMARY = ("sent", "open", "click", "conversion", "buttonClick")

_BREAKDOWN_COLUMNS = (
    *(f"drop_{snake(k)}" for k in DROP_REASONS),
    "drop_other",
    *(f"undelivered_{snake(k)}" for k in UNDELIVERED_REASONS),
    "undelivered_other",
)
FIGURE_COLUMNS = (*(snake(k) for k in FIGURES), *_BREAKDOWN_COLUMNS)

DAILY = (*PROVENANCE, "date", "date_start", *(snake(k) for k in CHART_SERIES))
CAMPAIGNS = (
    *PROVENANCE,
    "campaign_id",
    "campaign_name",
    "status",
    "campaign_type",
    "is_conversational",
    "starts_on",
    "ends_on",
    "last_delivery_at",
    "phone_number",
    "phone_number_name",
    *FIGURE_COLUMNS,
    *(f"response_{snake(k)}" for k in RESPONSE_SUMMARY),
)
CAMPAIGN_TAGS = (*PROVENANCE, "campaign_id", "tag_id", "tag_name")
CAMPAIGN_RESPONSES = (
    *PROVENANCE,
    "campaign_id",
    "card_id",
    "button_name",
    *RESPONSE_FIGURES,
    "is_no_reply_message",
)
SUMMARY = (*PROVENANCE, *FIGURE_COLUMNS)

OVERALL_TABLES = {
    "daily": DAILY,
    "campaigns": CAMPAIGNS,
    "campaign_tags": CAMPAIGN_TAGS,
    "campaign_responses": CAMPAIGN_RESPONSES,
    "summary": SUMMARY,
}
TRANSACTIONAL_TABLES = {"daily": DAILY, "summary": SUMMARY}

#: Under ``{date}`` the endpoint is asked one UTC day at a time, so the window is that day.
_WINDOW = ("endpoint", "account", "window_start", "window_end")
_IDS = {"campaign_id": "integer"}
OVERALL_DEFINITIONS: dict[str, Table] = {
    "daily": define("daily", DAILY, key=("endpoint", "account", "date"), day="date"),
    "campaigns": define("campaigns", CAMPAIGNS, key=(*_WINDOW, "campaign_id"), types=_IDS),
    "campaign_tags": define(
        "campaign_tags", CAMPAIGN_TAGS, key=(*_WINDOW, "campaign_id", "tag_id"), types=_IDS
    ),
    "campaign_responses": define(
        "campaign_responses", CAMPAIGN_RESPONSES, key=(*_WINDOW, "campaign_id", "card_id"), types=_IDS
    ),
    "summary": define("summary", SUMMARY, key=_WINDOW),
}
TRANSACTIONAL_DEFINITIONS = {name: OVERALL_DEFINITIONS[name] for name in TRANSACTIONAL_TABLES}

Row = dict[str, Any]


def _figures(obj: Mapping[str, Any], what: str) -> Row:
    row: Row = {snake(k): number(obj.get(k), f"{what}.{k}") for k in FIGURES}
    row.update(breakdown("drop", obj.get("dropDetails"), DROP_REASONS, f"{what}.dropDetails"))
    row.update(
        breakdown(
            "undelivered", obj.get("undeliveredDetails"), UNDELIVERED_REASONS, f"{what}.undeliveredDetails"
        )
    )
    return row


def daily_rows(chart: Any, base: Row) -> Iterator[Row]:
    """One row per day of the chart's parallel arrays (all must have the same length)."""
    if chart is None:
        return
    chart = mapping(chart, "chart")
    dates = items(chart.get("dates"), "chart.dates")
    stamps = items(chart.get("datesAsTimestamp"), "chart.datesAsTimestamp") or [None] * len(dates)
    series = {k: items(chart.get(k), f"chart.{k}") for k in CHART_SERIES}
    for name, values in (("datesAsTimestamp", stamps), *series.items()):
        if values and len(values) != len(dates):
            raise malformed(f"chart.{name} has {len(values)} values for {len(dates)} dates")
    for i, date in enumerate(dates):
        if not isinstance(date, str):
            raise malformed("chart.dates should hold YYYY-MM-DD strings", date)
        row = {**base, "date": date, "date_start": iso_utc(stamps[i], "chart.datesAsTimestamp")}
        for k, values in series.items():
            row[snake(k)] = number(values[i], f"chart.{k}") if values else None
        yield row


def campaign_rows(details: Any, base: Row) -> Iterator[tuple[str, Row]]:
    for i, item in enumerate(items(details, "details")):
        what = f"details[{i}]"
        item = mapping(item, what)
        campaign_id = item.get("id")
        if campaign_id is None:
            raise malformed(f"{what}.id is missing")
        summary = mapping(item.get("responseSummary") or {}, f"{what}.responseSummary")
        row = {
            **base,
            "campaign_id": campaign_id,
            "campaign_name": item.get("campName"),
            "status": item.get("status"),
            "campaign_type": item.get("campaignType"),
            "is_conversational": item.get("isConversational"),
            "starts_on": iso_utc(item.get("startsOn"), f"{what}.startsOn"),
            "ends_on": iso_utc(item.get("endsOn"), f"{what}.endsOn"),
            "last_delivery_at": iso_utc(
                item.get("campaignLastDeliveryDate"), f"{what}.campaignLastDeliveryDate"
            ),
            "phone_number": item.get("phoneNumber"),
            "phone_number_name": item.get("phoneNumberName"),
            **_figures(item, what),
            **{
                f"response_{snake(k)}": number(summary.get(k), f"{what}.responseSummary.{k}")
                for k in RESPONSE_SUMMARY
            },
        }
        yield "campaigns", row
        for j, tag in enumerate(items(item.get("tags"), f"{what}.tags")):
            tag = mapping(tag, f"{what}.tags[{j}]")
            yield (
                "campaign_tags",
                {**base, "campaign_id": campaign_id, "tag_id": tag.get("id"), "tag_name": tag.get("name")},
            )
        for j, resp in enumerate(items(item.get("responses"), f"{what}.responses")):
            resp = mapping(resp, f"{what}.responses[{j}]")
            yield (
                "campaign_responses",
                {
                    **base,
                    "campaign_id": campaign_id,
                    "card_id": resp.get("cardId"),
                    "button_name": resp.get("buttonName"),
                    **{snake(k): number(resp.get(k), f"{what}.responses[{j}].{k}") for k in RESPONSE_FIGURES},
                    "is_no_reply_message": resp.get("isNoReplyMessage"),
                },
            )


def _statistics_shape(data: Mapping[str, Any], base: Row) -> Row | None:
    """The documented second 200 shape ``{"data": {"statistics": {sent, delivered, read}}}``."""
    inner = data.get("data")
    if not isinstance(inner, Mapping) or "statistics" not in inner:
        return None
    stats = mapping(inner["statistics"], "data.statistics")
    row: Row = {**base, **dict.fromkeys(FIGURE_COLUMNS)}
    row.update(
        sent=number(stats.get("sent"), "data.statistics.sent"),
        delivered=number(stats.get("delivered"), "data.statistics.delivered"),
        open=number(stats.get("read", stats.get("open")), "data.statistics.read"),
    )
    return row


def overall_tables(data: Any, base: Row) -> Iterator[tuple[str, Any]]:
    """``(table, rows)`` pairs of one overall-statistics response."""
    return _statistics_tables(data, base, overall=True)


def transactional_tables(data: Any, base: Row) -> Iterator[tuple[str, Any]]:
    """``(table, rows)`` pairs of one transactional-statistics response (figures at the top level)."""
    return _statistics_tables(data, base, overall=False)


def _statistics_tables(data: Any, base: Row, *, overall: bool) -> Iterator[tuple[str, Any]]:
    data = mapping(data, "response")
    alt = _statistics_shape(data, base)
    if alt is not None:
        yield "summary", [alt]
        return
    yield "daily", daily_rows(data.get("chart"), base)
    if not overall:
        yield "summary", [{**base, **_figures(data, "response")}]
        return
    by_table: dict[str, list[Row]] = {"campaigns": [], "campaign_tags": [], "campaign_responses": []}
    for table, row in campaign_rows(data.get("details"), base):
        by_table[table].append(row)
    yield from by_table.items()
    yield "summary", [{**base, **_figures(mapping(data.get("summary"), "summary"), "summary")}]
