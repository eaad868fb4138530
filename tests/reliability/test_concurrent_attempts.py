"""Concurrent and killed attempts (issue 12, items 1, 6 and 8), with real OS processes.

Two attempts of one task writing the same destination at once (a zombie and its retry) each stage
under their own name; what is published is whole and from one attempt, on ``file://`` and on S3
(moto). An attempt SIGKILLed between two promotions leaves staging objects, saved previous versions
and its temporary folder; the next attempt removes them (and the dead attempt's unfinished S3
multipart uploads). A planted symbolic link is never followed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import tempfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wa_analytics.destinations import attempts
from airflow_provider_wa_analytics.destinations.output import Output
from airflow_provider_wa_analytics.exceptions import DestinationError
from tests.destinations.conftest import Target, make_s3_bucket
from tests.destinations.servers import S3_CONN_ID
from tests.reliability import attempt_worker
from tests.reliability.attempt_worker import ROWS, TABLES
from tests.reliability.support import TALLY

PAIRS = 8
DATE_PAIRS = 3


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The system temp folder of this test and of the processes it starts (never the shared /tmp)."""
    root = tmp_path / "systmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def whole_from_one_attempt(data: bytes) -> str:
    """The attempt that wrote an object, after checking it holds all its rows and only its rows."""
    rows = [json.loads(line) for line in data.splitlines()]
    assert [r["n"] for r in rows] == list(range(ROWS)), "rows missing, repeated or reordered"
    writers = {r["attempt"] for r in rows}
    assert len(writers) == 1, f"an object mixes attempts {writers}"
    return writers.pop()


def collect(results: Any, expected: int, procs: list[Any]) -> list[tuple[Any, ...]]:
    out = []
    while len(out) < expected:
        try:
            out.append(results.get(timeout=5))
        except queue.Empty:
            dead = [p for p in procs if not p.is_alive() and p.exitcode != 0]
            assert not dead, f"a worker died: {[p.exitcode for p in dead]}"
    return out


