"""Row 4: DAG-parse cost: the import time of each operators module against Airflow's own
``airflow.providers.http.operators.http``, in the same interpreter and the same run.

One child imports Airflow and the DAG class (what every DAG file has loaded anyway), then forks once
per measurement: each fork starts from that same state, imports one module, and reports the time.
Modules alternate over the repetitions; the ratio is of the medians. A first pass caches bytecode,
as a deployment's ``.pyc`` files do. Target: each module <= 1.1 x the HTTP operator module.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from bench.common import Bench, Row, run_child

BASELINE = "airflow.providers.http.operators.http"
MODULES = (
    "airflow_provider_wa_analytics.operators.insider",
    "airflow_provider_wa_analytics.operators.vonage",
    "airflow_provider_wa_analytics.operators.kaleyra",
    "airflow_provider_wa_analytics.sensors.vonage",
)
#: One task as a DAG file writes it, built right after the import (the "+ task" rows, context only).
S3 = "s3://bucket/wa/{table}.jsonl"
TASKS = {
    BASELINE: "HttpOperator(task_id='t', http_conn_id='api', endpoint='/v1/x')",
    MODULES[0]: f"InsiderWhatsAppOverallStatisticsOperator(task_id='t', destination={S3!r})",
    MODULES[
        1
    ]: f"VonageTemplateAnalyticsOperator(task_id='t', waba_id='1', template_ids=['1'], destination={S3!r})",
    MODULES[
        2
    ]: f"KaleyraTemplateAnalyticsOperator(task_id='t', waba_id='1', template_ids=['1'], destination={S3!r})",
    MODULES[3]: "VonageInsightsSensor(task_id='t', waba_id='1', template_id='1')",
}
TARGET = 1.1


def _fork_import(module: str, task: bool = False) -> float:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import, report, leave without running any cleanup of the parent's
        os.close(read)
        import importlib

        started = time.perf_counter()
        namespace = vars(importlib.import_module(module))
        if task:
            eval(TASKS[module], dict(namespace))  # noqa: S307 - a fixed expression of this file
        os.write(write, str(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        value = float(pipe.read())
    os.waitpid(pid, 0)
    return value


def child(reps: int, task_reps: int) -> None:
    import airflow  # the state every DAG file starts from

    try:
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2
        from airflow import DAG  # type: ignore[no-redef]
    del airflow, DAG
    modules = (BASELINE, *MODULES)
    for module in modules:  # warm-up: compile once, as .pyc files exist in a deployment
        _fork_import(module, task=True)
    times: dict[str, list[float]] = {m: [] for m in modules}
    tasks: dict[str, list[float]] = {m: [] for m in modules}
    for rep in range(reps):
        order = modules if rep % 2 == 0 else tuple(reversed(modules))
        for module in order:
            times[module].append(_fork_import(module))
            if rep < task_reps:
                tasks[module].append(_fork_import(module, task=True))
    print(
        json.dumps(
            {
                "import": {m: statistics.median(t) for m, t in times.items()},
                "task": {m: statistics.median(t) for m, t in tasks.items()},
            }
        )
    )


def run(bench: Bench) -> list[Row]:
    result = run_child("bench.parse", *(("5", "1") if bench.quick else ("15", "5")))
    medians, tasks = result["import"], result["task"]
    base, base_task = medians[BASELINE], tasks[BASELINE]
    rows = [
        Row(
            "4",
            f"import {short(module)} / import http operator",
            medians[module] / base,
            f"<= {TARGET}",
            f"median {medians[module] * 1000:.0f} ms vs {base * 1000:.0f} ms",
        )
        for module in MODULES
    ]
    worst = max((m for m in MODULES if "operators" in m), key=lambda m: tasks[m])
    each = " / ".join(f"{short(m).split('.')[-1]} {tasks[m] * 1000:.0f}" for m in MODULES if "operators" in m)
    rows.append(
        Row(
            "4",
            f"import + one task with an s3:// destination, {short(worst)} / http operator",
            tasks[worst] / base_task,
            "",
            f"{each} ms vs {base_task * 1000:.0f} ms; outlets -> Airflow Asset URI check loads all providers",
        )
    )
    return rows


def short(module: str) -> str:
    return module.replace("airflow_provider_wa_analytics.", "")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("REPETITIONS", "TASK_REPETITIONS"), required=True)
    child(*map(int, parser.parse_args().child))
