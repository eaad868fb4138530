"""Row 1: rate-limit utilization per vendor.

The sandbox and the connection both allow ``RATE`` requests per second (Web Push documents 30 per
minute; the same pacing is scaled up to ``RATE`` per second so that the run takes seconds). Each
vendor's first registry case that can be scaled runs ``n`` cheap requests; utilization is the
achieved request rate (arrivals at the sandbox, first to last) divided by ``RATE``. Target >= 0.95
with zero 429s: the client paces at the limit, neither slower nor into the vendor's wall.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from airflow_provider_wa_analytics.registry import CASES, MINIMAL_CONTEXT, EndpointCase
from bench.common import Bench, RemoteSandbox, Row, timed

RATE = 20.0
TARGET = 0.95


def rate_cases() -> list[EndpointCase]:
    """One scalable case per vendor of the registry, in registry order."""
    chosen: dict[str, EndpointCase] = {}
    for case in CASES:
        if case.scaled is not None:
            chosen.setdefault(case.vendor, case)
    return list(chosen.values())


def measure(sandbox: RemoteSandbox, case: EndpointCase, n: int) -> Row:
    assert case.scaled is not None
    overrides, options = case.scaled(n)
    case.prepare(sandbox)  # type: ignore[arg-type]
    if options:
        sandbox.configure(case.vendor, **options)
    sandbox.set_rate_limit(case.vendor, RATE, 1.0)
    os.environ.update(case.connection_env(sandbox, rate_limit=RATE, max_retries=0))
    out = Path(tempfile.mkdtemp(prefix="wa-bench-rate-"))
    op = case.build(destination=f"{out.as_uri()}/{{table}}.jsonl", **overrides)
    try:
        _, seconds = timed(op.execute, MINIMAL_CONTEXT)
        error = None
    except Exception as exc:  # a 429 (max_retries=0) or anything else is reported in the row
        seconds, error = 0.0, f"{type(exc).__name__}: {str(exc)[:80]}"
    records: list[dict[str, Any]] = sandbox.requests
    sandbox.set_rate_limit(case.vendor, None)
    arrivals = sorted(r["received_at"] for r in records)
    throttled = sum(r["status"] == 429 for r in records)
    if error or len(arrivals) < 3:
        return Row("1", f"rate utilization {case.vendor}", None, f">= {TARGET}", error or "too few requests")
    achieved = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    return Row(
        "1",
        f"rate utilization {case.vendor} ({case.id})",
        achieved / RATE,
        f">= {TARGET}",
        f"{len(arrivals)} requests at {achieved:.2f}/s, limit {RATE:g}/s, {throttled} x 429, "
        f"task {seconds:.2f} s",
        met=achieved / RATE >= TARGET and throttled == 0,
    )


def run(bench: Bench) -> list[Row]:
    from bench import shared_budget

    rows = [measure(bench.sandbox, case, 20 if bench.quick else 60) for case in rate_cases()]
    return [*rows, shared_budget.measure(bench)]
