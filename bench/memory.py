"""Row 2: peak memory versus rows, jsonl, csv and parquet to S3 (moto server in its own process).

Reuses ``bench/bench_memory.py`` (the destinations benchmark): its row producer, columns, S3 server
and bucket. Each size and format runs in a fresh child; peak RSS is the child's ``ru_maxrss`` after
the same warm-up (imports, one S3 request). Target: peak at the largest size <= 1.2 x at 1 k rows.

The last row is a whole operator run: ``KaleyraTemplateAnalyticsOperator`` pulling N data points
(89 days x N/89 templates, pages of up to 1,000) from the sandbox into S3 as jsonl, one call at a
time (``max_concurrency=1``), so what is measured is the streaming from response to object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from bench import bench_memory as bm
from bench.common import Bench, Row, peak_rss_mib, run_child

TARGET = 1.2
FORMATS = ("jsonl", "csv", "parquet")


def child(fmt: str, n: int) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from airflow_provider_wa_analytics.destinations import Output

    S3Hook(aws_conn_id=bm.CONN_ID).get_conn().head_bucket(Bucket=bm.BUCKET)
    baseline = peak_rss_mib()
    started = time.monotonic()
    out = Output(f"s3://{bm.BUCKET}/bench/{n}.{fmt}", bm.CONN_ID, fmt, tables={bm.TABLE: bm.COLUMNS})
    if fmt == "parquet":  # typed from a table definition, streamed in row groups
        from airflow_provider_wa_analytics.destinations.partitions import RunOutput
        from airflow_provider_wa_analytics.tables.schema import table

        types = {"channel": "text", "campaign_name": "text", "campaign_id": "integer", "read_rate": "float"}
        schema = table(bm.TABLE, bm.COLUMNS, key=("campaign_id",), types=types)
        out = RunOutput(
            schemas={bm.TABLE: schema},
            destination=f"s3://{bm.BUCKET}/bench/{n}.{fmt}",
            destination_conn_id=bm.CONN_ID,
            output_format=fmt,
            tables={bm.TABLE: bm.COLUMNS},
        )
    out.check()
    with out:
        out.write_rows(bm.TABLE, bm.normalized_rows(n))
        (result,) = out.commit()
    print(
        json.dumps(
            {
                "peak": peak_rss_mib(),
                "baseline": baseline,
                "seconds": time.monotonic() - started,
                "bytes": result["bytes"],
            }
        )
    )


OPERATOR_DAYS = 89


def child_operator(n: int) -> None:
    """A whole operator run writing ``n`` normalized data points to S3, in this fresh process."""
    import math

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from airflow_provider_wa_analytics.operators.kaleyra import KaleyraTemplateAnalyticsOperator
    from airflow_provider_wa_analytics.registry import MINIMAL_CONTEXT, days_ago
    from airflow_provider_wa_analytics.testing.kaleyra import KALEYRA_WABA_ID

    S3Hook(aws_conn_id=bm.CONN_ID).get_conn().head_bucket(Bucket=bm.BUCKET)
    baseline = peak_rss_mib()
    started = time.monotonic()
    templates = [str(1000 + i) for i in range(math.ceil(n / OPERATOR_DAYS))]
    op = KaleyraTemplateAnalyticsOperator(
        task_id="bench_memory",
        waba_id=KALEYRA_WABA_ID,
        template_ids=templates,
        start=days_ago(OPERATOR_DAYS),
        end=days_ago(0),
        limit=1000,
        destination=f"s3://{bm.BUCKET}/bench/operator-{n}/{{table}}.jsonl",
        destination_conn_id=bm.CONN_ID,
    )
    op.max_concurrency = 1  # one call at a time: the streaming path, nothing held between pages
    result = op.execute(MINIMAL_CONTEXT)
    points = sum(r["rows"] for r in result if r["table"] == "data_points")
    print(
        json.dumps(
            {
                "peak": peak_rss_mib(),
                "baseline": baseline,
                "seconds": time.monotonic() - started,
                "bytes": sum(r["bytes"] for r in result),
                "rows": points,
            }
        )
    )


def run_operator(bench: Bench, sizes: list[int]) -> Row:
    conn = bench.sandbox.connection("kaleyra_whatsapp")
    conn["extra"] = {**conn.get("extra", {}), "rate_limit": 10_000}
    os.environ["AIRFLOW_CONN_KALEYRA_WHATSAPP_DEFAULT"] = json.dumps(conn)
    bench.sandbox.set_rate_limit("kaleyra_whatsapp", None)
    try:
        results = {n: run_child("bench.memory", "operator", str(n), timeout=1800) for n in sizes}
    finally:
        bench.sandbox.reset()
    small, large = results[sizes[0]], results[sizes[-1]]
    context = ", ".join(
        f"{r['rows']:,} data points: {r['peak']:.0f} MiB (+{r['peak'] - r['baseline']:.0f}), "
        f"{r['bytes'] / 2**20:.0f} MiB in {r['seconds']:.1f} s"
        for r in results.values()
    )
    return Row(
        "2",
        f"peak RSS {sizes[-1]:,} / {sizes[0]:,} rows, operator run (Kaleyra) to S3",
        large["peak"] / small["peak"],
        f"<= {TARGET}",
        context,
    )


def run(bench: Bench) -> list[Row]:
    sizes = [1_000, 100_000] if bench.quick else [1_000, 100_000, 1_000_000]
    bench.s3()
    rows = []
    for fmt in FORMATS:
        results = {n: run_child("bench.memory", fmt, str(n)) for n in sizes}
        small, large = results[sizes[0]], results[sizes[-1]]
        context = ", ".join(
            f"{n:,} rows: {r['peak']:.0f} MiB (+{r['peak'] - r['baseline']:.0f}), "
            f"{r['bytes'] / 2**20:.0f} MiB in {r['seconds']:.1f} s"
            for n, r in results.items()
        )
        rows.append(
            Row(
                "2",
                f"peak RSS {sizes[-1]:,} / {sizes[0]:,} rows, {fmt} to S3",
                large["peak"] / small["peak"],
                f"<= {TARGET}",
                context,
            )
        )
    rows.append(run_operator(bench, sizes))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), required=True)
    args = parser.parse_args()
    if args.child[0] == "operator":
        child_operator(int(args.child[1]))
    else:
        child(args.child[0], int(args.child[1]))
