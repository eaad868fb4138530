"""Benchmark: peak memory of writing 1 k, 100 k and 1 M normalized rows to S3.

Two ways, each size in a fresh child process (peak RSS = the child's ``ru_maxrss``):

- streamed: rows go through ``Output`` (temp file, then ``S3Hook.load_file``, staging and copy);
- in memory: the HttpToS3Operator way, the whole body built in memory then ``S3Hook.load_bytes``.

S3 is a ``moto_server`` in its own process, so the stored objects do not count. The target is
streamed peak at 1 M rows <= 1.2 x streamed peak at 1 k rows.

    python bench/bench_memory.py                    # 1000 100000 1000000
    python bench/bench_memory.py --sizes 1000 50000

To measure a whole operator run instead, replace ``write_streamed`` (or only ``normalized_rows``,
the producer both sides share): it gets the row count, the bucket and the connection id.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONN_ID = "wa_bench_s3"
BUCKET = "wa-bench"
TABLE = "daily"
COLUMNS = [
    "vendor",
    "endpoint",
    "account",
    "window_start",
    "window_end",
    "date",
    "campaign_id",
    "campaign_name",
    "channel",
    "sent",
    "delivered",
    "read",
    "failed",
    "delivery_rate",
    "read_rate",
]
TARGET_RATIO = 1.2


def normalized_rows(n: int) -> Iterator[dict[str, Any]]:
    """The producer: ``n`` rows shaped like the provider's normalized tables (15 typed columns)."""
    for i in range(n):
        sent = 1000 + i % 977
        delivered = sent - i % 13
        read = delivered // 2 + i % 7
        yield {
            "vendor": "insider",
            "endpoint": "whatsapp_overall_statistics",
            "account": "acme-tr",
            "window_start": "2025-03-01T00:00:00+00:00",
            "window_end": "2025-03-02T00:00:00+00:00",
            "date": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "campaign_id": 100_000 + i,
            "campaign_name": f"Spring campaign #{i} - WhatsApp",
            "channel": "whatsapp",
            "sent": sent,
            "delivered": delivered,
            "read": read,
            "failed": sent - delivered,
            "delivery_rate": round(100.0 * delivered / sent, 2),
            "read_rate": round(100.0 * read / delivered, 2),
        }


def write_streamed(n: int, bucket: str, conn_id: str) -> None:
    from airflow_provider_wa_analytics.destinations import Output

    out = Output(f"s3://{bucket}/streamed/{n}.jsonl", conn_id, "jsonl", tables={TABLE: COLUMNS})
    out.check()
    with out:
        out.write_rows(TABLE, normalized_rows(n))
        out.commit()


def write_in_memory(n: int, bucket: str, conn_id: str) -> None:
    """HttpToS3Operator: the response body is held whole (``response.content``), then ``load_bytes``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    body = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in normalized_rows(n)).encode()
    S3Hook(aws_conn_id=conn_id).load_bytes(body, f"in-memory/{n}.jsonl", bucket, replace=True)


WAYS = {"streamed": write_streamed, "in_memory": write_in_memory}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(way: str, n: int) -> None:
    """One measurement, in this (fresh) process; prints one JSON line."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    import airflow_provider_wa_analytics.destinations  # noqa: F401 - imported before the baseline

    # Same warm-up for both ways: modules imported, one client built, one request made.
    S3Hook(aws_conn_id=CONN_ID).get_conn().head_bucket(Bucket=BUCKET)
    baseline = _peak_mib()
    started = time.monotonic()
    WAYS[way](n, BUCKET, CONN_ID)
    print(
        json.dumps(
            {"peak": _peak_mib(), "baseline": baseline, "seconds": round(time.monotonic() - started, 1)}
        )
    )


def measure(way: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", way, str(n)],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{way} {n} rows failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # nothing to await on another process's socket: poll, with a deadline
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("moto_server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def use_bucket(endpoint: str) -> None:
    """Point the ``CONN_ID`` connection at the moto server and create ``BUCKET`` there."""
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("WAY", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return

    import tempfile

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="wa-bench-airflow-home-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    with moto_server() as endpoint:
        use_bucket(endpoint)

        results = {}
        for n in args.sizes:
            results[n] = {way: measure(way, n) for way in WAYS}
            print(f"  measured {n:>9,} rows", file=sys.stderr)

    print()
    header = ("rows", "streamed peak RSS", "growth", "in-memory peak RSS", "growth")
    print(" | ".join(f"{title:>{width}}" for title, width in zip(header, (10, 17, 7, 18, 7), strict=True)))
    print(f"{'-' * 10}-+-{'-' * 17}-+-{'-' * 7}-+-{'-' * 18}-+-{'-' * 7}")
    for n, r in results.items():
        s, m = r["streamed"], r["in_memory"]
        print(
            f"{n:>10,} | {s['peak']:>13.0f} MiB | {s['peak'] - s['baseline']:>3.0f} MiB | "
            f"{m['peak']:>14.0f} MiB | {m['peak'] - m['baseline']:>3.0f} MiB"
        )
    small, large = min(results), max(results)
    streamed = results[large]["streamed"]["peak"] / results[small]["streamed"]["peak"]
    in_memory = results[large]["in_memory"]["peak"] / results[small]["in_memory"]["peak"]
    print()
    print(f"peak ratio {large:,} / {small:,} rows: streamed {streamed:.2f}, in memory {in_memory:.2f}")
    print("(growth = peak RSS minus the peak after imports and one S3 request, before any row)")
    ok = streamed <= TARGET_RATIO
    print(f"target streamed ratio <= {TARGET_RATIO}: {'met' if ok else 'NOT MET'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
