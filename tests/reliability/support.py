"""Test-only helpers of the reliability suite: the outcome tally and the clean-run reference.

Kept out of ``conftest.py``: pytest imports that file under its own module name, so a counter there
would not be the one the test modules import.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any

#: Outcome counters, filled by the tests and printed at the end of the session by the conftest.
TALLY: collections.Counter[str] = collections.Counter()


@dataclass(frozen=True)
class Reference:
    """A clean run of a case: the files it wrote, its XCom value per table, its request count."""

    files: dict[str, bytes]
    tables: dict[str, tuple[int, int]]  # table -> (rows, bytes)
    requests: int


def tables_of(result: Any) -> dict[str, tuple[int, int]]:
    """The XCom value of a run with a destination, as table -> (rows, bytes)."""
    return {item["table"]: (item["rows"], item["bytes"]) for item in result}
