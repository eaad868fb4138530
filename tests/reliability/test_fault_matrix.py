"""Fault matrix: every endpoint case x every fault kind x {first, middle} request.

Recovered: the output is byte-identical to a clean run (and the XCom value lists the same tables,
rows and bytes). Exhausted (the fault never stops, ``max_retries`` 1): the task fails with the typed
error and the destination holds exactly what it held before (a previous run's objects, no partial
object, no staging left-over). The big matrix calls ``operator.execute(context)`` directly; a few
cases run through ``dag.test()`` on the metadata DB.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from airflow_provider_wa_analytics.exceptions import (
    MalformedResponseError,
    RateLimitedError,
    RedirectError,
    ServerError,
    TransportError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.testing import Fault
from tests.reliability.cases import CASES, CASES_BY_ID, FAST_EXTRAS, MINIMAL_CONTEXT, destination, snapshot
from tests.reliability.hostile_server import Mode
from tests.reliability.support import TALLY, tables_of

#: The fault kinds of the matrix and the typed error each ends in once retries are exhausted.
FAULTS: dict[Fault, tuple[type[WaAnalyticsError], str]] = {
    Fault.RATE_LIMIT: (RateLimitedError, "HTTP 429"),
    Fault.SERVER_ERROR: (ServerError, "HTTP 500"),
    Fault.BAD_GATEWAY_HTML: (ServerError, "HTTP 502"),
    Fault.UNAVAILABLE: (ServerError, "HTTP 503"),
    Fault.CONNECTION_RESET: (TransportError, "failed"),
    Fault.TIMEOUT: (TransportError, "timed out"),
    Fault.TRUNCATED: (MalformedResponseError, "not valid JSON"),
}
POSITIONS = ("first", "middle")
TIMEOUT = 0.5  # the client's read timeout in the TIMEOUT cases; the sandbox holds the request longer

MATRIX = [
    pytest.param(case, fault, position, id=f"{case.id}-{fault.value}-{position}")
    for case in CASES
    for fault in FAULTS
    for position in POSITIONS
]


def extras_for(fault: Fault, **more):
    return {**FAST_EXTRAS, **({"timeout": TIMEOUT} if fault is Fault.TIMEOUT else {}), **more}


def inject(sandbox, case, fault, skip, times):
    # A 429 carries Retry-After: 1 (seconds) when it passes, so that the wait can be checked; 0 when
    # it never stops (the header is there, and the exhausted cases need not sleep).
    retry_after = 1 if times is not None else 0
    return sandbox.inject(fault, case.path, times=times, skip=skip, retry_after=retry_after, hold=4 * TIMEOUT)


def same_request(a, b) -> bool:
    return (a.method, a.path, a.query, a.body) == (b.method, b.path, b.query, b.body)


def skip_for(position: str, reference) -> int:
    return 0 if position == "first" else reference.requests // 2


@pytest.mark.parametrize(("case", "fault", "position"), MATRIX)
def test_a_fault_that_passes_leaves_output_byte_identical(
    sandbox, clean_run, case, fault, position, tmp_path, monkeypatch
):
    reference = clean_run(case)
    TALLY["fault_cases"] += 1
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **extras_for(fault)).popitem())
    inject(sandbox, case, fault, skip_for(position, reference), times=1)
    out = tmp_path / "out"

    result = case.build(destination=destination(out)).execute(MINIMAL_CONTEXT)

    assert snapshot(out) == reference.files
    assert tables_of(result) == reference.tables
    faulted = [r for r in sandbox.requests if r.fault is fault]
    assert len(faulted) == 1 and sandbox.faults == []
    assert len(sandbox.requests) == reference.requests + 1
    if fault is Fault.RATE_LIMIT:  # the same request again, after the 429's Retry-After (1 s)
        (hit,) = faulted
        retry = next(
            r
            for r in sandbox.requests
            if r is not hit and same_request(r, hit) and r.received_at > hit.received_at
        )
        assert retry.received_at - hit.received_at >= 0.95
    TALLY["byte_identical"] += 1


@pytest.mark.parametrize(("case", "fault", "position"), MATRIX)
def test_a_fault_that_persists_fails_typed_and_writes_nothing(
    sandbox, clean_run, case, fault, position, tmp_path, monkeypatch
):
    reference = clean_run(case)
    TALLY["fault_cases"] += 1
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **extras_for(fault, max_retries=1)).popitem())
    out = tmp_path / "out"
    out.mkdir()
    for name, data in reference.files.items():  # what a previous run of the interval left
        (out / name).write_bytes(b"previous run: " + data[:64])
    before = snapshot(out)
    skip = skip_for(position, reference)
    inject(sandbox, case, fault, skip, times=None)
    error, text = FAULTS[fault]

    with pytest.raises(error) as caught:
        case.build(destination=destination(out)).execute(MINIMAL_CONTEXT)

    assert text in str(caught.value)
    assert snapshot(out) == before, "the destination changed"
    assert [p.name for p in out.iterdir() if p.name not in before] == []
    faulted = [r for r in sandbox.requests if r.fault is fault]
    assert len(faulted) >= 2, "the failing request was not retried"  # max_retries=1: two attempts
    assert len(sandbox.requests) - len(faulted) == skip  # every request after the skipped ones failed
    TALLY["failed_cleanly"] += 1


# -- a few of the same cases through real Airflow (dag.test on the metadata DB) --------------------
DAG_CASES = [
    ("insider_whatsapp.overall", Fault.UNAVAILABLE),
    ("insider_webpush.campaign_metrics", Fault.TRUNCATED),
    ("vonage.pricing", Fault.CONNECTION_RESET),
    ("kaleyra.template", Fault.BAD_GATEWAY_HTML),
]


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize(("case_id", "fault"), DAG_CASES, ids=[c for c, _ in DAG_CASES])
def test_through_dag_test_a_middle_page_fault_is_recovered_then_a_persistent_one_fails_the_task(
    sandbox, clean_run, case_id, fault, tmp_path, monkeypatch
):
    from tests.airflow_runner import run_task

    case = CASES_BY_ID[case_id]
    reference = clean_run(case)
    kwargs = {**case.kwargs(), case.operator.conn_id_param: case.conn_id}

    TALLY["fault_cases"] += 1
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **extras_for(fault)).popitem())
    inject(sandbox, case, fault, reference.requests // 2, times=1)
    out = tmp_path / "recovered"
    run = run_task(
        case.operator,
        dag_id=f"reliability_{case_id.replace('.', '_')}",
        destination=destination(out),
        **kwargs,
    )
    assert run.state == "success", run.error
    assert snapshot(out) == reference.files
    assert tables_of(run.result) == reference.tables
    TALLY["byte_identical"] += 1
    TALLY["fault_dag_test"] += 1

    TALLY["fault_cases"] += 1
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **extras_for(fault, max_retries=1)).popitem())
    previous = tmp_path / "previous"
    shutil.copytree(out, previous)
    inject(sandbox, case, fault, reference.requests // 2, times=None)
    run = run_task(
        case.operator,
        dag_id=f"reliability_{case_id.replace('.', '_')}_x",
        destination=destination(out),
        **kwargs,
    )
    assert run.state == "failed"
    assert isinstance(run.error, FAULTS[fault][0]), repr(run.error)
    assert snapshot(out) == snapshot(previous)
    TALLY["failed_cleanly"] += 1
    TALLY["fault_dag_test"] += 1


def test_retry_after_longer_than_the_backoff_is_waited_for(sandbox, monkeypatch, tmp_path):
    """A 429's Retry-After (2 s) is honoured even though the configured backoff is 10 ms."""
    case = CASES_BY_ID["insider_whatsapp.transactional"]
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **FAST_EXTRAS).popitem())
    sandbox.inject(Fault.RATE_LIMIT, case.path, times=1, retry_after=2)
    started = time.monotonic()
    case.build(destination=destination(tmp_path)).execute(MINIMAL_CONTEXT)
    assert time.monotonic() - started >= 2
    first, retry = sandbox.requests[:2]
    assert (first.status, retry.status) == (429, 200)
    assert retry.received_at - first.received_at >= 2
    assert json.loads(retry.body) == json.loads(first.body)  # the same request again


