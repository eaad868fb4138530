"""Shared set-up of the reliability suite: one sandbox for the directory, clean reference runs, and the
case counts printed at the end of the session (``fault matrix: N cases, ...``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wa_analytics.testing import Sandbox
from tests.reliability.cases import FAST_EXTRAS, MINIMAL_CONTEXT, EndpointCase, destination, snapshot
from tests.reliability.hostile_server import HostileServer, started
from tests.reliability.support import TALLY, Reference, tables_of


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The case counts of the matrices that ran (``fault matrix: N cases, ...``)."""
    t = TALLY
    lines = {
        "fault_cases": f"fault matrix: {t['fault_cases']} cases, {t['byte_identical']} byte-identical, "
        f"{t['failed_cleanly']} failed cleanly ({t['fault_dag_test']} of them through dag.test)",
        "bad_input": f"bad-input matrix: {t['bad_input']} cases failed before any request",
        "secret_runs": f"secret hygiene: {t['secret_runs']} runs, no credential in logs, errors, XCom, "
        "rendered templates or URLs",
        "fuzz_examples": f"fuzzing: {t['fuzz_examples']} responses, {t['fuzz_parsed']} parsed, "
        f"{t['fuzz_malformed']} MalformedResponseError, no other exception",
        "transport": f"transport security: {t['transport']} cases",
        "concurrent_attempts": f"concurrent and killed attempts: {t['concurrent_attempts']} cases, every "
        "published object whole and from one attempt, no left-over",
    }
    shown = [line for key, line in lines.items() if t[key]]
    if shown:
        terminalreporter.write_sep("-", "reliability suite")
        for line in shown:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    """The hostile server for the session (its mode is set by each test)."""
    yield from started()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="session")
def clean_run(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[EndpointCase], Reference]:
    """The reference output of each case (computed once per session, on first use)."""
    cache: dict[str, Reference] = {}

    def run(case: EndpointCase) -> Reference:
        if case.id not in cache:
            with pytest.MonkeyPatch.context() as mp:
                for name, value in case.connection_env(sandbox, **FAST_EXTRAS).items():
                    mp.setenv(name, value)
                case.prepare(sandbox)
                out: Path = tmp_path_factory.mktemp(f"clean-{case.id}")
                result = case.build(destination=destination(out)).execute(MINIMAL_CONTEXT)
                assert all(r.status == 200 for r in sandbox.requests)
                cache[case.id] = Reference(snapshot(out), tables_of(result), len(sandbox.requests))
                assert cache[case.id].requests >= 3, f"{case.id} should span several calls or pages"
        return cache[case.id]

    return run
