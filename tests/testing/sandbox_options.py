"""Helpers of the sandbox's own tests."""

from __future__ import annotations

from typing import Any

from airflow_provider_wa_analytics.testing import Sandbox


def with_defaults(sandbox: Sandbox, vendor: str, **options: Any) -> Sandbox:
    """``sandbox`` reset, with every option of ``vendor`` at its default but ``options``."""
    sandbox.reset()
    app = sandbox.app(vendor)
    defaults = {name: option.default for name, option in app.OPTIONS.items() if option is not None}
    sandbox.configure(vendor, **{**defaults, **options})
    return sandbox
