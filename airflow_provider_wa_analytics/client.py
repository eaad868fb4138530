"""The shared HTTP core: one pooled session per connection, auth, rate limit, retries, error mapping.

Every vendor hook builds an :class:`ApiClient` and describes its endpoints as data (path, paginator,
error codes); nothing here knows a vendor. Pagination lives in :mod:`.paging`.
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from airflow_provider_wa_analytics import __version__
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RedirectError,
    RetryableError,
    ServerError,
    TransportError,
    ValidationError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.ratelimit import DEFAULT_STORAGE, RateBudget, open_storage
from airflow_provider_wa_analytics.ratelimit import RATE_HEADROOM as RATE_HEADROOM  # re-exported
from airflow_provider_wa_analytics.ratelimit import RateLimiter as RateLimiter  # re-exported

if TYPE_CHECKING:
    from limits.storage import Storage

    from airflow_provider_wa_analytics.paging import Paginator

log = logging.getLogger(__name__)

#: Default of the connection extra ``max_response_bytes``: one body, counted after decompression.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: An error body is only read for its code and message; past this it is not read further.
MAX_ERROR_BODY_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
USER_AGENT = f"airflow-provider-wa-analytics/{__version__} (+requests/{requests.__version__})"
T = TypeVar("T")
R = TypeVar("R")

# Status codes whose meaning is the same at every vendor; vendor codes refine them.
_STATUS_ERRORS: dict[int, type[WaAnalyticsError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    422: ValidationError,
    424: NotFoundError,
    429: RateLimitedError,
}


@dataclass(frozen=True)
class ClientSettings:
    """How one connection talks to its vendor; built from the Airflow connection's fields and extras."""

    base_url: str
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 5
    max_retry_time: float = 600.0
    rate_limit: float | None = None
    #: A ``limits`` storage URI: clients of one API key using the same storage share one budget.
    rate_limit_storage: str = DEFAULT_STORAGE
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    verify: bool = True
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        check_base_url(self.base_url)
        for name in ("timeout", "connect_timeout", "max_retry_time", "backoff_initial", "backoff_max"):
            if not getattr(self, name) > 0 or not math.isfinite(getattr(self, name)):
                raise InvalidParameterError(f"`{name}` must be a positive number of seconds.")
        if not self.max_response_bytes > 0:
            raise InvalidParameterError("`max_response_bytes` must be a positive number of bytes.")
        if self.max_retries < 0:
            raise InvalidParameterError("`max_retries` must be 0 or more.")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise InvalidParameterError("`rate_limit` must be a positive number of requests per second.")
        if not isinstance(self.rate_limit_storage, str) or "://" not in self.rate_limit_storage:
            raise InvalidParameterError(
                "`rate_limit_storage` must be a storage URI such as memory:// or redis://host:6379/0."
            )


def check_base_url(url: str) -> None:
    """Refuse anything but https, except plain http to a loopback address (the sandbox).

    The URL is read by urllib3's parser, the one requests sends with, and must read the same with
    the standard library's: ``http://a:b\\@127.0.0.1`` is a loopback URL to one and host ``a`` to the
    other. Userinfo is refused outright (credentials go in login/password), and never echoed.
    """
    shown = _shown_url(url)
    plain = "Connection `host` must be a base URL such as https://api.example.com[:port][/path]"
    if any(c in url for c in "\\@") or any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidParameterError(
            f"{plain}, without user:password@, backslashes, spaces or control characters (got {shown})."
        )
    try:
        parts = parse_url(url)
        std = urlsplit(url)
        std_port = std.port
    except (LocationParseError, ValueError):
        raise InvalidParameterError(f"{plain} (got {shown}).") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise InvalidParameterError(f"Connection `host` must be an http(s) URL, got {shown}.")
    if (parts.host.strip("[]").lower(), parts.port) != ((std.hostname or "").lower(), std_port):
        raise InvalidParameterError(f"{plain} (got {shown}, which URL parsers read differently).")
    if parts.scheme == "http" and not is_loopback(parts.host):
        raise InvalidParameterError(
            f"Connection `host` {shown} uses plain http to a non-loopback host; use https "
            "(plain http is only accepted for 127.0.0.0/8, ::1 and localhost)."
        )


