"""The demo: every example DAG end to end against the sandbox, landing in a local S3 and GCS.

Starts the vendor sandbox, moto's S3 server and the GCS emulator on 127.0.0.1, points the DAGs'
connections at them through ``AIRFLOW_CONN_*`` variables, runs each example DAG with
``airflow dags test`` on a fresh metadata DB, then lists what landed and checks the totals against the
sandbox's own figures. Exits non-zero when a DAG fails or a total disagrees. The summary goes to
stdout; the servers' logs to ``.demo/servers.log`` and each DAG's to ``.demo/<dag_id>.log``. SIGINT
(Ctrl-C) or SIGTERM, once, stops the servers and the running ``airflow`` child with its children.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pendulum  # noqa: E402

from airflow_provider_wa_analytics.testing import Sandbox  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log

BUCKET = "wa-analytics"
LOGICAL_DATE = "2025-03-01"


def _s3_server() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _gcs_server() -> tuple[Any, str]:
    import socket

    from gcp_storage_emulator.server import create_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def _s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fixed test credentials
        region_name="us-east-1",
    )


def _read_s3(s3: Any, prefix: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listing}


def _read_gcs(prefix: str) -> dict[str, bytes]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="demo", credentials=AnonymousCredentials())
    return {b.name: b.download_as_bytes() for b in client.list_blobs(BUCKET, prefix=prefix)}


def _rows(key: str, body: bytes) -> list[dict[str, Any]]:
    text = body.decode()
    if key.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines() if line]


def _total(rows: list[dict[str, Any]], column: str) -> int:
    return sum(int(r[column] or 0) for r in rows)


def check_insider_whatsapp(sandbox: Sandbox, objects: dict[str, bytes]) -> list[str]:
    """The normalized daily and campaign totals equal the sandbox's own summary."""
    from airflow_provider_wa_analytics.windows import Window

    # Keys are named after the run's data_interval_start: that day is the window that was fetched.
    day = next(key for key in objects if "/overall/daily/" in key).rsplit("/", 1)[1].split(".")[0]
    start, end = Window.of(day, pendulum.parse(day).add(days=1)).epoch
    expected = sandbox.insider_whatsapp.overall(
        start, end, {"campaign_type_ids": ["all"], "statuses": ["all"], "show_architect": True}
    )["summary"]
    tables = {key.split("/")[-2]: _rows(key, body) for key, body in objects.items() if "/overall/" in key}
    lines, failures = [], []
    for metric in ("sent", "delivered", "open", "click", "conversion"):
        daily, campaigns = _total(tables["daily"], metric), _total(tables["campaigns"], metric)
        summary = _total(tables["summary"], metric)
        ok = daily == campaigns == summary == expected[metric]
        lines.append(
            f"    {metric:<11} daily={daily:<7} campaigns={campaigns:<7} summary={summary:<7} "
            f"sandbox={expected[metric]:<7} {'ok' if ok else 'MISMATCH'}"
        )
        if not ok:
            failures.append(f"insider_whatsapp {metric}")
    print("  totals against the sandbox's summary:")
    print("\n".join(lines))
    return failures


def check_vonage(sandbox: Sandbox, objects: dict[str, bytes]) -> list[str]:
    """Every (template, day) data point of the 25 templates over 80 days landed exactly once."""
    rows = [r for key, body in objects.items() if "/template_analytics/" in key for r in _rows(key, body)]
    points = [(r["template_id"], r["start"]) for r in rows]
    expected = len(VONAGE_TEMPLATES) * 80
    ok = len(points) == len(set(points)) == expected
    print(
        f"  template data points: {len(points)} rows, {len(set(points))} unique, expected {expected}: "
        f"{'ok' if ok else 'MISMATCH'}"
    )
    return [] if ok else ["vonage template data points"]


WEBPUSH_CAMPAIGNS = [str(10001 + i) for i in range(5)] + ["99"]  # "99" does not exist: skipped


