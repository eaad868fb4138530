"""Row 5: the same Vonage pricing pull to S3, written with Airflow's HttpOperator versus this provider.

"Without the provider" is what a user would write today: ``HttpOperator`` with a
``pagination_function`` following ``paging.next`` (every page kept in a list, as HttpOperator
does) and a ``response_filter`` that uploads the pages with ``S3Hook.load_bytes``. "With" is
``VonagePricingAnalyticsOperator`` to ``s3://`` (``json``: the same raw pages; ``jsonl``: typed rows).
Each run is a fresh child (peak RSS after the same warm-up: imports and one S3 request). The
client-side pacing is lifted (connection ``rate_limit``) so that both sides measure their machinery,
not Vonage's limit. Ratios are provider / HttpOperator.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_wa_analytics.registry import CASES_BY_ID, days_ago
from bench import bench_memory as bm
from bench.common import Bench, Row, peak_rss_mib, run_child

#: The runs: HttpOperator, then the provider (output format, and max_concurrency after "-").
WAYS = {
    "http": "HttpOperator",
    "jsonl": "jsonl",
    "json": "json",
    "jsonl-1": "jsonl, max_concurrency=1",
}
HTTP_CONN = "wa_bench_http"
VONAGE_CONN = "wa_bench_vonage"


def _pull(quick: bool) -> dict[str, Any]:
    """The pull: the whole lookback at half-hour granularity, broken down by several dimensions."""
    days, dims = (
        (30, ["COUNTRY", "PRICING_CATEGORY"])
        if quick
        else (89, ["PHONE", "COUNTRY", "PRICING_CATEGORY", "PRICING_TYPE"])
    )
    return {"start": days_ago(days), "end": days_ago(0), "granularity": "HALF_HOUR", "dimensions": dims}


def child(way: str, spec_json: str) -> None:
    spec = json.loads(spec_json)
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    s3 = S3Hook(aws_conn_id=bm.CONN_ID)
    s3.get_conn().head_bucket(Bucket=bm.BUCKET)
    if way == "http":
        from airflow.providers.http.operators.http import HttpOperator

        def next_page(response: Any) -> dict[str, Any] | None:
            link = (response.json().get("paging") or {}).get("next")
            if not link:
                return None
            parts = urlsplit(link)
            return {"endpoint": parts.path, "data": dict(parse_qsl(parts.query))}

        def upload(responses: list[Any]) -> dict[str, int]:
            body = b"\n".join(r.content for r in responses)
            s3.load_bytes(body, "http/pricing.jsonl", bm.BUCKET, replace=True)
            return {"pages": len(responses), "bytes": len(body)}

        params = {"start": spec["start"][:10], "end": spec["end_date"], "granularity": spec["granularity"]}
        params["dimensions"] = "[" + ",".join(spec["dimensions"]) + "]"
        op: Any = HttpOperator(
            task_id="pull",
            http_conn_id=HTTP_CONN,
            method="GET",
            endpoint=spec["path"],
            data=params,
            pagination_function=next_page,
            response_filter=upload,
            log_response=False,
        )
    else:
        from airflow_provider_wa_analytics.operators.vonage import VonagePricingAnalyticsOperator

        op = VonagePricingAnalyticsOperator(
            task_id="pull",
            vonage_conn_id=VONAGE_CONN,
            waba_id=spec["waba_id"],
            start=spec["start"],
            end=spec["end"],
            granularity=spec["granularity"],
            dimensions=spec["dimensions"],
            destination=f"s3://{bm.BUCKET}/provider/{{table}}.{way.split('-')[0]}",
            destination_conn_id=bm.CONN_ID,
            output_format=way.split("-")[0],
            max_concurrency=int(way.split("-")[1]) if "-" in way else 4,
        )
    baseline = peak_rss_mib()
    started = time.perf_counter()
    result = op.execute({})
    seconds = time.perf_counter() - started
    print(json.dumps({"peak": peak_rss_mib(), "baseline": baseline, "seconds": seconds, "result": result}))


def run(bench: Bench) -> list[Row]:
    sandbox, quick = bench.sandbox, bench.quick
    case = CASES_BY_ID.get("vonage.pricing")
    if case is None:
        return [
            Row("5", "versus HttpOperator", None, "", "VonagePricingAnalyticsOperator is not in the registry")
        ]
    pull = _pull(quick)
    case.prepare(sandbox)  # type: ignore[arg-type]
    sandbox.configure(case.vendor, page_size=1000)
    conn = case.connection(sandbox, rate_limit=1000)  # type: ignore[arg-type]
    host = urlsplit(conn["host"])
    os.environ[f"AIRFLOW_CONN_{VONAGE_CONN.upper()}"] = json.dumps(conn)
    os.environ[f"AIRFLOW_CONN_{HTTP_CONN.upper()}"] = json.dumps(
        {
            "conn_type": "http",
            "host": host.hostname,
            "port": host.port,
            "schema": host.scheme,
            "login": conn["login"],
            "password": conn["password"],
        }
    )
    waba_id = case.kwargs()["waba_id"]
    end_date = days_ago(1)  # the operator's end is exclusive; the API's end date inclusive
    spec = {
        **pull,
        "waba_id": waba_id,
        "end_date": end_date,
        "path": f"/v1/channel-manager/whatsapp/wabas/{waba_id}/pricing-analytics",
    }
    bench.s3()
    results = {way: run_child("bench.versus", way, json.dumps(spec)) for way in WAYS}
    http = results["http"]
    pages, raw = http["result"]["pages"], http["result"]["bytes"] / 2**20
    rows = []
    for way, label in WAYS.items():
        if way == "http":
            continue
        mine = results[way]
        growth, http_growth = mine["peak"] - mine["baseline"], http["peak"] - http["baseline"]
        written = ", ".join(f"{r['bytes'] / 2**20:.1f} MiB" for r in mine["result"])
        if "-" not in way:
            rows.append(
                Row(
                    "5",
                    f"provider {label} / HttpOperator+S3: time",
                    mine["seconds"] / http["seconds"],
                    "",
                    f"{mine['seconds']:.2f} s vs {http['seconds']:.2f} s ({pages} pages, {raw:.1f} MiB raw; "
                    f"provider wrote {written})",
                )
            )
        rows.append(
            Row(
                "5",
                f"provider {label} / HttpOperator+S3: peak memory growth",
                growth / max(http_growth, 1e-9),
                "",
                f"+{growth:.0f} MiB (peak {mine['peak']:.0f}) vs "
                f"+{http_growth:.0f} MiB (peak {http['peak']:.0f})",
            )
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("WAY", "SPEC"), required=True)
    args = parser.parse_args()
    child(*args.child)
