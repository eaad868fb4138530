"""One rate budget per API key across threads, OS processes (each its own Airflow home) and Redis.

The sandbox counts like the strictest vendor (at most N arrivals in any sliding window, no burst);
every figure is read from its recorded arrivals of the one Web Push key. A little slack (0.9 s for
the client's 1 s) stands for the vendor clock's slop; the bound checked is the SPEC's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook
from airflow_provider_wa_analytics.testing.redis import free_port
from airflow_provider_wa_analytics.testing.server import Fault, key_id, peak_in_window
from airflow_provider_wa_analytics.testing.webpush import INSIDER_WEBPUSH_TOKEN
from tests.conftest import REPO_ROOT

VENDOR = "insider_webpush"
CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT"
KEY = key_id(INSIDER_WEBPUSH_TOKEN)
WORKERS = 3


@pytest.fixture
def strict(sandbox):
    """The sandbox at 1 request per (about) 1 s for the key, counted strictly."""
    sandbox.reset()
    sandbox.set_rate_limit(VENDOR, 1, 0.9, strict=True)
    yield sandbox
    sandbox.set_rate_limit(VENDOR, 30, 60)


def conn(sandbox, **extra):
    return sandbox.connection_json(VENDOR, extra={"backoff_initial": 0.05, "backoff_max": 0.2, **extra})


def arrivals(sandbox):
    return sandbox.arrivals(VENDOR, key_id=KEY)


# -- several OS processes, each with its own Airflow home, running the operator -----------------
@pytest.fixture(scope="module")
def workers():
    """WORKERS processes of ``tests.scale.worker``, set up and waiting for jobs on stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WA_ANALYTICS_TEST"))}
    env["PYTHONPATH"] = str(REPO_ROOT)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scale.worker"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    for proc in procs:
        assert _line(proc, "WORKER-READY") == ""
    yield procs
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


def _line(proc, prefix):
    """The rest of the first stdout line starting with ``prefix`` (task logs share stdout)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise AssertionError(f"worker {proc.pid} exited ({proc.wait()}) before {prefix}")


def run_everywhere(procs, sandbox, campaigns, **extra):
    """The same job on every worker at once (one DAG each, the same key); their results."""
    ids = sandbox.app(VENDOR).campaign_ids
    for i, proc in enumerate(procs):
        job = {
            "dag_id": f"shared_budget_{i}",
            "conn": conn(sandbox, **extra),
            "campaign_ids": ids[i * campaigns : (i + 1) * campaigns],
            "out": Path(tempfile.mkdtemp(prefix="wa-scale-")).as_uri(),
        }
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
    return [json.loads(_line(proc, "WORKER-RESULT")) for proc in procs]


def test_processes_sharing_redis_stay_under_a_strict_limit(workers, strict, redis_url):
    results = run_everywhere(workers, strict, 3, rate_limit=1, rate_limit_storage=redis_url)
    assert results == [{"state": "success", "error": None}] * WORKERS
    statuses = [r.status for r in strict.requests]
    assert statuses == [200] * (3 * WORKERS)  # zero 429
    times = arrivals(strict)
    assert peak_in_window(times, 2.0) <= 1 * 2 + 1
    assert peak_in_window(times, 1.0) <= 1 * 1 + 1


def test_the_same_processes_without_shared_storage_meet_the_vendors_limit(workers, strict):
    # The control: each process paces itself at the full rate (memory://), so three of them send
    # three times the budget. Four campaigns each keep their runs overlapping whatever the start-up.
    results = run_everywhere(workers, strict, 4, rate_limit=1, max_retries=0)
    assert any(r["state"] == "failed" for r in results)
    assert any(r.status == 429 for r in strict.requests)


# -- threads in one process ---------------------------------------------------------------------
@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_threads_with_their_own_hooks_share_the_budget(strict, monkeypatch, request, storage):
    extra = {"rate_limit": 1}
    if storage == "redis":
        extra["rate_limit_storage"] = request.getfixturevalue("redis_url")
    monkeypatch.setenv(CONN, conn(strict, **extra))
    ids = strict.app(VENDOR).campaign_ids[:8]
    errors: list[BaseException] = []

    def work(campaigns):
        try:
            hook = InsiderWebPushHook()
            for campaign in campaigns:
                hook.campaign_metrics(campaign, "2025-03-01", "2025-03-01")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.status for r in strict.requests] == [200] * 8
    assert peak_in_window(arrivals(strict), 2.0) <= 3


def test_retries_draw_from_the_budget(strict, monkeypatch):
    monkeypatch.setenv(CONN, conn(strict, rate_limit=1))
    strict.inject(Fault.SERVER_ERROR, vendor=VENDOR)
    InsiderWebPushHook().campaign_metrics("10001", "2025-03-01", "2025-03-01")
    first, retry = strict.arrivals(VENDOR)  # the injected 500 answers before authentication
    assert [r.status for r in strict.requests] == [500, 200]
    # The backoff is 0.05 s; the retry still waits for its turn in the budget (1 per second).
    assert retry - first >= 0.9


def test_an_unreachable_storage_fails_before_any_request(sandbox, monkeypatch):
    sandbox.reset()
    uri = f"redis://:pw-of-redis@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv(CONN, conn(sandbox, rate_limit_storage=uri))
    with pytest.raises(InvalidParameterError, match=r"`rate_limit_storage` .* is unreachable") as info:
        InsiderWebPushHook().campaign_metrics("10001", "2025-03-01", "2025-03-01")
    assert "insider_webpush_default" in str(info.value)
    assert "pw-of-redis" not in str(info.value)
    assert sandbox.requests == []


def test_redis_holds_a_hash_of_the_key_never_the_key(strict, monkeypatch, redis_url):
    import redis

    monkeypatch.setenv(CONN, conn(strict, rate_limit=1, rate_limit_storage=redis_url))
    InsiderWebPushHook().campaign_metrics("10001", "2025-03-01", "2025-03-01")
    keys = b" ".join(redis.Redis.from_url(redis_url).keys("*")).decode()
    assert "insider_webpush" in keys
    assert INSIDER_WEBPUSH_TOKEN not in keys
