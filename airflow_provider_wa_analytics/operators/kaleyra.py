"""Operator for Kaleyra WhatsApp template analytics (``/v2/{sid}/whatsapp/{waba_id}/templates_analytics``)."""

from __future__ import annotations

from airflow_provider_wa_analytics.hooks.kaleyra import TEMPLATE_ANALYTICS, KaleyraWhatsAppHook
from airflow_provider_wa_analytics.operators.base import WaAnalyticsOperator


class KaleyraTemplateAnalyticsOperator(WaAnalyticsOperator[KaleyraWhatsAppHook]):
    """Fetch Kaleyra WhatsApp template analytics: sent, delivered, read, replied and button clicks per day.

    Tables: ``data_points`` (one row per template and UTC day) and ``button_clicks`` (one row per button
    of a data point). The window becomes ``start_date``/``end_date`` by the end-inclusive date rule (a
    UTC day belongs to the window holding its midnight), in requests of at most 90 days. Template ids
    are sent in batches of ``templates_per_request``; each batch follows its ``after`` cursor to the last
    page. A window whose first day lies outside the connection's retention (90 days) fails before any
    request.

    :param waba_id: the WhatsApp Business Account id (path parameter, digits).
    :param template_ids: WhatsApp template ids (sent as ``whatsapp_template_ids``); a list or a
        comma-separated string. Duplicates are dropped.
    :param granularity: ``DAILY`` (the only value the API supports).
    :param product_type: ``CLOUD_API`` or ``MARKETING_MESSAGES_LITE_API``; omitted: Cloud API only.
    :param metric_types: any of ``SENT``, ``DELIVERED``, ``READ``, ``CLICKED``, ``REPLIED``; omitted: all.
    :param limit: page size (the API's ``limit``); omitted: the API's default.
    :param templates_per_request: template ids per request (default 10, Meta's maximum per call).
    :param kaleyra_conn_id: connection of type ``kaleyra_whatsapp``.
    """

    endpoint = TEMPLATE_ANALYTICS
    hook_class = KaleyraWhatsAppHook
