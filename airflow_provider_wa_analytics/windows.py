"""Time windows: parsing ``start``/``end``, defaulting to the data interval, splitting into legal windows.

A :class:`Window` is half-open, ``[start, end)``, in UTC. Epoch APIs receive it as is. APIs that take
end-inclusive ``YYYY-MM-DD`` dates use one rule (:meth:`Window.dates`): **a UTC day belongs to the
window that contains its midnight**. Consecutive data intervals therefore cover every day exactly once
whatever the schedule (daily, hourly, weekly), and a window that contains no midnight asks for nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

from airflow_provider_wa_analytics.exceptions import InvalidParameterError

UTC = pendulum.UTC
DAY = dt.timedelta(days=1)


def default_timezone() -> Any:
    """Airflow's ``[core] default_timezone``: where a naive datetime is taken, as Airflow does."""
    from airflow import settings

    return getattr(settings, "TIMEZONE", None) or UTC


def to_datetime(value: Any, param: str) -> pendulum.DateTime:
    """Parse a datetime, a date, an ISO-8601 string or epoch seconds into an aware UTC DateTime.

    A naive datetime (object or string without an offset) is in Airflow's default timezone, as in
    Airflow itself; a date (``2025-03-01``) names a UTC day, as the vendors' date parameters do.
    """
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidParameterError(
            f"`{param}` must be a datetime, an ISO-8601 string or epoch seconds, got {value!r}."
        )
    try:
        if isinstance(value, dt.datetime):
            parsed = pendulum.instance(value, tz=default_timezone())
        elif isinstance(value, dt.date):
            parsed = pendulum.datetime(value.year, value.month, value.day, tz=UTC)
        elif isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
            seconds = float(value)
            if not math.isfinite(seconds):
                raise ValueError("not finite")
            parsed = pendulum.from_timestamp(seconds, tz=UTC)
        elif isinstance(value, str):
            text = value.strip()
            parsed_any = pendulum.parse(text, tz=UTC if _is_date(text) else default_timezone())
            if not isinstance(parsed_any, dt.datetime):
                if isinstance(parsed_any, dt.date):
                    parsed_any = pendulum.datetime(parsed_any.year, parsed_any.month, parsed_any.day, tz=UTC)
                else:
                    raise ValueError("not a point in time")
            parsed = pendulum.instance(parsed_any, tz=UTC)
        else:
            raise TypeError(type(value).__name__)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise InvalidParameterError(
            f"`{param}` must be a datetime, an ISO-8601 string or epoch seconds, got {value!r} ({exc})."
        ) from None
    return parsed.in_timezone(UTC)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, order=True)
class Window:
    """A half-open UTC interval ``[start, end)``."""

    start: pendulum.DateTime
    end: pendulum.DateTime

    @classmethod
    def of(cls, start: Any, end: Any) -> Window:
        s, e = to_datetime(start, "start"), to_datetime(end, "end")
        if not e > s:
            raise InvalidParameterError(f"`end` ({e.isoformat()}) must be after `start` ({s.isoformat()}).")
        return cls(s, e)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"

    @property
    def epoch(self) -> tuple[int, int]:
        """``(start, end)`` as whole epoch seconds (start rounded down, end rounded up)."""
        return math.floor(self.start.timestamp()), math.ceil(self.end.timestamp())

    def split(self, max_span: dt.timedelta) -> list[Window]:
        """Consecutive windows of at most ``max_span`` that together cover this one exactly."""
        out: list[Window] = []
        cursor = self.start
        while cursor < self.end:
            nxt = min(cursor + max_span, self.end)
            out.append(Window(cursor, nxt))
            cursor = nxt
        return out

    def dates(self) -> tuple[dt.date, dt.date] | None:
        """First and last UTC day whose midnight lies in the window (end-inclusive), or None."""
        first = _ceil_day(self.start)
        last = _ceil_day(self.end) - DAY
        if last < first:
            return None
        return first, last

    def date_chunks(self, max_days: int) -> list[tuple[dt.date, dt.date]]:
        """:meth:`dates` split into end-inclusive ranges of at most ``max_days`` days each."""
        span = self.dates()
        if span is None:
            return []
        first, last = span
        out = []
        while first <= last:
            chunk_last = min(first + dt.timedelta(days=max_days - 1), last)
            out.append((first, chunk_last))
            first = chunk_last + DAY
        return out


def _ceil_day(moment: pendulum.DateTime) -> dt.date:
    day = moment.date()
    return day if moment == pendulum.datetime(day.year, day.month, day.day, tz=UTC) else day + DAY


def resolve_window(start: Any, end: Any, context: Mapping[str, Any] | None) -> Window:
    """The window of a task run: explicit ``start``/``end``, else the run's data interval."""
    context = context or {}
    from_context = start is None and end is None
    if start is None:
        start = context.get("data_interval_start")
    if end is None:
        end = context.get("data_interval_end")
    missing = [name for name, value in (("start", start), ("end", end)) if value is None]
    if missing:
        raise InvalidParameterError(
            f"No time window: {' and '.join(f'`{m}`' for m in missing)} not given and the run has no data "
            "interval (Airflow 3 manual runs of unscheduled DAGs have none). Pass `start` and `end`, "
            "e.g. start='{{ macros.ds_add(ds, -1) }}', or give the DAG a schedule."
        )
    window_start, window_end = to_datetime(start, "start"), to_datetime(end, "end")
    if window_start == window_end and from_context:
        raise InvalidParameterError(
            f"The run's data interval is empty ({window_start.isoformat()}): on Airflow 3 a cron schedule "
            "such as '@daily' has no interval unless the DAG uses CronDataIntervalTimetable (or "
            "[scheduler] create_cron_data_intervals = True). Use such a timetable, or pass `start` and `end`."
        )
    return Window.of(window_start, window_end)


def iter_days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += DAY
