"""Vonage WhatsApp analytics (``vonage_whatsapp``): the endpoints, their auth and errors, the hook.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import requests

from airflow_provider_wa_analytics.client import ApiResponse, PageRequest
from airflow_provider_wa_analytics.endpoints import (
    Batches,
    Call,
    Dates,
    Endpoint,
    Param,
    Query,
    choice,
    choices,
    date_window,
    id_list,
    identifier,
    query_array,
)
from airflow_provider_wa_analytics.exceptions import (
    ForbiddenError,
    InsightsNotEnabledError,
    InvalidParameterError,
    NotFoundError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
from airflow_provider_wa_analytics.paging import LinkPaginator
from airflow_provider_wa_analytics.tables import vonage as tables

#: The documented retention of messaging and template analytics ("a lookback of up to 90 days").
DEFAULT_RETENTION_DAYS = 90
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

#: Every page: ``paging.next`` (messaging, pricing) or ``_links.next.href`` (template analytics). The
#: template sample only shows ``_links.self``, whose ``cursor`` is the current page's; only a ``next``
#: link moves on, and a page without one is the last.
PAGINATOR = LinkPaginator(("paging", "next"), ("_links", "next", "href"))

BASE_PATH = "/v1/channel-manager/whatsapp/wabas/{waba_id}"
WABA_ID = Param(
    "waba_id",
    identifier(r"\d{1,32}", "the numeric ID of the WhatsApp Business Account, e.g. '345688589250625'"),
    send_as="{path}",
    required=True,
)
TEMPLATE_IDS = id_list(r"\d{1,32}", "a numeric template ID such as '458951126288942'", required=True)
PHONE_NUMBERS = id_list(r"\+?\d{5,20}", "a phone number in E.164 digits such as '16505550111'")
COUNTRY_CODES = id_list(r"[A-Z]{2}", "a two-letter country code such as 'US'", upper=True)
TIERS = id_list(r"\d+:\d*", "a tier as 'lower:upper', e.g. '0:100000'")


def _analytics(
    name: str, *params: Param, provenance: Mapping[str, str] | None = None, **fields: Any
) -> Endpoint:
    """A Vonage analytics endpoint: ``GET {BASE_PATH}/<name>`` for the WABA in the path, end-inclusive
    dates in requests of at most 90 days, every page by its links, the documented retention."""
    return Endpoint(
        vendor="vonage",
        vendor_name="Vonage",
        name=name,
        method="GET",
        path=f"{BASE_PATH}/{name}",
        params=(WABA_ID, *params),
        window=Dates(("start", "end"), max_days=MAX_DAYS),
        paginator=PAGINATOR,
        retention_days=DEFAULT_RETENTION_DAYS,
        provenance={"waba_id": "waba_id", **(provenance or {})},
        default_concurrency=4,
        **fields,
    )


MESSAGING = _analytics(
    "messaging-analytics",
    Param("granularity", choice(GRANULARITIES), default="DAILY"),
    # The document names this filter `phone_number` (singular) for this endpoint.
    Param("phone_numbers", PHONE_NUMBERS, send_as="phone_number", encode=query_array),
    Param("product_types", choices(PRODUCT_TYPES), encode=query_array),
    Param("country_codes", COUNTRY_CODES, encode=query_array),
    rows=tables.messaging_tables,
    schemas=tables.MESSAGING_DEFINITIONS,
    provenance={
        "phone_numbers": "phone_numbers",
        "country_codes": "country_codes",
        "product_types": "product_types",
    },
    default_lookback_days=2,
    summary="lookback 2 days: delivery receipts of a day's messages keep arriving after the day ends",
)
TEMPLATE = _analytics(
    "template-analytics",
    Param("granularity", choice(TEMPLATE_GRANULARITIES), default="DAILY"),
    Param("template_ids", TEMPLATE_IDS, encode=query_array, required=True),
    Param("metric_types", choices(METRIC_TYPES), encode=query_array),
    batch=Batches("template_ids", MAX_TEMPLATE_IDS),
    rows=tables.template_tables,
    schemas=tables.TEMPLATE_DEFINITIONS,
    default_lookback_days=7,
    summary="lookback 7 days: the Meta template analytics behind it restate a day's deliveries, reads and "
    "clicks for days",
)
PRICING = _analytics(
    "pricing-analytics",
    Param("granularity", choice(GRANULARITIES, optional=True), default="DAILY"),
    Param("phone_numbers", PHONE_NUMBERS, encode=query_array),
    Param("country_codes", COUNTRY_CODES, encode=query_array),
    Param("dimensions", choices(DIMENSIONS), encode=query_array),
    Param("tiers", TIERS, send_as="tier", encode=query_array),  # documented as `tier`
    rows=tables.pricing_tables,
    schemas=tables.PRICING_DEFINITIONS,
    default_lookback_days=0,
    summary="lookback 0: billed conversation volumes are a snapshot, fixed when billed",
)
ENABLE_INSIGHTS_PATH = f"{BASE_PATH}/enable_insights"


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
    ``retention_days`` (default 90, the documented lookback) is how far back a request may start.

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

    def classify_error(
        self, status: int, code: str | None, message: str | None, details: Any
    ) -> type[WaAnalyticsError] | None:
        return classify(status, code, message, details)

    def credentials(self) -> list[str]:
        return [*super().credentials(), *([self.connection.login] if self.connection.login else [])]

    def rate_account(self) -> str:  # the application id (JWT), else the API key (login)
        return str(self.conn_extra("application_id") or "").strip() or self.connection.login or ""

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

    def explain(self, query: Query) -> Any:
        return self.explained(query["waba_id"])

    # -- endpoints (thin calls to the engine; the operators plan whole windows) -------------------
    def iter_messaging_analytics(
        self, waba_id: str, start: dt.date, end: dt.date, granularity: str = "DAILY", **filters: Any
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/messaging-analytics``: every page of one date range (inclusive).

        ``filters`` (keywords): ``phone_numbers``, ``product_types``, ``country_codes``.
        """
        return self.run_once(MESSAGING, (start, end), waba_id=waba_id, granularity=granularity, **filters)

    def iter_template_analytics(
        self, waba_id: str, start: dt.date, end: dt.date, template_ids: Sequence[str], **filters: Any
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/template-analytics``: every page for at most 10 templates.

        ``filters`` (keywords): ``metric_types``.
        """
        return self.run_once(TEMPLATE, (start, end), waba_id=waba_id, template_ids=template_ids, **filters)

    def iter_pricing_analytics(
        self, waba_id: str, start: dt.date, end: dt.date, granularity: str | None = "DAILY", **filters: Any
    ) -> Iterator[ApiResponse]:
        """``GET .../wabas/{waba_id}/pricing-analytics``: every page, optionally broken down by dimensions.

        ``filters`` (keywords): ``phone_numbers``, ``country_codes``, ``dimensions``, ``tiers``.
        """
        return self.run_once(PRICING, (start, end), waba_id=waba_id, granularity=granularity, **filters)

    def _path(self, template: str, waba_id: Any) -> str:
        return template.format(waba_id=WABA_ID.check(waba_id, "waba_id"))

    def enable_insights(self, waba_id: str) -> None:
        """``PATCH .../wabas/{waba_id}/enable_insights``: once per WABA; calling it again is harmless.

        The document only promises 200; an "already enabled" 400/409 is taken as success too.
        """
        try:
            with self.explained(waba_id):
                self.client.request(
                    PageRequest("PATCH", self._path(ENABLE_INSIGHTS_PATH, waba_id), expect_body=False)
                )
        except WaAnalyticsError as exc:
            if exc.status not in (400, 409) or "already" not in str(exc).lower():
                raise
            self.log.info("Insights were already enabled for WABA %s.", waba_id)

    # -- insights availability (the sensor polls it, the trigger sends the same request) ------------
    def insights_probe(self, waba_id: str, template_id: str) -> PageRequest:
        """The cheapest request that only succeeds once template analytics can be retrieved."""
        today = dt.datetime.now(dt.timezone.utc).date()
        query = TEMPLATE.query({"waba_id": waba_id, "granularity": "DAILY", "template_ids": [template_id]})
        return TEMPLATE.first_request(query, Call("probe", date_window(today - dt.timedelta(days=1), today)))

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