def check_insider_webpush(sandbox: Sandbox, objects: dict[str, bytes]) -> list[str]:
    """Device rows sum to the overview, which equals the sandbox's own figures; the unknown id is skipped."""
    import datetime as dt

    tables = {key.split("/")[-2]: _rows(key, body) for key, body in objects.items()}
    day = dt.date.fromisoformat(next(iter(objects)).rsplit("/", 1)[-1].split(".")[0])  # data_interval_start
    failures = []
    for row in tables["overview"]:
        expected = sandbox.app("insider_webpush").campaign_metrics(row["campaign_id"], day, day)["overview"]
        devices = [d for d in tables["device_metrics"] if d["campaign_id"] == row["campaign_id"]]
        ok = row["sent"] == int(expected["targeted"]["sent"]) and all(
            sum(d[m] for d in devices) == row[m] for m in ("sent", "delivered", "clicks", "conversions")
        )
        print(
            f"    campaign {row['campaign_id']}: sent={row['sent']:<5} delivered={row['delivered']:<5} "
            f"clicks={row['clicks']:<4} revenue={row['revenue']} {row['revenue_currency']}  "
            f"devices sum {'ok' if ok else 'MISMATCH'}"
        )
        if not ok:
            failures.append(f"insider_webpush {row['campaign_id']}")
    missing = [r["campaign_id"] for r in tables["missing_campaigns"]]
    print(f"    skipped (on_missing_campaign='skip'): {missing}")
    if missing != ["99"]:
        failures.append("insider_webpush missing_campaigns")
    return failures


def check_kaleyra(sandbox: Sandbox, objects: dict[str, bytes]) -> list[str]:
    """Every template has its day, exactly once; button clicks sum to their data point's clicks."""
    tables = {key.split("/")[-2]: _rows(key, body) for key, body in objects.items()}
    points = [(r["template_id"], r["start"]) for r in tables["data_points"]]
    ok = len(points) == len(set(points)) == len(KALEYRA_TEMPLATES)
    print(
        f"  data points: {len(points)} rows, {len(set(points))} unique, expected {len(KALEYRA_TEMPLATES)}: "
        f"{'ok' if ok else 'MISMATCH'}; button clicks: {len(tables['button_clicks'])} rows"
    )
    return [] if ok else ["kaleyra data points"]


TODAY = pendulum.now("UTC").date().isoformat()
KALEYRA_TEMPLATES = [f"1317{n:012d}" for n in range(30)]
VONAGE_TEMPLATES = [str(458951126288900 + i) for i in range(25)]


@dataclass
class DemoDag:
    dag_id: str
    prefix: str  # where its objects land in the bucket (S3, or GCS with gcs=True)
    logical_date: str = LOGICAL_DATE
    conf: dict[str, Any] | None = None
    check: Callable[[Sandbox, dict[str, bytes]], list[str]] | None = None
    gcs: bool = False


DAGS = [
    DemoDag("insider_whatsapp_statistics", "insider_whatsapp/", check=check_insider_whatsapp),
    DemoDag("insider_webpush_campaign_metrics", "insider_webpush/", check=check_insider_webpush),
    # Vonage keeps 90 days: the demo pulls the last 80 days before today.
    DemoDag("vonage_whatsapp_analytics", "vonage/", TODAY, {"days": 80}, check_vonage),
    # Kaleyra also keeps 90 days; its objects land in the GCS emulator.
    DemoDag("kaleyra_whatsapp_template_analytics", "kaleyra/", TODAY, check=check_kaleyra, gcs=True),
]


class Stop(Exception):
    """SIGTERM (or SIGINT) arrived: unwind through every ``finally`` so nothing is left running."""


def _stop(signum: int, _frame: Any) -> None:
    raise Stop(signal.Signals(signum).name)


