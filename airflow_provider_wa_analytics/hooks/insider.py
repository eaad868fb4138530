"""Insider One (``insider_whatsapp``, ``insider_webpush``): the endpoints, their auth and errors, hooks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from airflow_provider_wa_analytics.client import ApiResponse
from airflow_provider_wa_analytics.endpoints import (
    Batches,
    Dates,
    Endpoint,
    Epochs,
    Param,
    Query,
    as_list,
    id_list,
    optional_text,
)
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.hooks.base import HeaderAuth, WaAnalyticsHook
from airflow_provider_wa_analytics.tables import insider_webpush, insider_whatsapp

CAMPAIGN_TYPE_IDS = ("all", 1, 2, 3, 5, 6)
STATUSES = ("all", "active", "test", "passive", "completed", "failed", "scheduled", "draft", "stop")
CAMPAIGN_FILTER_KEYS = ("campaign_type_ids", "statuses", "accounts", "tags", "show_architect")

#: The longest range one statistics request may cover ("The maximum supported range is 1 year").
MAX_RANGE = dt.timedelta(days=365)
#: The earliest start the transactional endpoint accepts (its documented 422 "time.start").
TRANSACTIONAL_MIN_START = 1514764800
ACCOUNTS = id_list(r".*\S.*", "a sender phone number string such as '+905xxxxxxxxx'", kinds=(str,))
CAMPAIGN_METRICS_PATH = "/v1/statistics/campaign-metrics"


def check_campaign_filter(campaign_filter: Any, param: str = "campaign_filter") -> dict[str, Any] | None:
    """Validate ``campaign_filter`` as the vendor would and return the body to send."""
    if campaign_filter is None or campaign_filter == {}:
        return None
    if isinstance(campaign_filter, str):  # a rendered template without render_template_as_native_obj
        try:
            campaign_filter = json.loads(campaign_filter)
        except ValueError:
            raise InvalidParameterError(
                f"`campaign_filter` must be a dict (or its JSON), got {campaign_filter!r}."
            ) from None
    if not isinstance(campaign_filter, Mapping):
        raise InvalidParameterError(
            f"`campaign_filter` must be a dict, got {type(campaign_filter).__name__}."
        )
    unknown = sorted(set(campaign_filter) - set(CAMPAIGN_FILTER_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"`campaign_filter` has unknown key(s) {', '.join(unknown)}; allowed keys are: "
            f"{', '.join(CAMPAIGN_FILTER_KEYS)}."
        )
    body: dict[str, Any] = {}
    if "campaign_type_ids" in campaign_filter:
        ids = []
        for value in as_list(campaign_filter["campaign_type_ids"], "campaign_filter.campaign_type_ids"):
            normal = value
            if isinstance(value, str) and value.strip().isdigit():
                normal = int(value)
            if isinstance(normal, bool) or normal not in CAMPAIGN_TYPE_IDS:
                raise InvalidParameterError(
                    f"`campaign_filter.campaign_type_ids`: invalid campaign_type_id: {value}, allowed values "
                    f"are: {', '.join(map(str, CAMPAIGN_TYPE_IDS))}."
                )
            ids.append(normal)
        body["campaign_type_ids"] = ids
    if "statuses" in campaign_filter:
        statuses = as_list(campaign_filter["statuses"], "campaign_filter.statuses")
        for value in statuses:
            if value not in STATUSES:
                raise InvalidParameterError(
                    f"`campaign_filter.statuses`: invalid status: {value}, allowed values are: "
                    f"{', '.join(STATUSES)}."
                )
        body["statuses"] = statuses
    if "accounts" in campaign_filter:
        body["accounts"] = ACCOUNTS(campaign_filter["accounts"], "campaign_filter.accounts")
    if "tags" in campaign_filter:
        tags = as_list(campaign_filter["tags"], "campaign_filter.tags")
        for i, tag in enumerate(tags):
            if isinstance(tag, bool) or not isinstance(tag, (int, str)) or tag == "":
                raise InvalidParameterError(
                    f"`campaign_filter.tags`: tag at index {i} must be a string or integer, got {tag!r}."
                )
        body["tags"] = tags
    if "show_architect" in campaign_filter:
        show = campaign_filter["show_architect"]
        if not isinstance(show, bool):
            raise InvalidParameterError(
                f"`campaign_filter.show_architect` must be true or false, got {show!r}."
            )
        body["show_architect"] = show
    return body


def _statistics(
    name: str,
    param: Param,
    account: str,
    earliest: int | None = None,
    earliest_reason: str = "",
    **fields: Any,
) -> Endpoint:
    """A WhatsApp statistics endpoint: ``POST /v1/statistics/<name>`` of a window in epoch seconds (a year
    at most), whose figures are totals over it (so asked one day at a time under ``{date}``) and still
    move for about three days. ``account``: the argument the ``account`` provenance column shows."""
    return Endpoint(
        vendor="insider_whatsapp",
        vendor_name="Insider One",
        name=f"statistics/{name}",
        method="POST",
        path=f"/v1/statistics/{name}",
        params=(param,),
        window=Epochs(
            ("start_time", "end_time"),
            MAX_RANGE,
            longest="1 year",
            earliest=earliest,
            earliest_reason=earliest_reason,
        ),
        provenance={"account": account},
        aggregates_window=True,
        default_lookback_days=3,
        **fields,
    )


OVERALL = _statistics(
    "overall",
    Param("campaign_filter", check_campaign_filter),
    account="campaign_filter.accounts",
    rows=insider_whatsapp.overall_tables,
    schemas=insider_whatsapp.OVERALL_DEFINITIONS,
    summary="lookback 3 days: Insider keeps counting deliveries (`delivery_pending`), reads, clicks and "
    "conversions for days after a campaign sends",
)
TRANSACTIONAL = _statistics(
    "transactional",
    Param("accounts", ACCOUNTS),
    account="accounts",
    earliest=TRANSACTIONAL_MIN_START,
    earliest_reason="the earliest date Insider One keeps transactional statistics for (its documented 422 "
    "on time.start)",
    rows=insider_whatsapp.transactional_tables,
    schemas=insider_whatsapp.TRANSACTIONAL_DEFINITIONS,
    summary="lookback 3 days: deliveries, reads and clicks of transactional messages keep arriving for "
    'days (Insider\'s "Delivery Pending")',
)
CAMPAIGN_METRICS = Endpoint(
    vendor="insider_webpush",
    vendor_name="Insider One",
    name="statistics/campaign-metrics",
    method="POST",
    path=CAMPAIGN_METRICS_PATH,
    params=(
        Param("partner_id", optional_text, connection=True),
        Param(
            "campaign_ids",
            id_list(r"\d+", "a numeric campaign ID (the builderId, e.g. '11111')"),
            send_as="campaign_id",
            encode=lambda ids: ids[0],  # one campaign per request
            required=True,
        ),
    ),
    # One request per campaign for the whole window: the endpoint documents no longest range.
    window=Dates(("start_date", "end_date")),
    batch=Batches("campaign_ids", 1),
    rows=insider_webpush.campaign_metrics_tables,
    provenance={
        "partner_id": "partner_id",
        "campaign_id": "campaign_ids",
        "start_date": "start_date",
        "end_date": "end_date",
    },
    schemas=insider_webpush.DEFINITIONS,
    aggregates_window=True,
    default_lookback_days=3,
    summary="lookback 3 days: Web Push deliveries, clicks, conversions and revenue are attributed for days "
    "after the send; each re-fetched day costs one request per campaign at 30 requests a minute",
)


class InsiderWhatsAppHook(WaAnalyticsHook):
    """Insider One WhatsApp campaign statistics.

    Connection ``insider_whatsapp``: the password is the API key, sent as ``x-ins-auth-key``.

    :param insider_whatsapp_conn_id: the Airflow connection id.
    """

    conn_name_attr = "insider_whatsapp_conn_id"
    default_conn_name = "insider_whatsapp_default"
    conn_type = "insider_whatsapp"
    hook_name = "Insider One WhatsApp"
    vendor = "insider_whatsapp"
    default_host = "https://whatsapp.useinsider.com"
    default_rate_limit = 100.0  # "You can send 100 requests per second with the same API Key."
    error_codes: ClassVar[Mapping[str, type[WaAnalyticsError]]] = {
        "3001": ValidationError,
        "3002": ValidationError,
        "1001": AuthenticationError,
        "1088": ForbiddenError,
        "3007": ForbiddenError,
        "3005": ForbiddenError,
        "2021": RateLimitedError,
    }

    def get_auth(self) -> requests.auth.AuthBase:
        return HeaderAuth("x-ins-auth-key", self.secret(self.connection.password, "password (the API key)"))

    def overall_statistics(
        self, start_time: int, end_time: int, campaign_filter: Mapping[str, Any] | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/overall``: chart, summary and per-campaign details of a range."""
        return next(self.run_once(OVERALL, (start_time, end_time), campaign_filter=campaign_filter))

    def transactional_statistics(
        self, start_time: int, end_time: int, accounts: list[str] | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/transactional``: figures of transactional (type 5) campaigns."""
        return next(self.run_once(TRANSACTIONAL, (start_time, end_time), accounts=accounts))

    def check_connection(self) -> None:
        now = int(dt.datetime.now(dt.timezone.utc).timestamp())
        self.overall_statistics(now - 3600, now)


class InsiderWebPushHook(WaAnalyticsHook):
    """Insider One Web Push campaign metrics.

    Connection ``insider_webpush``: the password is the API token (``Authorization: Bearer``), the
    login the partner ID.

    :param insider_webpush_conn_id: the Airflow connection id.
    """

    conn_name_attr = "insider_webpush_conn_id"
    default_conn_name = "insider_webpush_default"
    conn_type = "insider_webpush"
    hook_name = "Insider One Web Push"
    vendor = "insider_webpush"
    default_host = "https://web-push.api.useinsider.com"
    default_rate_limit = 0.5  # "The rate limit is 30 requests per minute."

    def get_auth(self) -> requests.auth.AuthBase:
        token = self.secret(self.connection.password, "password (the API token)")
        return HeaderAuth("Authorization", f"Bearer {token}")

    # -- Web Push campaign metrics --------------------------------------------------------------
    def classify_error(
        self, status: int, code: str | None, message: str | None, details: Any
    ) -> type[WaAnalyticsError] | None:
        """Web Push errors carry only a message. A 424 means "campaign not found" or "an upstream
        service dependency failed": only the first is a missing campaign; the second is retried.
        """
        if status == 424:
            return NotFoundError if "not found" in (message or "").lower() else ServerError
        return None

    def partner_id(self, partner_id: Any = None) -> str:
        """The partner ID to send: the argument when given, else the connection's login."""
        value = partner_id if partner_id not in (None, "") else self.connection.login
        if value in (None, "") or isinstance(value, bool) or not str(value).strip():
            raise InvalidParameterError(
                f"`partner_id` is not set: pass `partner_id` or set the login of connection {self.conn_id!r} "
                "to the partner ID (InOne Settings > Account Settings)."
            )
        return str(value).strip()

    def complete(self, query: Query) -> Query:
        return query.with_values(partner_id=self.partner_id(query["partner_id"]))

    def check_page(self, endpoint: Endpoint, page: ApiResponse) -> None:
        data = page.data
        if isinstance(data, Mapping) and data.get("success") is False:
            # Undocumented, but the body has the flag: a 200 that says it failed is not data.
            raise WaAnalyticsError(
                f"POST {endpoint.path} answered {page.status} with success=false: "
                f"{self.client.scrub(str(data.get('message') or 'no message'))[:300]}",
                vendor=self.vendor,
                status=page.status,
            )

    def campaign_metrics(
        self, campaign_id: Any, start_date: Any, end_date: Any, partner_id: str | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/campaign-metrics``: one campaign's metrics over end-inclusive dates.

        Raises :class:`NotFoundError` when the campaign does not exist (424).
        """
        return next(
            self.run_once(
                CAMPAIGN_METRICS, (start_date, end_date), campaign_ids=[campaign_id], partner_id=partner_id
            )
        )

    def check_connection(self) -> None:
        """One request for a campaign ID that cannot exist: its 424 "not found" proves the token works."""
        today = dt.datetime.now(dt.timezone.utc).date()
        try:
            self.campaign_metrics("0", today, today)
        except NotFoundError:
            return
