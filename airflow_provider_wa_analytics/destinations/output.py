"""Where an operator's result goes: S3, GCS, a local file or XCom, streamed and published all at once.

Rows are streamed to temporary files while the vendor is paged; nothing reaches the destination
until ``commit()``, which uploads every object under a hidden staging name next to its final key,
then promotes them with server-side copies (``os.replace`` for files), restoring the previous
objects if a promotion fails, and finally deletes the staging copies. Staging names are unique to
the attempt (see :mod:`.attempts`), so concurrent attempts never mix, and each attempt first removes
what dead attempts left next to its objects.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from airflow_provider_wa_analytics.destinations.attempts import abandoned, new_token, temp_folder
from airflow_provider_wa_analytics.destinations.formats import CONTENT_TYPES, open_writer
from airflow_provider_wa_analytics.destinations.naming import (
    RAW_TABLE,
    Location,
    check_format,
    is_fixed,
    is_templated,
    plan_locations,
    table_names,
)
from airflow_provider_wa_analytics.destinations.stores import Store, open_store
from airflow_provider_wa_analytics.exceptions import DestinationError, InvalidParameterError

log = logging.getLogger(__name__)

STAGING_SUFFIX = ".staging"
PREVIOUS_SUFFIX = ".previous"
DEFAULT_XCOM_MAX_BYTES = 1_048_576


@dataclass
class _Staged:
    table: str
    path: str
    rows: int
    final: Location
    staging: Location
    previous: Location

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)

    @classmethod
    def of(cls, table: str, writer: Any, final: Location, prefix: str = "") -> _Staged:
        """A closed writer's file bound for ``final``, with its staging and previous-version names."""
        return cls(
            table,
            writer.path,
            writer.rows,
            final,
            final.hidden_sibling(f"{prefix}{STAGING_SUFFIX}"),
            final.hidden_sibling(f"{prefix}{PREVIOUS_SUFFIX}"),
        )


