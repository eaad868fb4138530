"""The reliability suite's cases: the package's registry of endpoints (one entry per operator)."""

from airflow_provider_wa_analytics.registry import *  # noqa: F403
from airflow_provider_wa_analytics.registry import (  # noqa: F401
    CASES,
    CASES_BY_ID,
    FAST_EXTRAS,
    MINIMAL_CONTEXT,
    TODAY,
    VENDORS,
    EndpointCase,
    by_vendor,
    days_ago,
    destination,
    snapshot,
)
