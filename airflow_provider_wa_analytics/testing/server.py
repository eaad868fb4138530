"""Generic machinery of the vendor sandbox: routing, recording, latency, rate limits, faults, control.

Vendor apps (one small module per vendor) describe their routes and conventions by subclassing
:class:`VendorApp`; :class:`SandboxCore` holds the state shared by all of them and decides every
answer; :class:`SandboxServer` serves it over HTTP on one loopback port. Standard library only.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import math
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_wa_analytics.testing.late import parse_as_of, settle, settled_percent

CONTROL_PREFIX = "/__sandbox__"

#: Longest time a TIMEOUT fault holds a request (the hold ends at once on ``reset()``/``stop()``).
DEFAULT_HOLD = 30.0

RateLimit = tuple[float, float]
"""``(limit, per)``: ``limit`` requests per ``per`` seconds."""


class Fault(str, Enum):
    """The failures :meth:`SandboxCore.inject` can make the sandbox produce."""

    RATE_LIMIT = "rate_limit"  # 429 with the vendor's body and a Retry-After header
    SERVER_ERROR = "server_error"  # 500 with the vendor's JSON error body
    BAD_GATEWAY_HTML = "bad_gateway_html"  # 502 with a proxy's HTML page
    UNAVAILABLE = "unavailable"  # 503 with the vendor's JSON error body
    CONNECTION_RESET = "connection_reset"  # the socket is reset (RST), no response at all
    TIMEOUT = "timeout"  # no answer until the client gives up
    TRUNCATED = "truncated"  # 200 whose (valid) JSON body is cut in half
    HTML_200 = "html_200"  # 200 with a text/html page instead of JSON

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: Fault | str) -> Fault:
        """A :class:`Fault` from itself, its value (``"rate_limit"``) or its name (``"RATE_LIMIT"``)."""
        if isinstance(value, Fault):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            allowed = ", ".join(f.value for f in cls)
            raise ValueError(f"unknown fault kind {value!r}; allowed: {allowed}") from None


@dataclass
class Request:
    """One request as a vendor app sees it."""

    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased; the first value of a repeated header
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route's pattern
    identity: str | None = None  # what authenticate() returned: the rate-limit bucket key

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        return _parse_json(self.body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, "application/json", dict(headers or {}))


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode(), "text/html; charset=utf-8")


@dataclass(frozen=True)
class Route:
    """``method`` + a full-match ``pattern`` on the path; ``name`` is what recordings call the endpoint."""

    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Response]
    name: str

    @classmethod
    def of(cls, method: str, pattern: str, handler: Callable[[Request], Response], name: str) -> Route:
        return cls(method.upper(), re.compile(pattern), handler, name)


@dataclass(frozen=True)
class Option:
    """A vendor option: its default and the check that turns a given value into the stored one
    (raising ValueError)."""

    default: Any
    check: Callable[[Any], Any] = field(default=lambda value: value)


class VendorApp:
    """One vendor API served by the sandbox. Subclasses set ``vendor`` and implement :meth:`routes`.

    ``vendor`` is the Airflow connection type of the vendor (``insider_whatsapp``, ``vonage_whatsapp``...).
    """

    vendor: ClassVar[str]
    #: The documented limit as ``(limit, per)``, applied per vendor and per credential; None: unlimited.
    default_rate_limit: ClassVar[RateLimit | None] = None

    def __init__(self, *, seed: int = 0, **options: Any) -> None:
        """``options``: the vendor's :attr:`OPTIONS` (the others keep their defaults)."""
        self.seed = seed
        #: Late-arriving figures: the UTC day the data is served "as of" (None: every figure final).
        self.as_of: dt.date | None = None
        for name, option in self.OPTIONS.items():
            if option is not None:
                setattr(self, name, option.default)
        self.configure(**options)

    def settled(self, value: int, day: dt.date) -> int:
        """A late-arriving count of ``day`` as known on :attr:`as_of` (see :mod:`.late`)."""
        return settle(value, settled_percent(day, self.as_of))

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authenticate(self, request: Request) -> str | Response:
        """The caller's identity (rate limits are counted per identity) or the vendor's error response."""
        raise NotImplementedError

    def rate_limited_response(self, retry_after: int) -> Response:
        """The vendor's 429. The server adds ``Retry-After`` when the response has none."""
        return json_response(429, {"message": "rate limited"})

    def error_response(self, status: int) -> Response:
        """The vendor's JSON body for a 5xx (SERVER_ERROR and UNAVAILABLE faults)."""
        return json_response(status, {"message": "internal server error"})

    #: The credentials of :meth:`connection`: login (None: no login), password and extra (None: none).
    conn_login: ClassVar[str | None] = None
    conn_password: ClassVar[str | None] = None
    conn_extra: ClassVar[Mapping[str, Any] | None] = None

    #: The vendor's options (constructor keywords, :meth:`configure`), in the order :meth:`options`
    #: shows them; None for a value shown but not settable (``seed``).
    OPTIONS: ClassVar[Mapping[str, Option | None]] = {}

    def connection(self, url: str) -> dict[str, Any]:
        """The Airflow connection (as ``AIRFLOW_CONN_*`` JSON fields) that authenticates successfully."""
        conn: dict[str, Any] = {"conn_type": self.vendor}
        if self.conn_login is not None:
            conn["login"] = self.conn_login
        if self.conn_password is not None:
            conn["password"] = self.conn_password
        conn["host"] = url
        if self.conn_extra is not None:
            conn["extra"] = dict(self.conn_extra)
        return conn

    def configure(self, **options: Any) -> None:
        """Change vendor options at runtime (e.g. Insider's ``campaigns_per_day``); see :attr:`OPTIONS`."""
        unknown = set(options) - {name for name, option in self.OPTIONS.items() if option is not None}
        if unknown:
            raise TypeError(f"{self.vendor} has no options {sorted(unknown)}")
        for name, option in self.OPTIONS.items():
            if option is not None and name in options:
                setattr(self, name, option.check(options[name]))

    def options(self) -> dict[str, Any]:
        shown = {name: getattr(self, name) for name in self.OPTIONS}
        return {name: v.isoformat() if isinstance(v, dt.date) else v for name, v in shown.items()}

    def reset(self) -> None:
        """Forget per-run state (called by the sandbox's reset)."""


