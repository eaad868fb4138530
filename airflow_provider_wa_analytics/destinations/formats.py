"""Writers that stream rows (jsonl, csv) or raw vendor bodies (json) to a local file, optionally gzipped.

The output is deterministic: the same rows give the same bytes (fixed column order, compact JSON,
gzip header without name or mtime), so a rerun of an interval produces byte-identical objects.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

CONTENT_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# allow_nan=False: NaN/Infinity are not JSON, and a loader would reject the whole file later.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)


class _Sink:
    """A binary file, behind gzip when asked. ``bytes_in`` counts what was written before compression."""

    def __init__(self, path: str, compress: bool) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._stream: Any = self._file
        if compress:
            # filename="" and mtime=0 keep the temp file's name and the clock out of the header.
            self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=self._file, mtime=0, compresslevel=6)
        self.bytes_in = 0
        self.rows = 0

    def text(self) -> io.TextIOWrapper:
        # backslashreplace: a lone surrogate from a vendor string becomes a \udxxx escape, which is
        # still valid JSON, instead of failing the task.
        return io.TextIOWrapper(self._stream, encoding="utf-8", errors="backslashreplace", newline="")

    def close(self) -> None:
        if self._stream is not self._file:
            self._stream.close()
        self._file.close()


class _Writer:
    """What every writer reports: its temp file, the rows and the bytes written before compression."""

    _sink: _Sink

    @property
    def path(self) -> str:
        return self._sink.path

    @property
    def rows(self) -> int:
        return self._sink.rows

    @property
    def bytes_in(self) -> int:
        return self._sink.bytes_in


class TableWriter(_Writer):
    """Normalized rows of one table, in its column order. Keys outside the columns are a bug upstream."""

    def __init__(self, path: str, table: str, columns: Sequence[str], compress: bool) -> None:
        if not columns or len(set(columns)) != len(columns):
            raise ValueError(f"table {table!r}: columns must be a non-empty list of unique names")
        self.table = table
        self.columns = list(columns)
        self._known = frozenset(columns)
        self._sink = _Sink(path, compress)
        self._text = self._sink.text()

    def _check(self, row: Mapping[str, Any]) -> None:
        if not self._known.issuperset(row.keys()):
            unknown = sorted(set(row) - self._known)
            raise ValueError(f"table {self.table!r}: row has columns {unknown} not in {self.columns}")

    def write(self, row: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._text.close()  # flushes, then closes the gzip stream (not the file under it)
        self._sink.close()


class JsonlWriter(TableWriter):
    def write(self, row: Mapping[str, Any]) -> None:
        self._check(row)
        line = _ENCODER.encode({column: row.get(column) for column in self.columns}) + "\n"
        self._text.write(line)
        self._sink.bytes_in += len(line)
        self._sink.rows += 1


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return _ENCODER.encode(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return value


class CsvWriter(TableWriter):
    """RFC 4180: header row, CRLF line ends, fields quoted only when needed."""

    def __init__(self, path: str, table: str, columns: Sequence[str], compress: bool) -> None:
        super().__init__(path, table, columns, compress)
        self._line = io.StringIO()
        self._csv = csv.writer(self._line, lineterminator="\r\n")
        self._emit(self.columns)

    def _emit(self, cells: list[Any]) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._csv.writerow(cells)
        text = self._line.getvalue()
        self._text.write(text)
        self._sink.bytes_in += len(text)

    def write(self, row: Mapping[str, Any]) -> None:
        self._check(row)
        self._emit([_csv_cell(row.get(column)) for column in self.columns])
        self._sink.rows += 1


class RawJsonWriter(_Writer):
    """The vendor bodies byte for byte, as one JSON array: ``[body1,body2]``."""

    table = "raw"

    def __init__(self, path: str, compress: bool) -> None:
        self._sink = _Sink(path, compress)
        self._stream = self._sink._stream
        self._stream.write(b"[")
        self._sink.bytes_in = 2  # the brackets
        self._closed = False

    def write(self, body: bytes) -> None:
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError("write_raw() takes the response body as bytes, exactly as received")
        if self._sink.rows:
            self._stream.write(b",")
            self._sink.bytes_in += 1
        self._stream.write(body)
        self._sink.bytes_in += len(body)
        self._sink.rows += 1

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._stream.write(b"]")
            self._sink.close()


def open_writer(output_format: str, path: str, table: str, columns: Sequence[str], compress: bool):
    if output_format == "json":
        return RawJsonWriter(path, compress)
    if output_format == "csv":
        return CsvWriter(path, table, columns, compress)
    if output_format == "parquet":
        raise ValueError("parquet is written by destinations.parquet.ParquetWriter (typed from the table)")
    return JsonlWriter(path, table, columns, compress)
