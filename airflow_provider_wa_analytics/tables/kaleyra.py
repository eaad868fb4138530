"""Kaleyra WhatsApp template analytics as tables: ``data_points`` and its child ``button_clicks``.

One ``data_points`` row per template and day; one ``button_clicks`` row per button of a data point,
keyed to it by (``waba_id``, ``template_id``, ``product_type``, ``start``). Counts arrive as strings or
numbers (the doc says strings, its sample shows numbers) and become integers. ``clicked`` on a data
point is the sum of its buttons' counts, so summing either table gives the same clicks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_wa_analytics.tables import iso_utc, items, malformed, mapping, number
from airflow_provider_wa_analytics.tables.schema import Table
from airflow_provider_wa_analytics.tables.schema import table as define

PROVENANCE = ("vendor", "endpoint", "waba_id", "window_start", "window_end")
COUNTS = ("sent", "delivered", "read", "replied")
DATA_POINTS = (
    *PROVENANCE,
    "template_id",
    "product_type",
    "granularity",
    "date",
    "start",
    "end",
    *COUNTS,
    "clicked",
)
BUTTON_CLICKS = (
    *PROVENANCE,
    "template_id",
    "product_type",
    "date",
    "start",
    "button_index",
    "button_type",
    "button_content",
    "count",
)
TABLES = {"data_points": DATA_POINTS, "button_clicks": BUTTON_CLICKS}

_POINT = ("waba_id", "template_id", "product_type")
DEFINITIONS: dict[str, Table] = {
    "data_points": define("data_points", DATA_POINTS, key=(*_POINT, "granularity", "start"), day="date"),
    "button_clicks": define(
        "button_clicks", BUTTON_CLICKS, key=(*_POINT, "start", "button_index"), day="date"
    ),
}

Row = dict[str, Any]


def _groups(data: Any) -> list[Any]:
    """The ``data`` array; an object (error-style ``{}`` or a single group) is accepted too."""
    if isinstance(data, Mapping):
        return [data] if data else []
    return items(data, "data")


def _clicks(clicked: Any, parent: Row, what: str) -> tuple[int | float | None, list[Row]]:
    """The clicks total and the child rows of one data point's ``clicked``."""
    if clicked is None or isinstance(clicked, (int, float, str)):
        return number(clicked, what), []  # a bare total: no per-button detail to keep
    rows: list[Row] = []
    total: int | float | None = None
    for i, button in enumerate(items(clicked, what)):
        button = mapping(button, f"{what}[{i}]")
        count = number(button.get("count"), f"{what}[{i}].count")
        if count is not None:
            total = (total or 0) + count
        rows.append(
            {
                **parent,
                "button_index": i,
                "button_type": button.get("type"),
                "button_content": button.get("button_content"),
                "count": count,
            }
        )
    return (0 if total is None and not rows else total), rows


def template_analytics_tables(body: Any, base: Row) -> Iterator[tuple[str, list[Row]]]:
    """``(table, rows)`` pairs of one templates_analytics page."""
    body = mapping(body, "response")
    points: list[Row] = []
    clicks: list[Row] = []
    for g, group in enumerate(_groups(body.get("data"))):
        group = mapping(group, f"data[{g}]")
        for i, point in enumerate(items(group.get("data_points"), f"data[{g}].data_points")):
            what = f"data[{g}].data_points[{i}]"
            point = mapping(point, what)
            template_id = point.get("template_id")
            if template_id in (None, ""):
                raise malformed(f"{what}.template_id is missing", point)
            start = iso_utc(point.get("start"), f"{what}.start")
            key = {
                **base,
                "template_id": str(template_id),
                "product_type": group.get("product_type"),
                "date": start[:10] if start else None,
                "start": start,
            }
            clicked, buttons = _clicks(point.get("clicked"), key, f"{what}.clicked")
            points.append(
                {
                    **key,
                    "granularity": group.get("granularity"),
                    "end": iso_utc(point.get("end"), f"{what}.end"),
                    **{name: number(point.get(name), f"{what}.{name}") for name in COUNTS},
                    "clicked": clicked,
                }
            )
            clicks.extend(buttons)
    yield "data_points", points
    yield "button_clicks", clicks
