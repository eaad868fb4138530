"""One task attempt in its own OS process, for the concurrency tests: it streams rows tagged with its
name to an :class:`Output` (a day-partitioned ``RunOutput`` for a ``{date}`` URI), waits at a barrier
so that its commit races another attempt's, commits, and reports the outcome on a queue.
``kill_after_promotions`` makes it SIGKILL itself mid-commit.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from typing import Any

TABLES = {"daily": ["attempt", "round", "n", "pad"], "campaigns": ["attempt", "round", "n", "pad"]}
ROWS = 5000
DAY = dt.date(2025, 3, 10)


def rows(attempt: str, round_: int) -> list[dict[str, Any]]:
    return [{"attempt": attempt, "round": round_, "n": n, "pad": "x" * 100} for n in range(ROWS)]


def output(uri: str, conn_id: str | None) -> Any:
    """An Output, or for a ``{date}`` URI a day-partitioned run's RunOutput (DAY's objects, a manifest)."""
    from airflow_provider_wa_analytics.destinations.output import Output

    if "{date}" not in uri:
        return Output(uri, conn_id, "jsonl", tables=TABLES)
    from airflow_provider_wa_analytics.destinations.partitions import RunOutput
    from airflow_provider_wa_analytics.tables.schema import table

    schemas = {name: table(name, columns, key=("attempt", "round", "n")) for name, columns in TABLES.items()}
    return RunOutput(
        schemas=schemas, days=(DAY,), destination=uri, destination_conn_id=conn_id, tables=TABLES
    )


def run(
    attempt: str,
    destinations: list[list[str]],
    barrier: Any,
    results: Any,
    kill_after_promotions: int | None = None,
) -> None:
    """``destinations[r]`` are the URIs of round ``r``; every round commits all of them at once."""
    from airflow_provider_wa_analytics.destinations.stores import LocalStore, S3Store
    from tests.destinations.servers import S3_CONN_ID

    if kill_after_promotions is not None:
        promoted = 0

        def wrap(cls: Any) -> None:
            original = cls.promote

            def promote(self: Any, src: Any, dst: Any) -> None:
                nonlocal promoted
                original(self, src, dst)
                promoted += 1
                if promoted >= kill_after_promotions:
                    results.put((attempt, "killing", os.getpid()))
                    os.kill(os.getpid(), signal.SIGKILL)

            cls.promote = promote

        wrap(LocalStore)
        wrap(S3Store)

    for round_, uris in enumerate(destinations):
        outputs = []
        for uri in uris:
            conn_id = S3_CONN_ID if uri.startswith("s3://") else None
            out = output(uri, conn_id)
            out.__enter__()
            for table in TABLES:
                out.write_rows(table, rows(attempt, round_), **({"day": DAY} if "{date}" in uri else {}))
            outputs.append(out)
        if barrier is not None:
            barrier.wait(timeout=120)
        for uri, out in zip(uris, outputs, strict=True):
            try:
                out.commit()
                results.put((attempt, round_, uri, "ok"))
            except Exception as exc:
                results.put((attempt, round_, uri, f"{type(exc).__name__}: {exc}"))
            finally:
                out.__exit__(None, None, None)
