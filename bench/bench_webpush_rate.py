"""Benchmark: does a Web Push run proceed at the rate limit, without 429s?

The sandbox and the connection both allow N requests per minute; the operator fetches K campaigns
(one request each). The run should take K/N minutes (at most 5 % more) with zero 429s. A control run
with the client-side limiter off shows that the sandbox's limit is real (it answers 429).

The sandbox expresses "N per minute" as N/60 per ``--per`` seconds (default 1 s): the same rate,
with a token bucket of only N/60 requests, so the check is strict over short intervals instead of
tolerating a burst of a whole minute's budget. The operator's ``execute`` is timed as a task runs it
(real HTTP on 127.0.0.1, rows normalized and written as jsonl files to a temporary directory).

    python bench/bench_webpush_rate.py --per-minute 600 --campaigns 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pendulum

from airflow_provider_wa_analytics.testing import Sandbox

VENDOR = "insider_webpush"
CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_BENCH"


def run(sandbox: Sandbox, campaigns: list[str], extra: dict, out: str) -> tuple[float, int, str | None]:
    """One operator run (execute, writing jsonl files to ``out``); (seconds, rows written, error)."""
    from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator

    os.environ[CONN] = sandbox.connection_json(VENDOR, extra=extra)
    op = InsiderWebPushCampaignMetricsOperator(
        task_id="bench",
        campaign_ids=campaigns,
        insider_webpush_conn_id="insider_webpush_bench",
        destination=f"file://{out}/{{table}}.jsonl",
    )
    day = pendulum.datetime(2025, 3, 1, tz="UTC")
    context = {"data_interval_start": day, "data_interval_end": day.add(days=1)}
    rows, error = 0, None
    started = time.monotonic()
    try:
        rows = sum(item["rows"] for item in op.execute(context))
    except Exception as exc:  # the control run stops at its first 429
        error = f"{type(exc).__name__}: {str(exc)[:120]}"
    return time.monotonic() - started, rows, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-minute", type=float, default=600.0, help="N: both limits, requests per minute")
    parser.add_argument("--campaigns", type=int, default=100, help="K: campaigns, one request each")
    parser.add_argument("--per", type=float, default=1.0, help="the sandbox bucket's interval, seconds")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the sandbox adds to each answer")
    parser.add_argument(
        "--headroom", type=float, default=0.0, help="percent the client paces below N (what-if; default 0)"
    )
    parser.add_argument("--target", type=float, default=1.05, help="largest acceptable wall / (K/N) ratio")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    n, k = args.per_minute, args.campaigns

    with (
        tempfile.TemporaryDirectory(prefix="bench-webpush-") as out,
        Sandbox(latency=args.latency, vendor_options={VENDOR: {"campaigns": max(k, 1)}}) as sandbox,
    ):
        campaigns = sandbox.app(VENDOR).campaign_ids[:k]
        sandbox.set_rate_limit(VENDOR, n / 60 * args.per, args.per)
        client_rate = n / 60 * (1 - args.headroom / 100)
        seconds, rows, error = run(sandbox, campaigns, {"rate_limit": client_rate}, out)
        statuses = [r.status for r in sandbox.requests]

        sandbox.reset()  # control: the client-side limiter off, no retries
        _, _, control_error = run(sandbox, campaigns, {"rate_limit": 1e6, "max_retries": 0}, out)
        control = [r.status for r in sandbox.requests]

    expected = k / n * 60
    result = {
        "campaigns": k,
        "per_minute": n,
        "sandbox_bucket": [n / 60 * args.per, args.per],
        "headroom_percent": args.headroom,
        "expected_s": round(expected, 3),
        "wall_s": round(seconds, 3),
        "ratio": round(seconds / expected, 4),
        "requests": len(statuses),
        "http_429": statuses.count(429),
        "rows": rows,
        "error": error,
        "control_requests_before_first_429": control.index(429) if 429 in control else None,
    }
    ok = error is None and result["http_429"] == 0 and result["ratio"] <= args.target
    if args.json:
        print(json.dumps({**result, "ok": ok}))
    else:
        bucket = f"{n / 60 * args.per:g} per {args.per:g} s"
        print(f"Web Push rate: K={k} campaigns at N={n:g}/min (sandbox bucket {bucket})")
        print(f"  expected K/N     {expected:8.3f} s")
        print(f"  wall time        {seconds:8.3f} s")
        print(f"  ratio            {result['ratio']:8.4f}  (target <= {args.target})")
        print(f"  requests / 429s  {len(statuses)} / {result['http_429']}  ({rows} rows written)")
        first_429 = result["control_requests_before_first_429"]
        print(f"  control, client limiter off: first 429 after {first_429} request(s) ({control_error})")
        print("OK" if ok else f"FAILED{': ' + error if error else ''}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
