"""Hook for Vonage WhatsApp analytics (``vonage_whatsapp``): messaging, template and pricing analytics,
enabling insights, and the check the insights sensor and trigger share.

Quirks of the vendor document handled here: request dates are ``YYYY-MM-DD`` (end-inclusive), arrays
go in the query as ``[a,b]`` (the form of the documented ``_links.self`` sample), messaging analytics
names its phone filter ``phone_number`` and pricing its tier filter ``tier``, errors are RFC 7807
bodies (``title``/``detail``), and next-page links may point at a ``/v2/`` path on the same host.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import requests

from airflow_provider_wa_analytics.client import ApiResponse, PageRequest
from airflow_provider_wa_analytics.exceptions import (
    ForbiddenError,
    InsightsNotEnabledError,
    InvalidParameterError,
    NotFoundError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
from airflow_provider_wa_analytics.paging import LinkPaginator
from airflow_provider_wa_analytics.params import as_list

#: The documented lookback of messaging and template analytics ("a lookback of up to 90 days").
DEFAULT_LOOKBACK_DAYS = 90
#: "The maximum difference between the start and end dates is 90 days"; chunks of 90 days inclusive
#: (a difference of 89) stay inside it, and the same size is used for every endpoint.
MAX_DAYS = 90
#: "template_ids ... Maximum 10."
MAX_TEMPLATE_IDS = 10
#: Lifetime of one JWT; Vonage's default expiry is 15 minutes, and a new token is signed per request.
JWT_TTL = 900

GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
TEMPLATE_GRANULARITIES = ("DAILY",)
PRODUCT_TYPES = ("0", "2")
METRIC_TYPES = ("SENT", "DELIVERED", "READ", "CLICKED")
DIMENSIONS = ("PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER")

_WABA_ID = re.compile(r"^\d{1,32}$")
_TEMPLATE_ID = re.compile(r"^\d{1,32}$")
_PHONE = re.compile(r"^\+?\d{5,20}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TIER = re.compile(r"^\d+:\d*$")

#: Every page: ``paging.next`` (messaging, pricing) or ``_links.next.href`` (template analytics). The
#: template sample only shows ``_links.self``, whose ``cursor`` is the current page's; only a ``next``
#: link moves on, and a page without one is the last.
PAGINATOR = LinkPaginator(("paging", "next"), ("_links", "next", "href"))


# -- parameter checks (no I/O; shared by the hook and the operators) --------------------------------
def _ids(value: Any, param: str, pattern: re.Pattern[str], example: str) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(as_list(value, param)):
        text = str(item).strip() if isinstance(item, (str, int)) and not isinstance(item, bool) else None
        if text is None or not pattern.match(text):
            raise InvalidParameterError(f"`{param}[{i}]` must be {example}, got {item!r}.")
        if text not in out:  # a duplicate would fetch (and write) the same rows twice
            out.append(text)
    return out


def check_waba_id(waba_id: Any) -> str:
    text = str(waba_id).strip() if isinstance(waba_id, (str, int)) and not isinstance(waba_id, bool) else ""
    if not _WABA_ID.match(text):
        raise InvalidParameterError(
            f"`waba_id` must be the numeric ID of the WhatsApp Business Account, e.g. '345688589250625', "
            f"got {waba_id!r}."
        )
    return text


def check_choice(value: Any, param: str, allowed: Sequence[str]) -> str:
    text = str(value).strip().upper() if isinstance(value, str) else value
    if text not in allowed:
        raise InvalidParameterError(f"`{param}` must be one of {', '.join(allowed)}, got {value!r}.")
    return str(text)


def check_choices(value: Any, param: str, allowed: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(as_list(value, param)):
        text = (
            str(item).strip().upper() if isinstance(item, (str, int)) and not isinstance(item, bool) else None
        )
        if text is None or text not in allowed:
            raise InvalidParameterError(f"`{param}[{i}]` must be one of {', '.join(allowed)}, got {item!r}.")
        if text not in out:
            out.append(text)
    return out


def check_template_ids(value: Any) -> list[str]:
    ids = _ids(value, "template_ids", _TEMPLATE_ID, "a numeric template ID such as '458951126288942'")
    if not ids:
        raise InvalidParameterError("`template_ids` is required: give at least one template ID.")
    return ids


def check_phone_numbers(value: Any) -> list[str]:
    return _ids(value, "phone_numbers", _PHONE, "a phone number in E.164 digits such as '16505550111'")


def check_country_codes(value: Any) -> list[str]:
    codes = [str(c).strip().upper() if isinstance(c, str) else c for c in as_list(value, "country_codes")]
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not _COUNTRY.match(code):
            raise InvalidParameterError(
                f"`country_codes[{i}]` must be a two-letter country code such as 'US', got {code!r}."
            )
    return list(dict.fromkeys(codes))


def check_tiers(value: Any) -> list[str]:
    return _ids(value, "tiers", _TIER, "a tier as 'lower:upper', e.g. '0:100000'")


def check_dates(start: Any, end: Any, lookback_days: int, today: dt.date | None = None) -> None:
    """The documented date rules: YYYY-MM-DD, start <= end, at most 90 days apart, inside the lookback."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidParameterError(f"`{name}` must be a date (sent as YYYY-MM-DD), got {value!r}.")
    if end < start:
        raise InvalidParameterError(f"`end` ({end}) must not be before `start` ({start}).")
    if (end - start).days >= MAX_DAYS:
        raise InvalidParameterError(
            f"`start` {start} to `end` {end} spans {(end - start).days + 1} days; one request covers at most "
            f"{MAX_DAYS} (the documented maximum). The operators split longer windows for you."
        )
    check_lookback(start, lookback_days, today)


