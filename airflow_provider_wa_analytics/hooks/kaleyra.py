"""Kaleyra WhatsApp template analytics (``kaleyra_whatsapp``): the endpoint, its auth and errors, the hook."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

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
    comma_joined,
    date_window,
    id_list,
    identifier,
    whole_number,
)
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    InsightsNotEnabledError,
    InvalidParameterError,
    ServerError,
    ValidationError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.hooks.base import HeaderAuth, WaAnalyticsHook
from airflow_provider_wa_analytics.paging import CursorPaginator
from airflow_provider_wa_analytics.tables import kaleyra as tables

#: Pod (connection extra ``pod``) -> API domain, from the vendor's "API Domain and Value" table.
POD_DOMAINS = {
    "in": "api.in.kaleyra.io",
    "sg": "api.ap.kaleyra.io",
    "eu": "api.eu.kaleyra.io",
    "na": "api.na.kaleyra.io",
}
DEFAULT_POD = "in"
GRANULARITIES = ("DAILY",)  # "Only daily is supported in this API."
METRIC_TYPES = ("SENT", "DELIVERED", "READ", "CLICKED", "REPLIED")
#: The doc shows only CLOUD_API; Meta's template analytics also serve Marketing Messages Lite.
PRODUCT_TYPES = ("CLOUD_API", "MARKETING_MESSAGES_LITE_API")
#: "Data is returned ... with a lookback of up to 90 days." Overridable by the ``retention_days`` extra.
DEFAULT_RETENTION_DAYS = 90
#: Longest date range of one request (Meta's template analytics refuse start/end more than 90 days apart).
MAX_RANGE_DAYS = 90
#: Kaleyra documents no maximum; Meta's template_analytics, which it forwards to, takes 10 ids at most.
TEMPLATES_PER_REQUEST = 10
#: Meta's message when the WABA has not confirmed template insights (passed through in a WA400).
INSIGHTS_NOT_ENABLED = "template insights are not available yet"
#: WABA and template id of the connection probe when the connection names no WABA (no WABA has it).
PROBE_ID = "0"

#: ``paging`` sits at the top level or inside ``data[0]`` depending on the response (doc samples disagree).
PAGINATOR = CursorPaginator(
    "after",
    ("paging", "cursors", "after"),
    ("data", 0, "paging", "cursors", "after"),
)
#: The documented forms: SID ``HXAP16XXXXXX97IN`` (letters and digits), WABA id ``1090XXXXXXXXXXXX``.
SID = identifier(r"[A-Za-z0-9]{1,64}", "the account SID (letters and digits, e.g. 'HXAP16XXXXXX97IN')")
WABA_ID = identifier(r"\d{1,32}", "the numeric WhatsApp Business Account id, e.g. '109000000000001'")

TEMPLATE_ANALYTICS = Endpoint(
    vendor="kaleyra",
    vendor_name="Kaleyra",
    name="templates_analytics",
    method="GET",
    path="/v2/{sid}/whatsapp/{waba_id}/templates_analytics",
    params=(
        Param("sid", SID, send_as="{path}", connection=True, argument=False),
        Param("waba_id", WABA_ID, send_as="{path}", required=True),
        Param(
            "template_ids",
            id_list(r"[^,\s]{1,128}", "one non-empty template id without commas or spaces", required=True),
            send_as="whatsapp_template_ids",
            encode=comma_joined,
            required=True,
        ),
        Param("granularity", choice(GRANULARITIES), default="DAILY"),
        Param("product_type", choice(PRODUCT_TYPES, optional=True)),  # omitted: Cloud API only
        Param("metric_types", choices(METRIC_TYPES), encode=comma_joined),
        Param("limit", whole_number(optional=True)),
    ),
    window=Dates(("start_date", "end_date"), max_days=MAX_RANGE_DAYS),
    batch=Batches("template_ids", TEMPLATES_PER_REQUEST, size_param="templates_per_request"),
    paginator=PAGINATOR,
    rows=tables.template_analytics_tables,
    schemas=tables.DEFINITIONS,
    default_lookback_days=7,
    summary="lookback 7 days: Kaleyra serves Meta's template analytics, which restate a day's deliveries, "
    "reads, replies and clicks for days",
    retention_days=DEFAULT_RETENTION_DAYS,
    provenance={"waba_id": "waba_id"},
    default_concurrency=4,
)


@contextmanager
def _insights_errors() -> Iterator[None]:
    """Say what to do when Meta has no template insights for the WABA yet."""
    try:
        yield
    except InsightsNotEnabledError as exc:
        raise exc.with_hint(
            "confirm template analytics for the WABA in WhatsApp Manager, then retry"
        ) from None


class _KaleyraAuth(HeaderAuth):
    """``api-key`` plus the ``Content-Type: application/json`` the doc marks mandatory, even on GET."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.setdefault("Content-Type", "application/json")
        return super().__call__(r)


