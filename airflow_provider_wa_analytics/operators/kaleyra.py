"""Operator for Kaleyra WhatsApp template analytics (``/v2/{sid}/whatsapp/{waba_id}/templates_analytics``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_wa_analytics.hooks.kaleyra import (
    MAX_RANGE_DAYS,
    TEMPLATES_PER_REQUEST,
    KaleyraWhatsAppHook,
    check_dates,
    check_granularity,
    check_metric_types,
    check_positive_int,
    check_product_type,
    check_template_ids,
    check_waba_id,
)
from airflow_provider_wa_analytics.operators.base import Call, Rows, WaAnalyticsOperator
from airflow_provider_wa_analytics.tables.kaleyra import TABLES, template_analytics_tables
from airflow_provider_wa_analytics.windows import Window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiResponse


class KaleyraTemplateAnalyticsOperator(WaAnalyticsOperator):
    """Fetch Kaleyra WhatsApp template analytics: sent, delivered, read, replied and button clicks per day.

    Tables: ``data_points`` (one row per template and UTC day) and ``button_clicks`` (one row per button
    of a data point). The window becomes ``start_date``/``end_date`` by the end-inclusive date rule (a
    UTC day belongs to the window holding its midnight). Template ids are sent in batches of
    ``templates_per_request``; each batch follows its ``after`` cursor to the last page. A window whose
    first day lies outside the connection's lookback (90 days) fails before any request.

    :param waba_id: the WhatsApp Business Account id (path parameter).
    :param template_ids: WhatsApp template ids (sent as ``whatsapp_template_ids``); a list or a
        comma-separated string. Duplicates are dropped.
    :param granularity: ``DAILY`` (the only value the API supports).
    :param product_type: ``CLOUD_API`` or ``MARKETING_MESSAGES_LITE_API``; omitted: Cloud API only.
    :param metric_types: any of ``SENT``, ``DELIVERED``, ``READ``, ``CLICKED``, ``REPLIED``; omitted: all.
    :param limit: page size (the API's ``limit``); omitted: the API's default.
    :param templates_per_request: template ids per request (default 10, Meta's maximum per call).
    :param kaleyra_conn_id: connection of type ``kaleyra_whatsapp``.
    """

    endpoint = "templates_analytics"
    tables = TABLES
    hook_class = KaleyraWhatsAppHook
    conn_id_param = "kaleyra_conn_id"
    #: Batches are independent; their pages stay sequential (one cursor chain per batch).
    default_concurrency = 4
    template_fields: Sequence[str] = (
        *WaAnalyticsOperator.template_fields,
        "waba_id",
        "template_ids",
        "granularity",
        "product_type",
        "metric_types",
        "limit",
        "kaleyra_conn_id",
    )

    def __init__(
        self,
        *,
        waba_id: str,
        template_ids: list[str] | str,
        granularity: str = "DAILY",
        product_type: str | None = None,
        metric_types: list[str] | str | None = None,
        limit: int | None = None,
        templates_per_request: int = TEMPLATES_PER_REQUEST,
        kaleyra_conn_id: str = KaleyraWhatsAppHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.waba_id = waba_id
        self.template_ids = template_ids
        self.granularity = granularity
        self.product_type = product_type
        self.metric_types = metric_types
        self.limit = limit
        self.templates_per_request = templates_per_request
        self.kaleyra_conn_id = kaleyra_conn_id

    def validate(self) -> None:
        self._waba_id = check_waba_id(self.waba_id)
        self._template_ids = check_template_ids(self.template_ids)
        self._options = {
            "granularity": check_granularity(self.granularity),
            "product_type": check_product_type(self.product_type),
            "metric_types": check_metric_types(self.metric_types),
            "limit": check_positive_int(self.limit, "limit"),
        }
        self._batch = check_positive_int(self.templates_per_request, "templates_per_request", optional=False)

    def plan(self, window: Window, today: dt.date | None = None) -> list[Call]:
        """Date ranges of at most 90 days times batches of template ids, all checked before any request.

        Reading the connection's ``lookback_days`` is the only lookup; nothing is sent.
        """
        lookback = cast(KaleyraWhatsAppHook, self.get_hook()).lookback_days
        today = self._today = today or dt.datetime.now(dt.timezone.utc).date()
        ranges = window.date_chunks(MAX_RANGE_DAYS)
        for first, last in ranges:
            check_dates(first, last, lookback, today)
        ids, size = self._template_ids, self._batch or TEMPLATES_PER_REQUEST
        calls = []
        for first, last in ranges:
            for i in range(0, len(ids), size):
                batch = ids[i : i + size]
                calls.append(
                    Call(
                        label=f"{first}..{last} templates {i + 1}-{i + len(batch)} of {len(ids)}",
                        params={"template_ids": batch, "start_date": first, "end_date": last},
                        window=window,
                    )
                )
        return calls

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        p = call.params
        yield from hook.iter_template_analytics(
            self._waba_id,
            p["template_ids"],
            p["start_date"],
            p["end_date"],
            today=self._today,
            **self._options,
        )

    def provenance(self, call: Call) -> dict[str, Any]:
        return {**super().provenance(call), "waba_id": self._waba_id}

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        return template_analytics_tables(response.data, self.provenance(call))
