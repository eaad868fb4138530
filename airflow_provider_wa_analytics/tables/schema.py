"""Table definitions: each normalized table's typed columns, primary key and day column, defined once.

A :class:`Table` gives the documented column order (``Endpoint.tables`` keeps ``{name: columns}``
for the code that only needs names), the primary key (what makes a row unique: what a warehouse
merges on), the day column (which UTC day a row belongs to under ``{date}``; None: the day it was
requested for) and the Parquet schema (:mod:`airflow_provider_wa_analytics.destinations.parquet`).

Types: ``count`` (a whole number that adds up: sent, delivered, clicks... int64, and the columns the
change report totals), ``integer`` (a whole number that does not add up: ids, status codes; int64),
``float`` (ratios, percentages, amounts; float64), ``timestamp`` (ISO-8601 UTC;
``timestamp[us, tz=UTC]``), ``date`` (``YYYY-MM-DD``; date32), ``boolean`` and ``text`` (string).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

TYPES = ("count", "integer", "float", "timestamp", "date", "boolean", "text")

#: The types a column name implies unless a table says otherwise (names shared by every vendor).
_TIMESTAMPS = frozenset(
    {
        "window_start",
        "window_end",
        "date_start",
        "starts_on",
        "ends_on",
        "last_delivery_at",
        "campaign_start",
        "campaign_end",
        "start",
        "end",
    }
)
_DATES = frozenset({"date", "start_date", "end_date"})
_FLOATS = frozenset({"delivery_rate", "ctr", "conversion_rate", "percentage", "revenue"})
_INTEGERS = frozenset({"tag_id", "card_id", "working_status", "send_type", "status_code", "button_index"})
_TEXT = frozenset(
    {
        "vendor",
        "endpoint",
        "account",
        "waba_id",
        "partner_id",
        "granularity",
        "phone_numbers",
        "country_codes",
        "product_types",
        "product_type",
        "template_id",
        "campaign_id",
        "campaign_name",
        "campaign_type",
        "status",
        "phone_number",
        "phone_number_name",
        "tag_name",
        "button_name",
        "status_name",
        "primary_goal",
        "alias",
        "preferred_currency",
        "personalization_status",
        "goal_menu",
        "revenue_currency",
        "device",
        "reason",
        "message",
        "country",
        "tier",
        "pricing_type",
        "pricing_category",
        "button_type",
        "button_content",
    }
)


def column_type(name: str) -> str:
    """The type a column name implies: see the module docstring; anything else is a ``count``."""
    if name in _TIMESTAMPS:
        return "timestamp"
    if name in _DATES:
        return "date"
    if name in _FLOATS:
        return "float"
    if name in _INTEGERS:
        return "integer"
    if name in _TEXT:
        return "text"
    if name.startswith("is_"):
        return "boolean"
    return "count"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name!r}: type must be one of {TYPES}, not {self.type!r}")


@dataclass(frozen=True)
class Table:
    """One normalized table. See the module docstring."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    #: The column holding the UTC day of a row (``YYYY-MM-DD`` or a timestamp); None: the requested day.
    day_column: str | None = None

    def __post_init__(self) -> None:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name!r}: duplicate columns")
        missing = [
            c for c in (*self.primary_key, *([self.day_column] if self.day_column else [])) if c not in names
        ]
        if missing:
            raise ValueError(f"table {self.name!r}: key or day columns {missing} are not columns")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def count_columns(self) -> tuple[str, ...]:
        """The columns whose totals the change report compares (whole numbers that add up)."""
        return tuple(c.name for c in self.columns if c.type == "count")

    def type_of(self, name: str) -> str:
        return next(c.type for c in self.columns if c.name == name)


def table(
    name: str,
    columns: Iterable[str],
    *,
    key: Sequence[str],
    day: str | None = None,
    types: Mapping[str, str] | None = None,
) -> Table:
    """A :class:`Table` from ordered column names, their types implied by :func:`column_type`."""
    overrides = dict(types or {})
    return Table(
        name,
        tuple(Column(c, overrides.get(c) or column_type(c)) for c in columns),
        tuple(key),
        day,
    )


def column_names(definitions: Mapping[str, Table]) -> dict[str, tuple[str, ...]]:
    """``{table: ordered column names}``: the mapping ``Endpoint.tables`` holds."""
    return {name: t.column_names for name, t in definitions.items()}
