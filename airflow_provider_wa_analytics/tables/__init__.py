"""Normalized tables: typed, flat rows built from vendor responses, one module per vendor.

The helpers here type the vendors' figures (``"6"`` -> 6, ``"100.00%"`` -> 100.0, ``"12 TRY"`` ->
(12.0, "TRY")) and times (epoch seconds or ISO strings -> ISO-8601 UTC). A response that does not have
the documented shape raises :class:`~airflow_provider_wa_analytics.exceptions.MalformedResponseError`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_wa_analytics.exceptions import MalformedResponseError

_NUMBER = re.compile(
    r"^\s*([-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(%|[A-Za-z]{3})?\s*$"
)
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def malformed(what: str, value: Any = None) -> MalformedResponseError:
    shown = repr(value)
    return MalformedResponseError(f"unexpected response shape: {what} (got {shown[:80]})")


def number(value: Any, what: str = "figure") -> int | float | None:
    """A count or amount as int (when integral) or float; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise malformed(f"{what} should be a number", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise malformed(f"{what} should be a finite number", value)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        amount, suffix = _split(value, what)
        if suffix is not None:
            raise malformed(f"{what} should be a plain number", value)
        return amount
    raise malformed(f"{what} should be a number", value)


def _split(text: str, what: str) -> tuple[int | float, str | None]:
    match = _NUMBER.match(text)
    if not match:
        raise malformed(f"{what} should be a number", text)
    raw, suffix = match.group(1), match.group(2)
    # "1,234" and "1,234.5" group thousands; a lone comma ("12,5") is a decimal comma.
    raw = raw.replace(",", "") if _THOUSANDS.match(raw) else raw.replace(",", ".")
    parsed = float(raw)
    if not math.isfinite(parsed):
        raise malformed(f"{what} should be a finite number", text)
    if re.fullmatch(r"[-+]?\d+", raw):
        return int(raw), suffix
    return parsed, suffix


def percent(value: Any, what: str = "rate") -> float | None:
    """``"100.00%"`` -> 100.0 (a percentage, not a fraction)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        amount, suffix = _split(value, what)
        if suffix not in (None, "%"):
            raise malformed(f"{what} should be a percentage", value)
        return float(amount)
    n = number(value, what)
    return None if n is None else float(n)


def money(value: Any, what: str = "amount") -> tuple[float | None, str | None]:
    """``"12 TRY"`` -> (12.0, "TRY"); a bare number has no currency."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        amount, suffix = _split(value, what)
        if suffix == "%":
            raise malformed(f"{what} should be an amount", value)
        return float(amount), (suffix.upper() if suffix else None)
    n = number(value, what)
    return (None if n is None else float(n)), None


def iso_utc(value: Any, what: str = "timestamp") -> str | None:
    """Epoch seconds (int or numeric string) or an ISO string -> ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, (int, float)) or (
            isinstance(value, str) and value.strip().lstrip("-").isdigit()
        ):
            moment = dt.datetime.fromtimestamp(float(value), tz=dt.timezone.utc)
        elif isinstance(value, str):
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.timezone.utc)
        else:
            raise TypeError
        return moment.astimezone(dt.timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        raise malformed(f"{what} should be epoch seconds or an ISO-8601 time", value) from None


def snake(name: str) -> str:
    """``deliveryRate`` -> ``delivery_rate``, ``clickFromResponses`` -> ``click_from_responses``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise malformed(f"{what} should be an object", value)
    return value


def items(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(f"{what} should be a list", value)
    return value


def breakdown(prefix: str, details: Any, keys: tuple[str, ...], what: str) -> dict[str, int | float | None]:
    """A reason -> count object as ``{prefix}_{reason}`` columns; unknown reasons add to ``{prefix}_other``.

    Nothing is lost when a vendor adds a reason: the sum of the columns stays the vendor's total.
    """
    details = mapping(details or {}, what)
    row: dict[str, int | float | None] = {
        f"{prefix}_{snake(k)}": number(details.get(k), f"{what}.{k}") for k in keys
    }
    other = [number(v, f"{what}.{k}") for k, v in details.items() if k not in keys and k != "..."]
    row[f"{prefix}_other"] = sum(v for v in other if v is not None) if other else 0
    return row
