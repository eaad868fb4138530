"""Operators for Insider One: WhatsApp overall and transactional statistics, Web Push campaign metrics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_analytics.client import ApiResponse
from airflow_provider_wa_analytics.exceptions import InvalidParameterError, NotFoundError
from airflow_provider_wa_analytics.hooks.insider import (
    CAMPAIGN_METRICS_PATH,
    MAX_RANGE,
    TRANSACTIONAL_MIN_START,
    InsiderWebPushHook,
    InsiderWhatsAppHook,
    check_accounts,
    check_campaign_filter,
    check_campaign_ids,
    check_date_range,
    check_times,
)
from airflow_provider_wa_analytics.operators.base import Call, Rows, WaAnalyticsOperator, duration
from airflow_provider_wa_analytics.tables.insider_webpush import TABLES as WEBPUSH_TABLES
from airflow_provider_wa_analytics.tables.insider_webpush import (
    campaign_metrics_tables,
    missing_campaign_row,
)
from airflow_provider_wa_analytics.tables.insider_whatsapp import (
    OVERALL_TABLES,
    TRANSACTIONAL_TABLES,
    overall_tables,
    transactional_tables,
)
from airflow_provider_wa_analytics.windows import Window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.version_compat import Context


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


ON_MISSING_CAMPAIGN = ("fail", "skip")


class InsiderWebPushCampaignMetricsOperator(WaAnalyticsOperator):
    """Fetch Insider One Web Push campaign metrics (``POST /v1/statistics/campaign-metrics``).

    One request per campaign for the whole window: its UTC days as end-inclusive ``start_date`` and
    ``end_date`` (a day belongs to the window that contains its midnight, so consecutive runs cover
    every day once; a window without a midnight asks for nothing). Requests are spaced by the
    connection's ``rate_limit`` (default 0.5/s, the documented 30 per minute).

    Tables: ``overview`` (one row per campaign and window), ``device_metrics``, ``dropped_reasons``,
    ``undelivered_reasons`` and ``missing_campaigns``.

    :param campaign_ids: campaign IDs (the ``builderId``) to fetch; duplicates are fetched once.
    :param partner_id: partner ID; default: the connection's login.
    :param on_missing_campaign: ``"fail"`` (default): a campaign the API does not know (424) fails
        the task. ``"skip"``: it is logged and becomes a row of the ``missing_campaigns`` table
        (normalized formats; with ``json`` only the log has it); the other campaigns are written.
    :param insider_webpush_conn_id: connection of type ``insider_webpush``.
    """

    endpoint = "statistics/campaign-metrics"
    tables = WEBPUSH_TABLES
    hook_class = InsiderWebPushHook
    conn_id_param = "insider_webpush_conn_id"
    template_fields: Sequence[str] = (
        *WaAnalyticsOperator.template_fields,
        "campaign_ids",
        "partner_id",
        "insider_webpush_conn_id",
    )
    ui_color = "#4f46e5"

    def __init__(
        self,
        *,
        campaign_ids: list[str | int] | str,
        partner_id: str | None = None,
        on_missing_campaign: str = "fail",
        insider_webpush_conn_id: str = InsiderWebPushHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_ids = campaign_ids
        self.partner_id = partner_id
        self.on_missing_campaign = on_missing_campaign
        self.insider_webpush_conn_id = insider_webpush_conn_id
        self._ids: list[str] = []
        self._partner: str | None = None
        self._missing: list[str] = []

    def validate(self) -> None:
        self._ids = check_campaign_ids(self.campaign_ids)
        if self.on_missing_campaign not in ON_MISSING_CAMPAIGN:
            raise InvalidParameterError(
                f"`on_missing_campaign` must be one of {', '.join(ON_MISSING_CAMPAIGN)}, "
                f"got {self.on_missing_campaign!r}."
            )
        if self.partner_id is not None and (
            isinstance(self.partner_id, bool) or not str(self.partner_id).strip()
        ):
            raise InvalidParameterError(f"`partner_id` must be a non-empty string, got {self.partner_id!r}.")
        self._missing = []

    def plan(self, window: Window) -> list[Call]:
        span = window.dates()
        if span is None:
            self.log.info("Window %s contains no UTC midnight: no whole day to ask for.", window)
            return []
        dates = check_date_range(*span)
        if not self._ids:
            self.log.warning("`campaign_ids` is empty: nothing to fetch.")
        return [
            Call(
                label=f"campaign {cid} ({dates['start_date']}..{dates['end_date']})",
                params={"campaign_id": cid, **dates},
                window=window,
            )
            for cid in self._ids
        ]

    def get_hook(self) -> InsiderWebPushHook:
        hook = InsiderWebPushHook(self.insider_webpush_conn_id)
        self._partner = hook.partner_id(self.partner_id)  # fails before any request when unset
        rate = hook.client.settings.rate_limit
        if rate and self._ids:
            self.log.info(
                "%d campaign(s) at %g requests/minute (connection extra `rate_limit`): about %s",
                len(self._ids),
                round(rate * 60, 3),
                duration((len(self._ids) - 1) / rate),
            )
        return hook

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        p = call.params
        try:
            yield hook.campaign_metrics(p["campaign_id"], p["start_date"], p["end_date"], self._partner)
        except NotFoundError as exc:
            if self.on_missing_campaign != "skip":
                raise
            self.log.warning("Skipping %s (on_missing_campaign='skip'): %s", call.label, exc)
            self._missing.append(p["campaign_id"])
            if self.output_format != "json":  # raw output holds only responses with data
                # A stand-in for the 424 (the client raised it): normalize() makes it a row.
                yield ApiResponse(exc.status or 424, CAMPAIGN_METRICS_PATH, b"", {"message": exc.message})

    def provenance(self, call: Call) -> dict[str, Any]:
        return {**super().provenance(call), "partner_id": self._partner, **call.params}

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        base = self.provenance(call)
        if response.status >= 300:  # only a skipped campaign's stand-in; the client raises on errors
            yield "missing_campaigns", [missing_campaign_row(base, response.status, response.data["message"])]
            return
        yield from campaign_metrics_tables(response.data, base)

    def execute(self, context: Context) -> Any:
        result = super().execute(context)
        if self._missing:
            self.log.warning(
                "%d campaign(s) not found and skipped: %s", len(self._missing), ", ".join(self._missing)
            )
        return result
