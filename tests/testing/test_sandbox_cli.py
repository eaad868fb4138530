"""``python -m airflow_provider_wa_analytics.testing serve``: ready file, printed lines, control, signals."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from airflow_provider_wa_analytics.testing.insider import INSIDER_WHATSAPP_KEY

COMMAND = [sys.executable, "-m", "airflow_provider_wa_analytics.testing", "serve"]
BODY = {"start_time": 1740787200, "end_time": 1740787200 + 86_400}


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = 15.0) -> str:
    """What a script does: wait for the ready file (bounded), failing at once if the server exits."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"no ready file after {timeout} s"
        try:
            process.wait(timeout=0.02)  # the wait is on the process: its exit ends it at once
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the sandbox exited early: {process.stderr.read() if process.stderr else ''}")
    return path.read_text().strip()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    ready = tmp_path / "sandbox.url"
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [*COMMAND, "--ready-file", str(ready), "--rate-limit", "insider_whatsapp=3/60", "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = wait_for_file(ready, process)
        yield process, url, ready
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_serve_writes_the_ready_file_prints_its_url_and_stops_on_sigterm(served):
    process, url, ready = served
    assert url.startswith("http://127.0.0.1:")
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    assert info["url"] == url and "insider_whatsapp" in info["vendors"] and info["pid"] == process.pid
    export = process.stdout.readline().strip()
    assert export.startswith("export AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT=")
    conn = json.loads(shlex.split(export.split("=", 1)[1])[0])
    assert conn == {"conn_type": "insider_whatsapp", "password": INSIDER_WHATSAPP_KEY, "host": url}
    assert conn == json.loads(info["connections"]["AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT"])

    health = requests.get(url + "/__sandbox__/health", timeout=5).json()
    assert health["status"] == "ok" and health["url"] == url

    # Options reach the server: the rate limit (3 per minute) and the seed.
    headers = {"x-ins-auth-key": conn["password"]}
    statuses = [
        requests.post(url + "/v1/statistics/overall", json=BODY, headers=headers, timeout=5).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    config = requests.get(url + "/__sandbox__/config", timeout=5).json()
    assert config["rate_limits"]["insider_whatsapp"] == {"limit": 3.0, "per": 60.0}
    assert config["vendors"]["insider_whatsapp"]["seed"] == 5

    # Another process drives it through the control endpoints.
    requests.post(url + "/__sandbox__/reset", timeout=5)
    requests.post(url + "/__sandbox__/faults", json={"kind": "server_error", "endpoint": "/v1/"}, timeout=5)
    response = requests.post(url + "/v1/statistics/overall", json=BODY, headers=headers, timeout=5)
    assert response.status_code == 500
    (recorded,) = requests.get(url + "/__sandbox__/requests", timeout=5).json()
    assert recorded["fault"] == "server_error" and json.loads(recorded["body"]) == BODY

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert not ready.exists(), "the ready file goes away with the server"


def test_serve_stops_on_sigint(served):
    process, url, _ = served
    assert requests.get(url + "/__sandbox__/health", timeout=5).ok
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "arguments",
    [["--rate-limit", "insider_whatsapp"], ["--rate-limit", "nobody=1/1"], ["--vendor-option", "x=1"]],
)
def test_bad_arguments_exit_with_status_2(arguments):
    command = [*COMMAND, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)  # noqa: S603
    assert result.returncode == 2
    assert "error" in result.stderr