def test_the_matrix_covers_every_case_and_fault():
    assert len(MATRIX) == len(CASES) * len(FAULTS) * len(POSITIONS)
    assert {case.vendor for case in CASES} == {
        "insider_whatsapp",
        "insider_webpush",
        "vonage_whatsapp",
        "kaleyra_whatsapp",
    }


# -- a hostile server: unbounded, slow, compressed-bomb and redirecting answers, every operator ----
HOSTILE: dict[Mode, tuple[type[WaAnalyticsError], str, bool]] = {
    # mode: (error, text in its message, retried)
    Mode.ENDLESS_CHUNKED: (MalformedResponseError, "max_response_bytes", True),
    Mode.HUGE_BODY: (MalformedResponseError, "max_response_bytes", True),
    Mode.GZIP_BOMB: (MalformedResponseError, "after decompression", True),
    Mode.GZIP_BOMB_ERROR: (WaAnalyticsError, "not read further", False),
    Mode.SLOW_BODY: (TransportError, "whole attempt", True),
    Mode.SLOW_HEADERS: (TransportError, "whole attempt", True),
    Mode.REDIRECT: (RedirectError, "redirects are not followed", False),
}
HOSTILE_TIMEOUT = 0.5  # the slow modes send a byte every 0.2 s: only a whole-attempt bound stops them
HOSTILE_MAX_BYTES = 2 * 1024 * 1024


