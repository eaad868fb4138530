"""Day partitions (``{date}`` in ``destination``), Parquet output, the run manifest and the change report.

:class:`RunOutput` is the :class:`~airflow_provider_wa_analytics.destinations.output.Output` of a run
that re-fetches days or writes Parquet: one object per table and UTC day under ``{date}`` (every day
the run covers gets its object, empty when it has no rows), published all at once like any output,
then ``_manifest.json`` written last in the deepest folder holding every object. For each re-fetched
day and table it compares the new object with the one it replaces (rows added or removed by primary
key, the change of each count column's total), logs one line per day and returns it in the XCom
entries.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wa_analytics.destinations.attempts import new_token, temp_folder
from airflow_provider_wa_analytics.destinations.formats import open_writer
from airflow_provider_wa_analytics.destinations.naming import (
    Location,
    check_format,
    is_templated,
    plan_locations,
)
from airflow_provider_wa_analytics.destinations.output import STAGING_SUFFIX, Output
from airflow_provider_wa_analytics.destinations.parquet import (
    ParquetWriter,
    read_rows,
    require_pyarrow,
    typed,
)
from airflow_provider_wa_analytics.destinations.stores import Store
from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.tables.schema import Table

log = logging.getLogger(__name__)

DATE_PLACEHOLDER = "{date}"
PLACEHOLDERS = ("{table}", DATE_PLACEHOLDER)
MANIFEST_NAME = "_manifest.json"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")

Day = dt.date | None


def _unquoted(destination: str) -> str:
    """``{`` and ``}`` as ``Path.as_uri()`` percent-encodes them."""
    return re.sub("%7B", "{", re.sub("%7D", "}", destination, flags=re.IGNORECASE), flags=re.IGNORECASE)


def is_partitioned(destination: str | None) -> bool:
    return bool(destination) and DATE_PLACEHOLDER in _unquoted(str(destination))


def check_destination(destination: str | None) -> None:
    """The placeholders of a rendered ``destination``: ``{table}`` and at most one ``{date}``."""
    if not destination or not isinstance(destination, str) or is_templated(destination):
        return
    text = _unquoted(destination)
    unknown = sorted({p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS})
    if unknown:
        raise InvalidParameterError(
            f"`destination` {destination!r} holds the unknown placeholder(s) {', '.join(unknown)}: only "
            "{table} (the table's name) and {date} (the UTC day, YYYY-MM-DD) are replaced; use a template "
            "such as {{ ds }} for anything else."
        )
    if text.count(DATE_PLACEHOLDER) > 1:
        raise InvalidParameterError(
            f"`destination` {destination!r} holds {{date}} more than once: put it once, in the folder or "
            "in the name (s3://bucket/wa/{date}/{table}.jsonl)."
        )
    if DATE_PLACEHOLDER in text and "://" not in text:
        raise InvalidParameterError(
            f"`destination` {destination!r}: {{date}} day partitions need an s3://, gs:// or file:// "
            "destination; output to XCom has no days to partition."
        )


def day_of(value: Any) -> dt.date | None:
    """The UTC day of a day column's value (``YYYY-MM-DD`` or an ISO-8601 UTC timestamp); None for none."""
    return typed("date", value)  # a value of a ``date`` column, as Parquet and the change report read it


