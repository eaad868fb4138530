"""Operators for Vonage WhatsApp: messaging, template and pricing analytics, and enabling insights.

The analytics operators send the window as end-inclusive ``YYYY-MM-DD`` dates (a UTC day belongs to the
window containing its midnight, see :mod:`..windows`), split it into requests of at most 90 days, batch
template IDs by 10, and check the connection's lookback before sending anything. Independent requests
(windows x batches) run ``max_concurrency`` at a time; the pages of one request are fetched in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import pendulum

from airflow_provider_wa_analytics.hooks.vonage import (
    DIMENSIONS,
    GRANULARITIES,
    MAX_DAYS,
    MAX_TEMPLATE_IDS,
    METRIC_TYPES,
    PRODUCT_TYPES,
    TEMPLATE_GRANULARITIES,
    VonageWhatsAppHook,
    check_choice,
    check_choices,
    check_country_codes,
    check_lookback,
    check_phone_numbers,
    check_template_ids,
    check_tiers,
    check_waba_id,
)
from airflow_provider_wa_analytics.operators.base import Call, Rows, WaAnalyticsOperator
from airflow_provider_wa_analytics.tables.vonage import (
    MESSAGING_TABLES,
    PRICING_TABLES,
    TEMPLATE_TABLES,
    messaging_rows,
    pricing_rows,
    template_rows,
)
from airflow_provider_wa_analytics.version_compat import BaseOperator
from airflow_provider_wa_analytics.windows import Window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiResponse
    from airflow_provider_wa_analytics.version_compat import Context


def date_window(first: dt.date, last: dt.date) -> Window:
    """The half-open window ``[first 00:00, last + 1 day 00:00)`` UTC that a date range covers."""
    nxt = last + dt.timedelta(days=1)
    return Window(
        pendulum.datetime(first.year, first.month, first.day, tz="UTC"),
        pendulum.datetime(nxt.year, nxt.month, nxt.day, tz="UTC"),
    )


class _VonageAnalyticsOperator(WaAnalyticsOperator):
    hook_class = VonageWhatsAppHook
    conn_id_param = "vonage_conn_id"
    default_concurrency = 4
    template_fields: Sequence[str] = (*WaAnalyticsOperator.template_fields, "waba_id", "vonage_conn_id")

    def __init__(
        self,
        *,
        waba_id: str,
        vonage_conn_id: str = VonageWhatsAppHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.waba_id = waba_id
        self.vonage_conn_id = vonage_conn_id

    def validate(self) -> None:
        self._waba_id = check_waba_id(self.waba_id)

    def batches(self) -> list[dict[str, Any]]:
        """The independent request parameters of one date range (several for template batches)."""
        return [{}]

    def plan(self, window: Window, today: dt.date | None = None) -> list[Call]:
        """Requests of at most 90 days (x template batches); fails when the window starts before the
        connection's lookback (``today``: the date it counts from, default the UTC date)."""
        chunks = window.date_chunks(MAX_DAYS)
        if not chunks:
            self.log.info("Window %s contains no UTC midnight, so no day to ask for.", window)
            return []
        check_lookback(chunks[0][0], cast(VonageWhatsAppHook, self.get_hook()).lookback_days, today)
        return [
            Call(
                label=f"{first}..{last}" + (f" batch {i + 1}" if len(batches) > 1 else ""),
                params={"start": first, "end": last, **batch},
                window=date_window(first, last),
            )
            for batches in [self.batches()]
            for i, batch in enumerate(batches)
            for first, last in chunks
        ]

    def provenance(self, call: Call) -> dict[str, Any]:
        return {**super().provenance(call), "waba_id": self._waba_id}


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

    endpoint = "messaging-analytics"
    tables = MESSAGING_TABLES
    template_fields: Sequence[str] = (
        *_VonageAnalyticsOperator.template_fields,
        "granularity",
        "phone_numbers",
        "product_types",
        "country_codes",
    )

    def __init__(
        self,
        *,
        granularity: str = "DAILY",
        phone_numbers: list[str] | None = None,
        product_types: list[str | int] | None = None,
        country_codes: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.granularity = granularity
        self.phone_numbers = phone_numbers
        self.product_types = product_types
        self.country_codes = country_codes

    def validate(self) -> None:
        super().validate()
        self._granularity = check_choice(self.granularity, "granularity", GRANULARITIES)
        self._phones = check_phone_numbers(self.phone_numbers)
        self._products = check_choices(self.product_types, "product_types", PRODUCT_TYPES)
        self._countries = check_country_codes(self.country_codes)

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        return hook.iter_messaging_analytics(
            self._waba_id,
            call.params["start"],
            call.params["end"],
            self._granularity,
            phone_numbers=self._phones,
            product_types=self._products,
            country_codes=self._countries,
        )

    def provenance(self, call: Call) -> dict[str, Any]:
        return {
            **super().provenance(call),
            "phone_numbers": ",".join(self._phones) or None,
            "country_codes": ",".join(self._countries) or None,
            "product_types": ",".join(self._products) or None,
        }

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        yield "messaging_analytics", messaging_rows(response.data, self.provenance(call))


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

    endpoint = "template-analytics"
    tables = TEMPLATE_TABLES
    template_fields: Sequence[str] = (
        *_VonageAnalyticsOperator.template_fields,
        "template_ids",
        "metric_types",
        "granularity",
    )

    def __init__(
        self,
        *,
        template_ids: list[str],
        metric_types: list[str] | None = None,
        granularity: str = "DAILY",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.template_ids = template_ids
        self.metric_types = metric_types
        self.granularity = granularity

    def validate(self) -> None:
        super().validate()
        check_choice(self.granularity, "granularity", TEMPLATE_GRANULARITIES)
        self._template_ids = check_template_ids(self.template_ids)
        self._metrics = check_choices(self.metric_types, "metric_types", METRIC_TYPES)

    def batches(self) -> list[dict[str, Any]]:
        ids = self._template_ids
        return [{"template_ids": ids[i : i + MAX_TEMPLATE_IDS]} for i in range(0, len(ids), MAX_TEMPLATE_IDS)]

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        return hook.iter_template_analytics(
            self._waba_id,
            call.params["start"],
            call.params["end"],
            call.params["template_ids"],
            metric_types=self._metrics,
        )

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        yield "template_analytics", template_rows(response.data, self.provenance(call))


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

    endpoint = "pricing-analytics"
    tables = PRICING_TABLES
    template_fields: Sequence[str] = (
        *_VonageAnalyticsOperator.template_fields,
        "granularity",
        "phone_numbers",
        "country_codes",
        "dimensions",
        "tiers",
    )

    def __init__(
        self,
        *,
        granularity: str | None = "DAILY",
        phone_numbers: list[str] | None = None,
        country_codes: list[str] | None = None,
        dimensions: list[str] | None = None,
        tiers: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.granularity = granularity
        self.phone_numbers = phone_numbers
        self.country_codes = country_codes
        self.dimensions = dimensions
        self.tiers = tiers

    def validate(self) -> None:
        super().validate()
        self._granularity = (
            check_choice(self.granularity, "granularity", GRANULARITIES) if self.granularity else None
        )
        self._phones = check_phone_numbers(self.phone_numbers)
        self._countries = check_country_codes(self.country_codes)
        self._dimensions = check_choices(self.dimensions, "dimensions", DIMENSIONS)
        self._tiers = check_tiers(self.tiers)

    def fetch(self, hook: Any, call: Call) -> Iterator[ApiResponse]:
        return hook.iter_pricing_analytics(
            self._waba_id,
            call.params["start"],
            call.params["end"],
            self._granularity,
            phone_numbers=self._phones,
            country_codes=self._countries,
            dimensions=self._dimensions,
            tiers=self._tiers,
        )

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        yield "pricing_analytics", pricing_rows(response.data, self.provenance(call))


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
        waba_id = check_waba_id(self.waba_id)
        VonageWhatsAppHook(vonage_conn_id=self.vonage_conn_id).enable_insights(waba_id)
        self.log.info("Insights enabled for WABA %s; they take a few minutes to propagate.", waba_id)
        return {"waba_id": waba_id, "insights_enabled": True}
