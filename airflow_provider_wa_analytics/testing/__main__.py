"""Command line: ``python -m airflow_provider_wa_analytics.testing serve [options]``.

Prints one JSON line (``url``, ``vendors``, ``pid``, ``connections``), then one ``export
AIRFLOW_CONN_..._DEFAULT=...`` line per vendor, and serves until SIGINT or SIGTERM. With
``--ready-file``, the URL is written there (atomically) once the port listens: scripts wait for the
file instead of sleeping. Drive a running sandbox through ``/__sandbox__/{health,requests,faults,
reset,config}``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_wa_analytics.testing.sandbox import DEFAULT_HOST, Sandbox
from airflow_provider_wa_analytics.testing.server import RateLimit, parse_rate_limit


def _rate_limit(text: str) -> tuple[str, RateLimit | None]:
    vendor, sep, value = text.partition("=")
    if not sep or not vendor:
        raise argparse.ArgumentTypeError(f"expected VENDOR=LIMIT/PER (e.g. insider_whatsapp=100/1): {text!r}")
    try:
        return vendor.strip(), parse_rate_limit(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _vendor_option(text: str) -> tuple[str, str, Any]:
    target, sep, raw = text.partition("=")
    vendor, dot, option = target.partition(".")
    if not sep or not dot or not vendor or not option:
        raise argparse.ArgumentTypeError(f"expected VENDOR.OPTION=VALUE: {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return vendor, option, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_wa_analytics.testing",
        description="Local sandbox of the Insider One, Vonage and Kaleyra analytics APIs, on loopback.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the vendor APIs until SIGINT/SIGTERM")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    limit_help = "e.g. insider_whatsapp=100/1 (per second), insider_whatsapp=30/60, insider_whatsapp=off"
    option_help = "a vendor option, VALUE read as JSON else as text: vonage_whatsapp.links=self"
    repeatable = (
        ("--rate-limit", _rate_limit, "VENDOR=LIMIT/PER", limit_help),
        ("--vendor-option", _vendor_option, "VENDOR.OPTION=VALUE", option_help),
    )
    for flag, parse, metavar, text in repeatable:
        serve.add_argument(flag, type=parse, action="append", default=[], metavar=metavar, help=text)
    serve.add_argument("--seed", type=int, default=0, help="seed of the deterministic data")
    serve.add_argument("--ready-file", type=Path, help="write the URL here once listening")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _write_atomically(path: Path, text: str) -> None:
    # A reader polling for the file must never see it half written.
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def serve(args: argparse.Namespace) -> int:
    if not ipaddress.ip_address(_resolve(args.host)).is_loopback:
        print(f"warning: listening on {args.host}, not a loopback address", file=sys.stderr)
    options: dict[str, dict[str, Any]] = {}
    for vendor, option, value in args.vendor_option:
        options.setdefault(vendor, {})[option] = value
    try:
        sandbox = Sandbox(
            host=args.host,
            port=args.port,
            latency=args.latency,
            rate_limits=dict(args.rate_limit),
            seed=args.seed,
            vendor_options=options,
            verbose=args.verbose,
        )
    except (KeyError, TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sandbox.start()
    try:
        connections = sandbox.connection_env()
        info: dict[str, Any] = {
            "url": sandbox.url,
            "vendors": sandbox.vendors,
            "pid": os.getpid(),
            "connections": connections,
        }
        if args.ready_file:
            _write_atomically(args.ready_file, sandbox.url + "\n")
        print(json.dumps(info), flush=True)
        for name, value in connections.items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
        while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
            pass
    finally:
        sandbox.stop()
        if args.ready_file:
            args.ready_file.unlink(missing_ok=True)
    return 0


def _resolve(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        import socket

        return socket.gethostbyname(host)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
