"""Hooks for Insider One: WhatsApp statistics (``insider_whatsapp``) and Web Push (``insider_webpush``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from airflow_provider_wa_analytics.client import ApiResponse
from airflow_provider_wa_analytics.exceptions import (
    AuthenticationError,
    ForbiddenError,
    InvalidParameterError,
    RateLimitedError,
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
