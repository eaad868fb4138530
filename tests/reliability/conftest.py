"""Shared set-up of the reliability suite: one sandbox for the directory, clean reference runs, and the
case counts printed at the end of the session (``fault matrix: N cases, ...``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wa_analytics.testing import Sandbox
from tests.reliability.cases import FAST_EXTRAS, MINIMAL_CONTEXT, EndpointCase, destination, snapshot
from tests.reliability.support import TALLY, Reference, tables_of


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY:
        return
    cases = TALLY["fault_cases"]
    lines = [
        f"fault matrix: {cases} cases, {TALLY['byte_identical']} byte-identical, "
        f"{TALLY['failed_cleanly']} failed cleanly ({TALLY['fault_dag_test']} of them through dag.test)",
        f"bad-input matrix: {TALLY['bad_input']} cases failed before any request",
        f"secret hygiene: {TALLY['secret_runs']} runs, no credential in logs, errors, XCom, templates or URLs",
        f"transport security: {TALLY['transport']} cases",
    ]
    terminalreporter.write_sep("-", "reliability suite")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="session")
def clean_run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Callable[[EndpointCase], Reference]:
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
