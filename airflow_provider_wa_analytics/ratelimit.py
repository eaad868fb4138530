"""One rate budget per vendor API key: smooth local pacing plus a window shared through ``limits``.

Every client of one key draws from the same moving window (``limits``' MovingWindowRateLimiter) in the
storage named by the connection extra ``rate_limit_storage`` (``memory://``: this process only;
``redis://``, ``valkey://``, ``memcached://``: every process and host using that storage). The key in
the storage is the vendor plus a hash of the account's key, never the key itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItemPerSecond
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from airflow_provider_wa_analytics.exceptions import InvalidParameterError

log = logging.getLogger(__name__)

#: Pace a little under the limit: a vendor counting strictly never sees scheduling jitter as a burst.
RATE_HEADROOM = 0.02
DEFAULT_STORAGE = "memory://"
#: Waits at least this long are logged at INFO (shorter ones are the normal pacing, at DEBUG).
LOGGED_WAIT = 1.0
_NAMESPACE = "wa-analytics"
# A storage that does not answer within this many seconds is unreachable, not slow.
_SOCKET_TIMEOUT = 5.0

_storages: dict[str, Storage] = {}
_storages_lock = threading.Lock()


class RateLimiter:
    """A thread-safe token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    With the default burst of 1, requests are spaced evenly at the rate. ``start`` is the number of
    tokens at first: 1 sends the first request at once, less delays it (a jittered start).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        start: float | None = None,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst if start is None else min(start, self.burst)
        self._updated = clock()

    def reserve(self) -> float:
        """Take a token now and return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)  # pacing against the vendor's limit: this is the throttle itself
        return wait


def budget_window(rate: float) -> tuple[int, int]:
    """``(requests, seconds)``: the whole-second window a rate implies, never above the rate.

    ``limits`` counts whole seconds: 100/s is 100 per 1 s, 10.5/s is 10 per 1 s, 0.5/s (30 per
    minute) is 1 per 2 s, 0.3/s is 1 per 4 s. A window of one second at most keeps every 1-s window
    within the rate whatever the number of clients; the headroom goes into the waits instead.
    """
    if rate >= 1:
        return math.floor(rate), 1
    return 1, math.ceil(1 / rate - 1e-9)


def account_hash(vendor: str, account: str) -> str:
    """The storage's name for one vendor account: never the key, not even a reversible form of it."""
    return hashlib.sha256(f"{vendor}\0{account}".encode()).hexdigest()[:32]


def safe_uri(uri: str) -> str:
    """The storage URI without its user and password, fit for a message."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        # Host and port as written (an IPv6 host keeps its brackets), without what precedes "@".
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2].lower(), parts.path, "", ""))
    except ValueError:
        return "(an unparsable URI)"


def open_storage(uri: str) -> Storage:
    """The process's one storage object for ``uri`` (all clients of a process share it), checked.

    Raises :class:`InvalidParameterError` naming ``rate_limit_storage`` when the URI is unknown, its
    client library is missing, or the storage does not answer: never a silent per-process fallback.
    """
    with _storages_lock:
        storage = _storages.get(uri)
        if storage is None:
            storage = _connect(uri)
            _storages[uri] = storage
    return storage


def _connect(uri: str) -> Storage:
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    options: dict[str, Any] = {}
    if scheme.split("+")[-1] in ("redis", "rediss", "valkey", "valkeys"):
        options = {"socket_connect_timeout": _SOCKET_TIMEOUT, "socket_timeout": _SOCKET_TIMEOUT}
    shown = safe_uri(uri)
    if scheme.startswith("async+"):
        raise InvalidParameterError(
            f"extra `rate_limit_storage` {shown!r}: use the synchronous form of the URI (no `async+`)."
        )
    try:
        storage = storage_from_string(uri, **options)
    except ConfigurationError as exc:
        # limits says which prerequisite is missing ("redis prerequisite not available") or that
        # the scheme is unknown; neither message holds the URI.
        raise InvalidParameterError(
            f"extra `rate_limit_storage` {shown!r} cannot be used: {exc}. Supported: memory://, "
            "redis://host:port/db, valkey://..., memcached://host:port (install the `redis` extra "
            "for Redis)."
        ) from None
    if not isinstance(storage, Storage):  # pragma: no cover - async+ refused above
        raise InvalidParameterError(f"extra `rate_limit_storage` {shown!r} is not a synchronous storage.")
    if not storage.check():
        raise InvalidParameterError(
            f"extra `rate_limit_storage` {shown!r} is unreachable: the rate budget it holds cannot be "
            "shared, so no request is sent (fix the storage or remove the extra to pace this process only)."
        )
    return storage


class RateBudget:
    """What every request of one API key draws from, in this process and in every other one.

    Two layers: a local token bucket spaces this client's own requests evenly (its first request at a
    random point of the first interval, so that clients started together do not fire together), and
    the shared moving window admits at most ``requests`` per ``seconds`` for all clients of the key.
    ``acquire`` blocks until both allow a request and returns the seconds it waited.
    """

    def __init__(
        self,
        rate: float,
        *,
        vendor: str,
        account: str,
        storage: Storage,
        headroom: float = RATE_HEADROOM,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.rate = rate
        self.vendor = vendor
        self.requests, self.seconds = budget_window(rate)
        self.item = RateLimitItemPerSecond(self.requests, self.seconds, namespace=_NAMESPACE)
        self.identifiers = (vendor, account_hash(vendor, account))
        self._window = MovingWindowRateLimiter(storage)
        self.interval = self.seconds / self.requests
        # The headroom of a whole-second window: every wait for the shared window ends this much later.
        self.margin = headroom * self.interval
        self.local = RateLimiter(rate * (1 - headroom), clock=clock, start=1.0 - jitter())
        self._wall = wall
        self._sleep = sleep
        self._jitter = jitter

    def __repr__(self) -> str:
        return f"RateBudget({self.vendor}, {self.requests} per {self.seconds} s)"

    def describe(self) -> str:
        return f"{self.requests} request(s) per {self.seconds} s"

    def acquire(self) -> float:
        waited = self.local.reserve()
        if waited > 0:
            self._sleep(waited)
        while True:
            pause = self._pause()
            if pause <= 0 and self._window.hit(self.item, *self.identifiers):
                break
            # Clients waiting for the same moment wake at spread-out times; the first one takes it.
            pause = max(pause, 0.0) + self.margin * (1 + self._jitter())
            self._sleep(pause)
            waited += pause
        level = logging.INFO if waited >= LOGGED_WAIT else logging.DEBUG
        log.log(level, "%s: waited %.1f s for the rate budget (%s)", self.vendor, waited, self.describe())
        return waited

    def _pause(self) -> float:
        """Seconds until the shared window admits one more request, evenly spaced.

        The window holds ``count`` requests since its oldest one: the next is due once the oldest
        leaves (a full window), and not before ``count`` intervals after the oldest, so that clients
        joining a window never send its requests in one burst at its start.
        """
        stats = self._window.get_window_stats(self.item, *self.identifiers)
        count = self.requests - stats.remaining
        if count <= 0:
            return 0.0
        oldest = stats.reset_time - self.seconds
        due = stats.reset_time if count >= self.requests else oldest + count * self.interval
        return due - self._wall()
