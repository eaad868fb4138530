"""Late-arriving figures in the sandbox: a day's counts grow with its age until they are final.

Vendors keep counting deliveries, reads and clicks for days after the messages go out. The sandbox
models it with one deterministic rule shared by every vendor app: as of a UTC day ``as_of``, the
counts of day ``day`` that arrive late (deliveries, reads, clicks, conversions, revenue; never
``sent``) stand at :data:`SETTLED_PERCENT` ``[age]`` per cent of their final value, where
``age = (as_of - day).days``; from :data:`FINAL_AFTER_DAYS` on they are final. Each app applies the
rule to its smallest unit of data (a campaign-day, a template-day, a half hour) before anything is
summed, so the tables of one response stay consistent at any "as of". ``as_of=None`` (the default)
means "long after", every figure final: the numbers existing tests expect.
"""

from __future__ import annotations

import datetime as dt

#: Per cent of a day's final late-arriving counts known at age 0, 1, 2, 3 days.
SETTLED_PERCENT = (40, 60, 80, 95)
#: From this age (days) on, a day's figures are final.
FINAL_AFTER_DAYS = len(SETTLED_PERCENT)


def settled_percent(day: dt.date, as_of: dt.date | None) -> int:
    """How much (per cent) of day ``day``'s late-arriving counts is known as of ``as_of``."""
    if as_of is None:
        return 100
    age = (as_of - day).days
    if age >= FINAL_AFTER_DAYS:
        return 100
    return SETTLED_PERCENT[max(age, 0)]


def settle(value: int, percent: int) -> int:
    """``value`` (a final count) as known at ``percent``: whole numbers, rounded down."""
    return value if percent >= 100 else value * percent // 100


def parse_as_of(value: object) -> dt.date | None:
    """``None``, a ``date`` or a ``YYYY-MM-DD`` string (the control endpoint's JSON)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value  # type: ignore[return-value]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()[:10])
    raise ValueError(f"as_of must be null or a YYYY-MM-DD date, got {value!r}")
