"""The shared HTTP core: one pooled session per connection, auth, rate limit, retries, error mapping.

Every vendor hook builds an :class:`ApiClient` and describes its endpoints as data (path, paginator,
error codes); nothing here knows a vendor. Pagination lives in :mod:`.paging`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

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

from airflow_provider_wa_analytics import __version__
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
    ServerError,
    TransportError,
    ValidationError,
    WaAnalyticsError,
)

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.paging import Paginator

log = logging.getLogger(__name__)

RATE_HEADROOM = 0.02
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
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    verify: bool = True

    def __post_init__(self) -> None:
        check_base_url(self.base_url)
        for name in ("timeout", "connect_timeout", "max_retry_time", "backoff_initial", "backoff_max"):
            if not getattr(self, name) > 0:
                raise InvalidParameterError(f"`{name}` must be a positive number of seconds.")
        if self.max_retries < 0:
            raise InvalidParameterError("`max_retries` must be 0 or more.")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise InvalidParameterError("`rate_limit` must be a positive number of requests per second.")


def check_base_url(url: str) -> None:
    """Refuse anything but https, except plain http to a loopback address (the sandbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(f"Connection `host` must be an http(s) URL, got {url!r}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidParameterError(
            f"Connection `host` {url!r} uses plain http to a non-loopback host; use https "
            "(plain http is only accepted for 127.0.0.0/8, ::1 and localhost)."
        )


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """A thread-safe token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    With the default burst of 1, requests are spaced evenly at the rate, so a vendor limit of N per
    window is never exceeded however long the run.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst
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
    ) -> None:
        self.settings = settings
        self.vendor = vendor
        self._auth = auth
        self._error_codes = dict(error_codes or {})
        self._classify = classify
        self._secrets = [s for s in secrets if s and len(s) >= 4]
        self._base = urlsplit(settings.base_url)
        self.allowed_hosts = {self._base.netloc.lower(), *(h.lower() for h in allowed_hosts)}
        self._sleep = sleep
        self._pool_size = pool_size
        # A little under the limit: a vendor counting strictly ("30 in any 60 s") never sees a burst
        # caused by scheduling jitter.
        self.limiter = RateLimiter(settings.rate_limit * (1 - RATE_HEADROOM)) if settings.rate_limit else None
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
                adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self._pool_size, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                session.headers["Accept"] = "application/json"
                session.auth = self._auth
                session.trust_env = True
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

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
                    f"Refusing to follow a link to {parts.netloc!r}: only the connection's host "
                    f"{self._base.netloc!r} receives credentials.",
                    vendor=self.vendor,
                )
            url = parts.path + (f"?{parts.query}" if parts.query else "")
        base = self.settings.base_url.rstrip("/") + "/"
        return urljoin(base, url.lstrip("/"))

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
        return retrying(self._attempt, req)

    def _log_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s: attempt %d failed (%s); retrying in %.1fs", self.vendor, state.attempt_number, exc, wait
        )

    def _attempt(self, req: PageRequest) -> ApiResponse:
        if self.limiter is not None:
            self.limiter.acquire()
        url = self.resolve(req.url)
        self.requests_sent += 1
        try:
            resp = self.session.request(
                req.method,
                url,
                params=list(req.params) or None,
                json=req.json,
                timeout=(min(self.settings.connect_timeout, self.settings.timeout), self.settings.timeout),
                verify=self.settings.verify,
                allow_redirects=False,
            )
            body = resp.content
        except requests.Timeout as exc:
            raise TransportError(
                f"{req.method} {urlsplit(url).path} timed out: {type(exc).__name__}", vendor=self.vendor
            ) from None
        except requests.exceptions.ContentDecodingError:
            raise MalformedResponseError(
                f"{req.method} {urlsplit(url).path}: the body does not decode as its Content-Encoding says",
                vendor=self.vendor,
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise TransportError(
                f"{req.method} {urlsplit(url).path} failed: {self.scrub(_short(exc))}", vendor=self.vendor
            ) from None
        return self.to_response(req, resp, body)

    def to_response(self, req: PageRequest, resp: Any, body: bytes) -> ApiResponse:
        """Parse a response, or raise its typed error.

        ``resp`` needs ``status_code``, ``headers``, ``url`` and ``reason``, so an async transport
        (the triggerer's) maps responses exactly as this client does.
        """
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
                    f"not valid JSON ({kind}, {len(body)} bytes: {self.scrub(_snippet(body))!r})",
                    vendor=self.vendor,
                    status=resp.status_code,
                )
            return ApiResponse(resp.status_code, resp.url, body, data, resp.headers)
        raise self._error(req, resp, data, body)

    def _error(self, req: PageRequest, resp: Any, data: Any, body: bytes) -> WaAnalyticsError:
        status = resp.status_code
        code, message, details = extract_error(data)
        cls = self._classify(status, code, message, details) if self._classify else None
        if cls is None and code is not None:
            cls = self._error_codes.get(code)
        if cls is None:
            cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else WaAnalyticsError)
        if data is None and status >= 500:
            message = f"non-JSON error page ({_snippet(body)!r})"
        elif data is None:
            message = f"non-JSON error body ({_snippet(body)!r})"
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
        seen: set[PageRequest] = set()
        while req is not None:
            if req in seen:
                raise PaginationError(
                    f"The vendor returned a cursor that was already followed ({req.url}); stopping instead "
                    "of looping.",
                    vendor=self.vendor,
                )
            seen.add(req)
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


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return " ".join(text.split()) + ("..." if len(body) > limit else "")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate verification failed: " + text[:300]
    return text[:400]
