"""Late-arriving figures: what a run re-fetches (``lookback_days``) and how ``{date}`` runs are planned.

One place for every endpoint. :func:`late_plan` extends a run's window by the ``lookback_days`` UTC
days before its first UTC day (clamped, with a log line, to the vendor's retention), and lists the
UTC days a ``{date}`` run writes (each one's object replaced whole, empty when it has no rows).
:func:`plan_calls` plans the calls: an endpoint whose tables aggregate over the window
(``Endpoint.aggregates_window``) is asked one UTC day at a time under ``{date}``, with the cost
logged before the first request. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pendulum

from airflow_provider_wa_analytics.destinations.naming import is_fixed
from airflow_provider_wa_analytics.destinations.partitions import check_destination, is_partitioned
from airflow_provider_wa_analytics.endpoints import (
    Call,
    Dates,
    Endpoint,
    Query,
    check_not_future,
    whole_number,
)
from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.windows import DAY, UTC, Window, iter_days

log = logging.getLogger(__name__)

check_lookback_days = whole_number(minimum=0, optional=True)


def midnight(day: dt.date) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=UTC)


def window_days(endpoint: Endpoint, window: Window) -> list[dt.date]:
    """The UTC days a window covers: end-inclusive date APIs by their rule (a day belongs to the
    window holding its midnight), epoch APIs every day the window touches."""
    if isinstance(endpoint.window, Dates):
        span = window.dates()
        return [] if span is None else list(iter_days(*span))
    last = (window.end - dt.timedelta(microseconds=1)).date()
    return list(iter_days(window.start.date(), last))


@dataclass(frozen=True)
class LatePlan:
    """What one run fetches and writes. ``days``: the UTC days a ``{date}`` run writes (None without
    ``{date}``); ``refetched``: the days before the window fetched again."""

    window: Window
    lookback_days: int
    partitioned: bool
    per_day: bool
    refetched: tuple[dt.date, ...] = ()
    days: tuple[dt.date, ...] | None = None

    def write_args(self, call: Call) -> dict[str, Any]:
        """The extra arguments of ``Output.write_rows`` for the rows of ``call``."""
        return {"day": call.window.start.date()} if self.partitioned else {}


def late_plan(
    endpoint: Endpoint,
    window: Window,
    lookback_days: Any,
    destination: str | None,
    *,
    now: dt.datetime,
    retention_days: int | None,
) -> LatePlan:
    """The run's window with its lookback, checked (no I/O). ``lookback_days`` None: the default."""
    check_destination(destination)
    partitioned = is_partitioned(destination)
    explicit = check_lookback_days(lookback_days, "lookback_days")
    # The default applies to {date} destinations: without them re-fetched days would be appended to
    # the run's own objects, which only a loader merging on the primary key handles.
    days = explicit if explicit is not None else (endpoint.default_lookback_days if partitioned else 0)
    covered = window_days(endpoint, window)
    first = covered[0] if covered else window.start.date()
    if days and retention_days is not None:
        earliest = now.date() - dt.timedelta(days=retention_days)
        allowed = max((first - earliest).days, 0)
        if days > allowed:
            log.info(
                "lookback_days %d reaches past %s's %d-day retention (earliest day %s): clamped to %d",
                days,
                endpoint.vendor,
                retention_days,
                earliest,
                allowed,
            )
            days = allowed
    refetched = tuple(first - dt.timedelta(days=n) for n in range(days, 0, -1))
    extended = Window(min(window.start, midnight(refetched[0])), window.end) if refetched else window
    if refetched:
        log.info(
            "lookback_days %d: re-fetching %s .. %s before the window %s",
            days,
            refetched[0],
            refetched[-1],
            window,
        )
    return LatePlan(
        window=extended,
        lookback_days=days,
        partitioned=partitioned,
        per_day=partitioned and endpoint.aggregates_window,
        refetched=refetched,
        days=(*refetched, *covered) if partitioned else None,
    )


def day_windows(endpoint: Endpoint, window: Window) -> Iterator[Window]:
    """``window`` cut at UTC midnights: one part per UTC day it covers."""
    if isinstance(endpoint.window, Dates):
        from airflow_provider_wa_analytics.endpoints import date_window

        for day in window_days(endpoint, window):
            yield date_window(day, day)
        return
    for day in window_days(endpoint, window):
        yield Window(max(window.start, midnight(day)), min(window.end, midnight(day + DAY)))


def plan_calls(
    endpoint: Endpoint,
    query: Query,
    window: Window,
    plan: LatePlan,
    *,
    now: dt.datetime,
    retention_days: int | None,
    max_calls: int,
    batch_size: int | None,
) -> list[Call]:
    """The calls of a run: :meth:`Endpoint.plan`, one UTC day at a time for aggregating endpoints
    under ``{date}`` (so that each of their rows belongs to one day)."""
    if not plan.per_day:
        return endpoint.plan(
            query, window, now=now, retention_days=retention_days, max_calls=max_calls, batch_size=batch_size
        )
    check_not_future(window, now)  # the window's own end (a day's date range may end past it)
    per_day = [
        call
        for part in day_windows(endpoint, window)
        for call in endpoint.plan(
            query, part, now=now, retention_days=retention_days, max_calls=max_calls, batch_size=batch_size
        )
    ]
    n_days = len(plan.days or ())
    if len(per_day) > max_calls:
        raise InvalidParameterError(
            f"The window {window} needs {len(per_day)} requests under {{date}} ({n_days} day(s), each "
            f"asked on its own), more than `max_calls` ({max_calls}); lower `lookback_days`, split the "
            "backfill into shorter runs or raise `max_calls`."
        )
    log.info(
        "%s sums its figures over the requested window, so under {date} it is asked one UTC day at a "
        "time: %d day(s) x %d request(s) a day = %d request(s)",
        endpoint.id,
        n_days,
        len(per_day) // max(n_days, 1),
        len(per_day),
    )
    return per_day


def check_late_arguments(lookback_days: Any, destination: Any) -> None:
    """At DAG parse time, what is not templated: ``lookback_days`` and the destination's placeholders."""
    if is_fixed(lookback_days):
        check_lookback_days(lookback_days, "lookback_days")
    if isinstance(destination, str) and is_fixed(destination):
        check_destination(destination)


def needs_run_output(plan: LatePlan, output_format: str, destination: str | None) -> bool:
    """Day partitions, Parquet, or re-fetched days written somewhere: the run output's work."""
    return (
        output_format == "parquet"
        or plan.partitioned
        or (destination is not None and plan.lookback_days > 0 and output_format != "json")
    )


def run_output(endpoint: Endpoint, plan: LatePlan, **arguments: Any) -> Any:
    from airflow_provider_wa_analytics.destinations.partitions import RunOutput

    return RunOutput(schemas=endpoint.schemas, days=plan.days, refetched=plan.refetched, **arguments)
