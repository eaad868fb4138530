"""Row 3: latency-bound pulls. The sandbox adds 100 ms to every answer; one Vonage template pull is
40 independent requests (20 batches of 10 templates x 2 date ranges of at most 90 days, one page
each). The same operator runs with ``max_concurrency=1`` (the sequential sum) and with
``CONCURRENCY``; the speed-up is their wall-time ratio. Both limits (sandbox and connection) are set
to ``RATE`` per second, so "staying under the limit" is checked by the sandbox: zero 429s.

Without the Vonage operator in the registry, the client's ``ordered_parallel`` over 40 Insider
WhatsApp calls is measured instead (and the row says so).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from airflow_provider_wa_analytics.registry import CASES_BY_ID, MINIMAL_CONTEXT, days_ago
from bench.common import Bench, RemoteSandbox, Row, timed

LATENCY = 0.1
REQUESTS = 40
CONCURRENCY = 8
DEFAULT_CONCURRENCY = 4  # the Vonage and Kaleyra operators' default max_concurrency
RATE = 100.0
TARGET = 4.0


def _vonage(sandbox: RemoteSandbox, concurrency: int) -> tuple[float, list[dict[str, Any]]]:
    case = CASES_BY_ID["vonage.template"]
    case.prepare(sandbox)  # type: ignore[arg-type]
    sandbox.configure(case.vendor, page_size=1000)  # 10 templates x 90 days = 900 entries: one page
    sandbox.set_rate_limit(case.vendor, RATE)
    os.environ.update(case.connection_env(sandbox, rate_limit=RATE, max_retries=0))
    out = Path(tempfile.mkdtemp(prefix="wa-bench-latency-"))
    op = case.build(
        # 91 days, today's included: two ranges (90 + 1), inside the 90-day retention, ending tomorrow
        # at midnight (a window may end up to a day after now).
        start=days_ago(90),
        end=days_ago(-1),
        template_ids=[f"4589511262{i:05d}" for i in range(REQUESTS // 2 * 10)],
        max_concurrency=concurrency,
        destination=f"{out.as_uri()}/{{table}}.jsonl",
    )
    _, seconds = timed(op.execute, MINIMAL_CONTEXT)
    return seconds, sandbox.requests


def _insider(sandbox: RemoteSandbox, concurrency: int) -> tuple[float, list[dict[str, Any]]]:
    from airflow_provider_wa_analytics.client import ordered_parallel
    from airflow_provider_wa_analytics.hooks.insider import InsiderWhatsAppHook

    case = CASES_BY_ID["insider_whatsapp.transactional"]
    case.prepare(sandbox)  # type: ignore[arg-type]
    sandbox.set_rate_limit(case.vendor, RATE)
    os.environ.update(case.connection_env(sandbox, rate_limit=RATE, max_retries=0))
    hook = InsiderWhatsAppHook(case.conn_id, pool_size=CONCURRENCY)
    days = [(1735689600 + i * 86400, 1735689600 + (i + 1) * 86400) for i in range(REQUESTS)]
    (_, seconds) = timed(
        lambda: list(ordered_parallel(lambda d: hook.transactional_statistics(*d), days, concurrency))
    )
    return seconds, sandbox.requests


def run(bench: Bench) -> list[Row]:
    sandbox = bench.sandbox
    pull, what = (
        (_vonage, "Vonage template batches x ranges")
        if "vonage.template" in CASES_BY_ID
        else (
            _insider,
            "Insider calls via ordered_parallel (Vonage not in the registry)",
        )
    )
    sandbox.set_latency(LATENCY)
    try:
        sequential, seq_records = pull(sandbox, 1)
        parallel, par_records = pull(sandbox, CONCURRENCY)
        default = None if bench.quick else pull(sandbox, DEFAULT_CONCURRENCY)[0]
    finally:
        sandbox.set_latency(0.0)
    throttled = sum(r["status"] == 429 for r in seq_records + par_records)
    arrivals = sorted(r["received_at"] for r in par_records)
    peak = max(
        sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals
    )  # most requests in any one-second window
    speedup = sequential / parallel
    rows = [
        Row(
            "3",
            f"latency-bound pull, {len(par_records)} requests: sequential / max_concurrency={CONCURRENCY}",
            speedup,
            f">= {TARGET}",
            f"{what}; 100 ms latency: {sequential:.2f} s vs {parallel:.2f} s; limit {RATE:g}/s, "
            f"peak {peak} req in 1 s, {throttled} x 429",
            met=speedup >= TARGET and throttled == 0 and len(par_records) == REQUESTS,
        ),
    ]
    if default is not None:
        rows.append(
            Row(
                "3",
                f"the same, sequential / max_concurrency={DEFAULT_CONCURRENCY} (the operators' default)",
                sequential / default,
                "",
                f"{default:.2f} s",
            )
        )
    return rows
