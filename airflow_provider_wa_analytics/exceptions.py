"""The typed errors every hook and operator of this provider raises.

All of them derive from :class:`WaAnalyticsError` (an ``AirflowException``). Errors that a retry can
never fix (bad credentials, bad parameters, unknown resources) also derive from
``AirflowFailException`` so that Airflow does not retry the task either.
Each vendor error carries the vendor's HTTP ``status``, its ``code`` and its ``message``; none of them
ever holds a credential.
"""

from __future__ import annotations

import copy
from typing import Any, Self

from airflow_provider_wa_analytics.version_compat import AirflowException, AirflowFailException


class WaAnalyticsError(AirflowException):
    """Root of every error raised by this provider."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        self.message = message
        self.vendor = vendor
        self.status = status
        self.code = code
        self.details = details
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.vendor, f"HTTP {self.status}" if self.status else None) if p]
        if self.code:
            parts.append(f"code {self.code}")
        prefix = f"[{', '.join(parts)}] " if parts else ""
        return f"{prefix}{self.message}"

    def with_hint(self, hint: str) -> Self:
        """The same error (same class, status, code) with what to do about it appended."""
        clone = copy.copy(self)
        clone.message = f"{self.message} -- {hint}"
        clone.args = (clone._render(),)
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the keyword-only fields when Airflow pickles the exception across processes.
        return (_rebuild, (type(self), self.message, self.vendor, self.status, self.code, self.details))


def _rebuild(cls: type[WaAnalyticsError], message: str, vendor: Any, status: Any, code: Any, details: Any):
    return cls(message, vendor=vendor, status=status, code=code, details=details)


class PermanentError(WaAnalyticsError, AirflowFailException):
    """An error that no retry can fix: the task fails without using its retries."""


class InvalidParameterError(PermanentError, ValueError):
    """A parameter is invalid; raised before any request is sent. The message names the parameter."""


class AuthenticationError(PermanentError):
    """The credentials were missing or rejected (Insider 401/1001, Kaleyra RBC001/WA-401/WA401...)."""


class ForbiddenError(PermanentError):
    """The credentials are valid but not allowed here: IP restriction, product not active, key not linked."""


class ValidationError(PermanentError):
    """The vendor rejected the request's content (400, 422, Insider 3001/3002, Kaleyra WA400)."""


class NotFoundError(PermanentError):
    """The resource does not exist (Web Push 424 campaign not found, Vonage 404 unknown WABA)."""


class InsightsNotEnabledError(WaAnalyticsError):
    """Template insights are not (yet) enabled or propagated for the WhatsApp Business Account."""


class RetryableError(WaAnalyticsError):
    """An error worth retrying: the HTTP core retries these with backoff before giving up."""


class RateLimitedError(RetryableError):
    """The vendor answered 429 (Insider 2021). ``retry_after`` holds the vendor's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_rate_limited, (self.message, self.retry_after, self.vendor, self.status, self.code))


def _rebuild_rate_limited(message: str, retry_after: Any, vendor: Any, status: Any, code: Any):
    return RateLimitedError(message, retry_after=retry_after, vendor=vendor, status=status, code=code)


class ServerError(RetryableError):
    """The vendor failed (5xx, Kaleyra WA-500)."""


class MalformedResponseError(RetryableError):
    """The body is not the JSON the endpoint documents (HTML error page, truncated body, wrong shape)."""


class TransportError(RetryableError):
    """The request did not complete: connection refused or reset, or a timeout."""


class RedirectError(PermanentError):
    """The vendor answered a redirect (3xx). It is never followed: the credentials stay with the
    connection's host, and a moved API needs the connection's ``host`` changed."""


class PaginationError(PermanentError):
    """A vendor cursor repeated, or a next link pointed at another host than the connection's."""


class DestinationError(PermanentError):
    """The destination is unusable: bad URI, missing extra, unknown bucket, no permission."""