def _shown_url(url: str) -> str:
    """A URL as it may appear in a message: scheme and host only, userinfo and path dropped."""
    scheme, sep, rest = str(url).partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2].split("\\", 1)[0]
    return repr(f"{scheme}{sep}{host}" if sep else "<not a URL>")


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


class _AttemptWatch:
    """Bounds one attempt, headers and body, by shutting its socket down when the time is up.

    A socket timeout only bounds the gap between two reads (a server sending a byte a second never
    trips it); this watch is what makes ``timeout`` mean the whole attempt. The pool classes below
    tell it which connection the attempt's thread is using.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._conn: Any = None
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _AttemptWatch:
        _current.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
            self._timer.cancel()
        _current.watch = None

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn

    def detach(self, conn: Any) -> None:
        with self._lock:  # back in the pool: another request may use it now
            if self._conn is conn:
                self._conn = None

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = getattr(self._conn, "sock", None)
            if sock is None:  # still connecting (bounded by the connect timeout): look again soon
                self._timer = threading.Timer(0.05, self._expire)
                self._timer.daemon = True
                self._timer.start()
                return
        with contextlib.suppress(OSError):
            # socket.socket's own shutdown, also for TLS sockets: it only ends the blocked read.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


class _WatchedPoolMixin:
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.attach(conn)
        return conn

    def _put_conn(self, conn: Any) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.detach(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedHTTPPool(_WatchedPoolMixin, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPoolMixin, HTTPSConnectionPool):
    pass


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with pools that report their connections to the attempt's watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class BodyLimit:
    """Collects a response body, decompressed, up to a cap (shared by the sync and async transports).

    A 2xx body past ``max_response_bytes`` is a :class:`MalformedResponseError`; an error body is only
    kept up to :data:`MAX_ERROR_BODY_BYTES` (its code and message are near the start).
    """

    def __init__(self, status: int, max_response_bytes: int, what: str, vendor: str) -> None:
        self.success = 200 <= status < 300
        self.limit = max_response_bytes if self.success else min(max_response_bytes, MAX_ERROR_BODY_BYTES)
        self.what = what
        self.vendor = vendor
        self.complete = True
        self._buf = bytearray()

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once an error body is over its cap (stop reading)."""
        self._buf += chunk
        if len(self._buf) <= self.limit:
            return True
        if self.success:
            raise MalformedResponseError(
                f"{self.what}: the response body is over max_response_bytes={self.limit} bytes "
                "(after decompression); raise the connection extra `max_response_bytes` if this is "
                "expected",
                vendor=self.vendor,
            )
        self.complete = False
        del self._buf[self.limit :]
        return False

    @property
    def body(self) -> bytes:
        return bytes(self._buf)


