"""Row 2: peak memory versus rows, jsonl and csv to S3 (moto server in its own process).

Reuses ``bench/bench_memory.py`` (the destinations benchmark): its row producer, columns, S3 server
and bucket. Each size and format runs in a fresh child; peak RSS is the child's ``ru_maxrss`` after
the same warm-up (imports, one S3 request). Target: peak at the largest size <= 1.2 x at 1 k rows.
"""

from __future__ import annotations

import argparse
import json
import time

from bench import bench_memory as bm
from bench.common import Bench, Row, peak_rss_mib, run_child

TARGET = 1.2
FORMATS = ("jsonl", "csv")


def child(fmt: str, n: int) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from airflow_provider_wa_analytics.destinations import Output

    S3Hook(aws_conn_id=bm.CONN_ID).get_conn().head_bucket(Bucket=bm.BUCKET)
    baseline = peak_rss_mib()
    started = time.monotonic()
    out = Output(f"s3://{bm.BUCKET}/bench/{n}.{fmt}", bm.CONN_ID, fmt, tables={bm.TABLE: bm.COLUMNS})
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
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), required=True)
    args = parser.parse_args()
    child(args.child[0], int(args.child[1]))
