"""Operators for Vonage WhatsApp: messaging, template and pricing analytics, and enabling insights.

The analytics operators run their endpoint (declared in :mod:`..hooks.vonage`): the window as
end-inclusive ``YYYY-MM-DD`` dates (a UTC day belongs to the window containing its midnight, see
:mod:`..windows`) in requests of at most 90 days, template IDs in batches of 10, the connection's
retention checked before anything is sent. Independent requests (windows x batches) run
``max_concurrency`` at a time; the pages of one request are fetched in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_analytics.hooks.vonage import (
    MESSAGING,
    PRICING,
    TEMPLATE,
    WABA_ID,
    VonageWhatsAppHook,
)
from airflow_provider_wa_analytics.operators.base import WaAnalyticsOperator
from airflow_provider_wa_analytics.version_compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.version_compat import Context


class _VonageAnalyticsOperator(WaAnalyticsOperator[VonageWhatsAppHook]):
    hook_class = VonageWhatsAppHook


class VonageMessagingAnalyticsOperator(_VonageAnalyticsOperator):
    """Fetch Vonage WhatsApp messaging analytics: messages sent and delivered per time bucket.

    ``GET /v1/channel-manager/whatsapp/wabas/{waba_id}/messaging-analytics``, every page. Table
    ``messaging_analytics``: one row per bucket.

    :param waba_id: the WhatsApp Business Account ID.
    :param granularity: ``HALF_HOUR``, ``DAILY`` (default) or ``MONTHLY``.
    :param phone_numbers: business phone numbers to include (default: all of the WABA).
    :param product_types: ``0`` (notification) and/or ``2`` (customer support); default: all.
    :param country_codes: two-letter country codes to include; default: all.
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    :param max_concurrency: requests (one per 90-day range) in flight at once; default 4.
    """

    endpoint = MESSAGING


class VonageTemplateAnalyticsOperator(_VonageAnalyticsOperator):
    """Fetch Vonage WhatsApp template analytics: sent, delivered, read and clicked per template and day.

    ``GET /v1/channel-manager/whatsapp/wabas/{waba_id}/template-analytics``, every page. Template IDs
    are sent 10 per request (the documented maximum). Insights must be enabled for the WABA first
    (:class:`VonageEnableInsightsOperator`, then :class:`~..sensors.vonage.VonageInsightsSensor`).
    Table ``template_analytics``: one row per template and day.

    :param waba_id: the WhatsApp Business Account ID.
    :param template_ids: template IDs (any number; batched by 10).
    :param metric_types: any of ``SENT``, ``DELIVERED``, ``READ``, ``CLICKED``; default: all.
    :param granularity: must be ``DAILY`` (the only value the endpoint takes).
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    :param max_concurrency: requests (batches x 90-day ranges) in flight at once; default 4.
    """

    endpoint = TEMPLATE


class VonagePricingAnalyticsOperator(_VonageAnalyticsOperator):
    """Fetch Vonage WhatsApp pricing analytics: billed volume per bucket and breakdown.

    ``GET /v1/channel-manager/whatsapp/wabas/{waba_id}/pricing-analytics``, every page. Table
    ``pricing_analytics``: one row per bucket and combination of the requested ``dimensions``
    (the dimension columns of the others are empty). Summing ``volume`` gives the same total
    whatever the dimensions.

    :param waba_id: the WhatsApp Business Account ID.
    :param granularity: ``HALF_HOUR``, ``DAILY`` (default) or ``MONTHLY``; ``None`` sends none.
    :param phone_numbers: business phone numbers to include; default: all.
    :param country_codes: two-letter country codes to include; default: all.
    :param dimensions: breakdowns, any of ``PRICING_CATEGORY``, ``PRICING_TYPE``, ``COUNTRY``,
        ``PHONE``, ``TIER``; default: none (one row per bucket).
    :param tiers: tiers as ``"lower:upper"`` (e.g. ``"0:100000"``) to include; default: all.
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    :param max_concurrency: requests (one per 90-day range) in flight at once; default 4.
    """

    endpoint = PRICING


class VonageEnableInsightsOperator(BaseOperator):
    """Enable insights (template analytics) for a WABA: ``PATCH .../wabas/{waba_id}/enable_insights``.

    Idempotent: enabling an enabled WABA succeeds. The setting takes minutes to propagate; follow with
    :class:`~..sensors.vonage.VonageInsightsSensor`. A 403 (the key is not linked to the WABA) and a
    404 (unknown WABA) fail the task at once with a message saying so. Returns ``{"waba_id": ...}``.

    :param waba_id: the WhatsApp Business Account ID.
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    """

    template_fields: Sequence[str] = ("waba_id", "vonage_conn_id")
    ui_color = "#25d366"

    def __init__(
        self, *, waba_id: str, vonage_conn_id: str = VonageWhatsAppHook.default_conn_name, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.waba_id = waba_id
        self.vonage_conn_id = vonage_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        waba_id = WABA_ID.check(self.waba_id, "waba_id")
        VonageWhatsAppHook(vonage_conn_id=self.vonage_conn_id).enable_insights(waba_id)
        self.log.info("Insights enabled for WABA %s; they take a few minutes to propagate.", waba_id)
        return {"waba_id": waba_id, "insights_enabled": True}
