"""The engine's data model: a vendor endpoint described once, as a value, and what running it means.

An :class:`Endpoint` says everything about one vendor call: method and path, its parameters and their
checks (composed from the generic checkers below, parameterized by the vendor's documented
constants), its window rule (:class:`Epochs` or :class:`Dates`), its batching rule, its paginator,
its tables and how rows are built. :meth:`Endpoint.query` checks rendered arguments once into a
frozen :class:`Query`; :meth:`Endpoint.plan` turns a query and a window into the :class:`Call` list;
:meth:`Endpoint.first_request` builds the first page's request of one call. The hooks run calls
(:meth:`~airflow_provider_wa_analytics.hooks.base.WaAnalyticsHook.run`), the base operator runs the
whole flow. Nothing here does I/O.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pendulum

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.tables.schema import column_names
from airflow_provider_wa_analytics.windows import UTC, Window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import PageRequest
    from airflow_provider_wa_analytics.paging import Paginator
    from airflow_provider_wa_analytics.tables.schema import Table

Checker = Callable[[Any, str], Any]
Row = dict[str, Any]
Rows = Iterable[Mapping[str, Any]]
TableRows = Callable[[Any, Row], Iterator[tuple[str, Rows]]]

#: A plan of more calls than this fails before any request (operator argument ``max_calls``).
DEFAULT_MAX_CALLS = 2000
#: How far past now (UTC) a window may end: a day, for time zones and clocks a little ahead.
FUTURE_SLACK = dt.timedelta(days=1)


# -- generic checkers: each takes (value, parameter name) and returns the checked value ------------
def as_list(value: Any, param: str) -> list[Any]:
    """A list parameter. A string (a rendered template) may hold a JSON or Python list, or ``a, b``."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            # The Python repr a list renders to without native templates, or JSON (true/null).
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, RecursionError, MemoryError):
                try:
                    value = json.loads(text)
                except (ValueError, RecursionError):
                    raise InvalidParameterError(f"`{param}` is not a valid list: {text[:200]!r}.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterError(
            f"`{param}` must be a list (or a comma-separated string), got {type(value).__name__}."
        )
    return list(value)


def _text(item: Any, upper: bool = False, kinds: tuple[type, ...] = (str, int)) -> str | None:
    """A scalar id or name as stripped text; None for anything else (bools, lists, objects)."""
    if isinstance(item, bool) or not isinstance(item, kinds):
        return None
    text = str(item).strip()
    return text.upper() if upper else text


def identifier(pattern: str, example: str) -> Checker:
    """One id matching the vendor's documented form (``fullmatch``): ``.``/``..`` and separators fail."""
    compiled = re.compile(pattern)

    def check(value: Any, param: str) -> str:
        text = _text(value)
        if text is None or not compiled.fullmatch(text):
            raise InvalidParameterError(f"`{param}` must be {example}, got {value!r}.")
        return text

    return check