@pytest.mark.parametrize("mode", HOSTILE, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_hostile_answer_fails_typed_bounded_and_writes_nothing(
    sandbox, hostile, case, mode, tmp_path, monkeypatch
):
    TALLY["fault_cases"] += 1
    error, text, retried = HOSTILE[mode]
    slow = mode in (Mode.SLOW_BODY, Mode.SLOW_HEADERS)
    extras = {**FAST_EXTRAS, "max_retries": 1, "max_response_bytes": HOSTILE_MAX_BYTES}
    conn = case.connection(sandbox, **{**extras, **({"timeout": HOSTILE_TIMEOUT} if slow else {})})
    monkeypatch.setenv(*case.connection_env(sandbox, {**conn, "host": hostile.url}).popitem())
    hostile.use(mode)
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.jsonl").write_bytes(b"a previous run\n")
    started = time.monotonic()

    with pytest.raises(error) as caught:
        case.build(destination=destination(out)).execute(MINIMAL_CONTEXT)

    elapsed = time.monotonic() - started
    assert text in str(caught.value)
    assert len(hostile.received) == (2 if retried else 1)
    assert snapshot(out) == {"previous.jsonl": b"a previous run\n"}
    if slow:  # two attempts of 0.5 s; a per-read timeout alone would wait ~150 s per attempt
        assert elapsed < 20, elapsed
    if mode is Mode.REDIRECT:
        assert "attacker.example" in str(caught.value) and "user:" not in str(caught.value)
    TALLY["failed_cleanly"] += 1


def test_a_gzip_bomb_under_the_default_cap_stays_bounded_in_memory(sandbox, hostile, monkeypatch):
    """4 GiB inflated from 4 MiB: read up to the default 256 MiB, then refused; memory stays near it."""
    import tracemalloc

    from airflow_provider_wa_analytics.client import DEFAULT_MAX_RESPONSE_BYTES
    from airflow_provider_wa_analytics.hooks.insider import InsiderWhatsAppHook

    case = CASES_BY_ID["insider_whatsapp.overall"]
    conn = case.connection(sandbox, max_retries=0, timeout=60)
    monkeypatch.setenv(*case.connection_env(sandbox, {**conn, "host": hostile.url}).popitem())
    hostile.use(Mode.GZIP_BOMB)
    hook = InsiderWhatsAppHook(case.conn_id)
    tracemalloc.start()
    try:
        with pytest.raises(MalformedResponseError, match="max_response_bytes=268435456"):
            hook.overall_statistics(1735689600, 1735776000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * DEFAULT_MAX_RESPONSE_BYTES, peak
    print(
        f"gzip bomb (4 GiB inflated): refused at the 256 MiB cap, peak traced memory {peak / 2**20:.0f} MiB"
    )
