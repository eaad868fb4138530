"""Windows: parsing, defaults from the data interval, splitting, and the end-inclusive date rule."""

from __future__ import annotations

import datetime as dt
import itertools

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.windows import Window, resolve_window, to_datetime

UTC = pendulum.UTC


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2025, 3, 1),  # naive -> UTC
        pendulum.datetime(2025, 3, 1, 3, tz="Europe/Istanbul"),  # 03:00+03:00 == 00:00Z
        "2025-03-01",
        "2025-03-01T00:00:00Z",
        "2025-03-01T03:00:00+03:00",
        1740787200,
        1740787200.0,
        "1740787200",
        dt.date(2025, 3, 1),
    ],
)
def test_every_accepted_form_parses_to_the_same_utc_instant(value):
    assert to_datetime(value, "start") == pendulum.datetime(2025, 3, 1, tz=UTC)


@pytest.mark.parametrize("value", [None, "", "yesterday", True, [], float("nan"), "2025-13-01"])
def test_bad_values_name_the_parameter(value):
    with pytest.raises(InvalidParameterError, match="`end`"):
        to_datetime(value, "end")


def test_end_must_be_after_start():
    with pytest.raises(InvalidParameterError, match=r"`end`.*after `start`"):
        Window.of("2025-03-02", "2025-03-01")


def test_defaults_come_from_the_data_interval():
    ctx = {
        "data_interval_start": pendulum.datetime(2025, 3, 1, tz=UTC),
        "data_interval_end": pendulum.datetime(2025, 3, 2, tz=UTC),
    }
    assert resolve_window(None, None, ctx) == Window(ctx["data_interval_start"], ctx["data_interval_end"])
    assert resolve_window("2025-02-01", None, ctx).start == pendulum.datetime(2025, 2, 1, tz=UTC)


def test_a_manual_run_without_interval_gets_a_clear_error():
    with pytest.raises(InvalidParameterError, match="`start` and `end` not given"):
        resolve_window(None, None, {"data_interval_start": None, "data_interval_end": None})


def test_three_years_split_into_yearly_windows_without_gap_or_overlap():
    window = Window.of("2022-01-01", "2025-01-01")
    parts = window.split(dt.timedelta(days=365))
    assert len(parts) == 4  # 1096 days
    assert parts[0].start == window.start and parts[-1].end == window.end
    for a, b in itertools.pairwise(parts):
        assert a.end == b.start
    assert all(p.end - p.start <= dt.timedelta(days=365) for p in parts)


def test_epoch_is_whole_seconds():
    assert Window.of(1740787200, 1740873600).epoch == (1740787200, 1740873600)
    assert Window.of(1740787200.5, 1740873600.2).epoch == (1740787200, 1740873601)


def test_daily_intervals_ask_for_exactly_their_day():
    assert Window.of("2025-03-01", "2025-03-02").dates() == (dt.date(2025, 3, 1), dt.date(2025, 3, 1))


def test_consecutive_intervals_of_any_schedule_cover_each_day_once():
    start = pendulum.datetime(2025, 2, 27, tz=UTC)
    for step in (dt.timedelta(hours=1), dt.timedelta(hours=7), dt.timedelta(days=1), dt.timedelta(days=3)):
        covered: list[dt.date] = []
        cursor = start
        while cursor < start + dt.timedelta(days=9):
            span = Window(cursor, cursor + step).dates()
            if span:
                day = span[0]
                while day <= span[1]:
                    covered.append(day)
                    day += dt.timedelta(days=1)
            cursor += step
        assert covered == sorted(set(covered)), step  # no overlap
        assert covered[-1] - covered[0] == dt.timedelta(days=len(covered) - 1), step  # no gap


def test_a_window_without_midnight_asks_for_nothing():
    assert Window.of("2025-03-01T01:00:00Z", "2025-03-01T02:00:00Z").dates() is None


def test_date_chunks_respect_the_maximum_inclusive_length():
    chunks = Window.of("2025-01-01", "2025-07-01").date_chunks(90)
    assert chunks[0] == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert all((b - a).days + 1 <= 90 for a, b in chunks)
    assert chunks[-1][1] == dt.date(2025, 6, 30)
    for (_, last), (first, _) in itertools.pairwise(chunks):
        assert first - last == dt.timedelta(days=1)