def race(rounds: list[list[str]]) -> None:
    """Two attempts ("zombie" and "retry") in their own processes commit every round at the same time;
    each of their commits must succeed (unique staging: neither attempt disturbs the other)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=attempt_worker.run, args=(name, rounds, barrier, results))
        for name in ("zombie", "retry")
    ]
    for p in procs:
        p.start()
    try:
        outcomes = collect(results, 2 * sum(map(len, rounds)), procs)
    finally:
        for p in procs:
            p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    failures = [o for o in outcomes if o[3] != "ok"]
    assert failures == [], failures


def test_eight_pairs_of_simultaneous_attempts_publish_whole_objects_from_one_attempt(
    s3_endpoint, tmp_path, private_tmp
):
    bucket = make_s3_bucket()
    local = tmp_path / "out"
    rounds = [
        [f"file://{local}/r{r}/{{table}}.jsonl", f"s3://{bucket}/r{r}/{{table}}.jsonl"] for r in range(PAIRS)
    ]
    race(rounds)

    s3 = Target("s3", bucket, S3_CONN_ID).objects()
    writers = set()
    for r in range(PAIRS):
        folder = local / f"r{r}"
        assert sorted(p.name for p in folder.iterdir()) == [
            "campaigns.jsonl",
            "daily.jsonl",
        ]  # no staging left
        for table in TABLES:
            writers.add(whole_from_one_attempt((folder / f"{table}.jsonl").read_bytes()))
            writers.add(whole_from_one_attempt(s3.pop(f"r{r}/{table}.jsonl")))
    assert s3 == {}, f"left in the bucket: {sorted(s3)}"
    assert list(private_tmp.iterdir()) == []
    TALLY["concurrent_attempts"] += 2 * PAIRS
    print(f"{PAIRS} pairs of simultaneous attempts x (file, s3) x 2 tables: all whole; writers {writers}")


def test_simultaneous_attempts_of_a_date_partitioned_run_publish_whole_objects_and_manifests(
    s3_endpoint, tmp_path, private_tmp
):
    # The day-partitioned output stages like any output: under this attempt's own names (its objects
    # and the manifest written last), so that neither attempt deletes or overwrites the other's.
    bucket = make_s3_bucket()
    local = tmp_path / "out"
    day = attempt_worker.DAY.isoformat()
    rounds = [
        [f"file://{local}/r{r}/{{date}}/{{table}}.jsonl", f"s3://{bucket}/r{r}/{{date}}/{{table}}.jsonl"]
        for r in range(DATE_PAIRS)
    ]
    race(rounds)

    s3 = Target("s3", bucket, S3_CONN_ID).objects()
    for r in range(DATE_PAIRS):
        folder = local / f"r{r}" / day
        assert sorted(p.name for p in folder.iterdir()) == [
            "_manifest.json",
            "campaigns.jsonl",
            "daily.jsonl",
        ]
        stored = {"file": {t: (folder / f"{t}.jsonl").read_bytes() for t in TABLES}}
        stored["s3"] = {t: s3.pop(f"r{r}/{day}/{t}.jsonl") for t in TABLES}
        manifests = {
            "file": (folder / "_manifest.json").read_bytes(),
            "s3": s3.pop(f"r{r}/{day}/_manifest.json"),
        }
        for scheme, objects in stored.items():
            for data in objects.values():
                whole_from_one_attempt(data)
            listed = {e["table"]: e["sha256"] for e in json.loads(manifests[scheme])["objects"]}
            assert set(listed) == set(TABLES)
    assert s3 == {}, f"left in the bucket: {sorted(s3)}"
    assert list(private_tmp.iterdir()) == []
    TALLY["concurrent_attempts"] += 2 * DATE_PAIRS


@pytest.mark.parametrize("scheme", ["file", "s3"])
def test_an_attempt_killed_between_two_promotions_is_cleaned_up_by_the_next(
    s3_endpoint, tmp_path, private_tmp, scheme
):
    target = (
        Target("s3", make_s3_bucket(), S3_CONN_ID)
        if scheme == "s3"
        else Target("file", str(tmp_path / "out"), None)
    )
    uri = target.uri("wa/{table}.jsonl")
    for table in TABLES:
        target.put(f"wa/{table}.jsonl", b"previous run\n")
    ctx = multiprocessing.get_context("spawn")
    results = ctx.SimpleQueue()  # written synchronously: the worker kills itself right after
    proc = ctx.Process(target=attempt_worker.run, args=("killed", [[uri]], None, results, 1))
    proc.start()
    proc.join(timeout=120)
    assert proc.exitcode == -9
    (_, killing, pid) = results.get()
    assert killing == "killing"

    # What the killed attempt left: the second table's staging object, the saved previous versions
    # and its temporary folder (with the .part files of its rows).
    objects = target.objects()
    left = sorted(k for k in objects if f".{pid}." in k)
    assert any(k.endswith(".staging") for k in left) and any(k.endswith(".previous") for k in left), left
    assert [p.name.startswith(f"{attempts.TEMP_PREFIX}{pid}-") for p in private_tmp.iterdir()] == [True]
    # The set is mixed now (one table of each run): the manifest, written last, is what tells a
    # loader whether a set is whole (see docs/resilience.md).
    assert {
        objects["wa/daily.jsonl"] == b"previous run\n",
        objects["wa/campaigns.jsonl"] == b"previous run\n",
    } == {
        True,
        False,
    }
    if scheme == "s3":  # and an unfinished multipart upload of a dead attempt's staging object
        client = target_client()
        host = attempts.new_token().split(".")[0]
        key = f"wa/.daily.jsonl.{host}.{pid}.0123456789ab.staging"
        client.create_multipart_upload(Bucket=target.root, Key=key)

    out = Output(uri, target.conn_id, "jsonl", tables=TABLES)
    with out:
        for table in TABLES:
            out.write_rows(table, attempt_worker.rows("next", 0))
        out.commit()

    objects = target.objects()
    assert sorted(objects) == ["wa/campaigns.jsonl", "wa/daily.jsonl"], sorted(objects)
    assert {whole_from_one_attempt(data) for data in objects.values()} == {"next"}
    assert list(private_tmp.iterdir()) == []
    if scheme == "s3":
        assert target_client().list_multipart_uploads(Bucket=target.root).get("Uploads", []) == []
    TALLY["concurrent_attempts"] += 1


def target_client() -> Any:
    from tests.destinations.conftest import s3_hook

    return s3_hook(S3_CONN_ID).get_conn()


def test_a_planted_symlink_is_never_followed(tmp_path, monkeypatch):
    """Staging names are unpredictable; even a guessed one is created exclusively (O_EXCL|O_NOFOLLOW)."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"must stay\n")
    folder = tmp_path / "out"
    folder.mkdir()
    file_target = Target("file", str(folder), None)
    (folder / ".x.jsonl.staging").symlink_to(victim)  # the old, fixed staging name
    out = Output(file_target.uri("x.jsonl"), None, "jsonl", tables={"t": ["a"]})
    with out:
        out.write_rows("t", [{"a": 1}])
        out.commit()
    assert victim.read_bytes() == b"must stay\n"
    assert (folder / "x.jsonl").read_bytes() == b'{"a":1}\n'

    monkeypatch.setattr(
        "airflow_provider_wa_analytics.destinations.output.new_token", lambda: "h.1.0123456789ab"
    )
    (folder / ".x.jsonl.h.1.0123456789ab.staging").symlink_to(victim)  # a guessed name
    out = Output(file_target.uri("x.jsonl"), None, "jsonl", tables={"t": ["a"]})
    with out:
        out.write_rows("t", [{"a": 2}])
        with pytest.raises(DestinationError, match="never overwrites or follows a link"):
            out.commit()
    assert victim.read_bytes() == b"must stay\n"
    assert (folder / "x.jsonl").read_bytes() == b'{"a":1}\n'
    TALLY["concurrent_attempts"] += 1


def test_the_suite_leaves_no_temporary_folder_of_its_own():
    """Every Output of this process removed its wa-analytics-run-* folder (checked in the real temp dir)."""
    mine = [
        p for p in os.listdir(tempfile.gettempdir()) if p.startswith(f"{attempts.TEMP_PREFIX}{os.getpid()}-")
    ]
    assert mine == []
