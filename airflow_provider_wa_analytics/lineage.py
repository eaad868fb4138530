"""Lineage of a fetching operator's run: Airflow asset events and OpenLineage datasets.

Assets: at parse time a task with a ``destination`` declares one asset alias, named by the destination
as written (templates included); at run time every object written is attached to it as an asset
event. An alias costs nothing to build, while a concrete ``s3://`` or ``gs://`` Asset makes Airflow load
every provider's URI handlers while the DAG file is parsed.

OpenLineage: the input is the vendor endpoint (namespace: the API's base URL, name: the path of each
call made), the outputs are the objects written, each with its table's schema and the rows and bytes
written. Nothing here imports the OpenLineage provider until its listener asks for the facets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_wa_analytics.version_compat import AIRFLOW_V_3_0_PLUS

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiClient


def destination_alias(destination: Any) -> Any:
    """The asset alias (a dataset alias on Airflow 2) a ``destination`` declares; None without one."""
    if not isinstance(destination, str) or not destination.strip():
        return None  # XCom, or an XComArg only known at run time
    from airflow.providers.common.compat.sdk import AssetAlias

    return AssetAlias(name=destination)


@dataclass(frozen=True)
class Completed:
    """What a run read and wrote, kept on the operator for the OpenLineage listener."""

    api_namespace: str
    endpoints: tuple[str, ...]
    objects: tuple[Mapping[str, Any], ...]


def record_run(context: Any, alias: Any, client: ApiClient, result: Any) -> Completed:
    """Emit one asset event per object written (through the task's alias) and return the run's record.

    ``result`` is the operator's return value: a list of objects (``uri``, ``table``, ``rows``,
    ``bytes``) for a destination, a dict of rows for XCom (no object).
    """
    listed = result if isinstance(result, list) else ()
    objects = tuple(item for item in listed if isinstance(item, Mapping) and "uri" in item)
    # No outlet_events: execute() was called by hand (a unit test), not by Airflow: nothing to emit to.
    outlet_events = context.get("outlet_events") if isinstance(context, Mapping) else None
    if alias is not None and objects and outlet_events is not None:
        from airflow.providers.common.compat.sdk import Asset

        if not AIRFLOW_V_3_0_PLUS:
            _ensure_dataset_alias(alias.name)
        events = outlet_events[alias]
        for item in objects:
            extra = {key: item[key] for key in ("table", "day", "rows", "bytes") if item.get(key) is not None}
            events.add(Asset(item["uri"]), extra=extra)
    return Completed(api_namespace(client.settings.base_url), tuple(client.endpoints), objects)


def _ensure_dataset_alias(name: str) -> None:
    """Airflow 2.11 fails a task whose alias the DAG processor has not stored yet (``dag.test()``,
    ``airflow dags test``): "Can't flush None value found in collection DatasetModel.aliases"."""
    from airflow.models.dataset import DatasetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    try:
        with create_session() as session:
            if session.scalar(select(DatasetAliasModel.id).where(DatasetAliasModel.name == name)) is None:
                session.add(DatasetAliasModel(name=name))
    except IntegrityError:  # another task stored it first
        pass


def api_namespace(base_url: str) -> str:
    """The base URL without userinfo, query or fragment: ``https://user:pw@h:1/x?q`` -> ``https://h:1/x``."""
    parts = urlsplit(base_url)
    host = parts.netloc.rpartition("@")[2].lower()
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))


def operator_lineage(completed: Completed | None, tables: Mapping[str, Any], output_format: str) -> Any:
    """The ``OperatorLineage`` of one completed run (empty when the run did not complete here)."""
    from airflow.providers.common.compat.openlineage.facet import (
        Dataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_wa_analytics.destinations.naming import parse_location

    if completed is None:
        return OperatorLineage()
    inputs = [Dataset(namespace=completed.api_namespace, name=path) for path in completed.endpoints]
    outputs = []
    for item in completed.objects:
        location = parse_location(item["uri"])
        namespace = "file" if location.scheme == "file" else f"{location.scheme}://{location.bucket}"
        facets = {}
        columns = tables.get(item.get("table", ""))
        if columns:
            facets["schema"] = schema_facet(columns, output_format)
        outputs.append(
            OutputDataset(
                namespace=namespace,
                name=location.key,
                facets=facets,
                outputFacets={
                    "outputStatistics": OutputStatisticsOutputDatasetFacet(
                        rowCount=item.get("rows"), size=item.get("bytes")
                    )
                },
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs)


def schema_facet(columns: Any, output_format: str) -> Any:
    """A schema facet from a table definition: column names, with types where the definition has them.

    A definition is a sequence of names, a mapping of name -> type, or a sequence of ``(name, type)``
    pairs or of objects with ``name`` and ``type``. Without types, a csv column is a ``string`` (that is
    what a CSV cell holds) and a jsonl column has no declared type.
    """
    from airflow.providers.common.compat.openlineage.facet import (
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )

    default = "string" if output_format == "csv" else None
    pairs = columns.items() if isinstance(columns, Mapping) else (_name_and_type(c) for c in columns)
    return SchemaDatasetFacet(
        fields=[
            SchemaDatasetFacetFields(name=name, type=str(kind) if kind is not None else default)
            for name, kind in pairs
        ]
    )


def _name_and_type(column: Any) -> tuple[str, Any]:
    if isinstance(column, str):
        return column, None
    if isinstance(column, tuple) and len(column) == 2:
        return str(column[0]), column[1]
    return str(column.name), getattr(column, "type", None)