@dataclass(eq=False)
class Output:
    """One task's output. Use as ``with out: out.write_rows(...); result = out.commit()``.

    ``tables``: table name -> ordered columns (needed by the normalized formats).
    """

    destination: str | None
    destination_conn_id: str | None = None
    output_format: str = "jsonl"
    compression: str | None = None
    tables: Mapping[str, Sequence[str]] = field(default_factory=dict)
    xcom_max_bytes: int = DEFAULT_XCOM_MAX_BYTES

    def __post_init__(self) -> None:
        self.tables = dict(self.tables or {})
        self._plan: dict[str, Location] | None = None
        self._store: Store | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._writers: dict[str, Any] = {}
        self._committed = False

    @property
    def wants_raw(self) -> bool:
        return self.output_format == "json"

    @property
    def to_xcom(self) -> bool:
        return self.destination is None

    # -- checks ---------------------------------------------------------------------------------

    def locations(self) -> dict[str, Location]:
        """Table name -> final location (checked parameters, no I/O). Empty for XCom."""
        if self._plan is None:
            check_format(self.output_format, self.compression)
            if not self.wants_raw and not self.tables:
                raise ValueError("Output needs `tables` (name -> columns) for jsonl and csv")
            conn_id = self.destination_conn_id
            if conn_id is not None and (not isinstance(conn_id, str) or not conn_id.strip()):
                raise InvalidParameterError(
                    "`destination_conn_id` must be an Airflow connection id, or None for the default "
                    "(aws_default for s3://, google_cloud_default for gs://)."
                )
            if self.to_xcom:
                self._plan = {}
            else:
                if not isinstance(self.destination, str) or is_templated(self.destination):
                    raise InvalidParameterError(
                        f"`destination` must be a rendered URI string (got {self.destination!r})."
                    )
                self._plan = plan_locations(self.destination, self._names())
        return self._plan

    def _names(self) -> list[str]:
        return table_names(self.output_format, self.tables)

    def _get_store(self) -> Store:
        if self._store is None:
            scheme = next(iter(self.locations().values())).scheme
            self._store = self._open_store(scheme)
        return self._store

    def _open_store(self, scheme: str) -> Store:
        return open_store(scheme, self.destination_conn_id)

    def check(self) -> None:
        """Fail fast, before any vendor request: parameters, extra installed, connection, bucket writable."""
        plan = self.locations()
        if plan:
            self._get_store().check(list(plan.values()))

    # -- writing --------------------------------------------------------------------------------

    def __enter__(self) -> Output:
        plan = self.locations()
        self._tmpdir = temp_folder()
        compress = self.compression == "gzip" and not self.to_xcom
        # XCom keeps jsonl internally whatever the format: the result is parsed back into rows.
        fmt = self.output_format if not self.to_xcom or self.wants_raw else "jsonl"
        for index, name in enumerate(self._names()):
            path = os.path.join(self._tmpdir.name, f"{index}.part")
            self._writers[name] = open_writer(fmt, path, name, self.tables.get(name, ()), compress)
        self._committed = False
        if plan:
            log.info("Streaming %s to temporary files before publishing", ", ".join(self._names()))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._close_writers()
        finally:
            if self._tmpdir is not None:
                self._tmpdir.cleanup()
                self._tmpdir = None
            self._writers = {}
        if exc_type is None and not self._committed:
            log.warning("Output closed without commit(): nothing was written")

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:
                log.debug("closing %s", writer.path, exc_info=True)

    def _writer(self, table: str) -> Any:
        if self._tmpdir is None or self._committed:
            raise RuntimeError("write to an Output inside `with out:` and before commit()")
        try:
            return self._writers[table]
        except KeyError:
            raise ValueError(f"unknown table {table!r}; expected one of {list(self._writers)}") from None

    def write_raw(self, body: bytes) -> None:
        """One vendor response body, exactly as received (format json only)."""
        if not self.wants_raw:
            raise RuntimeError(f"write_raw() is for output_format='json', not {self.output_format!r}")
        writer = self._writer(RAW_TABLE)
        writer.write(body)
        self._guard_xcom()

    def write_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Stream normalized rows of ``table`` to its temporary file (formats jsonl and csv)."""
        if self.wants_raw:
            raise RuntimeError("write_rows() is for output_format 'jsonl' or 'csv'; json takes write_raw()")
        writer = self._writer(table)
        for row in rows:
            writer.write(row)
            if self.to_xcom:
                self._guard_xcom()

    def _guard_xcom(self) -> None:
        # Fails as soon as the result cannot fit, rather than after fetching everything.
        if self.to_xcom:
            size = sum(writer.bytes_in for writer in self._writers.values())
            if size > self.xcom_max_bytes:
                raise _too_big_for_xcom(size, self.xcom_max_bytes)

    # -- publishing -----------------------------------------------------------------------------

    def _close(self, writers: Iterable[Any]) -> str:
        """Close every writer, once, inside ``with out:``: the start of every commit. Returns the
        temporary directory the files are in."""
        if self._tmpdir is None:
            raise RuntimeError("commit() must be called inside `with out:`")
        if self._committed:
            raise RuntimeError("commit() was already called")
        for writer in writers:
            writer.close()
        self._committed = True
        return self._tmpdir.name

    def commit(self) -> Any:
        """Publish everything written; returns what the task returns to XCom."""
        self._close(self._writers.values())
        if self.to_xcom:
            return self._xcom_result()
        plan = self.locations()
        started = time.monotonic()
        files = [(name, writer, plan[name]) for name, writer in self._writers.items()]
        staged = self._stage_and_publish(self._get_store(), files, new_token())
        result = []
        for item in staged:
            size = item.size
            log.info("Wrote %s (table %s: %d rows, %d bytes)", item.final.uri, item.table, item.rows, size)
            result.append({"uri": item.final.uri, "table": item.table, "rows": item.rows, "bytes": size})
        log.info("Published %d object(s) in %.2f s", len(staged), time.monotonic() - started)
        return result

    def _stage_and_publish(
        self, store: Store, files: list[tuple[str, Any, Location]], token: str
    ) -> list[_Staged]:
        """Publish closed writers' files, ``(table, writer, final location)`` each, as one set.

        They are staged under names holding the attempt's ``token`` (:func:`.attempts.new_token`), after
        removing what dead attempts left next to the same objects: two attempts never write into each
        other's files.
        """
        staged = [_Staged.of(table, writer, final, f".{token}") for table, writer, final in files]
        self._clean_leftovers(store, [item.final for item in staged], token)
        self._publish(store, staged)
        return staged

    def _publish(self, store: Store, staged: list[_Staged]) -> None:
        content_type = CONTENT_TYPES[self.output_format]
        if self.compression == "gzip":
            content_type = "application/gzip"
        several = len(staged) > 1
        # Every hidden name this publication may use, deleted at the end whatever happens; what a
        # killed attempt leaves is removed by the next one (_clean_leftovers).
        temporary = [item.staging for item in staged] + [item.previous for item in staged if several]
        saved: dict[Location, Location] = {}
        promoted: list[Location] = []
        try:
            for item in staged:
                store.upload(item.path, item.staging, content_type)
            if several:
                # Only a set of objects needs the previous versions: a single promotion is atomic.
                for item in staged:
                    if store.exists(item.final):
                        store.snapshot(item.final, item.previous)
                        saved[item.final] = item.previous
            for item in staged:
                store.promote(item.staging, item.final)
                promoted.append(item.final)
        except BaseException:
            # BaseException too: Airflow stops a task (timeout, mark failed) by raising in it.
            kept = self._roll_back(store, promoted, saved)
            temporary = [loc for loc in temporary if loc not in kept]
            raise
        finally:
            try:
                store.delete(temporary)
            except Exception:
                log.warning(
                    "Could not delete the temporary objects %s; the next run of this interval reuses "
                    "and deletes them",
                    [loc.uri for loc in temporary],
                    exc_info=True,
                )

    @staticmethod
    def _clean_leftovers(store: Store, finals: list[Location], token: str) -> None:
        """Delete the staging objects and unfinished uploads that dead attempts left next to ``finals``."""
        for final in finals:
            try:
                dead = [loc for loc, age in store.hidden_siblings(final) if abandoned(loc.key, age, token)]
                if dead:
                    log.info("Removing what an earlier, dead attempt left: %s", [loc.uri for loc in dead])
                    store.delete(dead)
                store.abort_uploads(final, lambda key, age: abandoned(key, age, token))
            except Exception:  # a failed clean-up must not fail the run: the next one tries again
                log.warning("Could not clean up the left-overs next to %s", final.uri, exc_info=True)

    @staticmethod
    def _roll_back(store: Store, promoted: list[Location], saved: dict[Location, Location]) -> set[Location]:
        """Undo the promotions done; returns the saved previous objects that could not be restored."""
        kept: set[Location] = set()
        for final in reversed(promoted):
            try:
                if final in saved:
                    store.promote(saved[final], final)
                else:
                    store.delete([final])
                log.info("Rolled back %s", final.uri)
            except Exception:
                if final in saved:
                    kept.add(saved[final])
                log.error(
                    "Could not roll back %s: it holds this run's complete object%s",
                    final.uri,
                    f"; the previous one is kept as {saved[final].uri}" if final in saved else "",
                )
        return kept

    def _xcom_result(self) -> dict[str, list[Any]]:
        size = sum(os.path.getsize(writer.path) for writer in self._writers.values())
        if size > self.xcom_max_bytes:
            raise _too_big_for_xcom(size, self.xcom_max_bytes)
        result: dict[str, list[Any]] = {}
        for name, writer in self._writers.items():
            with open(writer.path, "rb") as f:
                if self.wants_raw:
                    result[name] = json.load(f)
                else:
                    result[name] = [json.loads(line) for line in f]
        size = len(json.dumps(result))
        if size > self.xcom_max_bytes:
            raise _too_big_for_xcom(size, self.xcom_max_bytes)
        log.info(
            "Returning %s through XCom (%d bytes)",
            ", ".join(f"{name}: {len(rows)} rows" for name, rows in result.items()),
            size,
        )
        return result


def _too_big_for_xcom(size: int, limit: int) -> DestinationError:
    return DestinationError(
        f"The result is over {size} bytes, more than the XCom limit of {limit} bytes (xcom_max_bytes). "
        "Set `destination` to an s3://, gs:// or file:// URI to write it to storage instead."
    )


def destination_uris(
    destination: str | None, tables: Iterable[str] | Mapping[str, Any], output_format: str
) -> list[str]:
    """The object URIs a static destination writes (checked, no I/O); [] for XCom, a template or an
    XComArg."""
    if not destination or not is_fixed(destination):
        return []
    check_format(output_format, None)
    return [loc.uri for loc in plan_locations(destination, table_names(output_format, tables)).values()]
