"""Hook for Kaleyra WhatsApp template analytics (``kaleyra_whatsapp``), with its parameter checks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from airflow_provider_wa_analytics.client import ApiResponse, PageRequest
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
from airflow_provider_wa_analytics.params import as_list

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
#: "Data is returned ... with a lookback of up to 90 days." Overridable by the ``lookback_days`` extra.
DEFAULT_LOOKBACK_DAYS = 90
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


def _id_list(value: Any, param: str) -> list[str]:
    """A list of ids from a list, a comma-separated string or a rendered JSON list."""
    value = as_list(value, param)
    out: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise InvalidParameterError(f"`{param}[{i}]` must be a string or an integer, got {item!r}.")
        text = str(item).strip()
        if not text or "," in text:
            raise InvalidParameterError(
                f"`{param}[{i}]` must be one non-empty id without commas, got {item!r}."
            )
        out.append(text)
    return out


def check_template_ids(template_ids: Any) -> list[str]:
    """The template ids to request, in order, without duplicates (a duplicate would double its rows)."""
    ids = list(dict.fromkeys(_id_list(template_ids, "template_ids")))
    if not ids:
        raise InvalidParameterError("`template_ids` is mandatory: give at least one WhatsApp template id.")
    return ids


def check_waba_id(waba_id: Any) -> str:
    if isinstance(waba_id, bool) or not isinstance(waba_id, (str, int)) or not str(waba_id).strip():
        raise InvalidParameterError(f"`waba_id` must be the WhatsApp Business Account id, got {waba_id!r}.")
    text = str(waba_id).strip()
    if "/" in text:
        raise InvalidParameterError(f"`waba_id` must not contain '/', got {waba_id!r}.")
    return text


def check_granularity(granularity: Any) -> str:
    value = str(granularity or "").strip().upper()
    if value not in GRANULARITIES:
        raise InvalidParameterError(
            f"`granularity` must be one of {', '.join(GRANULARITIES)}, got {granularity!r}."
        )
    return value


def check_product_type(product_type: Any) -> str | None:
    if product_type in (None, ""):
        return None  # the API then returns Cloud API analytics only
    value = str(product_type).strip().upper()
    if value not in PRODUCT_TYPES:
        raise InvalidParameterError(
            f"`product_type` must be one of {', '.join(PRODUCT_TYPES)} (or omitted for CLOUD_API), "
            f"got {product_type!r}."
        )
    return value


def check_metric_types(metric_types: Any) -> list[str]:
    """Upper-cased metric types; empty means all of them."""
    if metric_types in (None, "", []):
        return []
    values = [item.upper() for item in _id_list(metric_types, "metric_types")]
    for value in values:
        if value not in METRIC_TYPES:
            raise InvalidParameterError(
                f"`metric_types`: invalid metric type {value!r}; allowed values are: "
                f"{', '.join(METRIC_TYPES)}."
            )
    return list(dict.fromkeys(values))


def check_positive_int(value: Any, param: str, *, optional: bool = True) -> int | None:
    if value in (None, "") and optional:
        return None
    try:
        number = int(value)
        if isinstance(value, bool) or str(number) != str(value).strip():
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidParameterError(f"`{param}` must be a positive integer, got {value!r}.") from None
    if number < 1:
        raise InvalidParameterError(f"`{param}` must be a positive integer, got {value!r}.")
    return number


def check_dates(start_date: dt.date, end_date: dt.date, lookback_days: int, today: dt.date) -> None:
    """The documented 90-day lookback (UTC days) and an end not before the start."""
    if end_date < start_date:
        raise InvalidParameterError(
            f"`end_date` ({end_date}) must not be before `start_date` ({start_date})."
        )
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        raise InvalidParameterError(
            f"`start_date`..`end_date` covers {(end_date - start_date).days + 1} days; one request covers "
            f"at most {MAX_RANGE_DAYS} (the operator splits longer windows)."
        )
    earliest = today - dt.timedelta(days=lookback_days)
    if start_date < earliest:
        raise InvalidParameterError(
            f"`start` ({start_date}) is outside Kaleyra's {lookback_days}-day lookback: template analytics "
            f"exist from {earliest} (today {today} UTC minus {lookback_days} days) onwards. Move `start` "
            "on or after that date (backfills of older intervals cannot be served)."
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
    ``pod`` = ``in`` (default), ``sg``, ``eu`` or ``na``; extra ``lookback_days`` (default 90);
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

    def __init__(self, kaleyra_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(kaleyra_conn_id, **kwargs)

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

    @property
    def sid(self) -> str:
        return self.secret(self.connection.login, "login (the account SID)").strip()

    def rate_account(self) -> str:  # the account SID
        return self.connection.login or ""

    @property
    def lookback_days(self) -> int:
        days = check_positive_int(self.conn_extra("lookback_days"), "lookback_days")
        return DEFAULT_LOOKBACK_DAYS if days is None else days

    def base_url(self) -> str:
        pod = self.pod  # checked even when `host` overrides it: a typo should not wait for a pod change
        if (self.connection.host or "").strip():
            return super().base_url()
        return f"https://{POD_DOMAINS[pod]}"

    def get_auth(self) -> requests.auth.AuthBase:
        return _KaleyraAuth("api-key", self.secret(self.connection.password, "password (the API key)"))

    def analytics_path(self, waba_id: str) -> str:
        return f"/v2/{quote(self.sid, safe='')}/whatsapp/{quote(waba_id, safe='')}/templates_analytics"

    # -- template analytics ---------------------------------------------------------------------
    def template_analytics_request(
        self,
        waba_id: str,
        template_ids: Sequence[str],
        start_date: dt.date,
        end_date: dt.date,
        *,
        granularity: str = "DAILY",
        product_type: str | None = None,
        metric_types: Sequence[str] | None = None,
        limit: int | None = None,
        today: dt.date | None = None,
    ) -> PageRequest:
        """The first page's request, every parameter checked (lookback included) before anything is sent."""
        waba_id = check_waba_id(waba_id)
        ids = check_template_ids(template_ids)
        check_dates(
            start_date, end_date, self.lookback_days, today or dt.datetime.now(dt.timezone.utc).date()
        )
        params: list[tuple[str, str]] = [
            ("whatsapp_template_ids", ",".join(ids)),
            ("start_date", start_date.isoformat()),
            ("end_date", end_date.isoformat()),
            ("granularity", check_granularity(granularity)),
        ]
        product = check_product_type(product_type)
        if product:
            params.append(("product_type", product))
        metrics = check_metric_types(metric_types)
        if metrics:
            params.append(("metric_types", ",".join(metrics)))
        page_size = check_positive_int(limit, "limit")
        if page_size is not None:
            params.append(("limit", str(page_size)))
        return PageRequest("GET", self.analytics_path(waba_id), tuple(params))

    def iter_template_analytics(
        self,
        waba_id: str,
        template_ids: Sequence[str],
        start_date: dt.date,
        end_date: dt.date,
        **options: Any,
    ) -> Iterator[ApiResponse]:
        """``GET /v2/{sid}/whatsapp/{waba_id}/templates_analytics``: every page, following ``after``.

        ``options``: ``granularity``, ``product_type``, ``metric_types``, ``limit`` (page size).
        """
        first = self.template_analytics_request(waba_id, template_ids, start_date, end_date, **options)
        with _insights_errors():
            yield from self.client.paginate(first, PAGINATOR)

    def check_connection(self) -> None:
        """Ask for one day of analytics; only the credential and account errors fail the check.

        The analytics endpoint is the only one documented, and it needs a WABA: the extra ``waba_id``
        when the connection has one, else a placeholder whose "WABA not in the account" (WA401 after
        the SID and key were accepted) means the credentials work. The placeholder template id lets
        the request reach Meta, so a WABA without template insights is reported as such.
        """
        waba_id = self.conn_extra("waba_id")
        day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).date().isoformat()
        probe = PageRequest(
            "GET",
            self.analytics_path(check_waba_id(waba_id) if waba_id else PROBE_ID),
            (
                ("whatsapp_template_ids", PROBE_ID),
                ("start_date", day),
                ("end_date", day),
                ("granularity", "DAILY"),
                ("limit", "1"),
            ),
        )
        try:
            with _insights_errors():
                self.client.request(probe)
        except AuthenticationError as exc:
            if waba_id or exc.code != "WA401":
                raise
        except ValidationError:
            pass  # the SID, key and WABA were accepted; the probe's parameters need not be
