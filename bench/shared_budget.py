"""Row 1b: one rate budget shared by K processes through Redis ("shared budget, K processes x one key").

K fresh interpreters each pull Web Push campaign metrics with the same token, their connections
pointing at one Redis (``rate_limit_storage``), all released at once. The sandbox counts strictly:
at most RATE arrivals in any sliding second (0.95 s: the vendor clock's slop). Utilization is the
arrival rate the sandbox saw (first to last) over RATE; the peak is the most arrivals of the key in
any 1-s window. Targets: utilization >= 0.95 with 0 x 429, peak <= RATE + 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from airflow_provider_wa_analytics.testing.redis import redis_server
from bench.common import Bench, Row, child_env

RATE = 10
PROCESSES = 3
TARGET = 0.95
VENDOR = "insider_webpush"
CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT"


def measure(bench: Bench) -> Row:
    from airflow_provider_wa_analytics.testing.server import peak_in_window

    sandbox = bench.sandbox
    per_process = 20 if bench.quick else 60
    name = f"shared budget, {PROCESSES} processes x one key"
    with redis_server() as redis_url:
        sandbox.reset()
        sandbox.set_rate_limit(VENDOR, RATE, 0.95, strict=True)
        conn = sandbox.connection(VENDOR)
        conn["extra"] = {"rate_limit": RATE, "rate_limit_storage": redis_url, "max_retries": 0}
        env = child_env(**{CONN: json.dumps(conn)})
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.shared_budget", "--child", str(per_process)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        try:
            for proc in procs:  # every child imported Airflow and built its hook: release them together
                assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = [json.loads(proc.communicate(timeout=900)[0].splitlines()[-1]) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
        records = sandbox.requests
        sandbox.set_rate_limit(VENDOR, 30, 60)
    errors = [r["error"] for r in results if r["error"]]
    arrivals = sorted(r["received_at"] for r in records)
    throttled = sum(r["status"] == 429 for r in records)
    if errors or len(arrivals) < 3:
        return Row("1", name, None, f">= {TARGET}", (errors or ["too few requests"])[0][:100])
    achieved = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    peak = peak_in_window(arrivals, 1.0)
    return Row(
        "1",
        name,
        achieved / RATE,
        f">= {TARGET}",
        f"{len(arrivals)} requests at {achieved:.2f}/s, budget {RATE}/s in Redis, {throttled} x 429, "
        f"peak {peak} in any 1 s (<= {RATE + 1})",
        met=achieved / RATE >= TARGET and throttled == 0 and peak <= RATE + 1,
    )


def child(n: int) -> None:
    from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook

    hook = InsiderWebPushHook()
    hook.client  # noqa: B018 (the storage is opened and checked before the start signal)
    print("ready", flush=True)
    sys.stdin.readline()
    error = None
    try:
        for i in range(n):
            hook.campaign_metrics(str(10001 + i % 5), "2025-03-01", "2025-03-01")
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"error": error, "pid": os.getpid()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]))