class Reject(Exception):
    """A request the vendor refuses: raised while parsing it, answered with ``response``."""

    def __init__(self, response: Response) -> None:
        self.response = response


# -- option checks (values of VendorApp.OPTIONS) --------------------------------------------------


def one_of(name: str, allowed: Sequence[Any], message: str | None = None) -> Callable[[Any], Any]:
    """A check that the value is one of ``allowed``."""

    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(message or f"{name} must be one of {', '.join(map(str, allowed))}")
        return value

    return check


def whole_number(message: str, low: int, high: int | None = None) -> Callable[[Any], int]:
    """A check that the value is an ``int`` (not a bool) from ``low`` to ``high`` (None: no bound)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(message)
        if high is not None and value > high:
            raise ValueError(message)
        return value

    return check


def a_day(value: Any) -> dt.date | None:
    """A date from itself, an ISO ``YYYY-MM-DD`` string or None."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# -- cursors -------------------------------------------------------------------------------------


def encode_token(payload: bytes) -> str:
    """An opaque cursor: URL-safe base64 of ``payload``, without padding."""
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(cursor: str) -> bytes | None:
    """The payload of :func:`encode_token` (padding optional), None when it is not base64."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        return None


@dataclass
class RecordedRequest:
    """A request the sandbox received (control requests are not recorded)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # the body parsed as JSON, or None
    vendor: str | None  # None when no vendor route matched the path
    status: int | None = None  # None when no response was sent (CONNECTION_RESET, TIMEOUT)
    fault: Fault | None = None  # the injected fault that hit this request, if any
    endpoint: str | None = None  # the route's name, e.g. "overall"
    received_at: float = 0.0  # time.monotonic() on arrival, to look at the spacing of requests
    key_id: str | None = None  # key_id() of the credential, once authenticated: arrivals per API key

    @classmethod
    def arrived(cls, request: Request) -> RecordedRequest:
        """The record of a request as it arrives (routing fills ``vendor`` and ``endpoint``)."""
        r = request
        return cls(r.method, r.path, r.query, r.headers, r.body, r.json(), None, received_at=time.monotonic())

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "json": self.json,
            "vendor": self.vendor,
            "status": self.status,
            "fault": self.fault.value if self.fault else None,
            "endpoint": self.endpoint,
            "received_at": self.received_at,
            "key_id": self.key_id,
        }


