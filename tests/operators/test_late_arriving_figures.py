"""Late-arriving figures end to end: ten consecutive daily runs through real Airflow (``dag.test()``),
real HTTP to the sandbox serving each day's figures "as of" the run, ``{date}`` partitions on file://.

The sandbox's day figures stand at 40/60/80/95 % of their final value at age 0..3 days and are final
from 4 days on; a run of day D happens on D + 1. With ``lookback_days=3`` the run of D re-fetches
D-3 (then 4 days old, final), so after ten runs every day older than the lookback holds its final
figures; with ``lookback_days=0`` every day keeps its first, under-counted figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pendulum
import pytest

from airflow_provider_wa_analytics.operators.insider import InsiderWhatsAppOverallStatisticsOperator
from airflow_provider_wa_analytics.registry import snapshot
from airflow_provider_wa_analytics.testing import Sandbox
from tests.airflow_runner import daily, run_task

pytestmark = pytest.mark.usefixtures("airflow_db")

FIRST = dt.date(2025, 3, 1)
RUNS = 10
FILTER = {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True}
LATE = ("delivered", "open", "click", "conversion")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT", sb.connection_json("insider_whatsapp"))
        yield sb


def midnight(day: dt.date) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def run_day(
    sandbox,
    root: Path,
    day: dt.date,
    lookback: int | str | None,
    objects: str = "{date}/{table}.jsonl",
    **kwargs,
):
    """The scheduled run of ``day``, as the vendor knows it the day after, writing ``root/objects``."""
    sandbox.set_as_of(day + dt.timedelta(days=1))
    run = run_task(
        InsiderWhatsAppOverallStatisticsOperator,
        logical_date=midnight(day + dt.timedelta(days=1)),  # the run of a day starts at its end
        schedule=daily(),
        **{"dag_id": f"late_lookback_{lookback}", **kwargs},
        destination=f"{root.as_uri()}/{objects}",
        lookback_days=lookback,
        campaign_filter=FILTER,
    )
    assert run.state == "success", run.error
    return run


def ten_runs(sandbox, root: Path, lookback: int) -> list:
    return [run_day(sandbox, root, FIRST + dt.timedelta(days=i), lookback) for i in range(RUNS)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def stored_summary(root: Path, day: dt.date) -> dict:
    (row,) = read_jsonl(root / day.isoformat() / "summary.jsonl")
    return row


def final_summary(sandbox, day: dt.date, as_of: dt.date | None = None) -> dict:
    sandbox.set_as_of(as_of)
    start = int(midnight(day).timestamp())
    return sandbox.insider_whatsapp.overall(start, start + 86_400, FILTER)["summary"]


@pytest.fixture(scope="module")
def runs(sandbox, tmp_path_factory):
    """The ten runs with lookback 3 and with lookback 0 (shared by the tests of this module)."""
    sandbox.reset()
    roots = {n: tmp_path_factory.mktemp(f"lookback{n}") for n in (3, 0)}
    results = {n: ten_runs(sandbox, roots[n], n) for n in roots}
    return roots, results


def test_a_lookback_converges_to_the_final_figures_and_no_lookback_under_counts(sandbox, runs):
    roots, _ = runs
    last = FIRST + dt.timedelta(days=RUNS - 1)
    shortfall = {}
    for i in range(RUNS):
        day = FIRST + dt.timedelta(days=i)
        final = final_summary(sandbox, day)
        with_lookback, without = stored_summary(roots[3], day), stored_summary(roots[0], day)
        if (last - day).days >= 3:  # the oldest re-fetched day and older: final
            assert {k: with_lookback[k] for k in LATE} == {k: final[k] for k in LATE}, day
            assert with_lookback["delivery_pending"] == 0
        else:
            assert with_lookback["delivered"] < final["delivered"], day
        # Without a lookback every day keeps what was known the day after it: 60 % of the late counts.
        assert without["delivered"] < final["delivered"], day
        assert without["sent"] == final["sent"]  # sent is known at once
        shortfall[day.isoformat()] = final["delivered"] - without["delivered"]
    print("deliveries never counted without a lookback, per day:", shortfall)
    assert all(v > 0 for v in shortfall.values())


def test_each_day_is_in_exactly_one_object_and_the_manifest_matches_the_files(runs):
    roots, results = runs
    root = roots[3]
    days = {(FIRST + dt.timedelta(days=i)).isoformat() for i in range(-3, RUNS)}
    assert {p.name for p in root.iterdir() if p.is_dir()} == days
    for folder in root.iterdir():
        if folder.is_dir():
            for row in read_jsonl(folder / "daily.jsonl"):
                assert row["date"] == folder.name  # a day's row only in its own day's object
            (summary,) = read_jsonl(folder / "summary.jsonl")
            assert summary["window_start"][:10] == folder.name  # requested one day at a time
    manifest = json.loads((root / "_manifest.json").read_text())
    last = results[3][-1].result
    assert len(manifest["objects"]) == len(last) == 4 * 5  # the run's 4 days x 5 tables
    for entry in manifest["objects"]:
        data = Path(entry["uri"][len("file://") :]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(data.splitlines())
        assert entry["uri"].endswith(f"/{entry['day']}/{entry['table']}.jsonl")


def test_the_change_report_shows_what_the_re_fetched_days_moved(sandbox, runs):
    _, results = runs
    last = results[3][-1].result
    refetched = [e for e in last if "change" in e]
    assert {e["day"] for e in refetched} == {(FIRST + dt.timedelta(days=i)).isoformat() for i in (6, 7, 8)}
    summary = {e["day"]: e["change"] for e in refetched if e["table"] == "summary"}
    day = FIRST + dt.timedelta(days=6)  # stored at 95 % before, now final
    change = summary[day.isoformat()]
    assert change["rows_added"] == change["rows_removed"] == 0
    final = final_summary(sandbox, day)
    before = final_summary(sandbox, day, as_of=day + dt.timedelta(days=3))  # what run 9 found there
    assert change["totals"]["delivered"] == final["delivered"] - before["delivered"] > 0
    assert change["totals"]["delivery_pending"] == -change["totals"]["delivered"]
    assert change["totals"]["sent"] == 0
    # Without a lookback nothing is re-fetched, so nothing is reported.
    assert not any("change" in e for e in results[0][-1].result)


def test_rerunning_the_last_run_rewrites_byte_identical_objects(sandbox, runs):
    roots, _ = runs
    before = snapshot(roots[3])
    run_day(sandbox, roots[3], FIRST + dt.timedelta(days=RUNS - 1), 3)
    assert snapshot(roots[3]) == before


def test_the_default_lookback_applies_with_date_only(sandbox, tmp_path):
    day = FIRST + dt.timedelta(days=20)
    run = run_day(sandbox, tmp_path / "partitioned", day, lookback=None)
    assert sorted({e["day"] for e in run.result}) == [
        (day - dt.timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)
    ]  # Insider's default: 3 days
    plain = run_day(sandbox, tmp_path / "plain", day, None, "{table}.jsonl", dag_id="late_plain")
    (daily_rows,) = [e for e in plain.result if e["table"] == "daily"]
    assert daily_rows["rows"] == 1  # no {date}: default 0, only the run's own day
    assert not (tmp_path / "plain" / "_manifest.json").exists()


def test_an_explicit_lookback_without_date_writes_the_days_into_the_runs_objects(sandbox, tmp_path):
    day = FIRST + dt.timedelta(days=30)
    # "2": a template renders a string.
    run_day(sandbox, tmp_path, day, "2", "{table}.jsonl", dag_id="late_plain_lookback")
    rows = read_jsonl(tmp_path / "daily.jsonl")
    assert [r["date"] for r in rows] == [(day - dt.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert {o["day"] for o in manifest["objects"]} == {None}
