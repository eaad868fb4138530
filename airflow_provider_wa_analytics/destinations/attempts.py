"""Who is writing: a unique token per publishing attempt, and how to tell a dead attempt's left-overs.

Two attempts of one task may run at once (a zombie and its retry). Each stages under names holding
its own token (``.{name}.{host}.{pid}.{random}.staging``), so they never write into each other's
files, and a later attempt can tell what a killed one left behind: a token of this host whose
process is gone, or anything older than :data:`STALE_AFTER` (an attempt on another host cannot be
asked whether it is alive; staging only lives while an attempt publishes).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile

#: Age after which a left-over of another host's attempt is taken as abandoned.
STALE_AFTER = 6 * 3600.0
#: Prefix of the local temporary folders: ``wa-analytics-run-{pid}-...`` in the system temp folder.
TEMP_PREFIX = "wa-analytics-run-"

_TOKEN = re.compile(r"\.([A-Za-z0-9-]{1,32})\.(\d+)\.([0-9a-f]{12})\.(?:staging|previous)$")
_TEMP = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def new_token() -> str:
    """This attempt's token: host, process id and 48 random bits."""
    return f"{_host()}.{os.getpid()}.{secrets.token_hex(6)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def abandoned(name: str | None, age: float, own_token: str) -> bool:
    """Whether a staging name (or an upload without one, ``name`` None) belongs to a dead attempt."""
    match = _TOKEN.search(name or "")
    if match is None:
        return age > STALE_AFTER
    host, pid, _ = match.groups()
    if f"{host}.{pid}.{match.group(3)}" == own_token:
        return False
    if host == _host():
        return not _alive(int(pid))
    return age > STALE_AFTER


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    """A private temporary folder for this attempt's files, after removing those of dead processes."""
    root = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            match = _TEMP.match(entry.name)
            if match and entry.is_dir(follow_symlinks=False) and not _alive(int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-")
