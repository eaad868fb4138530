"""The one registry of endpoints: each fetching operator, its endpoint, and a sandbox run of it.

An entry names its operator by import path (reading the registry imports no operator) and gives
arguments that make a run span several calls and/or pages against the sandbox. The tests'
reliability matrices (faults, bad input, secret hygiene, transport security), the benchmarks, the
docs' column tables and the provider info's operator modules all iterate :data:`CASES`, so adding an
endpoint here adds it everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.endpoints import Endpoint
    from airflow_provider_wa_analytics.operators.base import WaAnalyticsOperator

#: The sandbox's ids (testing/kaleyra.py, testing/vonage.py), repeated so reading the registry is free.
KALEYRA_WABA_ID = "109000000000001"
VONAGE_WABA_ID = "345688589250625"
VONAGE_INSIGHTS_WABA_ID = "345688589250626"

#: Connection extras that make retries fast and take the client-side pacing out of the way.
FAST_EXTRAS: Mapping[str, Any] = {
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "max_retries": 3,
    "rate_limit": 1000,
    "timeout": 5,
}
#: What an operator's execute() needs when ``start`` and ``end`` are given.
MINIMAL_CONTEXT: Any = {}


#: Read once, so that every run of a session asks for the same days (a session may span midnight).
TODAY = dt.datetime.now(dt.timezone.utc).date()


def days_ago(n: int) -> str:
    """A UTC midnight ``n`` days before today: Vonage and Kaleyra only serve their last 90 days."""
    return (TODAY - dt.timedelta(days=n)).isoformat()


@dataclass(frozen=True)
class EndpointCase:
    """One fetching operator, run against the sandbox.

    ``kwargs`` returns fresh operator arguments (windows relative to today where the vendor has a
    lookback); ``vendor`` is the sandbox vendor, which is also the connection type; ``path`` is the
    endpoint's path prefix for :meth:`Sandbox.inject`; ``sandbox_options`` are the vendor options
    that make the run span several pages. ``scaled(n)``, where given, returns the operator overrides
    and vendor options of a run of about ``n`` cheap requests (the rate-limit benchmark).
    """

    id: str
    operator_path: str
    kwargs: Callable[[], dict[str, Any]]
    vendor: str
    path: str
    sandbox_options: Mapping[str, Any] = field(default_factory=dict)
    scaled: Callable[[int], tuple[dict[str, Any], dict[str, Any]]] | None = None

    @cached_property
    def operator(self) -> type[WaAnalyticsOperator]:
        module, _, name = self.operator_path.rpartition(".")
        return getattr(import_module(module), name)  # type: ignore[no-any-return]

    @property
    def endpoint(self) -> Endpoint:
        return self.operator.endpoint

    @property
    def conn_id(self) -> str:
        return f"reliability_{self.vendor}"

    def connection(self, sandbox: Any, **extras: Any) -> dict[str, Any]:
        """The sandbox's connection for this vendor, with ``extras`` merged into its extras."""
        conn = sandbox.connection(self.vendor)
        conn["extra"] = {**(conn.get("extra") or {}), **extras}
        return conn

    def connection_env(
        self, sandbox: Any, conn: Mapping[str, Any] | None = None, **extras: Any
    ) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": json}`` for :attr:`conn_id` (``conn`` replaces the sandbox's)."""
        value = dict(conn) if conn is not None else self.connection(sandbox, **extras)
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(value)}

    def prepare(self, sandbox: Any) -> None:
        """Reset the sandbox and apply this case's vendor options."""
        sandbox.reset()
        if self.sandbox_options:
            sandbox.configure(self.vendor, **self.sandbox_options)

    def build(self, task_id: str = "task", **overrides: Any) -> WaAnalyticsOperator:
        kwargs = {**self.kwargs(), self.operator.conn_id_param: self.conn_id, **overrides}
        return self.operator(task_id=task_id, **kwargs)

    def __str__(self) -> str:
        return self.id