@dataclass
class InjectedFault:
    """A pending fault; ``fired`` counts the requests it has hit so far."""

    kind: Fault
    endpoint: str | None = None
    vendor: str | None = None
    times: int | None = 1  # None: every matching request until reset
    skip: int = 0
    retry_after: int | None = None
    status: int | None = None
    hold: float = DEFAULT_HOLD
    fired: int = 0

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or None for every matching request)")
        if self.skip < 0:
            raise ValueError("skip must be >= 0")
        self._pattern: re.Pattern[str] | None = None
        if self.endpoint is not None:
            try:
                self._pattern = re.compile(self.endpoint)
            except re.error:
                self._pattern = None  # not a regex: a plain path prefix

    def matches(self, path: str, vendor: str | None) -> bool:
        if self.vendor is not None and self.vendor != vendor:
            return False
        if self.endpoint is None or path.startswith(self.endpoint):
            return True
        return bool(self._pattern and self._pattern.match(path))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "endpoint": self.endpoint,
            "vendor": self.vendor,
            "times": self.times,
            "skip": self.skip,
            "retry_after": self.retry_after,
            "status": self.status,
            "hold": self.hold,
            "fired": self.fired,
        }


class RateLimiter:
    """Rate limits per (vendor, identity), each ``limit`` requests per ``per`` seconds.

    By default a token bucket (capacity ``limit``, refilled at ``limit / per`` per second): a client
    pacing evenly at the limit always finds a token; a burst beyond the bucket does not. A *strict*
    limit counts like the strictest vendor: at most ``limit`` arrivals in any ``per`` seconds (a
    sliding log, no burst beyond it), so "1 per 2 s" refuses two requests 1.9 s apart.
    """

    def __init__(self, limits: Mapping[str, RateLimit | None], clock: Callable[[], float] = time.monotonic):
        self._limits: dict[str, RateLimit | None] = dict(limits)
        self._strict: set[str] = set()
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._logs: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def set_limit(self, vendor: str, limit: float | None, per: float = 1.0, *, strict: bool = False) -> None:
        if limit is not None and (limit <= 0 or per <= 0):
            raise ValueError("limit and per must be > 0 (limit=None removes the limit)")
        with self._lock:
            self._limits[vendor] = None if limit is None else (float(limit), float(per))
            (self._strict.add if strict and limit is not None else self._strict.discard)(vendor)
            for state in (self._buckets, self._logs):
                for key in [k for k in state if k[0] == vendor]:
                    del state[key]

    def limits(self) -> dict[str, RateLimit | None]:
        with self._lock:
            return dict(self._limits)

    def is_strict(self, vendor: str) -> bool:
        with self._lock:
            return vendor in self._strict

    def take(self, vendor: str, identity: str) -> float:
        """0.0 when the request is admitted, else the seconds until one would be."""
        with self._lock:
            limit = self._limits.get(vendor)
            if limit is None:
                return 0.0
            now = self._clock()
            if vendor in self._strict:
                return self._take_strict((vendor, identity), int(limit[0]) or 1, limit[1], now)
            capacity, rate = max(limit[0], 1.0), limit[0] / limit[1]
            bucket = self._buckets.setdefault((vendor, identity), [capacity, now])
            bucket[0] = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return 0.0
            return (1.0 - bucket[0]) / rate

    def _take_strict(self, key: tuple[str, str], limit: int, per: float, now: float) -> float:
        arrivals = self._logs.setdefault(key, deque())
        while arrivals and arrivals[0] <= now - per:
            arrivals.popleft()
        if len(arrivals) < limit:
            arrivals.append(now)
            return 0.0
        return arrivals[0] + per - now

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._logs.clear()


def key_id(identity: str) -> str:
    """A short, stable name for the credential a request authenticated with (never the credential)."""
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def peak_in_window(times: Iterable[float], window: float) -> int:
    """The most of ``times`` (seconds) that fall in any half-open interval ``[t, t + window)``."""
    ordered = sorted(times)
    peak = first = 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def parse_rate_limit(text: str) -> RateLimit | None:
    """``"100/1"``: 100 per second; ``"30/60"``: 30 per minute; ``"100"``: per second; ``"off"``: None."""
    text = text.strip().lower()
    if text in ("off", "none", "unlimited"):
        return None
    limit, _, per = text.partition("/")
    value = (float(limit), float(per or 1))
    if value[0] <= 0 or value[1] <= 0:
        raise ValueError(f"rate limit must be positive: {text!r}")
    return value


