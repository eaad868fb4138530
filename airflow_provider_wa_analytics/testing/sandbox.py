"""The :class:`Sandbox`: every vendor app of the sandbox on one loopback port, started from Python.

``APP_MODULES`` is the one list of vendor apps: a vendor is a module of this package defining a
:class:`~airflow_provider_wa_analytics.testing.server.VendorApp` subclass, named there.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow_provider_wa_analytics.testing.server import (
    InjectedFault,
    RateLimit,
    RecordedRequest,
    SandboxCore,
    SandboxServer,
    VendorApp,
)

#: Modules of this package holding vendor apps, in serving order. One not written yet is skipped.
APP_MODULES = ("insider", "webpush", "vonage", "kaleyra")


def _load_apps() -> tuple[type[VendorApp], ...]:
    apps: list[type[VendorApp]] = []
    for name in APP_MODULES:
        module_name = f"{__package__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # a broken import inside an existing module must not pass silently
            continue
        apps.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, VendorApp)
            and obj.__module__ == module_name
            and "vendor" in vars(obj)
        )
    return tuple(apps)


VENDOR_APPS: tuple[type[VendorApp], ...] = _load_apps()

DEFAULT_HOST = "127.0.0.1"


class Sandbox:
    """A local server faithful to the vendor APIs, with deterministic data and fault injection.

    Example::

        with Sandbox() as sandbox:
            os.environ.update(sandbox.connection_env())  # AIRFLOW_CONN_<VENDOR>_DEFAULT, every vendor

    ``rate_limits`` overrides the documented limits per vendor: ``{"insider_whatsapp": (10, 1.0)}``
    (10 requests per second), ``None`` as a value removes the vendor's limit. ``vendor_options``
    passes options to vendor apps (``{"insider_whatsapp": {"campaigns_per_day": 1000}}``).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        latency: float = 0.0,
        rate_limits: Mapping[str, RateLimit | None] | None = None,
        seed: int = 0,
        vendor_options: Mapping[str, Mapping[str, Any]] | None = None,
        verbose: bool = False,
    ) -> None:
        options = {vendor: dict(values) for vendor, values in (vendor_options or {}).items()}
        unknown = set(options) - {cls.vendor for cls in VENDOR_APPS}
        if unknown:
            raise ValueError(f"unknown vendors in vendor_options: {sorted(unknown)}")
        apps = [cls(seed=seed, **options.get(cls.vendor, {})) for cls in VENDOR_APPS]
        self.core = SandboxCore(apps, latency=latency, rate_limits=rate_limits)
        self._address = (host, port)
        self._verbose = verbose
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen (``port=0``: a free port) and serve in a background thread. Returns ``self``."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        server = SandboxServer(self._address, self.core, verbose=self._verbose)
        self.core.resume()
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() gets the serving loop to return
            name=f"wa-analytics-sandbox:{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving; held and delayed requests end at once. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        self.core.stop()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (only while running)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: use `with Sandbox() as sandbox` or start()")
        return self._server.url

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    # -- behaviour -----------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds added to every vendor response (not to control endpoints); settable at runtime."""
        return self.core.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.core.latency = seconds

    def set_rate_limit(
        self, vendor: str, limit: float | None, per: float = 1.0, *, strict: bool = False
    ) -> None:
        """At most ``limit`` requests per ``per`` seconds per credential; None: no limit.

        A token bucket by default; ``strict=True`` counts every sliding ``per`` seconds (no burst):
        ``set_rate_limit(vendor, 1, 2.0, strict=True)`` refuses two requests 1.9 s apart.
        """
        self.core.set_rate_limit(vendor, limit, per, strict=strict)

    def arrivals(self, vendor: str | None = None, key_id: str | None = None) -> list[float]:
        """Arrival times (``time.monotonic()``) of the vendor requests recorded, per API key:
        ``key_id`` is :func:`~airflow_provider_wa_analytics.testing.server.key_id` of the credential."""
        return [
            r.received_at
            for r in self.requests
            if (vendor is None or r.vendor == vendor) and (key_id is None or r.key_id == key_id)
        ]

    @property
    def rate_limits(self) -> dict[str, RateLimit | None]:
        return self.core.limiter.limits()

    @property
    def inject(self) -> Callable[..., InjectedFault]:
        """Make requests fail: ``sandbox.inject(kind, endpoint=None, *, times=1, ...)``, the arguments of
        :meth:`~airflow_provider_wa_analytics.testing.server.SandboxCore.inject`."""
        return self.core.inject

    @property
    def faults(self) -> list[InjectedFault]:
        """The faults still pending."""
        return self.core.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every vendor request received since start or the last reset, in arrival order."""
        return self.core.requests

    def reset(self) -> None:
        """Clear recorded requests, pending faults, rate-limit state and :meth:`set_as_of`; release held
        requests."""
        self.core.reset()

    def set_as_of(self, as_of: Any) -> None:
        """Late-arriving figures: serve every vendor's data as known on the UTC day ``as_of``.

        A day's deliveries, reads, clicks (and what follows them) stand at 40, 60, 80 and 95 per cent
        of their final value when the day is 0, 1, 2 and 3 days old, and are final from 4 days on
        (:mod:`airflow_provider_wa_analytics.testing.late`). ``None`` (the default, and after
        :meth:`reset`): every figure final. Also ``POST /__sandbox__/config {"as_of": "2025-03-04"}``.
        """
        self.core.set_as_of(as_of)

    @property
    def as_of(self) -> Any:
        return self.core.as_of

    def configure(self, vendor: str, **options: Any) -> None:
        """Change a vendor's options at runtime: ``configure("insider_whatsapp", campaigns_per_day=5)``."""
        self.core.app(vendor).configure(**options)

    # -- vendor apps and connections -----------------------------------------------------------

    @property
    def vendors(self) -> list[str]:
        return list(self.core.apps)

    def app(self, vendor: str) -> VendorApp:
        return self.core.app(vendor)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> VendorApp:
            """Every vendor's app by its name: ``sandbox.insider_whatsapp.overall(...)``,
            ``sandbox.vonage_whatsapp.messaging_entries(...)`` (the same as :meth:`app`)."""
            core = self.__dict__.get("core")
            if core is None or name not in core.apps:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            return core.app(name)

        def __dir__(self) -> list[str]:
            return [*super().__dir__(), *self.vendors]

    @property
    def ids(self) -> dict[str, Any]:
        """The sandbox's account, template and campaign ids, named after the operator parameters."""
        from airflow_provider_wa_analytics.testing import kaleyra, vonage, webpush

        return {
            "vonage_waba_id": vonage.VONAGE_WABA_ID,  # insights start disabled: enable, then wait
            "vonage_insights_waba_id": vonage.VONAGE_INSIGHTS_WABA_ID,  # insights enabled from the start
            "vonage_template_ids": [str(458951126288900 + i) for i in range(3)],
            "kaleyra_waba_id": kaleyra.KALEYRA_WABA_ID,
            "kaleyra_template_ids": [f"1317{n:012d}" for n in range(3)],
            "webpush_partner_id": webpush.INSIDER_WEBPUSH_PARTNER_ID,
            "webpush_campaign_ids": [str(webpush.INSIDER_WEBPUSH_FIRST_CAMPAIGN_ID + i) for i in range(3)],
        }

    def connection(self, vendor: str, **fields: Any) -> dict[str, Any]:
        """The connection fields that authenticate against this sandbox; ``fields`` override them."""
        return {**self.core.app(vendor).connection(self.url), **fields}

    def connection_json(self, vendor: str, **fields: Any) -> str:
        """The ``AIRFLOW_CONN_*`` JSON value; ``connection_json(vendor, password=...)`` gives a
        connection with another key."""
        return json.dumps(self.connection(vendor, **fields))

    def connection_uri(self, vendor: str, **fields: Any) -> str:
        """The same connection as an Airflow URI (host ``http://127.0.0.1`` and the port apart)."""
        conn = self.connection(vendor, **fields)
        split = urlsplit(conn.get("host") or self.url)
        login = quote(str(conn.get("login") or ""), safe="")
        password = quote(str(conn.get("password") or ""), safe="")
        uri = f"{conn['conn_type'].replace('_', '-')}://{split.scheme}://{login}:{password}@{split.hostname}"
        if split.port:
            uri += f":{split.port}"
        if conn.get("extra"):
            uri += "?__extra__=" + quote(json.dumps(conn["extra"]), safe="")
        return uri

    def connection_env(self, vendor: str | None = None, conn_id: str | None = None) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<CONN_ID>": json}`` for one vendor (conn id ``<vendor>_default``) or for all."""
        if vendor is None:
            if conn_id is not None:
                raise ValueError("conn_id needs a vendor")
            return {k: v for name in self.vendors for k, v in self.connection_env(name).items()}
        name = conn_id or f"{vendor}_default"
        return {f"AIRFLOW_CONN_{name.upper()}": self.connection_json(vendor)}
