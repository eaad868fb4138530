"""One Airflow "worker" of the scale-out tests: its own AIRFLOW_HOME and metadata DB, in its own process.

``python -m tests.scale.worker``: sets up Airflow, prints ``WORKER-READY``, then for every JSON line
on stdin (``{"dag_id", "conn", "campaign_ids", "out"}``) runs the Web Push operator in a one-task DAG
through ``dag.test()`` with that connection and prints ``WORKER-RESULT`` and a JSON object: the
task state and its error, if any.
The parent sends the lines to every worker at once, so the workers' runs start together.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

# Before anything imports airflow: this process's own home (tests.conftest keeps it, see _OWNER there).
HOME = tempfile.mkdtemp(prefix="wa-analytics-worker-home-")
os.environ["AIRFLOW_HOME"] = HOME
os.environ["WA_ANALYTICS_TEST_PROCESS"] = str(os.getpid())

CONN = "AIRFLOW_CONN_INSIDER_WEBPUSH_DEFAULT"


def main() -> None:
    import pendulum
    from airflow.utils import db

    from airflow_provider_wa_analytics.operators.insider import InsiderWebPushCampaignMetricsOperator
    from tests.airflow_runner import daily, run_task

    db.resetdb()
    print("WORKER-READY", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        os.environ[CONN] = job["conn"]
        run = run_task(
            InsiderWebPushCampaignMetricsOperator,
            logical_date=pendulum.datetime(2025, 3, 1, tz="UTC"),
            schedule=daily(),
            dag_id=job["dag_id"],
            campaign_ids=job["campaign_ids"],
            destination=f"{job['out']}/{{table}}.jsonl",
        )
        error = None if run.error is None else f"{type(run.error).__name__}: {run.error}"
        print("WORKER-RESULT", json.dumps({"state": run.state, "error": error}), flush=True)


if __name__ == "__main__":
    main()