@dataclass(frozen=True)
class Abort:
    """No response: close the connection, with a TCP reset when ``reset`` is true."""

    reset: bool


BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head>\n"
    "<body><h1>We'll be back soon</h1><p>The service is under scheduled maintenance.</p></body></html>\n"
)


class SandboxCore:
    """Everything the sandbox knows and decides, without sockets: apps, recordings, faults, limits."""

    def __init__(
        self,
        apps: Sequence[VendorApp],
        *,
        latency: float = 0.0,
        rate_limits: Mapping[str, RateLimit | None] | None = None,
    ) -> None:
        self.apps: dict[str, VendorApp] = {app.vendor: app for app in apps}
        self._routes = [(app, route) for app in apps for route in app.routes()]
        self.limiter = RateLimiter({app.vendor: app.default_rate_limit for app in apps})
        for vendor, limit in (rate_limits or {}).items():
            self.set_rate_limit(vendor, *(limit or (None,)))
        self.latency = latency
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []
        self._faults: list[InjectedFault] = []
        self._release = threading.Event()  # set: held (TIMEOUT) requests end now
        self._stopping = threading.Event()  # set: latency waits end now

    # -- configuration -------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._latency = float(seconds)

    def app(self, vendor: str) -> VendorApp:
        try:
            return self.apps[vendor]
        except KeyError:
            raise KeyError(f"unknown vendor {vendor!r}; the sandbox serves {sorted(self.apps)}") from None

    def set_rate_limit(
        self, vendor: str, limit: float | None, per: float = 1.0, *, strict: bool = False
    ) -> None:
        self.app(vendor)
        self.limiter.set_limit(vendor, limit, per, strict=strict)

    def inject(
        self,
        kind: Fault | str,
        endpoint: str | None = None,
        *,
        times: int | None = 1,
        skip: int = 0,
        vendor: str | None = None,
        retry_after: int | None = None,
        status: int | None = None,
        hold: float = DEFAULT_HOLD,
    ) -> InjectedFault:
        """Make the next ``times`` matching requests (after ``skip`` of them) fail as ``kind``.

        ``endpoint``: None for any path, else a path prefix or a regex matched at the path's start.
        ``times=None``: every matching request until :meth:`reset`. ``retry_after``: the Retry-After
        header of RATE_LIMIT (default 1) and UNAVAILABLE. ``status``: another 5xx for SERVER_ERROR.
        ``hold``: the longest a TIMEOUT holds the request. Faults apply in injection order.
        """
        fault = Fault.parse(kind)
        if vendor is not None:
            self.app(vendor)
        if fault is Fault.RATE_LIMIT and retry_after is None:
            retry_after = 1
        injected = InjectedFault(fault, endpoint, vendor, times, skip, retry_after, status, hold)
        with self._lock:
            self._faults.append(injected)
        return injected

    @property
    def faults(self) -> list[InjectedFault]:
        with self._lock:
            return list(self._faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        """Clear recordings, pending faults, rate-limit state and "as of"; release held requests."""
        self.set_as_of(None)
        with self._lock:
            self._records.clear()
            self._faults.clear()
            released, self._release = self._release, threading.Event()
        released.set()
        self.limiter.reset()
        for app in self.apps.values():
            app.reset()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._release.set()

    def resume(self) -> None:
        """Undo :meth:`stop` (a sandbox can be started again)."""
        self._stopping.clear()
        with self._lock:
            if self._release.is_set():
                self._release = threading.Event()

    # -- serving -------------------------------------------------------------------------------

    def _route(self, request: Request) -> tuple[VendorApp | None, Route | None, Response | None]:
        allowed: list[str] = []
        owner: VendorApp | None = None
        for app, route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if route.method == request.method:
                request.params = {k: v for k, v in match.groupdict().items() if v is not None}
                return app, route, None
            allowed.append(route.method)
            owner = app
        if allowed:
            error = json_response(405, {"message": "method not allowed"}, {"Allow": ", ".join(allowed)})
            return owner, None, error
        return None, None, json_response(404, {"message": "not found"})

    def _take_fault(self, path: str, vendor: str | None) -> InjectedFault | None:
        # Under the lock, in injection order: deterministic however many threads serve requests.
        with self._lock:
            for fault in self._faults:
                if not fault.matches(path, vendor):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.fired += 1
                if fault.exhausted:
                    self._faults.remove(fault)
                return fault
        return None

    def dispatch(self, request: Request) -> Response | Abort:
        """The answer to one vendor request (everything outside the control prefix)."""
        record = RecordedRequest.arrived(request)
        with self._lock:
            self._records.append(record)
        app, route, error = self._route(request)
        record.vendor = app.vendor if app else None
        record.endpoint = route.name if route else None
        if self._latency > 0:
            self._stopping.wait(self._latency)
        fault = self._take_fault(request.path, record.vendor)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind is not Fault.TRUNCATED:
            outcome = self._fault_outcome(fault, app)
        else:
            outcome = error or self._serve(app, route, request, record)
            if fault is not None:
                outcome.body = outcome.body[: len(outcome.body) // 2]
        record.status = outcome.status if isinstance(outcome, Response) else None
        return outcome

    def _serve(
        self, app: VendorApp | None, route: Route | None, request: Request, record: RecordedRequest
    ) -> Response:
        assert app is not None and route is not None
        identity = app.authenticate(request)
        if isinstance(identity, Response):
            return identity
        request.identity = identity
        record.key_id = key_id(identity)
        wait = self.limiter.take(app.vendor, identity)
        if wait > 0:
            return self._rate_limited(app, max(1, math.ceil(wait)))
        try:
            return route.handler(request)
        except Reject as reject:
            return reject.response
        except Exception:
            # A bug of the sandbox, not a vendor behaviour: say so loudly.
            traceback.print_exc(file=sys.stderr)
            return json_response(500, {"message": "sandbox internal error (a bug of the sandbox)"})

    @staticmethod
    def _rate_limited(app: VendorApp | None, retry_after: int) -> Response:
        response = (
            app.rate_limited_response(retry_after) if app else json_response(429, {"message": "rate limited"})
        )
        response.headers.setdefault("Retry-After", str(retry_after))
        return response

    def _fault_outcome(self, fault: InjectedFault, app: VendorApp | None) -> Response | Abort:
        kind = fault.kind
        if kind is Fault.RATE_LIMIT:
            return self._rate_limited(app, 1 if fault.retry_after is None else fault.retry_after)
        if kind is Fault.SERVER_ERROR or kind is Fault.UNAVAILABLE:
            status = fault.status or (500 if kind is Fault.SERVER_ERROR else 503)
            response = app.error_response(status) if app else json_response(status, {"message": "error"})
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        if kind is Fault.BAD_GATEWAY_HTML:
            return html_response(502, BAD_GATEWAY_PAGE)
        if kind is Fault.HTML_200:
            return html_response(200, MAINTENANCE_PAGE)
        if kind is Fault.CONNECTION_RESET:
            return Abort(reset=True)
        if kind is Fault.TIMEOUT:
            with self._lock:
                release = self._release
            release.wait(fault.hold)
            return Abort(reset=False)
        raise AssertionError(kind)

    # -- control endpoints ---------------------------------------------------------------------

    def control(self, request: Request, url: str) -> Response:
        """``/__sandbox__/...``: what a test in another process uses to drive a CLI-run sandbox."""
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            return self._control(request.method, action, request, url)
        except (TypeError, ValueError, KeyError) as error:
            return json_response(400, {"message": str(error)})

    def _control(self, method: str, action: str, request: Request, url: str) -> Response:
        if (method, action) == ("GET", "health"):
            return json_response(200, {"status": "ok", "url": url, "vendors": sorted(self.apps)})
        if (method, action) == ("GET", "requests"):
            return json_response(200, [r.to_dict() for r in self.requests])
        if (method, action) == ("GET", "faults"):
            return json_response(200, [f.to_dict() for f in self.faults])
        if (method, action) == ("POST", "faults"):
            spec = _json_object(request)
            unknown = set(spec) - {
                "kind",
                "endpoint",
                "vendor",
                "times",
                "skip",
                "retry_after",
                "status",
                "hold",
            }
            if unknown:
                raise ValueError(f"unknown fault fields {sorted(unknown)}")
            if "kind" not in spec:
                raise ValueError("a fault needs a kind")
            return json_response(201, self.inject(**spec).to_dict())
        if (method, action) == ("POST", "reset"):
            self.reset()
            return json_response(200, {"status": "reset"})
        if (method, action) == ("GET", "config"):
            return json_response(200, self.config())
        if (method, action) == ("POST", "config"):
            self.configure(_json_object(request))
            return json_response(200, self.config())
        return json_response(404, {"message": f"no control endpoint {method} {CONTROL_PREFIX}/{action}"})

    def config(self) -> dict[str, Any]:
        def shown(vendor: str, limit: RateLimit | None) -> dict[str, Any] | None:
            if limit is None:
                return None
            strict = {"strict": True} if self.limiter.is_strict(vendor) else {}
            return {"limit": limit[0], "per": limit[1], **strict}

        return {
            "latency": self.latency,
            "rate_limits": {vendor: shown(vendor, limit) for vendor, limit in self.limiter.limits().items()},
            "vendors": {vendor: app.options() for vendor, app in self.apps.items()},
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    @property
    def as_of(self) -> dt.date | None:
        return next(iter(self.apps.values())).as_of if self.apps else None

    def set_as_of(self, as_of: Any) -> None:
        """Serve late-arriving figures as known on the UTC day ``as_of`` (None: all final)."""
        day = parse_as_of(as_of)
        for app in self.apps.values():
            app.as_of = day

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply ``{"latency": s, "rate_limits": {vendor: limit}, "vendors": {vendor: options}}``.

        A limit is ``{"limit": n, "per": s, "strict": false}``, ``"n/s"`` or null (no limit).
        """
        unknown = set(changes) - {"latency", "rate_limits", "vendors", "as_of"}
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}")
        for vendor, limit in (changes.get("rate_limits") or {}).items():
            strict = False
            if isinstance(limit, str):
                limit = parse_rate_limit(limit)
            elif isinstance(limit, Mapping):
                strict = bool(limit.get("strict", False))
                limit = (limit["limit"], limit.get("per", 1.0))
            self.set_rate_limit(vendor, *(limit or (None,)), strict=strict)
        for vendor, options in (changes.get("vendors") or {}).items():
            self.app(vendor).configure(**options)
        if "latency" in changes:
            self.latency = float(changes["latency"])
        if "as_of" in changes:
            self.set_as_of(changes["as_of"])


def _json_object(request: Request) -> dict[str, Any]:
    payload = _parse_json(request.body) if request.body else {}
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs; every response has a Content-Length
    # Headers and body are two writes: without TCP_NODELAY, Nagle and delayed ACKs add 40 ms each.
    disable_nagle_algorithm = True
    server_version = "wa-analytics-sandbox"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _handle(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        request = Request(
            method=self.command,
            path=unquote(split.path) or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        core = self.server.core
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
            self._send(core.control(request, self.server.url))
            return
        outcome = core.dispatch(request)
        if isinstance(outcome, Abort):
            self._abort(outcome.reset)
        else:
            self._send(outcome)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True  # the client went away (e.g. it timed out first)

    def _abort(self, reset: bool) -> None:
        self.close_connection = True
        if reset:
            # SO_LINGER 0: close() sends a TCP RST instead of a FIN, as a crashed proxy does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The read buffer holds a reference to the socket: close it first so that close() is real.
        # (wfile is unbuffered and stays open: handle_one_request flushes it afterwards.)
        self.rfile.close()
        self.connection.close()


class SandboxServer(ThreadingHTTPServer):
    """The HTTP side: one thread per connection, tracked so that ``stop`` ends them all promptly."""

    daemon_threads = True
    # socketserver's default backlog (5) drops SYNs under a burst of connections: 1 s retransmits.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], core: SandboxCore, *, verbose: bool = False) -> None:
        self.core = core
        self.verbose = verbose
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        self._closing = False
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            if not self._closing:
                self._open[connection] = threading.current_thread()
                return
        connection.close()  # accepted while stopping: do not serve it

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.pop(connection, None)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Shut every open connection (idle keep-alive ones included) and wait for their threads."""
        with self._open_lock:
            self._closing = True
            open_now = list(self._open.items())
        for connection, _ in open_now:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # clients hanging up are normal here
        super().handle_error(request, client_address)
