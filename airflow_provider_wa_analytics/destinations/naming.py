"""Destination URIs: the allowed values, how a URI is parsed and checked, and each table's object name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from airflow_provider_wa_analytics.exceptions import InvalidParameterError

SCHEMES = ("s3", "gs", "file")
FORMATS = ("json", "jsonl", "csv", "parquet")
COMPRESSIONS = (None, "gzip")
RAW_TABLE = "raw"
TABLE_PLACEHOLDER = "{table}"

# What counts as "the extension" when a table name is inserted before it: a known data suffix,
# optionally followed by a compression suffix (".jsonl.gz" keeps both). Anything else (dates with
# dots, no suffix at all) gets the table name appended.
_EXTENSION = re.compile(r"(\.(?:jsonl|ndjson|json|csv|tsv|txt|parquet))?(\.(?:gz|gzip))?$", re.IGNORECASE)
_BUCKET = {
    "s3": re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    "gs": re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$"),
}


@dataclass(frozen=True)
class Location:
    """One object: ``bucket`` is empty and ``key`` is the absolute path for ``file``."""

    scheme: str
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        if self.scheme == "file":
            return f"file://{self.key}"
        return f"{self.scheme}://{self.bucket}/{self.key}"

    @property
    def folder(self) -> str:
        return self.key.rpartition("/")[0]

    def hidden_sibling(self, suffix: str) -> Location:
        """A name next to this object that loaders skip: dot-prefixed, and not ending in the extension."""
        folder, slash, name = self.key.rpartition("/")
        return Location(self.scheme, self.bucket, f"{folder}{slash}.{name}{suffix}")


def is_templated(value: str) -> bool:
    return "{{" in value or "{%" in value


def is_fixed(value: Any) -> bool:
    """Known when the DAG file is parsed: neither a template string nor a value Airflow resolves when
    the task runs (an ``XComArg`` such as another task's ``.output``). Only fixed values are checked
    at parse time; the others are checked once rendered."""
    if isinstance(value, str):
        return not is_templated(value)
    return not callable(getattr(value, "resolve", None))


def check_format(output_format: object, compression: object) -> None:
    if output_format not in FORMATS:
        raise InvalidParameterError(
            f"`output_format` must be one of {', '.join(FORMATS)} (got {output_format!r})."
        )
    if compression not in COMPRESSIONS:
        raise InvalidParameterError(
            f"`compression` must be None (no compression) or 'gzip' (got {compression!r})."
        )


def parse_location(uri: str) -> Location:
    """Parse and check one object URI; errors name the ``destination`` parameter."""
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        # Only the scheme is echoed: whatever follows it could hold userinfo.
        shown = f"{scheme}://" if sep else "no scheme"
        raise InvalidParameterError(
            "`destination` must be an s3://bucket/key, gs://bucket/key or file:///absolute/path URI "
            f"(got {shown}); leave it unset to return the result through XCom."
        )
    if scheme == "file":
        if not rest.startswith("/"):
            raise InvalidParameterError(
                f"`destination` {uri!r}: file:// URIs must be absolute, "
                "e.g. file:///data/wa/{{ ds }}.jsonl"
            )
        if rest.endswith("/") or "\x00" in rest:
            raise InvalidParameterError(f"`destination` {uri!r} must name a file, not a directory.")
        # file URIs are percent-encoded (Path.as_uri() writes spaces as %20).
        return Location("file", "", unquote(rest))
    bucket, _, key = rest.partition("/")
    if not _BUCKET[scheme].match(bucket):
        raise InvalidParameterError(
            f"`destination`: the bucket of a {scheme}:// URI must be 3-63 lowercase letters, digits, "
            "dots or hyphens."
        )
    if not key or key.endswith("/"):
        raise InvalidParameterError(
            f"`destination` {uri!r} must name an object (s3://bucket/path/name.jsonl), not a bucket or "
            "a prefix ending with '/'."
        )
    return Location(scheme, bucket, key)


def object_uri(destination: str, table: str, several: bool) -> str:
    """The URI of ``table``'s object: ``{table}`` replaced, else the name goes before the extension."""
    destination = re.sub("%7Btable%7D", TABLE_PLACEHOLDER, destination, flags=re.IGNORECASE)  # from as_uri()
    if TABLE_PLACEHOLDER in destination:
        return destination.replace(TABLE_PLACEHOLDER, table)
    if not several:
        return destination
    head, slash, name = destination.rpartition("/")
    match = _EXTENSION.search(name)
    cut = match.start() if match else len(name)
    return f"{head}{slash}{name[:cut]}_{table}{name[cut:]}"


def table_names(output_format: str, tables: Iterable[str]) -> list[str]:
    return [RAW_TABLE] if output_format == "json" else list(tables)


def plan_locations(destination: str, names: list[str]) -> dict[str, Location]:
    """Table name -> checked location; two tables may never share an object."""
    several = len(names) > 1
    plan = {name: parse_location(object_uri(destination, name, several)) for name in names}
    if len({loc for loc in plan.values()}) != len(plan):
        raise InvalidParameterError(
            f"`destination` {destination!r} gives several tables the same object; put {TABLE_PLACEHOLDER} "
            "in it."
        )
    return plan