def check_lookback(start: dt.date, lookback_days: int, today: dt.date | None = None) -> None:
    earliest = (today or dt.datetime.now(dt.timezone.utc).date()) - dt.timedelta(days=lookback_days)
    if start < earliest:
        raise InvalidParameterError(
            f"`start` {start} is outside Vonage's {lookback_days}-day lookback: the earliest date it keeps "
            f"analytics for is {earliest}. Pick a later start, or raise the connection extra "
            f"`lookback_days` (default {DEFAULT_LOOKBACK_DAYS}, the documented value) if Vonage extended "
            "it for your account."
        )


def query_array(values: Sequence[str]) -> str:
    """An array query value as the documented sample writes it: ``template_ids=[458951126288937]``."""
    return "[" + ",".join(values) + "]"


def classify(
    status: int, code: str | None, message: str | None, details: Any
) -> type[WaAnalyticsError] | None:
    """Vonage answers "insights not enabled" with a 4xx whose text says so; nothing else is special."""
    text = " ".join(str(part) for part in (code, message, details) if part).lower()
    about_insights = "insight" in text or (
        "template analytics" in text and re.search(r"not enabled|confirm|enable", text) is not None
    )
    if status in (400, 403, 409, 422) and about_insights and "already" not in text:
        return InsightsNotEnabledError
    return None


# -- authentication ----------------------------------------------------------------------------------
class VonageAuth(requests.auth.AuthBase):
    """``Authorization`` header: Basic (API key + secret) or a freshly signed RS256 JWT per request."""

    def __init__(self, header_value: Callable[[], str], kind: str) -> None:
        self._header_value = header_value
        self.kind = kind

    def header_value(self) -> str:
        return self._header_value()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header_value()
        return r

    def __repr__(self) -> str:  # never show the credential
        return f"VonageAuth({self.kind!r})"


def basic_auth(api_key: str, api_secret: str) -> VonageAuth:
    value = "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
    return VonageAuth(lambda: value, "basic")


