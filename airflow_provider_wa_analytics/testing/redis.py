"""A real Redis (Debian's ``redis-server``) on a free loopback port: the shared rate budget's storage
for tests of several workers (``rate_limit_storage``), this project's and yours, and the benchmarks.

    with redis_server() as url:  # redis://127.0.0.1:PORT/0, gone on exit
        ...
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a redis-server without persistence, stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian: apt-get install -y redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="wa-analytics-redis-")
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(  # noqa: S603 (the Debian binary, fixed arguments)
        [*command, "--dir", workdir, "--loglevel", "notice"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # awaits the server's own "ready" line
            seen.append(line)
            if "Ready to accept connections" in line:
                break
        else:
            raise RuntimeError("redis-server did not start:\n" + "".join(seen))
        # Keep draining what it writes, so that a full pipe never blocks the server.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
