"""``output_format="parquet"``: normalized rows as Parquet, typed from the table definitions, streamed.

Rows are buffered :data:`ROW_GROUP_ROWS` at a time and written as one row group each, so memory does
not grow with the table. An empty table is still a valid file with its schema. pyarrow comes with the
extra ``parquet``; it is imported only when a parquet output is checked or written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.tables.schema import Table

#: Rows per row group: small enough to keep memory flat, large enough for column compression.
ROW_GROUP_ROWS = 10_000
EXTRA = "parquet"


def require_pyarrow() -> Any:
    """pyarrow, or the error naming the extra (raised before any request)."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InvalidParameterError(
            f'`output_format="parquet"` needs pyarrow: pip install "airflow-provider-wa-analytics[{EXTRA}]"'
        ) from None
    return pyarrow


def arrow_type(kind: str) -> Any:
    pa = require_pyarrow()
    return {
        "count": pa.int64(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "boolean": pa.bool_(),
        "text": pa.string(),
    }[kind]


def arrow_schema(table: Table) -> Any:
    pa = require_pyarrow()
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_CONVERT: dict[str, Any] = {
    "count": int,
    "integer": int,
    "float": float,
    "timestamp": _timestamp,
    "date": _date,
    "boolean": bool,
    "text": str,
}


def typed(kind: str, value: Any) -> Any:
    """A normalized value as its column's Parquet type (None stays None)."""
    return None if value is None or (value == "" and kind != "text") else _CONVERT[kind](value)


class ParquetWriter:
    """Same interface as the jsonl/csv writers: ``write(row)``, ``close()``, ``path``, ``rows``."""

    def __init__(self, path: str, table: Table, compress: bool) -> None:
        require_pyarrow()
        import pyarrow.parquet as pq

        self.path = path
        self.table = table.name
        self.columns = table.column_names
        self._kinds = [c.type for c in table.columns]
        self._schema = arrow_schema(table)
        self._writer = pq.ParquetWriter(path, self._schema, compression="gzip" if compress else "snappy")
        self._buffer: list[list[Any]] = [[] for _ in self.columns]
        self._known = frozenset(self.columns)
        self.rows = 0
        self.bytes_in = 0
        self._closed = False

    def write(self, row: Mapping[str, Any]) -> None:
        if not self._known.issuperset(row.keys()):
            unknown = sorted(set(row) - self._known)
            raise ValueError(f"table {self.table!r}: row has columns {unknown} not in {list(self.columns)}")
        for values, name, kind in zip(self._buffer, self.columns, self._kinds, strict=True):
            values.append(typed(kind, row.get(name)))
        self.rows += 1
        if len(self._buffer[0]) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._buffer[0]:
            return
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(self._buffer, self._schema, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        self._buffer = [[] for _ in self.columns]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush()
        self._writer.close()


def read_rows(path_or_buffer: Any) -> list[dict[str, Any]]:
    """Rows of a Parquet file as Python values (the change report reads a previous object with it)."""
    require_pyarrow()
    import pyarrow.parquet as pq

    return pq.read_table(path_or_buffer).to_pylist()  # type: ignore[no-any-return]