def _run_logged(command: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run one child in its own process group, killed with its children if the demo stops early."""
    with log_path.open("w") as log:
        child: subprocess.Popen[bytes] | None = None
        # The line saying the child runs is printed inside the try: a signal arriving right after it
        # (the demo's test sends one as soon as it reads it) still stops the child.
        try:
            child = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            print(f"  running as pid {child.pid}", flush=True)
            return child.wait()
        finally:
            if child is not None and child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()


def _servers_log(demo_dir: Path) -> Any:
    """Send the servers' output (the GCS emulator's access log, moto, warnings) to .demo/servers.log.

    The summary goes to stdout alone; stderr, at file-descriptor level too, goes to the log.
    """
    log = (demo_dir / "servers.log").open("a", buffering=1)
    os.dup2(log.fileno(), 2)
    sys.stderr = log
    handler = logging.StreamHandler(log)
    # Their own handler, not the root's: importing Airflow (for reading results back) configures the
    # root logger to print to stdout.
    for name in ("gcp_storage_emulator", "werkzeug", "moto", "botocore", "urllib3"):
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = [handler], False
    return log


def main() -> int:
    demo_dir = Path(os.environ.get("WA_DEMO_DIR") or tempfile.mkdtemp(prefix="wa-analytics-demo-"))
    airflow_home = demo_dir / "airflow-home"
    airflow_home.mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    _servers_log(demo_dir)
    failures: list[str] = []
    stack = contextlib.ExitStack()
    try:
        s3_server, s3_url = _s3_server()
        stack.callback(s3_server.stop)
        gcs_server, gcs_url = _gcs_server()
        stack.callback(gcs_server.stop)
        os.environ["STORAGE_EMULATOR_HOST"] = gcs_url  # for reading the results back
        # Insights propagate after one probe instead of minutes, so the deferred sensor returns at once.
        sandbox = stack.enter_context(
            Sandbox(vendor_options={"vonage_whatsapp": {"propagation_requests": 1}})
        )
        failures = _run_dags(sandbox, demo_dir, airflow_home, s3_url, gcs_url)
    except Stop as stop:
        print(f"\nDEMO STOPPED ({stop}): servers and child processes stopped", flush=True)
        return 130
    finally:
        stack.close()
    print(
        "\nDEMO "
        + ("FAILED: " + ", ".join(failures) if failures else "OK: every DAG ran and every total matches")
        + f"\n(server logs: {demo_dir / 'servers.log'})"
    )
    return 1 if failures else 0


def _run_dags(sandbox: Sandbox, demo_dir: Path, airflow_home: Path, s3_url: str, gcs_url: str) -> list[str]:
    failures: list[str] = []
    s3 = _s3_client(s3_url)
    s3.create_bucket(Bucket=BUCKET)
    ids = sandbox.ids
    env = {
        **os.environ,
        **sandbox.connection_env(),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW_VAR_WA_ANALYTICS_PREFIX": f"s3://{BUCKET}",
        "AIRFLOW_VAR_WA_ANALYTICS_GCS_PREFIX": f"gs://{BUCKET}",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"},
            }
        ),
        "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps(
            {"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "demo"}}
        ),
        "STORAGE_EMULATOR_HOST": gcs_url,
        "AIRFLOW_VAR_VONAGE_WABA_ID": ids["vonage_waba_id"],
        "AIRFLOW_VAR_KALEYRA_WABA_ID": ids["kaleyra_waba_id"],
        "AIRFLOW_VAR_KALEYRA_TEMPLATE_IDS": ",".join(KALEYRA_TEMPLATES),
        "AIRFLOW_VAR_INSIDER_WEBPUSH_CAMPAIGN_IDS": json.dumps(WEBPUSH_CAMPAIGNS),
        "AIRFLOW_VAR_VONAGE_TEMPLATE_IDS": ",".join(VONAGE_TEMPLATES),
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }
    print(f"sandbox {sandbox.url}, S3 {s3_url}, GCS {gcs_url}, AIRFLOW_HOME {airflow_home}", flush=True)
    if _run_logged(["airflow", "db", "migrate"], env, demo_dir / "airflow-db-migrate.log") != 0:
        return ["airflow db migrate"]
    for dag in DAGS:
        dag_id, prefix, check = dag.dag_id, dag.prefix, dag.check
        command = ["airflow", "dags", "test", dag_id, dag.logical_date]
        if dag.conf:
            command += ["--conf", json.dumps(dag.conf)]
        print(f"\n=== {' '.join(command)}", flush=True)
        started = time.monotonic()
        log_path = demo_dir / f"{dag_id}.log"
        returncode = _run_logged(command, env, log_path)
        print(f"  exit {returncode} in {time.monotonic() - started:.1f}s (log: {log_path})")
        if returncode != 0:
            print(log_path.read_text()[-3000:])
            failures.append(dag_id)
            continue
        objects = _read_gcs(prefix) if dag.gcs else _read_s3(s3, prefix)
        scheme = "gs" if dag.gcs else "s3"
        for key, body in sorted(objects.items()):
            print(f"  {scheme}://{BUCKET}/{key}  {len(_rows(key, body))} rows, {len(body)} bytes")
        if check:
            failures += check(sandbox, objects)
    return failures


if __name__ == "__main__":
    sys.exit(main())