class KaleyraWhatsAppHook(WaAnalyticsHook):
    """Kaleyra WhatsApp template analytics.

    Connection ``kaleyra_whatsapp``: login = SID, password = API key (sent as ``api-key``), extra
    ``pod`` = ``in`` (default), ``sg``, ``eu`` or ``na``; extra ``retention_days`` (default 90);
    ``host`` replaces the pod's domain.

    :param kaleyra_conn_id: the Airflow connection id.
    """

    conn_name_attr = "kaleyra_conn_id"
    default_conn_name = "kaleyra_whatsapp_default"
    conn_type = "kaleyra_whatsapp"
    hook_name = "Kaleyra WhatsApp"
    vendor = "kaleyra"
    default_host = f"https://{POD_DOMAINS[DEFAULT_POD]}"
    default_rate_limit = 10.0  # Kaleyra documents no limit for this API; a polite client-side pace
    error_codes: ClassVar[Mapping[str, type[WaAnalyticsError]]] = {
        "WA400": ValidationError,  # Meta's own message is in `error`; see classify_error
        "RBC001": AuthenticationError,  # "Incorrect SID or API key."
        "WA-401": AuthenticationError,  # "API is not available for given customer"
        "WA401": AuthenticationError,  # WABA not in the account, or on another API version
        "WA-500": ServerError,  # "Please try again later": retried
    }

    def classify_error(
        self, status: int, code: str | None, message: str | None, details: Any
    ) -> type[WaAnalyticsError] | None:
        """Meta's "Template Insights are not available yet" arrives as a WA400: its own error."""
        text = f"{message} {json.dumps(details, default=str)}".lower()
        return InsightsNotEnabledError if code == "WA400" and INSIGHTS_NOT_ENABLED in text else None

    # -- connection -----------------------------------------------------------------------------
    @property
    def pod(self) -> str:
        raw = self.conn_extra("pod", DEFAULT_POD)
        pod = str(raw).strip().lower()
        if pod not in POD_DOMAINS:
            raise InvalidParameterError(
                f"Connection {self.conn_id!r}: extra `pod` must be one of {', '.join(POD_DOMAINS)}, "
                f"got {raw!r}."
            )
        return pod

    def rate_account(self) -> str:  # the account SID
        return self.connection.login or ""

    @property
    def sid(self) -> str:
        return SID(
            self.secret(self.connection.login, "login (the account SID)").strip(), "login (the account SID)"
        )

    def base_url(self) -> str:
        pod = self.pod  # checked even when `host` overrides it: a typo should not wait for a pod change
        if (self.connection.host or "").strip():
            return super().base_url()
        return f"https://{POD_DOMAINS[pod]}"

    def get_auth(self) -> requests.auth.AuthBase:
        return _KaleyraAuth("api-key", self.secret(self.connection.password, "password (the API key)"))

    def complete(self, query: Query) -> Query:
        return query if query["sid"] else query.with_values(sid=self.sid)

    def explain(self, query: Query) -> Any:
        return _insights_errors()

    # -- template analytics (thin calls to the engine; the operator plans whole windows) ----------
    def template_analytics_request(
        self,
        waba_id: str,
        template_ids: Sequence[str],
        start_date: dt.date,
        end_date: dt.date,
        **options: Any,
    ) -> PageRequest:
        """The first page's request, every parameter checked (retention included) before anything is sent."""
        query, call = self._plan(waba_id, template_ids, start_date, end_date, options)
        return TEMPLATE_ANALYTICS.first_request(self.complete(query), call)

    def iter_template_analytics(
        self,
        waba_id: str,
        template_ids: Sequence[str],
        start_date: dt.date,
        end_date: dt.date,
        **options: Any,
    ) -> Iterator[ApiResponse]:
        """``GET /v2/{sid}/whatsapp/{waba_id}/templates_analytics``: every page, following ``after``.

        ``options``: ``granularity``, ``product_type``, ``metric_types``, ``limit`` (page size). All
        ``template_ids`` go in the one request (Kaleyra documents no maximum; the operator batches).
        """
        return self.run(*self._plan(waba_id, template_ids, start_date, end_date, options))

    def _plan(
        self, waba_id: str, template_ids: Any, start: Any, end: Any, options: Any
    ) -> tuple[Query, Call]:
        arguments = {"waba_id": waba_id, "template_ids": template_ids, **options}
        return self.plan_once(TEMPLATE_ANALYTICS, (start, end), arguments, whole_batch=True)

    def check_connection(self) -> None:
        """Ask for one day of analytics; only the credential and account errors fail the check.

        The analytics endpoint is the only one documented, and it needs a WABA: the extra ``waba_id``
        when the connection has one, else a placeholder whose "WABA not in the account" (WA401 after
        the SID and key were accepted) means the credentials work. The placeholder template id lets
        the request reach Meta, so a WABA without template insights is reported as such.
        """
        waba_id = self.conn_extra("waba_id")
        day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).date()
        query = TEMPLATE_ANALYTICS.query(
            {"waba_id": waba_id or PROBE_ID, "template_ids": [PROBE_ID], "granularity": "DAILY", "limit": 1}
        )
        probe = TEMPLATE_ANALYTICS.first_request(self.complete(query), Call("probe", date_window(day, day)))
        try:
            with _insights_errors():
                self.client.request(probe)
        except AuthenticationError as exc:
            if waba_id or exc.code != "WA401":
                raise
        except ValidationError:
            pass  # the SID, key and WABA were accepted; the probe's parameters need not be