def jwt_auth(
    application_id: str, private_key: str, conn_id: str, clock: Callable[[], float] = time.time
) -> VonageAuth:
    """A JWT as Vonage documents it: RS256 over ``application_id``, ``iat``, ``jti`` and ``exp``."""
    import jwt
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = private_key.strip()
    if "\\n" in pem and "\n" not in pem:  # pasted into a one-line field with escaped newlines
        pem = pem.replace("\\n", "\n")
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidParameterError(
            f"Connection {conn_id!r}: extra `private_key` is not an unencrypted PEM private key "
            f"({type(exc).__name__}); paste the key of the Vonage application, BEGIN/END lines included."
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise InvalidParameterError(
            f"Connection {conn_id!r}: extra `private_key` must be an RSA key (Vonage signs JWTs with RS256)."
        )
    lock = threading.Lock()

    def value() -> str:
        with lock:  # one signing at a time: the key object is shared by the operator's threads
            now = int(clock())
            claims = {
                "application_id": application_id,
                "iat": now,
                "exp": now + JWT_TTL,
                "jti": str(uuid.uuid4()),
            }
            token = jwt.encode(claims, key, algorithm="RS256")
        return f"Bearer {token}"

    return VonageAuth(value, "jwt")


class VonageWhatsAppHook(WaAnalyticsHook):
    """Vonage WhatsApp messaging, template and pricing analytics, and insights enablement.

    Connection ``vonage_whatsapp``: login = API key and password = API secret (Basic auth), or extras
    ``application_id`` + ``private_key`` (a JWT signed per request; used when both are set). Extra
    ``lookback_days`` (default 90, the documented lookback) is how far back a request may start.

    :param vonage_conn_id: the Airflow connection id.
    """

    conn_name_attr = "vonage_conn_id"
    default_conn_name = "vonage_whatsapp_default"
    conn_type = "vonage_whatsapp"
    hook_name = "Vonage WhatsApp"
    vendor = "vonage"
    default_host = "https://api.nexmo.com"
    default_rate_limit = 10.0
    vendor_hosts = ("api.nexmo.com",)
    base_path: ClassVar[str] = "/v1/channel-manager/whatsapp/wabas"

    def __init__(self, vonage_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(vonage_conn_id, **kwargs)

    # -- connection ------------------------------------------------------------------------------
    def get_auth(self) -> VonageAuth:
        conn = self.connection
        application_id = str(self.conn_extra("application_id") or "").strip()
        private_key = str(self.conn_extra("private_key") or "")
        if application_id or private_key:
            if not (application_id and private_key):
                missing = "private_key" if application_id else "application_id"
                raise InvalidParameterError(
                    f"Connection {self.conn_id!r}: JWT auth needs both extras `application_id` and "
                    f"`private_key`; `{missing}` is missing."
                )
            return jwt_auth(application_id, private_key, self.conn_id)
        if not conn.login and not conn.password:
            raise InvalidParameterError(
                f"Connection {self.conn_id!r} (vonage_whatsapp) has no credentials: set login (API key) and "
                "password (API secret), or extras `application_id` and `private_key` (JWT)."
            )
        return basic_auth(
            self.secret(conn.login, "login (the API key)"),
            self.secret(conn.password, "password (the API secret)"),
        )

    @property
    def lookback_days(self) -> int:
        raw = self.conn_extra("lookback_days", DEFAULT_LOOKBACK_DAYS)
        try:
            days = int(raw)
        except (TypeError, ValueError):
            days = 0
        if days < 1 or str(raw).strip() != str(days):
            raise InvalidParameterError(
                f"Connection {self.conn_id!r}: extra `lookback_days` must be a whole number of days >= 1, "
                f"got {raw!r}."
            )
        return days

    def classify_error(
        self, status: int, code: str | None, message: str | None, details: Any
    ) -> type[WaAnalyticsError] | None:
        return classify(status, code, message, details)

    def credentials(self) -> list[str]:
        return [*super().credentials(), *([self.connection.login] if self.connection.login else [])]

    def rate_account(self) -> str:  # the application id (JWT), else the API key (login)
        return str(self.conn_extra("application_id") or "").strip() or self.connection.login or ""

    # -- endpoints -------------------------------------------------------------------------------
    def path(self, waba_id: str, endpoint: str) -> str:
        return f"{self.base_path}/{check_waba_id(waba_id)}/{endpoint}"

    @contextmanager
    def explained(self, waba_id: str) -> Iterator[None]:
        """Say what the documented 403, 404 and "not enabled" answers mean for this WABA."""
        try:
            yield
        except ForbiddenError as exc:
            raise exc.with_hint(
                f"the credentials are valid but not linked to WABA {waba_id}: link the WABA to this API key "
                "in the Vonage dashboard, or use the connection of the account that owns it."
            ) from None
        except NotFoundError as exc:
            raise exc.with_hint(f"WABA {waba_id} is unknown to Vonage: check `waba_id`.") from None
        except InsightsNotEnabledError as exc:
            raise exc.with_hint(
                f"insights are not enabled (or not yet propagated) for WABA {waba_id}: run "
                "VonageEnableInsightsOperator once, then wait with VonageInsightsSensor."
            ) from None

    def _pages(self, waba_id: str, endpoint: str, params: list[tuple[str, str]]) -> Iterator[ApiResponse]:
        """Every page of one call; the parameters are checked now, the requests sent when iterated."""
        first = PageRequest("GET", self.path(waba_id, endpoint), tuple(params))

        def pages() -> Iterator[ApiResponse]:
            with self.explained(waba_id):
                yield from self.client.paginate(first, PAGINATOR)

        return pages()

    def _window(self, start: dt.date, end: dt.date) -> list[tuple[str, str]]:
        check_dates(start, end, self.lookback_days)
        return [("start", start.isoformat()), ("end", end.isoformat())]

    def iter_messaging_analytics(
        self,
        waba_id: str,
        start: dt.date,
        end: dt.date,
        granularity: str = "DAILY",
        *,
        phone_numbers: Sequence[str] | None = None,
        product_types: Sequence[str | int] | None = None,
        country_codes: Sequence[str] | None = None,
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/messaging-analytics``: every page of one date range (inclusive)."""
        params = [
            *self._window(start, end),
            ("granularity", check_choice(granularity, "granularity", GRANULARITIES)),
        ]
        if phone_numbers:  # the document names this filter `phone_number` (singular) for this endpoint
            params.append(("phone_number", query_array(check_phone_numbers(phone_numbers))))
        if product_types:
            params.append(
                ("product_types", query_array(check_choices(product_types, "product_types", PRODUCT_TYPES)))
            )
        if country_codes:
            params.append(("country_codes", query_array(check_country_codes(country_codes))))
        return self._pages(waba_id, "messaging-analytics", params)

    def iter_template_analytics(
        self,
        waba_id: str,
        start: dt.date,
        end: dt.date,
        template_ids: Sequence[str],
        *,
        metric_types: Sequence[str] | None = None,
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/template-analytics``: every page for at most 10 templates."""
        ids = check_template_ids(template_ids)
        if len(ids) > MAX_TEMPLATE_IDS:
            raise InvalidParameterError(
                f"`template_ids` holds {len(ids)} IDs; one request takes at most {MAX_TEMPLATE_IDS} "
                "(VonageTemplateAnalyticsOperator batches them for you)."
            )
        params = [*self._window(start, end), ("granularity", "DAILY"), ("template_ids", query_array(ids))]
        if metric_types:
            params.append(
                ("metric_types", query_array(check_choices(metric_types, "metric_types", METRIC_TYPES)))
            )
        return self._pages(waba_id, "template-analytics", params)

    def iter_pricing_analytics(
        self,
        waba_id: str,
        start: dt.date,
        end: dt.date,
        granularity: str | None = "DAILY",
        *,
        phone_numbers: Sequence[str] | None = None,
        country_codes: Sequence[str] | None = None,
        dimensions: Sequence[str] | None = None,
        tiers: Sequence[str] | None = None,
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/pricing-analytics``: every page, optionally broken down by dimensions."""
        params = self._window(start, end)
        if granularity:
            params.append(("granularity", check_choice(granularity, "granularity", GRANULARITIES)))
        if phone_numbers:
            params.append(("phone_numbers", query_array(check_phone_numbers(phone_numbers))))
        if country_codes:
            params.append(("country_codes", query_array(check_country_codes(country_codes))))
        if dimensions:
            params.append(("dimensions", query_array(check_choices(dimensions, "dimensions", DIMENSIONS))))
        if tiers:  # documented as `tier`
            params.append(("tier", query_array(check_tiers(tiers))))
        return self._pages(waba_id, "pricing-analytics", params)

    def enable_insights(self, waba_id: str) -> None:
        """``PATCH .../wabas/{waba_id}/enable_insights``: once per WABA; calling it again is harmless.

        The document only promises 200; an "already enabled" 400/409 is taken as success too.
        """
        try:
            with self.explained(waba_id):
                self.client.request(
                    PageRequest("PATCH", self.path(waba_id, "enable_insights"), expect_body=False)
                )
        except WaAnalyticsError as exc:
            if exc.status not in (400, 409) or "already" not in str(exc).lower():
                raise
            self.log.info("Insights were already enabled for WABA %s.", waba_id)

    # -- insights availability (the sensor polls it, the trigger sends the same request) ------------
    def insights_probe(self, waba_id: str, template_id: str) -> PageRequest:
        """The cheapest request that only succeeds once template analytics can be retrieved."""
        today = dt.datetime.now(dt.timezone.utc).date()
        ids = check_template_ids([template_id])
        return PageRequest(
            "GET",
            self.path(waba_id, "template-analytics"),
            (
                ("start", (today - dt.timedelta(days=1)).isoformat()),
                ("end", today.isoformat()),
                ("granularity", "DAILY"),
                ("template_ids", query_array(ids)),
            ),
        )

    def insights_available(self, waba_id: str, template_id: str) -> bool:
        """True once template analytics answer; False while insights are not enabled or propagating.

        Authentication, "not linked" and unknown-WABA errors raise (they are permanent).
        """
        try:
            with self.explained(waba_id):
                self.client.request(self.insights_probe(waba_id, template_id))
        except InsightsNotEnabledError as exc:
            self.log.info("Template analytics not available yet: %s", exc)
            return False
        return True

    def check_connection(self) -> None:
        """One day of messaging analytics: of the extra ``waba_id`` when set, else of a WABA that
        cannot exist, where "not linked" (403) and "unknown WABA" (404) prove the credentials were
        accepted and 401 that they were not."""
        today = dt.datetime.now(dt.timezone.utc).date()
        waba_id = self.conn_extra("waba_id")
        if waba_id:
            next(iter(self.iter_messaging_analytics(str(waba_id), today, today)))
            return
        try:
            next(iter(self.iter_messaging_analytics("0", today, today)))
        except (ForbiddenError, NotFoundError):
            return
