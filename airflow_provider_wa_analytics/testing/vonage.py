"""The Vonage WhatsApp analytics API of the sandbox (``vonage-whatsapp-analytics``).

``GET .../wabas/{waba_id}/messaging-analytics``, ``template-analytics``, ``pricing-analytics`` and
``PATCH .../wabas/{waba_id}/enable_insights`` under ``/v1/channel-manager/whatsapp``, plus the
``/v2/channel-manager/wabas/{waba_id}/messaging-analytics`` path its ``paging.next`` links point at.
Basic auth (API key and secret) or an RS256 JWT of an application; RFC 7807 error bodies; a per-WABA
insights state (not enabled, propagating, enabled) with a propagation delay counted in template
requests and/or in seconds of a clock the caller may replace; pages chained as the samples show:
``paging.next`` with a self-contained ``after`` cursor (messaging), ``paging.next`` with a ``before``
cursor (pricing, the sample's quirk), ``_links.next.href`` with a ``cursor`` (template analytics).

The data is a pure function of (seed, WABA, day): half-hour "atoms" per phone number, country and
product type (messaging) or per phone number, country, pricing category and pricing type (pricing),
summed into whatever buckets and breakdowns a request asks for, so every granularity, page size and
set of dimensions adds up to the same totals.

Invented where the document is silent (and marked so): the error texts, the 400 "insights not
enabled" answer, the 422 validation bodies, gating only template analytics on insights, the 200 body
of ``enable_insights``, the default page size.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from airflow_provider_wa_analytics.testing import server
from airflow_provider_wa_analytics.testing.late import settle, settled_percent
from airflow_provider_wa_analytics.testing.server import Request, Response, Route, VendorApp, json_response

VONAGE_API_KEY = "sandbox1"
"""The API key (connection login) that works with :data:`VONAGE_API_SECRET`."""
VONAGE_API_SECRET = "Sandbox-Vonage-Secret-1"  # noqa: S105 - the sandbox's published test secret
"""The API secret (connection password)."""
VONAGE_APPLICATION_ID = "5a3c1f0e-0000-4000-8000-00000000a001"
"""The application id of JWT auth; its private key is :attr:`VonageWhatsAppApp.private_key_pem`."""
VONAGE_WABA_ID = "345688589250625"
"""Linked to the sandbox credentials; insights start NOT enabled (enable them, then wait)."""
VONAGE_INSIGHTS_WABA_ID = "345688589250626"
"""Linked to the sandbox credentials; insights start enabled (template analytics answer at once)."""
VONAGE_UNLINKED_WABA_ID = "345688589250699"
"""Exists but is not linked to the sandbox credentials: 403 "API key is not linked to this WABA ID".
Any WABA not listed here: 404 "WABA ID is invalid"."""

VONAGE_HOST = "https://api.nexmo.com"
FOREIGN_HOST = "https://api.example.net"
V1 = "/v1/channel-manager/whatsapp/wabas"
V2 = "/v2/channel-manager/wabas"

PHONES = ("16505550111", "16505550112")
COUNTRIES = ("US", "GB", "IN")
PRODUCT_TYPES = ("0", "2")
PRICING_CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY", "SERVICE")
PRICING_TYPES = ("REGULAR", "FREE_CUSTOMER_SERVICE")
TIERS = ("0:100000", "100000:1000000")
DIMENSIONS = {
    "PHONE": "phone_number",
    "COUNTRY": "country",
    "TIER": "tier",
    "PRICING_TYPE": "pricing_type",
    "PRICING_CATEGORY": "pricing_category",
}
GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
METRIC_TYPES = ("SENT", "DELIVERED", "READ", "CLICKED")
LOOKBACK_DAYS = 90
MAX_RANGE_DAYS = 90  # "The maximum difference between the start and end dates is 90 days."
MAX_TEMPLATE_IDS = 10
DEFAULT_PAGE_SIZE = 100  # invented; the template sample shows page_size=100
LINKS = ("vendor", "self", "foreign")
SLOTS = 48  # half hours per day
FIRST_PAGE_CURSOR = "c2VsZj1udWxs"  # the sample's self cursor: base64("self=null")


def problem(status: int, title: str, detail: str, kind: str, **extra: Any) -> Response:
    """An RFC 7807 body, as Vonage's APIs answer errors."""
    instance = hashlib.blake2b(f"{status}:{detail}".encode(), digest_size=16).hexdigest()
    body = {
        "type": f"https://developer.vonage.com/api-errors#{kind}",
        "title": title,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return json_response(status, body)


def invalid(name: str, reason: str) -> Response:
    """422 with the parameter and reason (wording invented)."""
    return problem(
        422,
        "Invalid request parameters",
        f"{name}: {reason}",
        "invalid-params",
        invalid_parameters=[{"name": name, "reason": reason}],
    )


def _non_negative_seconds(value: Any) -> float:
    seconds = float(value)
    if seconds < 0:
        raise ValueError("propagation_seconds must be >= 0")
    return seconds


def encode_cursor(state: dict[str, Any]) -> str:
    return server.encode_token(json.dumps(state, separators=(",", ":")).encode())


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    payload = server.decode_token(cursor)
    try:
        state = json.loads(payload) if payload is not None else None
    except (ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


def parse_array(values: Sequence[str] | None) -> list[str]:
    """``[a,b]`` (the sample's form), ``a,b`` or the parameter repeated."""
    out: list[str] = []
    for value in values or ():
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        out += [part.strip().strip("\"'") for part in text.split(",") if part.strip()]
    return out


def _day_start(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def buckets(first: dt.date, last: dt.date, granularity: str) -> list[tuple[int, int]]:
    """``(start, end)`` epoch pairs covering the days ``first..last``; months are clipped to them."""
    lo, hi = _day_start(first), _day_start(last) + 86_400
    if granularity == "HALF_HOUR":
        return [(t, t + 1800) for t in range(lo, hi, 1800)]
    if granularity == "DAILY":
        return [(t, t + 86_400) for t in range(lo, hi, 86_400)]
    out = []
    day = first
    while day <= last:
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        out.append((_day_start(day), min(_day_start(nxt), hi)))
        day = nxt
    return out


@lru_cache(maxsize=4096)
def _messaging_day(
    seed: int, waba_id: str, day: dt.date, percent: int = 100
) -> tuple[tuple[tuple[str, str, str, int, int], ...], ...]:
    """Per half hour: (phone, country, product type, sent, delivered) atoms; ``percent`` of the
    deliveries is known yet (late-arriving figures)."""
    rng = random.Random(f"{seed}:{waba_id}:{day.isoformat()}:messaging")
    slots = []
    for _ in range(SLOTS):
        atoms = []
        for phone in PHONES:
            for country in COUNTRIES:
                for product in PRODUCT_TYPES:
                    sent = rng.randrange(0, 6)
                    delivered = sent - rng.randrange(0, sent + 1) // 3
                    atoms.append((phone, country, product, sent, settle(delivered, percent)))
        slots.append(tuple(atoms))
    return tuple(slots)


@lru_cache(maxsize=4096)
def _pricing_day(
    seed: int, waba_id: str, day: dt.date
) -> tuple[tuple[tuple[str, str, str, str, str, int], ...], ...]:
    """Per half hour: (phone, country, tier, pricing type, pricing category, volume) atoms."""
    rng = random.Random(f"{seed}:{waba_id}:{day.isoformat()}:pricing")
    slots = []
    for _ in range(SLOTS):
        atoms = []
        for phone in PHONES:
            for c, country in enumerate(COUNTRIES):
                for k, category in enumerate(PRICING_CATEGORIES):
                    tier = TIERS[(c + k) % len(TIERS)]
                    for ptype in PRICING_TYPES:
                        volume = rng.randrange(0, 4) if rng.random() < 0.3 else 0
                        atoms.append((phone, country, tier, ptype, category, volume))
        slots.append(tuple(atoms))
    return tuple(slots)


def _slot_figures(
    epoch_lo: int, epoch_hi: int, day_atoms: Callable[[dt.date], Sequence[Sequence[tuple[Any, ...]]]]
) -> Iterable[tuple[Any, ...]]:
    """Every atom of the half hours in ``[epoch_lo, epoch_hi)``."""
    for t in range(epoch_lo, epoch_hi, 1800):
        day = dt.datetime.fromtimestamp(t, dt.timezone.utc).date()
        yield from day_atoms(day)[(t - _day_start(day)) // 1800]


class VonageWhatsAppApp(VendorApp):
    """The four Vonage WhatsApp analytics endpoints.

    Options: ``page_size`` (entries per page when the request has no ``page_size``; default 100),
    ``propagation_requests`` (template-analytics requests of a WABA answered "not available yet"
    after ``enable_insights``; default 2), ``propagation_seconds`` (seconds of :attr:`clock` that must
    also pass; default 0), ``links`` (host of next-page links: ``vendor`` = https://api.nexmo.com as
    the samples, ``self`` = the sandbox, ``foreign`` = another host), ``repeat_cursor`` (the second
    page's next link repeats itself), ``enable_insights_body`` (``json`` or ``empty``),
    ``already_enabled_status`` (None: enabling again answers 200; 400 or 409: an "already enabled"
    error, invented), ``today`` (a ``YYYY-MM-DD`` date the lookback counts from; default: the real
    UTC date).
    """

    vendor = "vonage_whatsapp"
    default_rate_limit = None  # the document states no rate limit
    linked_wabas = (VONAGE_WABA_ID, VONAGE_INSIGHTS_WABA_ID)
    initially_enabled = (VONAGE_INSIGHTS_WABA_ID,)
    conn_login, conn_password = VONAGE_API_KEY, VONAGE_API_SECRET
    OPTIONS = {
        "seed": None,
        "page_size": server.Option(
            DEFAULT_PAGE_SIZE, server.whole_number("page_size must be an integer >= 1", 1)
        ),
        "propagation_requests": server.Option(
            2, server.whole_number("propagation_requests must be an integer >= 0", 0)
        ),
        "propagation_seconds": server.Option(0.0, _non_negative_seconds),
        "links": server.Option("vendor", server.one_of("links", LINKS)),
        "repeat_cursor": server.Option(False, bool),
        "enable_insights_body": server.Option(
            "json",
            server.one_of(
                "enable_insights_body", ("json", "empty"), "enable_insights_body must be json or empty"
            ),
        ),
        "already_enabled_status": server.Option(
            None,
            server.one_of(
                "already_enabled_status", (None, 400, 409), "already_enabled_status must be None, 400 or 409"
            ),
        ),
        "today": server.Option(None, server.a_day),
    }
    page_size: int
    propagation_requests: int
    propagation_seconds: float
    links: str
    repeat_cursor: bool
    enable_insights_body: str
    already_enabled_status: int | None
    today: dt.date | None

    def __init__(self, *, seed: int = 0, **options: Any) -> None:
        """``options``: see the class docstring (:attr:`OPTIONS`)."""
        #: The clock of ``propagation_seconds``; a test may replace it to move time without sleeping.
        self.clock: Callable[[], float] = time.monotonic
        self._lock = threading.Lock()
        self._insights: dict[str, dict[str, float] | None] = {}
        self._private_key: Any = None
        self._memo: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        super().__init__(seed=seed, **options)
        self.reset()

    # -- options -------------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        return {
            **super().options(),
            "insights": {waba: self.insights_state(waba) for waba in self.linked_wabas},
        }

    def reset(self) -> None:
        with self._lock:
            self._insights = {
                waba: {"at": 0.0, "left": 0} if waba in self.initially_enabled else None
                for waba in self.linked_wabas
            }

    # -- routes and auth -----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        waba = r"(?P<waba_id>[^/]+)"
        return [
            Route.of("GET", rf"{V1}/{waba}/messaging-analytics", self._messaging, "messaging-analytics"),
            Route.of("GET", rf"{V2}/{waba}/messaging-analytics", self._messaging, "messaging-analytics-v2"),
            Route.of("GET", rf"{V1}/{waba}/template-analytics", self._template, "template-analytics"),
            Route.of("GET", rf"{V1}/{waba}/pricing-analytics", self._pricing, "pricing-analytics"),
            Route.of("PATCH", rf"{V1}/{waba}/enable_insights", self._enable_insights, "enable_insights"),
        ]

    def jwt_connection(self, url: str) -> dict[str, Any]:
        """A connection authenticating with a JWT of :data:`VONAGE_APPLICATION_ID`."""
        extra = {"application_id": VONAGE_APPLICATION_ID, "private_key": self.private_key_pem}
        return {"conn_type": self.vendor, "host": url, "extra": extra}

    @property
    def private_key_pem(self) -> str:
        """The application's private key (PEM), generated once per app (needs ``cryptography``)."""
        from cryptography.hazmat.primitives import serialization

        pem = self._key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return pem.decode()

    def _key(self) -> Any:
        with self._lock:
            if self._private_key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._private_key

    def authenticate(self, request: Request) -> str | Response:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                key, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                key = secret = ""
            if key == VONAGE_API_KEY and secret == VONAGE_API_SECRET:
                return key
        elif scheme.lower() == "bearer":
            reason = self._jwt_error(value.strip())
            if reason is None:
                return VONAGE_APPLICATION_ID
            return problem(401, "Unauthorized", f"Invalid token: {reason}.", "unauthorized")
        return problem(401, "Unauthorized", "You did not provide correct credentials.", "unauthorized")

    def _jwt_error(self, token: str) -> str | None:
        """Why a JWT is refused, or None: RS256 signed by the application's key, claims as documented."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def part(text: str) -> bytes:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

        try:
            head, payload, signature = token.split(".")
            header, claims = json.loads(part(head)), json.loads(part(payload))
            self._key().public_key().verify(
                part(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return "signature does not match the application's public key"
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return "not a JWT"
        if not isinstance(header, dict) or header.get("alg") != "RS256":
            return "alg must be RS256"
        if not isinstance(claims, dict) or claims.get("application_id") != VONAGE_APPLICATION_ID:
            return "unknown application_id"
        if not claims.get("jti") or not isinstance(claims.get("iat"), int):
            return "jti and iat are required"
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, int) or exp <= time.time()):
            return "token expired"
        return None

    def rate_limited_response(self, retry_after: int) -> Response:
        return problem(429, "Too Many Requests", "You have exceeded the rate limit.", "too-many-requests")

    def error_response(self, status: int) -> Response:
        title = "Service Unavailable" if status == 503 else "Internal Server Error"
        return problem(status, title, "Please try again later.", "internal-error")

    def _waba(self, request: Request) -> str:
        """The WABA of the path, or the documented 403 / 404."""
        waba_id = request.params["waba_id"]
        if waba_id == VONAGE_UNLINKED_WABA_ID:
            raise server.Reject(
                problem(403, "Unauthorized", "API key is not linked to this WABA ID", "forbidden")
            )
        if waba_id not in self.linked_wabas:
            raise server.Reject(problem(404, "Resource not found", "WABA ID is invalid", "not-found"))
        return waba_id

    # -- insights ------------------------------------------------------------------------------

    def enable_insights(self, waba_id: str) -> None:
        """What ``PATCH enable_insights`` does: start propagating, unless already enabled."""
        with self._lock:
            if self._insights.get(waba_id) is None:
                self._insights[waba_id] = {"at": self.clock(), "left": self.propagation_requests}

    def insights_state(self, waba_id: str) -> str:
        """``disabled``, ``propagating`` or ``enabled`` (does not count as a request)."""
        with self._lock:
            state = self._insights.get(waba_id)
            if state is None:
                return "disabled"
            if state["left"] > 0 or self.clock() - state["at"] < self.propagation_seconds:
                return "propagating"
            return "enabled"

    def _insights_answer(self, waba_id: str) -> Response | None:
        """None when template analytics can be served; else the (invented) 400 answer."""
        with self._lock:
            state = self._insights.get(waba_id)
            if state is None:
                return problem(
                    400,
                    "Insights not enabled",
                    f"Template analytics are not enabled for WABA {waba_id}; enable insights first.",
                    "insights-not-enabled",
                )
            waiting = state["left"] > 0 or self.clock() - state["at"] < self.propagation_seconds
            if state["left"] > 0:
                state["left"] -= 1
        if waiting:
            return problem(
                400,
                "Insights not available yet",
                f"Insights for WABA {waba_id} are being enabled; template analytics are not available yet.",
                "insights-not-enabled",
            )
        return None

    def _enable_insights(self, request: Request) -> Response:
        waba_id = self._waba(request)
        if self.already_enabled_status and self._insights.get(waba_id) is not None:
            return problem(
                self.already_enabled_status,
                "Conflict",
                f"Insights are already enabled for WABA {waba_id}.",
                "conflict",
            )
        self.enable_insights(waba_id)
        if self.enable_insights_body == "empty":
            return Response(200, b"", "application/json")
        return json_response(200, {"waba_id": waba_id, "insights_enabled": True})

    def _entries(
        self, key: tuple[Any, ...], compute: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The entries of a request, computed once for all its pages (and per "as of")."""
        key = (*key, self.as_of)
        with self._lock:
            entries = self._memo.get(key)
        if entries is None:
            entries = compute()
            with self._lock:
                if len(self._memo) >= 256:
                    self._memo.clear()
                self._memo[key] = entries
        return entries

    # -- request parsing -----------------------------------------------------------------------

    def _query(self, request: Request, cursor_params: Sequence[str]) -> tuple[dict[str, list[str]], int]:
        """The query and page offset; a self-contained cursor (``after``/``before``) replaces the query."""
        for name in cursor_params:
            values = request.query.get(name)
            if values:
                state = decode_cursor(values[0])
                if (
                    state is None
                    or not isinstance(state.get("q"), dict)
                    or not isinstance(state.get("o"), int)
                ):
                    raise server.Reject(invalid(name, "the cursor is not valid"))
                return {k: list(v) for k, v in state["q"].items()}, state["o"]
        return {k: v for k, v in request.query.items() if k not in cursor_params}, 0

    def _dates(self, query: dict[str, list[str]], required: bool) -> tuple[dt.date, dt.date]:
        today = self.today or dt.datetime.now(dt.timezone.utc).date()
        dates = {}
        for name in ("start", "end"):
            text = (query.get(name) or [""])[0]
            if not text and not required:
                dates[name] = today - dt.timedelta(days=30) if name == "start" else today
                continue
            try:
                dates[name] = dt.date.fromisoformat(text)
            except ValueError:
                raise server.Reject(invalid(name, "required, in the format YYYY-MM-DD")) from None
        start, end = dates["start"], dates["end"]
        if end < start:
            raise server.Reject(invalid("end", "must not be before start"))
        if start < today - dt.timedelta(days=LOOKBACK_DAYS):
            raise server.Reject(
                invalid("start", f"must be within the last {LOOKBACK_DAYS} days (the lookback)")
            )
        return start, end

    @staticmethod
    def _choice(query: dict[str, list[str]], name: str, allowed: Sequence[str], default: str | None) -> str:
        value = ((query.get(name) or [""])[0] or "").strip().upper() or default
        if value is None or value not in allowed:
            raise server.Reject(invalid(name, f"must be one of {', '.join(allowed)}"))
        return value

    @staticmethod
    def _array(query: dict[str, list[str]], name: str, allowed: Sequence[str] | None = None) -> list[str]:
        values = parse_array(query.get(name))
        if allowed is not None:
            wrong = [v for v in values if v.upper() not in allowed]
            if wrong:
                raise server.Reject(invalid(name, f"{wrong[0]!r} is not one of {', '.join(allowed)}"))
            values = [v.upper() for v in values]
        return values

    def _page_size(self, query: dict[str, list[str]]) -> int:
        text = (query.get("page_size") or [""])[0]
        if not text:
            return self.page_size
        if not text.isdigit() or int(text) < 1:
            raise server.Reject(invalid("page_size", "must be a positive integer"))
        return int(text)

    def _link(self, request: Request, path: str, params: dict[str, str]) -> str:
        host = {"vendor": VONAGE_HOST, "foreign": FOREIGN_HOST}.get(self.links)
        if host is None:
            host = f"http://{request.header('host')}"
        return f"{host}{path}?{urlencode(params)}"

    def _next_offset(self, offset: int, size: int, total: int) -> int | None:
        if offset + size >= total:
            return None
        if self.repeat_cursor and offset > 0:
            return offset  # the quirk under test: the vendor hands back the cursor just used
        return offset + size

    # -- handlers ------------------------------------------------------------------------------

    def _messaging(self, request: Request) -> Response:
        waba_id = self._waba(request)
        query, offset = self._query(request, ("after", "before"))
        first, last = self._dates(query, required=True)
        granularity = self._choice(query, "granularity", GRANULARITIES, None)
        phones = self._array(query, "phone_number")
        countries = self._array(query, "country_codes")
        products = self._array(query, "product_types", PRODUCT_TYPES)
        size = self._page_size(query)
        args = (waba_id, first, last, granularity, tuple(phones), tuple(countries), tuple(products))
        entries = self._entries(("messaging", *args), lambda: self.messaging_entries(*args))
        body: dict[str, Any] = {
            "id": waba_id,
            "granularity": granularity,
            "phone_numbers": phones or list(PHONES),
            "country_codes": countries or list(COUNTRIES),
            "_embedded": {"messaging_analytics": entries[offset : offset + size]},
        }
        body["paging"] = self._cursor_paging(
            request, f"{V2}/{waba_id}/messaging-analytics", query, offset, size, len(entries), "after"
        )
        return json_response(200, body)

    def _pricing(self, request: Request) -> Response:
        waba_id = self._waba(request)
        query, offset = self._query(request, ("after", "before"))
        first, last = self._dates(query, required=False)
        granularity = self._choice(query, "granularity", GRANULARITIES, "DAILY")
        phones = self._array(query, "phone_numbers")
        countries = self._array(query, "country_codes")
        dimensions = self._array(query, "dimensions", tuple(DIMENSIONS))
        tiers = self._array(query, "tier")
        size = self._page_size(query)
        args = (
            waba_id,
            first,
            last,
            granularity,
            tuple(phones),
            tuple(countries),
            tuple(dimensions),
            tuple(tiers),
        )
        entries = self._entries(("pricing", *args), lambda: self.pricing_entries(*args))
        body: dict[str, Any] = {
            "granularity": granularity,
            "product_type": "cloud_api",
            "_embedded": {"pricing_analytics": entries[offset : offset + size]},
        }
        # The sample's pricing ``next`` link carries a ``before`` cursor; it is served as is.
        body["paging"] = self._cursor_paging(
            request, f"{V1}/{waba_id}/pricing-analytics", query, offset, size, len(entries), "before"
        )
        return json_response(200, body)

    def _cursor_paging(
        self,
        request: Request,
        path: str,
        query: dict[str, list[str]],
        offset: int,
        size: int,
        total: int,
        next_param: str,
    ) -> dict[str, Any]:
        nxt = self._next_offset(offset, size, total)
        before = encode_cursor({"q": query, "o": max(0, offset - size)})
        paging: dict[str, Any] = {"cursors": {"before": before, "after": ""}}
        if nxt is not None:
            after = encode_cursor({"q": query, "o": nxt})
            paging["cursors"]["after"] = after
            paging["next"] = self._link(request, path, {next_param: after})
        if offset > 0:
            paging["previous"] = self._link(
                request, path, {"before" if next_param == "after" else "after": before}
            )
        return paging

    def _template(self, request: Request) -> Response:
        waba_id = self._waba(request)
        query = {k: v for k, v in request.query.items()}
        cursor = (query.get("cursor") or [""])[0]
        offset = 0
        if cursor and cursor != FIRST_PAGE_CURSOR:
            state = decode_cursor(cursor)
            if state is None or not isinstance(state.get("o"), int):
                raise server.Reject(invalid("cursor", "the cursor is not valid"))
            offset = state["o"]
        first, last = self._dates(query, required=True)
        if (last - first).days > MAX_RANGE_DAYS:
            raise server.Reject(invalid("end", f"at most {MAX_RANGE_DAYS} days after start"))
        self._choice(query, "granularity", ("DAILY",), None)
        ids = self._array(query, "template_ids")
        if not ids:
            raise server.Reject(invalid("template_ids", "required"))
        if len(ids) > MAX_TEMPLATE_IDS:
            raise server.Reject(invalid("template_ids", f"at most {MAX_TEMPLATE_IDS} template ids"))
        metrics = self._array(query, "metric_types", METRIC_TYPES)
        size = self._page_size(query)
        waiting = self._insights_answer(waba_id)
        if waiting is not None:
            return waiting
        args = (waba_id, tuple(ids), first, last, tuple(metrics))
        entries = self._entries(("template", *args), lambda: self.template_entries(*args))
        params = {k: v[0] for k, v in query.items() if k not in ("cursor", "page_size")}
        path = f"{V1}/{waba_id}/template-analytics"
        links: dict[str, Any] = {
            "self": {
                "href": self._link(
                    request, path, {**params, "page_size": str(size), "cursor": cursor or FIRST_PAGE_CURSOR}
                )
            }
        }
        nxt = self._next_offset(offset, size, len(entries))
        if nxt is not None:
            links["next"] = {
                "href": self._link(
                    request, path, {**params, "page_size": str(size), "cursor": encode_cursor({"o": nxt})}
                )
            }
        body = {
            "granularity": "DAILY",
            "product_type": "cloud_api",
            "page_size": size,
            "_embedded": {"template_analytics": entries[offset : offset + size]},
            "_links": links,
        }
        return json_response(200, body)

    # -- the data, also for tests computing their expectations ---------------------------------

    def messaging_entries(
        self,
        waba_id: str,
        first: dt.date,
        last: dt.date,
        granularity: str = "DAILY",
        phones: Sequence[str] = (),
        countries: Sequence[str] = (),
        products: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Every bucket of a request, in time order; ``start``/``end`` as epoch strings (the sample)."""

        def keep(atom: tuple[Any, ...]) -> bool:
            phone, country, product = atom[:3]
            return (
                (not phones or phone in phones)
                and (not countries or country in countries)
                and (not products or product in products)
            )

        def day(d: dt.date) -> Any:
            return _messaging_day(self.seed, waba_id, d, settled_percent(d, self.as_of))

        out = []
        for lo, hi in buckets(first, last, granularity):
            atoms = [a for a in _slot_figures(lo, hi, day) if keep(a)]
            out.append(
                {
                    "start": str(lo),
                    "end": str(hi),
                    "sent": sum(a[3] for a in atoms),
                    "delivered": sum(a[4] for a in atoms),
                }
            )
        return out

    def template_entries(
        self,
        waba_id: str,
        template_ids: Sequence[str],
        first: dt.date,
        last: dt.date,
        metric_types: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """One entry per day and template (day-major); ``start`` = ``end`` = the day (the sample)."""
        wanted = set(metric_types or METRIC_TYPES)
        out = []
        for day in _days(first, last):
            for template_id in template_ids:
                d = hashlib.blake2b(
                    f"{self.seed}:{waba_id}:{template_id}:{day}".encode(), digest_size=8
                ).digest()
                sent = 20 + int.from_bytes(d[:2], "big") % 200
                delivered = sent * (80 + d[2] % 21) // 100
                read = delivered * (30 + d[3] % 61) // 100
                clicked = read * (d[4] % 40) // 100
                # Meta-backed template analytics are restated for days (late-arriving figures).
                delivered, read, clicked = (self.settled(v, day) for v in (delivered, read, clicked))
                stamp = _iso(_day_start(day))
                entry: dict[str, Any] = {"template_id": template_id, "start": stamp, "end": stamp}
                for name, value in (
                    ("sent", sent),
                    ("delivered", delivered),
                    ("read", read),
                    ("clicked", clicked),
                ):
                    if name.upper() in wanted:
                        entry[name] = value
                out.append(entry)
        return out

    def pricing_entries(
        self,
        waba_id: str,
        first: dt.date,
        last: dt.date,
        granularity: str = "DAILY",
        phones: Sequence[str] = (),
        countries: Sequence[str] = (),
        dimensions: Sequence[str] = (),
        tiers: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """One entry per bucket and combination of ``dimensions`` with a non-zero volume."""
        fields = [DIMENSIONS[d] for d in DIMENSIONS if d in dimensions]
        index = {"phone_number": 0, "country": 1, "tier": 2, "pricing_type": 3, "pricing_category": 4}

        def day(d: dt.date) -> Any:
            return _pricing_day(self.seed, waba_id, d)

        out = []
        for lo, hi in buckets(first, last, granularity):
            groups: dict[tuple[str, ...], int] = {}
            for atom in _slot_figures(lo, hi, day):
                if (phones and atom[0] not in phones) or (countries and atom[1] not in countries):
                    continue
                if tiers and atom[2] not in tiers:
                    continue
                key = tuple(atom[index[f]] for f in fields)
                groups[key] = groups.get(key, 0) + atom[5]
            for key in sorted(groups):
                if groups[key] or not fields:
                    out.append(
                        {
                            "start": _iso(lo),
                            "end": _iso(hi),
                            "volume": groups[key],
                            **dict(zip(fields, key, strict=True)),
                        }
                    )
        return out
