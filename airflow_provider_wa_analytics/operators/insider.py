"""Operators for Insider One: WhatsApp overall and transactional statistics, Web Push campaign metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_wa_analytics.client import ApiResponse
from airflow_provider_wa_analytics.endpoints import Call, Query, Rows, choice
from airflow_provider_wa_analytics.exceptions import NotFoundError
from airflow_provider_wa_analytics.hooks.insider import (
    CAMPAIGN_METRICS,
    CAMPAIGN_METRICS_PATH,
    OVERALL,
    TRANSACTIONAL,
    InsiderWebPushHook,
    InsiderWhatsAppHook,
)
from airflow_provider_wa_analytics.operators.base import WaAnalyticsOperator
from airflow_provider_wa_analytics.tables.insider_webpush import missing_campaign_row


class _InsiderWhatsAppOperator(WaAnalyticsOperator[InsiderWhatsAppHook]):
    hook_class = InsiderWhatsAppHook


class InsiderWhatsAppOverallStatisticsOperator(_InsiderWhatsAppOperator):
    """Fetch Insider One WhatsApp overall statistics (``POST /v1/statistics/overall``).

    Tables: ``daily`` (chart), ``campaigns`` (details, drop and undelivered breakdowns as columns),
    ``campaign_tags``, ``campaign_responses`` (buttons of conversational campaigns) and ``summary``.
    Windows longer than a year are split into yearly requests.

    :param campaign_filter: the vendor's filter object: ``campaign_type_ids`` (``"all"`` or 1, 2, 3, 5,
        6), ``statuses``, ``accounts``, ``tags`` (ids and names mixed), ``show_architect``.
    :param insider_whatsapp_conn_id: connection of type ``insider_whatsapp``.
    """

    endpoint = OVERALL
    template_fields_renderers = {"campaign_filter": "json"}


class InsiderWhatsAppTransactionalStatisticsOperator(_InsiderWhatsAppOperator):
    """Fetch Insider One WhatsApp transactional statistics (``POST /v1/statistics/transactional``).

    Tables: ``daily`` (chart) and ``summary`` (figures with drop and undelivered breakdowns). Windows
    longer than a year are split; the endpoint has no data before 2018-01-01.

    :param accounts: sender phone numbers to include (default: all).
    :param insider_whatsapp_conn_id: connection of type ``insider_whatsapp``.
    """

    endpoint = TRANSACTIONAL


ON_MISSING_CAMPAIGN = ("fail", "skip")


class InsiderWebPushCampaignMetricsOperator(WaAnalyticsOperator[InsiderWebPushHook]):
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

    endpoint = CAMPAIGN_METRICS
    hook_class = InsiderWebPushHook
    ui_color = "#4f46e5"

    def __init__(self, *, on_missing_campaign: str = "fail", **kwargs: Any) -> None:
        """``on_missing_campaign`` is the operator's own: what to do with a 424, not a vendor parameter."""
        super().__init__(**kwargs)
        self.skip_missing = choice(ON_MISSING_CAMPAIGN)(on_missing_campaign, "on_missing_campaign") == "skip"
        self.on_missing_campaign = on_missing_campaign
        self._missing: list[str] = []  # campaigns skipped by this run

    def fetch(self, hook: InsiderWebPushHook, query: Query, call: Call) -> Iterator[ApiResponse]:
        """The engine fails a call on a 424; ``on_missing_campaign="skip"`` makes it a row instead."""
        try:
            yield from hook.run(query, call)
        except NotFoundError as exc:
            if not self.skip_missing:
                raise
            self.log.warning("Skipping %s (on_missing_campaign='skip'): %s", call.label, exc)
            self._missing.extend(call.batch["campaign_ids"])
            if self.output_format != "json":  # raw output holds only responses with data
                # A stand-in for the 424 (the client raised it): normalize() makes it a row.
                yield ApiResponse(exc.status or 424, CAMPAIGN_METRICS_PATH, b"", {"message": exc.message})

    def normalize(self, response: ApiResponse, query: Query, call: Call) -> Iterator[tuple[str, Rows]]:
        """A skipped campaign's stand-in becomes its ``missing_campaigns`` row (no vendor body to parse)."""
        if response.status >= 300:
            base = self.endpoint.provenance_of(query, call)
            yield "missing_campaigns", [missing_campaign_row(base, response.status, response.data["message"])]
            return
        yield from super().normalize(response, query, call)
