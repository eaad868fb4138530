"""The output layer shared by every fetching operator: ``destination`` URIs (s3, gs, file) or XCom.

Importing this package imports neither boto3 nor google-cloud-storage: the hooks are loaded when
an object is actually written.
"""

from __future__ import annotations

from airflow_provider_wa_analytics.destinations.naming import COMPRESSIONS, FORMATS, SCHEMES
from airflow_provider_wa_analytics.destinations.output import (
    DEFAULT_XCOM_MAX_BYTES,
    Output,
    destination_uris,
)

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_XCOM_MAX_BYTES",
    "FORMATS",
    "SCHEMES",
    "Output",
    "destination_uris",
]
