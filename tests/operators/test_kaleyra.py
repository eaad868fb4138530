"""KaleyraTemplateAnalyticsOperator: validation and planning before any request, then real runs."""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
from airflow_provider_wa_analytics.windows import Window

TODAY = dt.date(2025, 11, 5)
TEMPLATES = [f"10{n:02d}" for n in range(30)]


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


@pytest.fixture
def kaleyra_conn(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_WHATSAPP_DEFAULT",
        json.dumps({"conn_type": "kaleyra_whatsapp", "login": "SID", "password": "key"}),
    )


def operator(**kwargs):
    kwargs = {"task_id": "t", "waba_id": "1090", "template_ids": TEMPLATES, **kwargs}
    return KaleyraTemplateAnalyticsOperator(**kwargs)


def planned(op, window, today=TODAY):
    op.validate()
    return op.plan(window, today=today)


def test_thirty_templates_over_sixty_days_is_three_batches_of_ten(kaleyra_conn):
    window = Window(utc(2025, 9, 1), utc(2025, 10, 31))
    calls = planned(operator(), window)
    assert [c.params["template_ids"] for c in calls] == [TEMPLATES[0:10], TEMPLATES[10:20], TEMPLATES[20:30]]
    assert {(c.params["start_date"], c.params["end_date"]) for c in calls} == {
        (dt.date(2025, 9, 1), dt.date(2025, 10, 30))  # end-inclusive: 60 days
    }
    assert calls[0].label == "2025-09-01..2025-10-30 templates 1-10 of 30"


def test_batch_size_is_configurable(kaleyra_conn):
    calls = planned(operator(templates_per_request=7), Window(utc(2025, 11, 1), utc(2025, 11, 2)))
    assert [len(c.params["template_ids"]) for c in calls] == [7, 7, 7, 7, 2]


def test_consecutive_daily_runs_ask_for_each_day_once(kaleyra_conn):
    days = [
        planned(operator(), Window(utc(2025, 11, d), utc(2025, 11, d + 1)))[0].params["start_date"]
        for d in (1, 2, 3)
    ]
    assert days == [dt.date(2025, 11, 1), dt.date(2025, 11, 2), dt.date(2025, 11, 3)]
    # An hourly interval that holds no midnight asks for nothing.
    assert planned(operator(), Window(utc(2025, 11, 1, 3), utc(2025, 11, 1, 4))) == []


def test_window_outside_the_lookback_fails_before_any_request(kaleyra_conn):
    with pytest.raises(
        InvalidParameterError, match=r"`start` \(2025-07-01\) is outside Kaleyra's 90-day lookback"
    ):
        planned(operator(), Window(utc(2025, 7, 1), utc(2025, 11, 1)))


def test_lookback_extra_shortens_the_allowed_window(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_SHORT",
        json.dumps(
            {"conn_type": "kaleyra_whatsapp", "login": "S", "password": "k", "extra": {"lookback_days": 30}}
        ),
    )
    op = operator(kaleyra_conn_id="kaleyra_short")
    with pytest.raises(InvalidParameterError, match="30-day lookback"):
        planned(op, Window(utc(2025, 9, 1), utc(2025, 10, 1)))


def test_a_longer_lookback_splits_into_ranges_of_at_most_90_days(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALEYRA_LONG",
        json.dumps(
            {"conn_type": "kaleyra_whatsapp", "login": "S", "password": "k", "extra": {"lookback_days": 365}}
        ),
    )
    calls = planned(
        operator(kaleyra_conn_id="kaleyra_long", template_ids=["1"]),
        Window(utc(2025, 5, 1), utc(2025, 11, 1)),
    )
    ranges = [(c.params["start_date"], c.params["end_date"]) for c in calls]
    assert ranges == [
        (dt.date(2025, 5, 1), dt.date(2025, 7, 29)),
        (dt.date(2025, 7, 30), dt.date(2025, 10, 27)),
        (dt.date(2025, 10, 28), dt.date(2025, 10, 31)),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template_ids": []}, "`template_ids` is mandatory"),
        ({"granularity": "HOURLY"}, "`granularity` must be one of DAILY"),
        ({"product_type": "SMS"}, "`product_type` must be one of CLOUD_API"),
        ({"metric_types": ["OPENED"]}, "allowed values are: SENT, DELIVERED, READ, CLICKED, REPLIED"),
        ({"limit": -1}, "`limit` must be a positive integer"),
        ({"templates_per_request": 0}, "`templates_per_request` must be a positive integer"),
        ({"waba_id": None}, "`waba_id` must be the WhatsApp Business Account id"),
    ],
)
def test_bad_parameters_fail_in_validate(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        operator(**kwargs).validate()
