"""Vonage WhatsApp analytics as tables: ``messaging_analytics``, ``template_analytics`` and
``pricing_analytics``.

One row per time bucket (and per template, or per pricing breakdown) of ``_embedded.<name>``. The
vendor sends messaging ``start``/``end`` as epoch-second strings and template/pricing ones as ISO
strings; both become ISO-8601 UTC, and ``date`` is the UTC day of ``start``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_wa_analytics.tables import iso_utc, items, mapping, number
from airflow_provider_wa_analytics.tables.schema import Table
from airflow_provider_wa_analytics.tables.schema import table as define

PROVENANCE = ("vendor", "endpoint", "waba_id", "window_start", "window_end")
BUCKET = ("date", "start", "end")

MESSAGING = (
    *PROVENANCE,
    "granularity",
    "phone_numbers",
    "country_codes",
    "product_types",
    *BUCKET,
    "sent",
    "delivered",
)
TEMPLATE = (
    *PROVENANCE,
    "granularity",
    "product_type",
    "template_id",
    *BUCKET,
    "sent",
    "delivered",
    "read",
    "clicked",
)
PRICING_DIMENSIONS = ("phone_number", "country", "tier", "pricing_type", "pricing_category")
PRICING = (*PROVENANCE, "granularity", "product_type", *PRICING_DIMENSIONS, *BUCKET, "volume")

MESSAGING_TABLES = {"messaging_analytics": MESSAGING}
TEMPLATE_TABLES = {"template_analytics": TEMPLATE}
PRICING_TABLES = {"pricing_analytics": PRICING}

_MESSAGING_KEY = ("waba_id", "granularity", "phone_numbers", "country_codes", "product_types", "start")
MESSAGING_DEFINITIONS: dict[str, Table] = {
    "messaging_analytics": define("messaging_analytics", MESSAGING, key=_MESSAGING_KEY, day="date")
}
TEMPLATE_DEFINITIONS: dict[str, Table] = {
    "template_analytics": define(
        "template_analytics", TEMPLATE, key=("waba_id", "product_type", "template_id", "start"), day="date"
    )
}
PRICING_DEFINITIONS: dict[str, Table] = {
    "pricing_analytics": define(
        "pricing_analytics",
        PRICING,
        key=("waba_id", "granularity", "product_type", *PRICING_DIMENSIONS, "start"),
        day="date",
    )
}

Row = dict[str, Any]


def _entries(data: Any, name: str) -> tuple[Mapping[str, Any], list[Any]]:
    """The response object and its ``_embedded.<name>`` list (a page may have no ``_embedded``)."""
    data = mapping(data, "response")
    embedded = mapping(data.get("_embedded") or {}, "_embedded")
    return data, items(embedded.get(name), f"_embedded.{name}")


def _bucket(entry: Mapping[str, Any], what: str) -> Row:
    start = iso_utc(entry.get("start"), f"{what}.start")
    return {
        "date": start[:10] if start else None,
        "start": start,
        "end": iso_utc(entry.get("end"), f"{what}.end"),
    }


def _clicked(value: Any, what: str) -> int | float | None:
    """A number as documented; a per-button list (Meta's own shape) is summed so no click is lost."""
    if isinstance(value, list):
        counts = [
            number(mapping(b, f"{what}[{i}]").get("count"), f"{what}[{i}].count") for i, b in enumerate(value)
        ]
        return sum(c for c in counts if c is not None)
    return number(value, what)


def messaging_rows(data: Any, base: Row) -> Iterator[Row]:
    data, entries = _entries(data, "messaging_analytics")
    granularity = data.get("granularity")
    for i, entry in enumerate(entries):
        what = f"_embedded.messaging_analytics[{i}]"
        entry = mapping(entry, what)
        yield {
            **base,
            "granularity": granularity,
            **_bucket(entry, what),
            "sent": number(entry.get("sent"), f"{what}.sent"),
            "delivered": number(entry.get("delivered"), f"{what}.delivered"),
        }


def _with_product(data: Any, name: str) -> Iterator[tuple[Row, str, Mapping[str, Any]]]:
    """``(top, what, entry)`` for each entry of a response whose top level names granularity and product."""
    data, entries = _entries(data, name)
    top = {"granularity": data.get("granularity"), "product_type": data.get("product_type")}
    for i, entry in enumerate(entries):
        what = f"_embedded.{name}[{i}]"
        yield top, what, mapping(entry, what)


def template_rows(data: Any, base: Row) -> Iterator[Row]:
    for top, what, entry in _with_product(data, "template_analytics"):
        template_id = entry.get("template_id")
        yield {
            **base,
            **top,
            "template_id": None if template_id is None else str(template_id),
            **_bucket(entry, what),
            **{k: number(entry.get(k), f"{what}.{k}") for k in ("sent", "delivered", "read")},
            "clicked": _clicked(entry.get("clicked"), f"{what}.clicked"),
        }


def pricing_rows(data: Any, base: Row) -> Iterator[Row]:
    for top, what, entry in _with_product(data, "pricing_analytics"):
        yield {
            **base,
            **top,
            **{k: None if entry.get(k) is None else str(entry[k]) for k in PRICING_DIMENSIONS},
            **_bucket(entry, what),
            "volume": number(entry.get("volume"), f"{what}.volume"),
        }


def messaging_tables(data: Any, base: Row) -> Iterator[tuple[str, Iterator[Row]]]:
    yield "messaging_analytics", messaging_rows(data, base)


def template_tables(data: Any, base: Row) -> Iterator[tuple[str, Iterator[Row]]]:
    yield "template_analytics", template_rows(data, base)


def pricing_tables(data: Any, base: Row) -> Iterator[tuple[str, Iterator[Row]]]:
    yield "pricing_analytics", pricing_rows(data, base)
