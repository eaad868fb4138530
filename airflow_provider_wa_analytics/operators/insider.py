"""Operators for Insider One: WhatsApp overall and transactional statistics, Web Push campaign metrics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.hooks.insider import (
    MAX_RANGE,
    TRANSACTIONAL_MIN_START,
    InsiderWhatsAppHook,
    check_accounts,
    check_campaign_filter,
    check_times,
)
from airflow_provider_wa_analytics.operators.base import Call, Rows, WaAnalyticsOperator
from airflow_provider_wa_analytics.tables.insider_whatsapp import (
    OVERALL_TABLES,
    TRANSACTIONAL_TABLES,
    overall_tables,
    transactional_tables,
)
from airflow_provider_wa_analytics.windows import Window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiResponse


class _InsiderWhatsAppStatisticsOperator(WaAnalyticsOperator):
    hook_class = InsiderWhatsAppHook
    conn_id_param = "insider_whatsapp_conn_id"
    insider_whatsapp_conn_id: str

    def plan(self, window: Window) -> list[Call]:
        """One request per window of at most a year (the documented maximum range)."""
        calls = []
        for part in window.split(MAX_RANGE):
            check_times(*part.epoch)
            calls.append(Call(label=str(part), window=part))
        return calls

    def requested_accounts(self) -> list[str] | None:
        raise NotImplementedError

    def provenance(self, call: Call) -> dict[str, Any]:
        return {**super().provenance(call), "account": ",".join(self.requested_accounts() or []) or None}


class InsiderWhatsAppOverallStatisticsOperator(_InsiderWhatsAppStatisticsOperator):
    """Fetch Insider One WhatsApp overall statistics (``POST /v1/statistics/overall``).

    Tables: ``daily`` (chart), ``campaigns`` (details, drop and undelivered breakdowns as columns),
    ``campaign_tags``, ``campaign_responses`` (buttons of conversational campaigns) and ``summary``.
    Windows longer than a year are split into yearly requests.

    :param campaign_filter: the vendor's filter object: ``campaign_type_ids`` (``"all"`` or 1, 2, 3, 5,
        6), ``statuses``, ``accounts``, ``tags`` (ids and names mixed), ``show_architect``.
    :param insider_whatsapp_conn_id: connection of type ``insider_whatsapp``.
    """

    endpoint = "statistics/overall"
    tables = OVERALL_TABLES
    template_fields: Sequence[str] = (
        *WaAnalyticsOperator.template_fields,
        "campaign_filter",
        "insider_whatsapp_conn_id",
    )
    template_fields_renderers = {"campaign_filter": "json"}

    def __init__(
        self,
        *,
        campaign_filter: dict[str, Any] | None = None,
        insider_whatsapp_conn_id: str = InsiderWhatsAppHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_filter = campaign_filter
        self.insider_whatsapp_conn_id = insider_whatsapp_conn_id

    def validate(self) -> None:
        self._filter = check_campaign_filter(self.campaign_filter)

    def requested_accounts(self) -> list[str] | None:
        return (self._filter or {}).get("accounts")

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        assert call.window is not None
        yield hook.overall_statistics(*call.window.epoch, campaign_filter=self._filter)

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        return overall_tables(response.data, self.provenance(call))


class InsiderWhatsAppTransactionalStatisticsOperator(_InsiderWhatsAppStatisticsOperator):
    """Fetch Insider One WhatsApp transactional statistics (``POST /v1/statistics/transactional``).

    Tables: ``daily`` (chart) and ``summary`` (figures with drop and undelivered breakdowns). Windows
    longer than a year are split; the endpoint has no data before 2018-01-01.

    :param accounts: sender phone numbers to include (default: all).
    :param insider_whatsapp_conn_id: connection of type ``insider_whatsapp``.
    """

    endpoint = "statistics/transactional"
    tables = TRANSACTIONAL_TABLES
    template_fields: Sequence[str] = (
        *WaAnalyticsOperator.template_fields,
        "accounts",
        "insider_whatsapp_conn_id",
    )

    def __init__(
        self,
        *,
        accounts: list[str] | None = None,
        insider_whatsapp_conn_id: str = InsiderWhatsAppHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.accounts = accounts
        self.insider_whatsapp_conn_id = insider_whatsapp_conn_id

    def validate(self) -> None:
        if self.accounts:
            check_accounts(self.accounts, "accounts")

    def requested_accounts(self) -> list[str] | None:
        return self.accounts or None

    def plan(self, window: Window) -> list[Call]:
        if window.start.timestamp() < TRANSACTIONAL_MIN_START:
            raise InvalidParameterError(
                f"`start` ({window.start.isoformat()}) is before 2018-01-01T00:00:00Z, the earliest date "
                "Insider One keeps transactional statistics for (its documented 422 on time.start)."
            )
        return super().plan(window)

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        assert call.window is not None
        yield hook.transactional_statistics(*call.window.epoch, accounts=self.accounts or None)

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        return transactional_tables(response.data, self.provenance(call))
