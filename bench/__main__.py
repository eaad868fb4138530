"""``python -m bench``: every benchmark of the provider, printed as one table of ratios.

    python -m bench            # the full run (a few minutes): 1 k, 100 k and 1 M rows, 60-request runs
    python -m bench --quick    # the CI smoke (< 60 s): smaller sizes, the same rows and the same table
    python -m bench --only 1 4 # some sections only

Sections: 1 rate-limit utilization per vendor, 2 peak memory versus rows (S3), 3 latency-bound pulls,
4 DAG-parse cost, 5 the same pull written with HttpOperator. Every figure is a ratio measured in this
run; absolute times and sizes are context. The full run exits 1 when a target is missed; the quick
run only when a section fails to run (its small sizes make some ratios noisy).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator

from bench.common import Bench, RemoteSandbox, Row, airflow_env, print_table

MODULES = {"1": "rate", "2": "memory", "3": "latency", "4": "parse", "5": "versus"}
SECTIONS = {
    "1": "rate-limit utilization",
    "2": "memory versus rows",
    "3": "latency-bound pulls",
    "4": "DAG-parse cost",
    "5": "versus HttpOperator",
}


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything the runs print (Airflow 3 task logs go to stdout) to stderr, so that stdout
    holds only the table."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run_section(module: str, bench: Bench) -> list[Row]:
    return importlib.import_module(f"bench.{module}").run(bench)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the CI smoke: smaller sizes, under a minute")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run these sections only")
    args = parser.parse_args(argv)
    os.environ.update(airflow_env())  # before anything imports airflow

    wanted = args.only or sorted(SECTIONS)
    rows: list[Row] = []
    failed = False
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.enter_context(stdout_to_stderr())
        bench = Bench(args.quick, stack.enter_context(RemoteSandbox()), stack)
        runners: dict[str, Callable[[], list[Row]]] = {
            key: functools.partial(run_section, module, bench) for key, module in MODULES.items()
        }
        for key in wanted:
            section_started = time.monotonic()
            print(f"[bench] {key}. {SECTIONS[key]} ...", file=sys.stderr, flush=True)
            try:
                rows += runners[key]()
            except Exception as exc:
                traceback.print_exc()
                rows.append(Row(key, SECTIONS[key], None, "", f"failed: {type(exc).__name__}: {exc}"[:160]))
                failed = True
            print(f"[bench] {key} done in {time.monotonic() - section_started:.1f} s", file=sys.stderr)
    print()
    mode = "quick" if args.quick else "full"
    print(f"wa-analytics benchmarks ({mode} run, {time.monotonic() - started:.0f} s)")
    print_table(rows)
    missed = [r for r in rows if r.met is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed: " + "; ".join(r.measure for r in missed))
    if failed or any(r.ratio is None and r.target for r in rows):
        return 1
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