CASES: tuple[EndpointCase, ...] = (
    EndpointCase(
        "insider_whatsapp.overall",
        "airflow_provider_wa_analytics.operators.insider.InsiderWhatsAppOverallStatisticsOperator",
        lambda: {
            "start": "2023-01-01",
            "end": "2025-01-01",  # three requests of at most a year
            "campaign_filter": {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True},
        },
        "insider_whatsapp",
        "/v1/statistics/overall",
        {"campaigns_per_day": 1},
        # One request per 365 days; epoch seconds have 10 digits from 2001-09-09, so at most 23.
        scaled=lambda n: ({"start": f"{2025 - min(n, 23)}-01-01"}, {"campaigns_per_day": 0}),
    ),
    EndpointCase(
        "insider_whatsapp.transactional",
        "airflow_provider_wa_analytics.operators.insider.InsiderWhatsAppTransactionalStatisticsOperator",
        lambda: {"start": "2023-01-01", "end": "2025-01-01", "accounts": ["+905000000001"]},
        "insider_whatsapp",
        "/v1/statistics/transactional",
        {"campaigns_per_day": 1},
    ),
    EndpointCase(
        "insider_webpush.campaign_metrics",
        "airflow_provider_wa_analytics.operators.insider.InsiderWebPushCampaignMetricsOperator",
        lambda: {
            "start": "2025-03-01",
            "end": "2025-03-08",
            "campaign_ids": ["10001", "10002", "10003", "10004"],
        },
        "insider_webpush",
        "/v1/statistics/campaign-metrics",
        scaled=lambda n: ({"campaign_ids": [str(10001 + i) for i in range(n)]}, {}),
    ),
    EndpointCase(
        "vonage.messaging",
        "airflow_provider_wa_analytics.operators.vonage.VonageMessagingAnalyticsOperator",
        lambda: {"start": days_ago(20), "end": days_ago(0), "waba_id": VONAGE_WABA_ID},
        "vonage_whatsapp",
        "/v[12]/channel-manager/(whatsapp/)?wabas/[0-9]+/messaging-analytics",
        {"page_size": 6},
    ),
    EndpointCase(
        "vonage.template",
        "airflow_provider_wa_analytics.operators.vonage.VonageTemplateAnalyticsOperator",
        lambda: {
            "start": days_ago(6),
            "end": days_ago(0),
            "waba_id": VONAGE_INSIGHTS_WABA_ID,
            "template_ids": [f"4589511262{n:05d}" for n in range(25)],  # three batches
        },
        "vonage_whatsapp",
        "/v1/channel-manager/whatsapp/wabas/[0-9]+/template-analytics",
        {"page_size": 25},
        # Batches of 10 templates x 6 days: one page of 60 entries each.
        scaled=lambda n: (
            {"template_ids": [f"4589511262{i:05d}" for i in range(10 * n)]},
            {"page_size": 100},
        ),
    ),
    EndpointCase(
        "vonage.pricing",
        "airflow_provider_wa_analytics.operators.vonage.VonagePricingAnalyticsOperator",
        lambda: {
            "start": days_ago(14),
            "end": days_ago(0),
            "waba_id": VONAGE_WABA_ID,
            "dimensions": ["COUNTRY"],
        },
        "vonage_whatsapp",
        "/v1/channel-manager/whatsapp/wabas/[0-9]+/pricing-analytics",
        {"page_size": 10},
    ),
    EndpointCase(
        "kaleyra.template",
        "airflow_provider_wa_analytics.operators.kaleyra.KaleyraTemplateAnalyticsOperator",
        lambda: {
            "start": days_ago(5),
            "end": days_ago(0),
            "waba_id": KALEYRA_WABA_ID,
            "template_ids": [f"10{n:02d}" for n in range(15)],  # two batches
            "limit": 8,
        },
        "kaleyra_whatsapp",
        "/v2/",
        # Batches of 10 templates x 5 days: one page of 50 data points each.
        scaled=lambda n: ({"template_ids": [str(1000 + i) for i in range(10 * n)], "limit": 100}, {}),
    ),
)

CASES_BY_ID = {case.id: case for case in CASES}
VENDORS = tuple(dict.fromkeys(case.vendor for case in CASES))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), to compare destinations byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def destination(root: Path) -> str:
    return f"{root.as_uri()}/{{table}}.jsonl"


def by_vendor() -> Iterator[tuple[str, list[EndpointCase]]]:
    for vendor in VENDORS:
        yield vendor, [case for case in CASES if case.vendor == vendor]