def id_list(
    pattern: str,
    example: str,
    *,
    required: bool = False,
    upper: bool = False,
    kinds: tuple[type, ...] = (str, int),
) -> Checker:
    """Distinct ids in the given order (a duplicate would fetch and write the same rows twice)."""
    compiled = re.compile(pattern)

    def check(value: Any, param: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(as_list(value, param)):
            text = _text(item, upper, kinds)
            if text is None or not compiled.fullmatch(text):
                raise InvalidParameterError(f"`{param}[{i}]` must be {example}, got {item!r}.")
            if text not in out:
                out.append(text)
        if required and not out:
            raise InvalidParameterError(f"`{param}` is required: give at least one, e.g. {example}.")
        return out

    return check


def choice(allowed: Sequence[str], *, optional: bool = False) -> Checker:
    """One of ``allowed`` (case-insensitive; ``allowed`` is all upper or all lower case); ``optional``:
    None or "" stays None."""
    upper = all(a == a.upper() for a in allowed)

    def check(value: Any, param: str) -> str | None:
        if optional and value in (None, ""):
            return None
        text = _text(value, upper=upper)
        text = text if upper or text is None else text.lower()
        if text not in allowed:
            raise InvalidParameterError(f"`{param}` must be one of {', '.join(allowed)}, got {value!r}.")
        return text

    return check


def choices(allowed: Sequence[str]) -> Checker:
    """Distinct values of ``allowed`` (case-insensitive); empty means "all" to every vendor here."""

    def check(value: Any, param: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(as_list(value, param)):
            text = _text(item, upper=True)
            if text is None or text not in allowed:
                raise InvalidParameterError(
                    f"`{param}[{i}]` must be one of {', '.join(allowed)}, got {item!r}."
                )
            if text not in out:
                out.append(text)
        return out

    return check


def whole_number(*, minimum: int = 1, optional: bool = True) -> Checker:
    """A whole number >= ``minimum`` (a string of one too: templates render strings)."""

    def check(value: Any, param: str) -> int | None:
        if optional and value in (None, ""):
            return None
        number = None
        if not isinstance(value, bool) and isinstance(value, (int, str)):
            text = str(value).strip()
            if re.fullmatch(r"[-+]?\d{1,18}", text):
                number = int(text)
        if number is None or number < minimum:
            raise InvalidParameterError(f"`{param}` must be a whole number >= {minimum}, got {value!r}.")
        return number

    return check


def optional_text(value: Any, param: str) -> str | None:
    """A non-empty string, or None when not given."""
    if value is None:
        return None
    text = _text(value)
    if not text:
        raise InvalidParameterError(f"`{param}` must be a non-empty string, got {value!r}.")
    return text


def query_array(values: Sequence[str]) -> str:
    """An array query value as Vonage's documented sample writes it: ``template_ids=[458951126288937]``."""
    return "[" + ",".join(values) + "]"


def comma_joined(values: Sequence[str]) -> str:
    return ",".join(values)


# -- parameters ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One endpoint parameter: the operator/hook argument ``name``, its check, how it is sent.

    ``send_as``: the vendor's field name (default: ``name``); ``"{path}"`` when the value only fills
    the path. ``encode``: the wire form of a checked value; empty values are not sent. The operator
    of the endpoint takes it as a templated keyword argument of the same name (see
    :class:`~airflow_provider_wa_analytics.operators.base.WaAnalyticsOperator`).
    """

    name: str
    check: Checker
    send_as: str | None = None
    encode: Callable[[Any], Any] | None = None
    #: Supplied by the hook from the connection when not given (an account id, a partner id).
    connection: bool = False
    #: The value when the argument is not given (operators and hook calls alike).
    default: Any = None
    #: The operator cannot be built without it (Airflow reports it missing when the DAG is parsed).
    required: bool = False
    #: False: only the connection supplies it, it is not an operator argument (Kaleyra's SID).
    argument: bool = True

    def wire(self, value: Any) -> Any:
        return self.encode(value) if self.encode is not None else value


# -- window rules ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Epochs:
    """Windows sent as 10-digit epoch seconds, split into spans of at most ``max_span``."""

    fields: tuple[str, str]
    max_span: dt.timedelta
    #: The earliest start the API accepts (epoch seconds), with the reason in the error.
    earliest: int | None = None
    earliest_reason: str = ""
    #: The longest span in the vendor's words, for errors.
    longest: str = ""

    def ranges(self, window: Window) -> list[Window]:
        if self.earliest is not None and window.start.timestamp() < self.earliest:
            raise InvalidParameterError(
                f"`start` ({window.start.isoformat()}) is before "
                f"{pendulum.from_timestamp(self.earliest, tz=UTC).isoformat()}, {self.earliest_reason}."
            )
        parts = window.split(self.max_span)
        for part in parts:
            for name, value in zip(self.fields, part.epoch, strict=True):
                if not 1_000_000_000 <= value <= 9_999_999_999:
                    raise InvalidParameterError(
                        f"`{name}` must be a 10-digit unix timestamp, got {value!r} (the window {window})."
                    )
        return parts

    def send(self, window: Window) -> dict[str, Any]:
        return dict(zip(self.fields, window.epoch, strict=True))

    def of(self, start: Any, end: Any) -> Window:
        """The window of explicit epoch fields, checked as the vendor documents them."""
        for name, value in zip(self.fields, (start, end), strict=True):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1_000_000_000 <= value <= 9_999_999_999
            ):
                raise InvalidParameterError(f"`{name}` must be a 10-digit unix timestamp, got {value!r}.")
        if end <= start:
            raise InvalidParameterError(
                f"`{self.fields[1]}` must be greater than {self.fields[0]} ({end} <= {start})."
            )
        return Window(pendulum.from_timestamp(start, tz=UTC), pendulum.from_timestamp(end, tz=UTC))

    def label(self, window: Window) -> str:
        return str(window)


@dataclass(frozen=True)
class Dates:
    """Windows sent as end-inclusive ``YYYY-MM-DD`` days (a UTC day belongs to the window that holds
    its midnight), split into ranges of at most ``max_days`` (None: the whole window at once)."""

    fields: tuple[str, str]
    max_days: int | None = None

    @property
    def longest(self) -> str:
        return f"at most {self.max_days} days" if self.max_days else "any number of days"

    def ranges(self, window: Window) -> list[Window]:
        span = window.dates()
        if span is None:
            return []
        days = (span[1] - span[0]).days + 1
        return [date_window(first, last) for first, last in window.date_chunks(self.max_days or days)]

    def send(self, window: Window) -> dict[str, Any]:
        span = window.dates()
        assert span is not None, "a Dates call always covers whole days"
        return {self.fields[0]: span[0].isoformat(), self.fields[1]: span[1].isoformat()}

    def label(self, window: Window) -> str:
        first, last = self.send(window).values()
        return f"{first}..{last}"

    def of(self, start: Any, end: Any) -> Window:
        """The window of explicit end-inclusive dates (``date``, ``datetime`` or ``YYYY-MM-DD``)."""
        first, last = (to_date(v, name) for v, name in zip((start, end), self.fields, strict=True))
        if last < first:
            raise InvalidParameterError(
                f"`{self.fields[1]}` ({last}) must not be before `{self.fields[0]}` ({first})."
            )
        return date_window(first, last)


def to_date(value: Any, param: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidParameterError(f"`{param}` must be a date in YYYY-MM-DD format, got {value!r}.")


def date_window(first: dt.date, last: dt.date) -> Window:
    """The half-open window ``[first 00:00, last + 1 day 00:00)`` UTC that a date range covers."""
    nxt = last + dt.timedelta(days=1)
    return Window(
        pendulum.datetime(first.year, first.month, first.day, tz=UTC),
        pendulum.datetime(nxt.year, nxt.month, nxt.day, tz=UTC),
    )


@dataclass(frozen=True)
class Batches:
    """A list parameter sent ``size`` items per call (``size_param``: the argument overriding it)."""

    param: str
    size: int
    size_param: str | None = None


# -- queries and calls ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """An endpoint's arguments after checking: what every call of a run sends, frozen."""

    endpoint: Endpoint
    values: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def with_values(self, **values: Any) -> Query:
        return Query(self.endpoint, MappingProxyType({**self.values, **values}))


@dataclass(frozen=True)
class Call:
    """One logical vendor call (one legal window, one batch); it may span several pages."""

    label: str
    window: Window
    batch: Mapping[str, Any] = field(default_factory=dict)
    #: The window as the request sends it (``{"start": "2025-03-01", "end": "2025-03-07"}``).
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        """The window fields and the batch: what sets this call apart from the others of its run."""
        return {**self.fields, **self.batch}


# -- the endpoint ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """One vendor endpoint, described once. See the module docstring."""

    vendor: str
    #: The name in the ``endpoint`` provenance column and in logs (``statistics/overall``).
    name: str
    method: str
    #: Path template below the base URL; ``{name}`` is filled from the query (percent-encoded).
    path: str
    params: tuple[Param, ...]
    window: Epochs | Dates
    #: The vendor as users name it, in messages ("Vonage's 90-day retention").
    vendor_name: str
    #: Table name -> :class:`~airflow_provider_wa_analytics.tables.schema.Table`: the documented
    #: columns in order, their types, primary key and day column.
    schemas: Mapping[str, Table]
    #: ``rows(data, provenance)`` -> ``(table, rows)`` pairs of one response.
    rows: TableRows
    paginator: Paginator | None = None
    batch: Batches | None = None
    #: How far back the vendor keeps data, in days (connection extra ``retention_days`` overrides).
    retention_days: int | None = None
    #: Provenance column -> the query/batch value it shows (lists are comma-joined, empty is None).
    provenance: Mapping[str, str] = field(default_factory=dict)
    #: Independent calls in flight at once by default (1 = sequential).
    default_concurrency: int = 1
    #: Default ``lookback_days`` and why, for the docs and the late-arriving-figures planner.
    summary: str = ""
    #: Days before the window each run re-fetches by default under ``{date}`` (see :mod:`.lookback`).
    default_lookback_days: int = 0
    #: The tables sum over the requested window (summaries, per-campaign totals): under ``{date}``
    #: the endpoint is asked one UTC day at a time so that every row belongs to one day.
    aggregates_window: bool = False

    @cached_property
    def tables(self) -> Mapping[str, Sequence[str]]:
        """Table name -> its ordered column names (of :attr:`schemas`)."""
        return column_names(self.schemas)

    @property
    def id(self) -> str:
        """``vonage.messaging-analytics``: unique in the registry."""
        return f"{self.vendor}.{self.name}"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    # -- checking --------------------------------------------------------------------------------
    def query(self, arguments: Mapping[str, Any]) -> Query:
        """Every parameter checked once (no I/O); the error names the parameter."""
        unknown = sorted(set(arguments) - set(self.param_names))
        if unknown:
            raise InvalidParameterError(
                f"{self.id}: unknown parameter(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(self.param_names)}."
            )
        values = {}
        for p in self.params:
            value = arguments.get(p.name, p.default)
            values[p.name] = None if p.connection and value is None else p.check(value, p.name)
        return Query(self, MappingProxyType(values))

    # -- planning --------------------------------------------------------------------------------
    def plan(
        self,
        query: Query,
        window: Window,
        *,
        now: dt.datetime,
        retention_days: int | None,
        max_calls: int = DEFAULT_MAX_CALLS,
        batch_size: int | None = None,
    ) -> list[Call]:
        """Legal windows x batches, in order; fails before any request when the plan is not legal."""
        check_not_future(window, now)
        ranges = self.window.ranges(window)
        if ranges and retention_days is not None:
            check_retention(ranges[0].start.date(), retention_days, now.date(), self.vendor_name)
        batches = self._batches(query, batch_size)
        calls = [
            Call(
                label=self.window.label(part) + (f" {label}" if label else ""),
                window=part,
                batch=batch,
                fields=self.window.send(part),
            )
            for part in ranges
            for label, batch in batches
        ]
        if len(calls) > max_calls:
            raise InvalidParameterError(
                f"The window {window} needs {len(calls)} requests, more than `max_calls` ({max_calls}); "
                "split the backfill into shorter runs or raise `max_calls`."
            )
        return calls

    def _batches(self, query: Query, batch_size: int | None) -> list[tuple[str, dict[str, Any]]]:
        if self.batch is None:
            return [("", {})]
        ids = list(query[self.batch.param])
        size = batch_size or self.batch.size
        out = []
        for i in range(0, len(ids), size):
            part = ids[i : i + size]
            label = (
                f"{self.batch.param} {part[0]}"
                if size == 1
                else f"{self.batch.param} {i + 1}-{i + len(part)} of {len(ids)}"
            )
            out.append((label, {self.batch.param: part}))
        return out

    # -- requests --------------------------------------------------------------------------------
    def first_request(self, query: Query, call: Call) -> PageRequest:
        """The first page's request of ``call``: path filled, fields encoded, empty fields left out."""
        from airflow_provider_wa_analytics.client import PageRequest

        values = {**query.values, **call.batch}
        fields: list[tuple[str, Any]] = list(self.window.send(call.window).items())
        path_values: dict[str, str] = {}
        for p in self.params:
            value = values.get(p.name)
            if p.send_as == "{path}":
                path_values[p.name] = quote(str(value), safe="")
            elif value not in (None, "", [], {}):
                fields.append((p.send_as or p.name, p.wire(value)))
        path = self.path.format(**path_values)
        if self.method == "GET":
            return PageRequest("GET", path, tuple((k, str(v)) for k, v in fields))
        return PageRequest(self.method, path, json=dict(fields))

    def provenance_of(self, query: Query, call: Call) -> Row:
        """Columns on every row: vendor, endpoint, the requested window, the endpoint's own."""
        values = {**query.values, **call.batch, **self.window.send(call.window)}
        row: Row = {
            "vendor": self.vendor,
            "endpoint": self.name,
            "window_start": call.window.start.isoformat(),
            "window_end": call.window.end.isoformat(),
        }
        for column, source in self.provenance.items():
            value: Any = values
            for key in source.split("."):  # "campaign_filter.accounts": a key inside an object
                value = value.get(key) if isinstance(value, Mapping) else None
            if isinstance(value, (list, tuple)):
                value = ",".join(map(str, value)) or None
            row[column] = value
        return row


def check_not_future(window: Window, now: dt.datetime) -> None:
    """A window ending more than a day after ``now`` is a typo, not a schedule (and would fan out)."""
    limit = pendulum.instance(now, tz=UTC) + FUTURE_SLACK
    if window.end > limit:
        raise InvalidParameterError(
            f"`end` ({window.end.isoformat()}) lies in the future (after {limit.isoformat()}): vendors have "
            "no figures for days that have not happened. Check `end` (and `start`)."
        )


def check_retention(first_day: dt.date, retention_days: int, today: dt.date, vendor: str) -> None:
    """The earliest day a window may start is today (UTC) minus ``retention_days``."""
    earliest = today - dt.timedelta(days=retention_days)
    if first_day < earliest:
        raise InvalidParameterError(
            f"`start` {first_day} is outside {vendor}'s {retention_days}-day retention: the earliest day "
            f"it keeps analytics for is {earliest} (today {today} UTC minus {retention_days} days). Pick a "
            "later `start`, or raise the connection extra `retention_days` if the vendor keeps more for "
            "your account."
        )