# -- the change report ------------------------------------------------------------------------------
@dataclass
class Tally:
    """What a (table, day) object holds, for the change report: primary keys and count totals."""

    keys: set[tuple[str, ...]] = field(default_factory=set)
    totals: dict[str, int | float] = field(default_factory=dict)
    rows: int = 0

    def add(self, table: Table, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self.keys.add(tuple(_key_text(typed(table.type_of(c), row.get(c))) for c in table.primary_key))
        for name in table.count_columns:
            value = typed("count", row.get(name)) if not isinstance(row.get(name), float) else row.get(name)
            if value is not None:
                self.totals[name] = self.totals.get(name, 0) + value

    def change(self, before: Tally | None, table: Table) -> dict[str, Any]:
        if before is None:
            return {"previous": None, "rows_before": 0, "rows_after": self.rows}
        return {
            "previous": True,
            "rows_before": before.rows,
            "rows_after": self.rows,
            "rows_added": len(self.keys - before.keys),
            "rows_removed": len(before.keys - self.keys),
            "totals": {c: self.totals.get(c, 0) - before.totals.get(c, 0) for c in table.count_columns},
        }


def _key_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def parse_rows(data: bytes, output_format: str, compressed: bool) -> Iterable[Mapping[str, Any]]:
    """The rows of a stored object (jsonl, csv or parquet), to compare a re-fetched day with."""
    if output_format == "parquet":
        return read_rows(io.BytesIO(data))
    if compressed:
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if output_format == "csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- the output -------------------------------------------------------------------------------------
class RunOutput(Output):
    """A run's output with ``{date}`` partitions and/or Parquet, a manifest and a change report.

    ``days``: the UTC days a ``{date}`` run writes (each gets an object per table); ``refetched``: the
    days before the window re-fetched (compared with what was there before).
    """

    def __init__(
        self,
        *,
        schemas: Mapping[str, Table],
        days: Sequence[dt.date] | None = None,
        refetched: Sequence[dt.date] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.schemas = dict(schemas)
        self.partitioned = is_partitioned(self.destination)
        self.days: tuple[Day, ...] = tuple(days or ()) if self.partitioned else (None,)
        self.refetched = frozenset(refetched) if self.partitioned else frozenset()
        self._objects: dict[tuple[str, Day], Location] | None = None
        self._day_writers: dict[tuple[str, Day], Any] = {}
        self._tallies: dict[tuple[str, Day], Tally] = {}

    # -- checks ------------------------------------------------------------------------------------
    def _check_parameters(self) -> None:
        check_format(self.output_format, self.compression)
        if self.to_xcom:
            if self.output_format == "parquet":
                raise InvalidParameterError(
                    '`output_format="parquet"` writes files: set `destination` to an s3://, gs:// or '
                    "file:// URI."
                )
            return
        if self.wants_raw and self.partitioned:
            raise InvalidParameterError(
                "`destination` with {date} needs output_format jsonl, csv or parquet: the vendor responses "
                "(json) span several days and cannot be split by day."
            )
        if not isinstance(self.destination, str) or is_templated(self.destination):
            raise InvalidParameterError(
                f"`destination` must be a rendered URI string (got {self.destination!r})."
            )
        check_destination(self.destination)
        if self.output_format == "parquet":
            require_pyarrow()

    def objects(self) -> dict[tuple[str, Day], Location]:
        """(table, day) -> final location; day None without ``{date}``."""
        if self._objects is None:
            self._check_parameters()
            names = list(self.tables)
            out: dict[tuple[str, Day], Location] = {}
            for day in self.days:
                out.update(((name, day), loc) for name, loc in self._plan_day(names, day).items())
            self._objects = out
        return self._objects

    def _plan_day(self, names: list[str], day: Day) -> dict[str, Location]:
        assert self.destination is not None
        destination = _unquoted(self.destination) if self.partitioned else self.destination
        if day is not None:
            destination = destination.replace(DATE_PLACEHOLDER, day.isoformat())
        return plan_locations(destination, names)

    def locations(self) -> dict[str, Location]:
        if self.to_xcom:
            self._check_parameters()
            return super().locations()
        return {f"{table}@{day}": loc for (table, day), loc in self.objects().items()}

    # -- writing -----------------------------------------------------------------------------------
    def __enter__(self) -> RunOutput:
        if self.to_xcom or self.wants_raw:
            super().__enter__()
            return self
        self.objects()
        self._tmpdir = temp_folder()
        self._committed = False
        for table, day in self.objects():
            self._open(table, day)  # every day gets its object, empty when it has no rows
        return self

    def _open(self, table: str, day: Day) -> Any:
        key = (table, day)
        writer = self._day_writers.get(key)
        if writer is None:
            if self._tmpdir is None or self._committed:
                raise RuntimeError("write to an Output inside `with out:` and before commit()")
            if key not in self.objects():
                self.objects()[key] = self._plan_day([*self.tables], day)[table]
            path = os.path.join(self._tmpdir.name, f"{len(self._day_writers)}.part")
            compress = self.compression == "gzip"
            if self.output_format == "parquet":
                writer = ParquetWriter(path, self.schemas[table], compress)
            else:
                writer = open_writer(self.output_format, path, table, self.tables[table], compress)
            self._day_writers[key] = writer
            self._writers[f"{table}@{day}"] = writer  # closed by Output.__exit__
        return writer

    def write_rows(self, table: str, rows: Iterable[Mapping[str, Any]], day: dt.date | None = None) -> None:
        """Rows of ``table``: each to its own day's object (the day column, else ``day``)."""
        if self.to_xcom or self.wants_raw:
            super().write_rows(table, rows)
            return
        if table not in self.tables:
            raise ValueError(f"unknown table {table!r}; expected one of {list(self.tables)}")
        schema = self.schemas.get(table)
        column = schema.day_column if schema is not None and self.partitioned else None
        for row in rows:
            row_day = (day_of(row.get(column)) if column else day) if self.partitioned else None
            if self.partitioned and row_day is None:
                row_day = day
            key = (table, row_day)
            self._open(table, row_day).write(row)
            if row_day in self.refetched and schema is not None:
                self._tallies.setdefault(key, Tally()).add(schema, row)

    # -- publishing --------------------------------------------------------------------------------
    def commit(self) -> Any:
        if self.to_xcom or self.wants_raw:
            return super().commit()
        tmpdir = self._close(self._day_writers.values())
        store = self._get_store()
        changes = self._changes(store)
        objects = self.objects()
        files = [(table, writer, objects[(table, day)]) for (table, day), writer in self._day_writers.items()]
        token = new_token()
        self._stage_and_publish(store, files, token)
        result: list[dict[str, Any]] = []
        for (table, day), writer in self._day_writers.items():
            entry: dict[str, Any] = {
                "uri": objects[(table, day)].uri,
                "table": table,
                "day": day.isoformat() if day else None,
                "rows": writer.rows,
                "bytes": os.path.getsize(writer.path),
                "sha256": _sha256(writer.path),
            }
            if (table, day) in changes:
                entry["change"] = changes[(table, day)]
            result.append(entry)
        self._log_changes(changes)
        manifest = write_manifest(store, [objects[key] for key in self._day_writers], result, tmpdir, token)
        log.info("Published %d object(s) and %s", len(result), manifest.uri)
        return result

    def _changes(self, store: Store) -> dict[tuple[str, Day], dict[str, Any]]:
        """Per re-fetched (table, day): the new object against the one it replaces."""
        out: dict[tuple[str, Day], dict[str, Any]] = {}
        for (table, day), _writer in self._day_writers.items():
            schema = self.schemas.get(table)
            if day not in self.refetched or schema is None:
                continue
            previous = store.read(self.objects()[(table, day)])
            before: Tally | None = None
            if previous is not None:
                before = Tally()
                try:
                    for row in parse_rows(previous, self.output_format, self.compression == "gzip"):
                        before.add(schema, row)
                except Exception:  # another format, or written by hand: the report says so, the run goes on
                    log.warning(
                        "Could not read the previous %s to compare with", self.objects()[(table, day)].uri
                    )
                    out[(table, day)] = {
                        "previous": "unreadable",
                        "rows_after": self._tallies.get((table, day), Tally()).rows,
                    }
                    continue
            out[(table, day)] = self._tallies.get((table, day), Tally()).change(before, schema)
        return out

    @staticmethod
    def _log_changes(changes: Mapping[tuple[str, Day], Mapping[str, Any]]) -> None:
        by_day: dict[Day, list[str]] = {}
        for (table, day), change in sorted(changes.items(), key=lambda kv: (str(kv[0][1]), kv[0][0])):
            if change.get("previous") is None:
                text = f"{table}: {change['rows_after']} rows, no previous object"
            else:
                moved = ", ".join(f"{c} {v:+g}" for c, v in change["totals"].items() if v)
                text = (
                    f"{table}: +{change['rows_added']}/-{change['rows_removed']} rows"
                    f" ({change['rows_before']} -> {change['rows_after']}){'; ' + moved if moved else ''}"
                )
            by_day.setdefault(day, []).append(text)
        for day, parts in by_day.items():
            log.info("Re-fetched %s: %s", day, " | ".join(parts))


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_location(locations: Sequence[Location]) -> Location:
    """``_manifest.json`` in the deepest folder (prefix) holding every location."""
    first = locations[0]
    folders = [loc.key.rpartition("/")[0] for loc in locations]
    common = posixpath.commonpath(folders) if first.scheme == "file" else _common_prefix(folders)
    key = f"{common}/{MANIFEST_NAME}" if common else MANIFEST_NAME
    return Location(first.scheme, first.bucket, key)


def _common_prefix(folders: Sequence[str]) -> str:
    parts = [folder.split("/") if folder else [] for folder in folders]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common)


def manifest_bytes(entries: Sequence[Mapping[str, Any]]) -> bytes:
    objects = [{k: e[k] for k in ("uri", "table", "day", "rows", "bytes", "sha256")} for e in entries]
    objects.sort(key=lambda o: (o["day"] or "", o["table"], o["uri"]))
    return (json.dumps({"objects": objects}, indent=1, sort_keys=True) + "\n").encode()


def write_manifest(
    store: Store, locations: Sequence[Location], entries: Sequence[Mapping[str, Any]], tmp: str, token: str
) -> Location:
    """Write the manifest last: staged under a hidden name holding the attempt's ``token``, then
    promoted in one step (what a dead attempt left next to it is removed first)."""
    final = manifest_location(locations)
    path = os.path.join(tmp, MANIFEST_NAME)
    with open(path, "wb") as f:
        f.write(manifest_bytes(entries))
    Output._clean_leftovers(store, [final], token)
    staging = final.hidden_sibling(f".{token}{STAGING_SUFFIX}")
    try:
        store.upload(path, staging, "application/json")
        store.promote(staging, final)
    finally:
        store.delete([staging])
    return final