@dataclass
class ApiResponse:
    """One vendor response: the body exactly as received and its parsed JSON."""

    status: int
    url: str
    body: bytes
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PageRequest:
    """One request of a (possibly paginated) call. ``url`` is a path below the base URL."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    #: False for calls documented to answer 2xx with no body (Vonage ``enable_insights``).
    expect_body: bool = True

    def replace(self, **changes: Any) -> PageRequest:
        return PageRequest(**{**self.__dict__, **changes})


def extract_error(data: Any) -> tuple[str | None, str | None, Any]:
    """The vendor's (code, message, details) from any of the documented error shapes.

    Insider puts the code at ``errorCode`` or ``error.code``; Kaleyra at ``code`` with ``error`` as an
    object or a string; Web Push has only ``message``; Vonage uses RFC 7807 (``title``/``detail``).
    """
    if not isinstance(data, Mapping):
        return None, None, None
    nested = data.get("error")
    code = data.get("errorCode")
    if code is None and isinstance(nested, Mapping):
        code = nested.get("code")
    if code is None:
        code = data.get("code")
    message = data.get("message") or data.get("title")
    if not message and isinstance(nested, Mapping):
        message = nested.get("message")
    if not message and isinstance(nested, str):
        message = nested
    details = data.get("errors")
    if details is None:
        details = data.get("detail")
    nested_adds = (isinstance(nested, Mapping) and set(nested) - {"message", "code"}) or (
        isinstance(nested, str) and nested != message
    )
    if details is None and nested_adds:
        details = nested
    return (str(code) if code not in (None, "") else None), (str(message) if message else None), details


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class wait_for_vendor(wait_exponential_jitter):
    """Exponential backoff with jitter, never shorter than the vendor's ``Retry-After``, and never
    longer than the retry time left (``max_retry_time``): a day-long hint does not park a worker."""

    def __init__(self, *, budget: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = super().__call__(retry_state)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        hint = getattr(exc, "retry_after", None)
        if hint is not None:
            wait = max(wait, float(hint))
        left = self.budget - (retry_state.seconds_since_start or 0.0)
        return max(0.0, min(wait, left))


class ApiClient:
    """A vendor-agnostic JSON-over-HTTP client for one connection.

    ``error_codes`` maps a vendor error code (``"2021"``, ``"RBC001"``) to the error class to raise;
    anything not listed falls back on the HTTP status. ``secrets`` are scrubbed from every message.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        vendor: str,
        auth: requests.auth.AuthBase | None,
        error_codes: Mapping[str, type[WaAnalyticsError]] | None = None,
        classify: Callable[[int, str | None, str | None, Any], type[WaAnalyticsError] | None] | None = None,
        secrets: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 10,
        rate_account: str = "",
        rate_storage: Storage | None = None,
    ) -> None:
        self.settings = settings
        self.vendor = vendor
        self._auth = auth
        self._error_codes = dict(error_codes or {})
        self._classify = classify
        self._secrets: set[str] = set()
        self._sent: collections.deque[str] = collections.deque(maxlen=256)  # per-request JWTs
        self._secrets_lock = threading.Lock()
        for value in secrets:
            self.remember_credential(value)
        self._base = urlsplit(settings.base_url)
        self.allowed_hosts = {self._base.netloc.lower(), *(h.lower() for h in allowed_hosts)}
        self._sleep = sleep
        self._pool_size = pool_size
        # ``rate_account`` identifies the vendor account (hashed before it reaches the storage): every
        # client of that account using the same storage draws from one budget. The storage is checked
        # here, before any request.
        self.limiter = (
            RateBudget(
                settings.rate_limit,
                vendor=vendor,
                account=rate_account,
                storage=rate_storage or open_storage(settings.rate_limit_storage),
            )
            if settings.rate_limit
            else None
        )
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()
        self.requests_sent = 0
        self.retries = 0
        #: Paths of the calls made (first page of each), in order: the run's input datasets (lineage.py).
        self.endpoints: dict[str, None] = {}

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                adapter = _WatchedAdapter(pool_connections=2, pool_maxsize=self._pool_size, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                session.headers["Accept"] = "application/json"
                session.auth = _RecordingAuth(self._auth, self.remember_credential) if self._auth else None
                # A loopback host is never reached through a proxy (HTTP_PROXY would get the key).
                session.trust_env = not self.loopback
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self._base.hostname or "")

    def remember_credential(self, value: str | None) -> None:
        """Scrub ``value`` (a value sent as a credential) from every message from now on.

        Also its token without the auth scheme (``Basic``/``Bearer``), a JWT's signature, and the
        forms it takes inside JSON or a URL, so that an echo in any of them is caught too.
        """
        if not value or len(value) < 4:
            return
        value = str(value)
        forms = {value, value.rpartition(" ")[2]}
        token = value.rpartition(" ")[2]
        if token.count(".") == 2:
            forms.add(token.rpartition(".")[2])
        forms |= {json.dumps(f)[1:-1] for f in list(forms)} | {quote(f, safe="") for f in list(forms)}
        forms = {f for f in forms if len(f) >= 4}
        with self._secrets_lock:
            if token.startswith("eyJ") and token.count(".") == 2:
                self._sent.extend(forms)  # a fresh JWT per request: only the recent ones are kept
            else:
                self._secrets |= forms

    def scrub(self, text: str) -> str:
        with self._secrets_lock:
            secrets = sorted({*self._secrets, *self._sent}, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def scrub_value(self, value: Any) -> Any:
        """``value`` (vendor error details: any JSON) with every credential scrubbed inside it."""
        if value is None or isinstance(value, (bool, int, float)):
            return value
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        scrubbed = self.scrub(text)
        if isinstance(value, str) or scrubbed == text:
            return scrubbed if isinstance(value, str) else value
        try:
            return json.loads(scrubbed)
        except ValueError:
            return scrubbed

    def resolve(self, url: str) -> str:
        """An absolute URL on the connection's host for a path, or for a vendor link.

        Links that name the vendor's public host are re-pointed at the connection's host (a proxy or
        the sandbox); links to any other host are refused, so credentials never leave the connection.
        """
        from airflow_provider_wa_analytics.exceptions import PaginationError

        try:
            parts = urlsplit(url)
        except ValueError:
            raise PaginationError(
                f"The vendor sent an unusable link {url[:200]!r}.", vendor=self.vendor
            ) from None
        if parts.scheme or parts.netloc:
            if parts.netloc.lower() not in self.allowed_hosts:
                raise PaginationError(
                    f"Refusing to follow a link to {parts.netloc.rpartition('@')[2]!r}: only the "
                    f"connection's host {self._base.netloc!r} receives credentials.",
                    vendor=self.vendor,
                )
            url = parts.path + (f"?{parts.query}" if parts.query else "")
        base = self.settings.base_url.rstrip("/") + "/"
        # "./" keeps a path whose first segment has a colon ("api.nexmo.com:", "a:b") a path: bare,
        # urljoin would take it for a URL of its own scheme.
        resolved = urljoin(base, "./" + url.lstrip("/"))
        if urlsplit(resolved).netloc != self._base.netloc:
            raise PaginationError(f"The vendor sent an unusable link {url[:200]!r}.", vendor=self.vendor)
        return resolved

    # -- requests -------------------------------------------------------------------------------
    def request(self, req: PageRequest, *, next_page: bool = False) -> ApiResponse:
        """Send one request with rate limiting and retries; return the parsed response or raise."""
        if not next_page:  # next links may point elsewhere (Vonage's /v2/): a call is its first path
            self.endpoints.setdefault(urlsplit(req.url).path, None)
        s = self.settings
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(s.max_retries + 1) | stop_after_delay(s.max_retry_time),
            wait=wait_for_vendor(
                budget=s.max_retry_time,
                initial=s.backoff_initial,
                max=s.backoff_max,
                jitter=s.backoff_initial,
            ),
            before_sleep=self._log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        # max_retry_time is a deadline for the whole call: the last attempt is cut short to meet it.
        deadline = time.monotonic() + s.max_retry_time
        return retrying(self._attempt, req, deadline)

    def _log_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        # The backoff only: the rate budget's own wait, if any, is logged when it happens.
        log.warning(
            "%s: attempt %d failed (%s); retrying after a %.1f s backoff",
            self.vendor,
            state.attempt_number,
            exc,
            wait,
        )

    def _attempt(self, req: PageRequest, deadline: float | None = None) -> ApiResponse:
        if self.limiter is not None:
            self.limiter.acquire()
        url = self.resolve(req.url)
        what = f"{req.method} {urlsplit(url).path}"
        s = self.settings
        budget = s.timeout if deadline is None else max(0.001, min(s.timeout, deadline - time.monotonic()))
        self.requests_sent += 1
        with _AttemptWatch(budget) as watch:
            try:
                resp = self.session.request(
                    req.method,
                    url,
                    params=list(req.params) or None,
                    json=req.json,
                    timeout=(min(s.connect_timeout, budget), budget),
                    verify=s.verify,
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    limit = BodyLimit(resp.status_code, s.max_response_bytes, what, self.vendor)
                    for chunk in resp.iter_content(_CHUNK):
                        if not limit.add(chunk):
                            break
                finally:
                    resp.close()
            except WaAnalyticsError:
                raise
            except Exception as exc:
                error = self._transport_error(what, exc, watch)
                if error is None:
                    raise
                raise error from None
            if watch.expired:  # a body without a length just ends when the watch shuts the socket
                raise self._timed_out(what, watch, TimeoutError())
        return self.to_response(req, resp, limit.body, complete=limit.complete)

    def _timed_out(self, what: str, watch: _AttemptWatch, exc: Exception) -> TransportError:
        whole = " (the whole attempt, headers and body)" if watch.expired else ""
        return TransportError(
            f"{what} timed out after {watch.seconds:g} s{whole}: {type(exc).__name__}", vendor=self.vendor
        )

    def _transport_error(self, what: str, exc: Exception, watch: _AttemptWatch) -> WaAnalyticsError | None:
        if watch.expired or isinstance(exc, requests.Timeout):
            return self._timed_out(what, watch, exc)
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return MalformedResponseError(
                f"{what}: the body does not decode as its Content-Encoding says", vendor=self.vendor
            )
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # requests' message quotes the header value: a credential. Checked credentials never
            # get here; this is the last guard.
            return InvalidParameterError(
                f"{what}: a request header value holds whitespace or a line break (check the "
                "connection's credentials for a trailing newline)",
                vendor=self.vendor,
            )
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return TransportError(f"{what} failed: {_short(self.scrub(str(exc)), exc)}", vendor=self.vendor)
        return None

    def to_response(self, req: PageRequest, resp: Any, body: bytes, complete: bool = True) -> ApiResponse:
        """Parse a response, or raise its typed error.

        ``resp`` needs ``status_code``, ``headers``, ``url`` and ``reason``, so an async transport
        (the triggerer's) maps responses exactly as this client does. ``complete`` is False for an
        error body cut at :data:`MAX_ERROR_BODY_BYTES`.
        """
        if 300 <= resp.status_code < 400:
            raise self._redirect(req, resp)
        if not req.expect_body and 200 <= resp.status_code < 300 and not body.strip():
            return ApiResponse(resp.status_code, str(resp.url), body, None, resp.headers)
        data: Any = None
        parse_error: str | None = None
        try:
            data = json.loads(body) if body else None
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            parse_error = type(exc).__name__
        if 200 <= resp.status_code < 300:
            if parse_error is not None or data is None:
                kind = resp.headers.get("Content-Type", "unknown content type")
                raise MalformedResponseError(
                    f"{req.method} {urlsplit(resp.url).path} answered {resp.status_code} with a body that is "
                    f"not valid JSON ({kind}, {len(body)} bytes: {_snippet(self.scrub(_text(body)))!r})",
                    vendor=self.vendor,
                    status=resp.status_code,
                )
            return ApiResponse(resp.status_code, resp.url, body, data, resp.headers)
        raise self._error(req, resp, data, body, complete)

    def _redirect(self, req: PageRequest, resp: Any) -> RedirectError:
        # Never followed: the next host would get the credentials. Shown without userinfo or query.
        target = urlsplit(str(resp.headers.get("Location") or ""))
        shown = f"{target.scheme}://{target.hostname}{target.path}" if target.hostname else target.path
        return RedirectError(
            self.scrub(
                f"{req.method} {urlsplit(str(resp.url)).path} answered {resp.status_code}, a redirect to "
                f"{shown or 'nowhere'!r}; redirects are not followed (the credentials stay with the "
                "connection's host). If the vendor moved, set the connection `host` to the new base URL."
            ),
            vendor=self.vendor,
            status=resp.status_code,
        )

    def _error(
        self, req: PageRequest, resp: Any, data: Any, body: bytes, complete: bool = True
    ) -> WaAnalyticsError:
        status = resp.status_code
        code, message, details = extract_error(data)
        details = self.scrub_value(details)
        code = self.scrub(code) if code is not None else None
        cls = self._classify(status, code, message, details) if self._classify else None
        if cls is None and code is not None:
            cls = self._error_codes.get(code)
        if cls is None:
            cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else WaAnalyticsError)
        # Scrubbed before it is cut: a credential straddling the cut would leak its first part.
        cut = "" if complete else f", over {len(body)} bytes: not read further"
        if data is None and status >= 500:
            message = f"non-JSON error page ({_snippet(self.scrub(_text(body)))!r}{cut})"
        elif data is None:
            message = f"non-JSON error body ({_snippet(self.scrub(_text(body)))!r}{cut})"
        text = message or resp.reason or "error"
        if details not in (None, "", {}, []):
            text = f"{text}: {details if isinstance(details, str) else json.dumps(details, default=str)}"
        text = self.scrub(f"{req.method} {urlsplit(resp.url).path}: {text}")
        kwargs: dict[str, Any] = {"vendor": self.vendor, "status": status, "code": code, "details": details}
        if issubclass(cls, RateLimitedError):
            return cls(text, retry_after=retry_after_seconds(resp.headers.get("Retry-After")), **kwargs)
        return cls(text, **kwargs)

    def paginate(self, first: PageRequest, paginator: Paginator | None) -> Iterator[ApiResponse]:
        """Yield every page of a call, following ``paginator``; stop with an error on a repeating cursor."""
        from airflow_provider_wa_analytics.exceptions import PaginationError

        req: PageRequest | None = first
        seen: set[Any] = set()
        while req is not None:
            # A POST body is a dict (unhashable): the request is remembered by its JSON text.
            key = (req.method, req.url, req.params, json.dumps(req.json, sort_keys=True, default=str))
            if key in seen:
                raise PaginationError(
                    f"The vendor returned a cursor that was already followed ({req.url}); stopping instead "
                    "of looping.",
                    vendor=self.vendor,
                )
            seen.add(key)
            page = self.request(req, next_page=req is not first)
            yield page
            req = paginator.next_request(page, req) if paginator is not None else None


def ordered_parallel(fn: Callable[[T], R], items: Iterable[T], max_workers: int) -> Iterator[R]:
    """``map(fn, items)`` on up to ``max_workers`` threads, yielding results in the items' order.

    Independent requests (batches, windows) overlap their latency this way while the client's rate
    limiter still paces the whole connection. At most ``2 * max_workers`` results wait in memory.
    """
    items = list(items)
    if max_workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="wa-analytics")
    try:
        pending = []
        it = iter(items)
        for item in it:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * max_workers:
                break
        while pending:
            result = pending.pop(0).result()
            nxt = next(it, _END)
            if nxt is not _END:
                pending.append(pool.submit(fn, nxt))  # type: ignore[arg-type]
            yield result
    finally:
        # On an error (a 401, say) queued calls are dropped instead of sending more requests.
        pool.shutdown(wait=True, cancel_futures=True)


_END = object()


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _snippet(text: str, limit: int = 120) -> str:
    """The start of an (already scrubbed) body for a message."""
    return " ".join(text[:limit].split()) + ("..." if len(text) > limit else "")


def _short(text: str, exc: BaseException) -> str:
    """An (already scrubbed) exception text, cut for a message."""
    text = text or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate verification failed: " + text[:300]
    return text[:400]


class _RecordingAuth(requests.auth.AuthBase):
    """Wraps a hook's auth: every header value it sets is a credential the client must scrub."""

    def __init__(self, auth: requests.auth.AuthBase, remember: Callable[[str], None]) -> None:
        self.auth = auth
        self.remember = remember

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        before = dict(r.headers)
        r = self.auth(r)
        for name, value in r.headers.items():
            if before.get(name) != value:
                self.remember(value if isinstance(value, str) else value.decode("latin-1"))
        return r

    def __repr__(self) -> str:
        return repr(self.auth)
