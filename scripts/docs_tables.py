"""Generate the column tables of the vendor pages in docs/ from the code's table definitions.

The columns and their order come from the fetching operators' ``tables`` (read in
:func:`table_definitions` only); the words (a table's grain, a column's type and source) come from
``docs/columns.yml``. Each vendor page holds its tables between ``<!-- BEGIN generated tables -->``
and ``<!-- END generated tables -->``.

    python scripts/docs_tables.py          rewrite the pages
    python scripts/docs_tables.py --check  exit 1 when a page, the descriptions and the code disagree
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DESCRIPTIONS = DOCS / "columns.yml"
OPERATOR_MODULES = ("insider", "vonage", "kaleyra")
#: connection type (the vendor of a page) -> its page in docs/
PAGES = {
    "insider_whatsapp": "insider-whatsapp.md",
    "insider_webpush": "insider-webpush.md",
    "vonage_whatsapp": "vonage.md",
    "kaleyra_whatsapp": "kaleyra.md",
}
BEGIN, END = "<!-- BEGIN generated tables -->", "<!-- END generated tables -->"


@dataclass(frozen=True)
class Table:
    vendor: str
    operator: str
    name: str
    columns: tuple[str, ...]


def table_definitions() -> list[Table]:
    """Every table of every fetching operator, in declaration order: the one reader of the code."""
    from airflow_provider_wa_analytics.operators.base import WaAnalyticsOperator

    tables = []
    for module_name in OPERATOR_MODULES:
        module = importlib.import_module(f"airflow_provider_wa_analytics.operators.{module_name}")
        for cls in vars(module).values():
            if (
                isinstance(cls, type)
                and issubclass(cls, WaAnalyticsOperator)
                and cls.__module__ == module.__name__
                and cls.tables
            ):
                vendor = cls.hook_class.conn_type  # names the page: one per connection type
                tables += [
                    Table(vendor, cls.__name__, name, tuple(cols)) for name, cols in cls.tables.items()
                ]
    return tables


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(vendor: str, tables: list[Table], words: dict[str, Any]) -> tuple[str, list[str]]:
    """The markdown of one vendor's tables, and the problems found (a column with no description)."""
    problems: list[str] = []
    grains, columns = words.get("tables", {}), words.get("columns", {})
    names: dict[str, list[Table]] = {}
    for table in tables:
        names.setdefault(table.name, []).append(table)
    out = [BEGIN, ""]
    for name, same in names.items():
        if len({t.columns for t in same}) > 1:
            problems.append(f"{vendor}: table {name!r} has different columns in {[t.operator for t in same]}")
        operators = ", ".join(f"`{t.operator}`" for t in same)
        out += [f"### `{name}`", "", f"{grains.get(name) or ''} Written by {operators}.".strip(), ""]
        out += ["| # | column | type | source or meaning |", "|---|---|---|---|"]
        for i, column in enumerate(same[0].columns, 1):
            entry = columns.get(f"{name}.{column}", columns.get(column))
            if entry is None:
                problems.append(f"{vendor}: column {name}.{column} has no description in {DESCRIPTIONS.name}")
                entry = ["", ""]
            out.append(f"| {i} | `{column}` | {_cell(entry[0])} | {_cell(entry[1])} |")
        out.append("")
    known = {c for t in tables for c in t.columns} | {f"{t.name}.{c}" for t in tables for c in t.columns}
    problems += [
        f"{vendor}: {key!r} in {DESCRIPTIONS.name} is no column of the code"
        for key in columns
        if key not in known
    ]
    problems += [
        f"{vendor}: table {key!r} in {DESCRIPTIONS.name} is not in the code"
        for key in grains
        if key not in names
    ]
    out.append(END)
    return "\n".join(out), problems


def generate() -> tuple[dict[Path, str], list[str]]:
    """Each vendor page as it should be, and the problems found."""
    words = yaml.safe_load(DESCRIPTIONS.read_text())
    definitions = table_definitions()
    pages, problems = {}, []
    for vendor, page in PAGES.items():
        path = DOCS / page
        text = path.read_text()
        block, found = render(vendor, [t for t in definitions if t.vendor == vendor], words.get(vendor, {}))
        problems += found
        pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            problems.append(f"{page}: no {BEGIN} ... {END} block")
            continue
        pages[path] = pattern.sub(lambda _, block=block: block, text)
    return pages, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a page differs from the code")
    args = parser.parse_args(argv)
    pages, problems = generate()
    for path, text in pages.items():
        current = path.read_text()
        if current == text:
            continue
        if args.check:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(path), "generated", lineterm=""
            )
            problems.append(f"{path.relative_to(ROOT)} differs from the code:\n" + "\n".join(diff))
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print(
            "run `python scripts/docs_tables.py` and describe new columns in docs/columns.yml",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
