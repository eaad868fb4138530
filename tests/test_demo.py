"""``make demo`` stops cleanly on one Ctrl-C (SIGINT to its process group) or one SIGTERM: the servers,
the running ``airflow dags test`` and its children all end; its stdout holds no server log lines."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_one_signal_stops_the_demo_and_everything_it_started(signum, tmp_path: Path):
    env = {
        **os.environ,
        "WA_DEMO_DIR": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    demo = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, "-u", str(REPO_ROOT / "scripts" / "demo.py")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # until the first `airflow dags test` child runs
            lines.append(line)
            if re.match(r"  running as pid \d+", line) and any("=== airflow dags test" in x for x in lines):
                break
        started = psutil.Process(demo.pid).children(recursive=True)
        assert started, "the demo started no child"
        if signum == signal.SIGINT:
            os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C does: the foreground process group
        else:
            demo.send_signal(signal.SIGTERM)
        rest, _ = demo.communicate(timeout=120)
        lines += rest.splitlines(keepends=True)
        assert demo.returncode == 130
        _, alive = psutil.wait_procs(started, timeout=30)
        assert alive == []
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    output = "".join(lines)
    assert "DEMO STOPPED" in output
    assert not re.search(r'"(GET|POST|PUT) /', output), "server access-log lines in the summary"
    assert (tmp_path / "servers.log").exists()
