"""Naive datetimes are taken in Airflow's default timezone (``[core] default_timezone``), as Airflow
itself does; aware ones, epoch seconds and dates (UTC days) are unchanged (issue 12, item 12)."""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest

from airflow_provider_wa_analytics.windows import to_datetime
from tests.reliability.cases import CASES_BY_ID, FAST_EXTRAS, MINIMAL_CONTEXT

AMSTERDAM = pendulum.timezone("Europe/Amsterdam")


@pytest.fixture
def default_timezone(monkeypatch):
    from airflow import settings

    monkeypatch.setattr(settings, "TIMEZONE", AMSTERDAM)
    return AMSTERDAM


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        (dt.datetime(2025, 3, 1), "2025-02-28T23:00:00+00:00"),
        ("2025-03-01T00:00:00", "2025-02-28T23:00:00+00:00"),
        ("2025-07-01 12:00", "2025-07-01T10:00:00+00:00"),  # summer time
        (dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc), "2025-03-01T00:00:00+00:00"),
        ("2025-03-01T00:00:00+05:00", "2025-02-28T19:00:00+00:00"),
        ("2025-03-01", "2025-03-01T00:00:00+00:00"),  # a date names a UTC day, as the vendors' APIs
        (dt.date(2025, 3, 1), "2025-03-01T00:00:00+00:00"),
        (1740787200, "2025-03-01T00:00:00+00:00"),
    ],
)
def test_naive_values_are_in_airflows_default_timezone(default_timezone, value, utc):
    assert to_datetime(value, "start").isoformat() == utc


def test_an_operator_sends_the_window_of_a_naive_datetime_in_the_default_timezone(
    sandbox, default_timezone, monkeypatch, tmp_path
):
    case = CASES_BY_ID["insider_whatsapp.overall"]
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **FAST_EXTRAS).popitem())
    op = case.build(
        start=dt.datetime(2025, 3, 1), end="2025-03-02T00:00", destination=f"{tmp_path.as_uri()}/o.json"
    )
    op.execute(MINIMAL_CONTEXT)
    (request,) = sandbox.requests
    body = json.loads(request.body)
    assert (body["start_time"], body["end_time"]) == (1740783600, 1740870000)  # 23:00 UTC the day before
