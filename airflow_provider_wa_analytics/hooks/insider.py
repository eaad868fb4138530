"""Hooks for Insider One: WhatsApp statistics (``insider_whatsapp``) and Web Push (``insider_webpush``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from airflow_provider_wa_analytics.client import ApiResponse
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

CAMPAIGN_TYPE_IDS = ("all", 1, 2, 3, 5, 6)
STATUSES = ("all", "active", "test", "passive", "completed", "failed", "scheduled", "draft", "stop")
CAMPAIGN_FILTER_KEYS = ("campaign_type_ids", "statuses", "accounts", "tags", "show_architect")

#: The longest range one statistics request may cover ("The maximum supported range is 1 year").
MAX_RANGE = dt.timedelta(days=365)
#: The earliest start the transactional endpoint accepts (its documented 422 "time.start").
TRANSACTIONAL_MIN_START = 1514764800


def _as_list(value: Any, param: str) -> list[Any]:
    if isinstance(value, str):
        raise InvalidParameterError(f"`{param}` must be a list, got the string {value!r}; write [{value!r}].")
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterError(f"`{param}` must be a list, got {type(value).__name__}.")
    return list(value)


def check_times(start_time: Any, end_time: Any) -> None:
    """The documented rules of ``start_time``/``end_time``, in the vendor's words."""
    for name, value in (("start_time", start_time), ("end_time", end_time)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1_000_000_000 <= value <= 9_999_999_999
        ):
            raise InvalidParameterError(f"`{name}` must be a 10-digit unix timestamp, got {value!r}.")
    if end_time <= start_time:
        raise InvalidParameterError(
            f"`end_time` must be greater than start_time ({end_time} <= {start_time})."
        )
    if end_time - start_time > MAX_RANGE.total_seconds():
        raise InvalidParameterError(
            f"The range from `start_time` to `end_time` cannot exceed 1 year ({MAX_RANGE.days} days); "
            "the operators split longer windows for you."
        )


def check_accounts(accounts: Any, param: str) -> list[str]:
    items = _as_list(accounts, param)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InvalidParameterError(
                f"`{param}[{i}]` must be a sender phone number string such as '+905xxxxxxxxx', got {item!r}."
            )
    return items


def check_campaign_filter(campaign_filter: Any) -> dict[str, Any] | None:
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
        for value in _as_list(campaign_filter["campaign_type_ids"], "campaign_filter.campaign_type_ids"):
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
        statuses = _as_list(campaign_filter["statuses"], "campaign_filter.statuses")
        for value in statuses:
            if value not in STATUSES:
                raise InvalidParameterError(
                    f"`campaign_filter.statuses`: invalid status: {value}, allowed values are: "
                    f"{', '.join(STATUSES)}."
                )
        body["statuses"] = statuses
    if "accounts" in campaign_filter:
        body["accounts"] = check_accounts(campaign_filter["accounts"], "campaign_filter.accounts")
    if "tags" in campaign_filter:
        tags = _as_list(campaign_filter["tags"], "campaign_filter.tags")
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

    def __init__(self, insider_whatsapp_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(insider_whatsapp_conn_id, **kwargs)

    def get_auth(self) -> requests.auth.AuthBase:
        return HeaderAuth("x-ins-auth-key", self.secret(self.connection.password, "password (the API key)"))

    def overall_statistics(
        self, start_time: int, end_time: int, campaign_filter: Mapping[str, Any] | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/overall``: chart, summary and per-campaign details of a range."""
        check_times(start_time, end_time)
        body: dict[str, Any] = {"start_time": start_time, "end_time": end_time}
        checked = check_campaign_filter(campaign_filter)
        if checked:
            body["campaign_filter"] = checked
        return self.post("/v1/statistics/overall", body)

    def transactional_statistics(
        self, start_time: int, end_time: int, accounts: list[str] | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/transactional``: figures of transactional (type 5) campaigns."""
        check_times(start_time, end_time)
        if start_time < TRANSACTIONAL_MIN_START:
            raise InvalidParameterError(
                f"`start_time` must be at least {TRANSACTIONAL_MIN_START} (2018-01-01T00:00:00Z) for "
                f"transactional statistics, got {start_time}."
            )
        body: dict[str, Any] = {"start_time": start_time, "end_time": end_time}
        if accounts:
            body["accounts"] = check_accounts(accounts, "accounts")
        return self.post("/v1/statistics/transactional", body)

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

    def __init__(self, insider_webpush_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(insider_webpush_conn_id, **kwargs)

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

    def campaign_metrics(
        self, campaign_id: Any, start_date: Any, end_date: Any, partner_id: str | None = None
    ) -> ApiResponse:
        """``POST /v1/statistics/campaign-metrics``: one campaign's metrics over end-inclusive dates.

        Raises :class:`NotFoundError` when the campaign does not exist (424).
        """
        dates = check_date_range(start_date, end_date)
        campaign = check_campaign_id(campaign_id, "campaign_id")
        body = {"partner_id": self.partner_id(partner_id), **dates, "campaign_id": campaign}
        response = self.post(CAMPAIGN_METRICS_PATH, body)
        data = response.data
        if isinstance(data, Mapping) and data.get("success") is False:
            # Undocumented, but the body has the flag: a 200 that says it failed is not data.
            raise WaAnalyticsError(
                f"POST {CAMPAIGN_METRICS_PATH} answered {response.status} with success=false: "
                f"{self.client.scrub(str(data.get('message') or 'no message'))[:300]}",
                vendor=self.vendor,
                status=response.status,
            )
        return response

    def check_connection(self) -> None:
        """One request for a campaign ID that cannot exist: its 424 "not found" proves the token works."""
        today = dt.datetime.now(dt.timezone.utc).date()
        try:
            self.campaign_metrics("0", today, today)
        except NotFoundError:
            return


CAMPAIGN_METRICS_PATH = "/v1/statistics/campaign-metrics"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_campaign_id(value: Any, param: str) -> str:
    """A campaign ID (the numeric ``builderId``) as the string the API takes."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise InvalidParameterError(
            f"`{param}` must be a numeric campaign ID (the builderId, e.g. '11111'), got {value!r}."
        )
    return text


def check_campaign_ids(value: Any) -> list[str]:
    """``campaign_ids`` as distinct ID strings in the given order.

    Also accepts the string a template renders a list to (``"['1', '2']"``, ``"[1, 2]"``, ``"1,2"``).
    """
    if isinstance(value, str):
        if not re.fullmatch(r"[\[\]()\s'\",0-9]*", value):
            raise InvalidParameterError(
                f"`campaign_ids` must be a list of numeric campaign IDs, got the string {value!r}."
            )
        value = re.findall(r"\d+", value)
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidParameterError(
            f"`campaign_ids` must be a list of numeric campaign IDs, got {type(value).__name__}."
        )
    ids = [check_campaign_id(item, f"campaign_ids[{i}]") for i, item in enumerate(value)]
    return list(dict.fromkeys(ids))


def check_date(value: Any, param: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidParameterError(f"`{param}` must be a date in YYYY-MM-DD format, got {value!r}.")


def check_date_range(start_date: Any, end_date: Any) -> dict[str, str]:
    """The documented date rules (YYYY-MM-DD, start not after end) as the body's two fields."""
    start, end = check_date(start_date, "start_date"), check_date(end_date, "end_date")
    if start > end:
        raise InvalidParameterError(
            f"`start_date` ({start.isoformat()}) must not be later than `end_date` ({end.isoformat()})."
        )
    return {"start_date": start.isoformat(), "end_date": end.isoformat()}
