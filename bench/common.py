"""Shared pieces of the benchmarks: result rows, the table, a sandbox in its own process, child runs.

The sandbox runs in a separate process (``python -m airflow_provider_wa_analytics.testing serve``)
so that its threads never compete with the measured code for the GIL; it is driven through its
``/__sandbox__`` control endpoints. Measurements that need a fresh interpreter (memory, the
side-by-side comparison) run in child processes started with :func:`run_child`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One line of the table: a ratio measured in this run, its target, and absolute figures as context."""

    section: str
    measure: str
    ratio: float | None
    target: str  # ">= 0.95", "<= 1.2", or "" for a figure reported without a target
    context: str
    met: bool | None = None

    def __post_init__(self) -> None:
        if self.met is None and self.target and self.ratio is not None:
            op, bound = self.target.split()
            self.met = self.ratio >= float(bound) if op == ">=" else self.ratio <= float(bound)


def print_table(rows: list[Row], out: Any = sys.stdout) -> None:
    headers = ("#", "measure", "ratio", "target", "met", "context (absolute figures)")
    cells = [
        (
            r.section,
            r.measure,
            "error" if r.ratio is None else f"{r.ratio:.2f}",
            r.target or "-",
            "-" if r.met is None else ("yes" if r.met else "NO"),
            r.context,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line, file=out)
    print("-+-".join("-" * w for w in widths), file=out)
    for c in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)), file=out)


def airflow_env() -> dict[str, str]:
    """A throw-away Airflow home for this process and its children (connections come from env vars)."""
    env = {
        "AIRFLOW_HOME": os.environ.get("WA_BENCH_AIRFLOW_HOME") or tempfile.mkdtemp(prefix="wa-bench-home-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env["WA_BENCH_AIRFLOW_HOME"] = env["AIRFLOW_HOME"]
    return env


def child_env(**extra: str) -> dict[str, str]:
    # Bytecode may be cached: a deployment imports from .pyc, and compiling Airflow in every child
    # (this machine sets PYTHONDONTWRITEBYTECODE) would only add seconds of noise to each run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def run_child(module: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """``python -m module --child args...`` in a fresh interpreter; its last stdout line is JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class RemoteSandbox:
    """The sandbox CLI in a child process, with the parts of :class:`Sandbox` the benchmarks use."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._connections: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> RemoteSandbox:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_wa_analytics.testing", "serve"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        assert self._proc.stdout is not None
        info = json.loads(self._proc.stdout.readline())  # printed once the port listens
        self.url = info["url"]
        for value in info["connections"].values():
            conn = json.loads(value)
            self._connections[conn["conn_type"]] = conn
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
            self._proc = None

    def _control(self, method: str, action: str, body: Any = None) -> Any:
        resp = requests.request(method, f"{self.url}/__sandbox__/{action}", json=body, timeout=60)
        resp.raise_for_status()
        return resp.json()

    def connection(self, vendor: str) -> dict[str, Any]:
        return json.loads(json.dumps(self._connections[vendor]))

    def reset(self) -> None:
        self._control("POST", "reset")

    def configure(self, vendor: str, **options: Any) -> None:
        self._control("POST", "config", {"vendors": {vendor: options}})

    def set_rate_limit(
        self, vendor: str, limit: float | None, per: float = 1.0, *, strict: bool = False
    ) -> None:
        value = None if limit is None else {"limit": limit, "per": per, "strict": strict}
        self._control("POST", "config", {"rate_limits": {vendor: value}})

    def set_latency(self, seconds: float) -> None:
        self._control("POST", "config", {"latency": seconds})

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._control("GET", "requests")


@dataclass
class Bench:
    """What the sections share: the run's mode, the sandbox, and one S3 server started on first use."""

    quick: bool
    sandbox: RemoteSandbox
    stack: contextlib.ExitStack
    _s3: str | None = field(default=None, init=False)

    def s3(self) -> str:
        """The endpoint of a moto S3 server (bench_memory's) with its bucket and connection set."""
        if self._s3 is None:
            from bench import bench_memory as bm

            endpoint = self.stack.enter_context(bm.moto_server())
            bm.use_bucket(endpoint)
            self._s3 = endpoint
        return self._s3


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started
