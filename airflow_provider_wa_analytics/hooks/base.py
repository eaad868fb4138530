"""The base of every vendor hook: reads the Airflow connection and builds the shared HTTP client."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from typing import Any, ClassVar

import pendulum
import requests

from airflow_provider_wa_analytics.client import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ApiClient,
    ApiResponse,
    ClientSettings,
)
from airflow_provider_wa_analytics.endpoints import Call, Endpoint, Query, whole_number
from airflow_provider_wa_analytics.exceptions import InvalidParameterError, WaAnalyticsError
from airflow_provider_wa_analytics.ratelimit import DEFAULT_STORAGE, open_storage
from airflow_provider_wa_analytics.version_compat import BaseHook

log = logging.getLogger(__name__)


class HeaderAuth(requests.auth.AuthBase):
    """Sends a credential in one request header (``x-ins-auth-key``, ``api-key``, ``Authorization``)."""

    def __init__(self, header: str, value: str) -> None:
        self.header = header
        self.value = value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.header] = self.value
        return r

    def __repr__(self) -> str:  # never show the value
        return f"HeaderAuth({self.header!r}, '***')"


def check_credential(value: str, where: str) -> None:
    """Refuse a credential with leading/trailing whitespace or a control character (a newline from
    ``echo`` into a secret file, a pasted tab): sent as is, it fails as a raw error quoting the value."""
    if value != value.strip() or any(not c.isprintable() for c in value):
        raise InvalidParameterError(
            f"{where} has leading or trailing whitespace, a line break or another control character "
            "(often a newline from `echo` into a secret file); remove it. The value is not shown."
        )


class WaAnalyticsHook(BaseHook):
    """Common behaviour of the vendor hooks.

    A vendor hook sets the class attributes, implements :meth:`get_auth`, and describes its endpoints
    as calls to :attr:`client`. Connection extras ``timeout``, ``max_retries``, ``max_retry_time`` and
    ``rate_limit`` tune the client; ``host`` replaces the vendor's base URL.
    """

    conn_name_attr: ClassVar[str]
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    vendor: ClassVar[str]
    default_host: ClassVar[str]
    #: Requests per second the vendor documents for one API key.
    default_rate_limit: ClassVar[float]
    #: Vendor error code -> error class; codes not listed fall back on the HTTP status.
    error_codes: ClassVar[Mapping[str, type[WaAnalyticsError]]] = {}
    #: Hosts whose links may be followed (re-pointed at the connection's host), besides the connection's.
    vendor_hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, conn_id: str | None = None, **client_overrides: Any) -> None:
        """``conn_id`` positionally or under the hook's own name (``vonage_conn_id=...``); the other
        keywords override connection extras of the client (``timeout``, ``rate_limit``, ...)."""
        super().__init__()
        self.conn_id = client_overrides.pop(self.conn_name_attr, None) or conn_id or self.default_conn_name
        self._client_overrides = client_overrides

    # -- connection -----------------------------------------------------------------------------
    @cached_property
    def connection(self) -> Any:
        return self.get_connection(self.conn_id)

    def conn_extra(self, name: str, default: Any = None) -> Any:
        """A connection extra, with or without the legacy ``extra__<conn_type>__`` prefix."""
        extras = self.connection.extra_dejson or {}
        for key in (name, f"extra__{self.conn_type}__{name}"):
            value = extras.get(key)
            if value not in (None, ""):
                return value
        return default

    def secret(self, value: str | None, field: str) -> str:
        """A credential read from the connection, checked; errors name ``field`` and never the value."""
        if not value:
            raise InvalidParameterError(
                f"Connection {self.conn_id!r} ({self.conn_type}) has no {field}; set it in the connection."
            )
        name, _, what = field.partition(" ")
        check_credential(value, f"Connection {self.conn_id!r} ({self.conn_type}): `{name}` {what}".rstrip())
        return value

    def base_url(self) -> str:
        host = (self.connection.host or "").strip()
        if not host:
            return self.default_host
        if "://" not in host:
            host = f"https://{host}"
        if self.connection.port and host.count(":") < 2:
            host = f"{host.rstrip('/')}:{self.connection.port}"
        return host.rstrip("/")

    def client_settings(self) -> ClientSettings:
        def number(name: str, cast: type, default: Any) -> Any:
            raw = self._client_overrides.get(name, self.conn_extra(name))
            if raw is None:
                return default
            try:
                return cast(raw)
            except (TypeError, ValueError):
                raise InvalidParameterError(f"extra `{name}` must be a number, got {raw!r}.") from None

        try:
            return self._settings(number)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"Connection {self.conn_id!r}: {exc.message}") from None

    def _settings(self, number: Any) -> ClientSettings:
        return ClientSettings(
            base_url=self.base_url(),
            timeout=number("timeout", float, 60.0),
            max_retries=number("max_retries", int, 5),
            max_retry_time=number("max_retry_time", float, 600.0),
            rate_limit=number("rate_limit", float, self.default_rate_limit),
            backoff_initial=number("backoff_initial", float, 1.0),
            backoff_max=number("backoff_max", float, 60.0),
            max_response_bytes=number("max_response_bytes", int, DEFAULT_MAX_RESPONSE_BYTES),
            rate_limit_storage=str(
                self._client_overrides.get("rate_limit_storage")
                or self.conn_extra("rate_limit_storage", DEFAULT_STORAGE)
            ).strip(),
        )

    def get_auth(self) -> requests.auth.AuthBase:
        raise NotImplementedError

    def classify_error(
        self, status: int, code: str | None, message: str | None, details: Any
    ) -> type[WaAnalyticsError] | None:
        """The error class for a vendor error the status and ``error_codes`` can't tell apart."""
        return None

    def credentials(self) -> list[str]:
        """Values that must never appear in a message (scrubbed by the client)."""
        conn = self.connection
        return [v for v in (conn.password, self.conn_extra("private_key")) if v]

    def rate_account(self) -> str:
        """What identifies the vendor account whose rate budget this connection draws from (the API
        key here; vendors whose account is named by another field override this). Only its hash
        leaves the process."""
        return self.connection.password or ""

    @cached_property
    def client(self) -> ApiClient:
        settings = self.client_settings()
        try:  # checked here, before the first request: an unreachable storage fails the task now
            storage = open_storage(settings.rate_limit_storage) if settings.rate_limit else None
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"Connection {self.conn_id!r}: {exc.message}") from None
        return ApiClient(
            settings,
            vendor=self.vendor,
            auth=self.get_auth(),
            error_codes=self.error_codes,
            classify=self.classify_error,
            secrets=self.credentials(),
            allowed_hosts=self.vendor_hosts,
            pool_size=int(self._client_overrides.get("pool_size", 10)),
            rate_account=self.rate_account(),
            rate_storage=storage,
        )

    # -- running an endpoint: the one way every vendor call is made ----------------------------
    def complete(self, query: Query) -> Query:
        """The query with what the connection supplies (an account id in the path, a default)."""
        return query

    def explain(self, query: Query) -> AbstractContextManager[None]:
        """A context that adds what a documented error means for this query (hint on the error)."""
        return nullcontext()

    def check_page(self, endpoint: Endpoint, page: ApiResponse) -> None:
        """Refuse a 2xx page that says it failed (none by default)."""

    def run(self, query: Query, call: Call) -> Iterator[ApiResponse]:
        """Every page of one call of ``query``'s endpoint, sent when iterated."""
        endpoint = query.endpoint
        first = endpoint.first_request(self.complete(query), call)
        with self.explain(query):
            for page in self.client.paginate(first, endpoint.paginator):
                self.check_page(endpoint, page)
                yield page

    def run_once(self, endpoint: Endpoint, span: tuple[Any, Any], **arguments: Any) -> Iterator[ApiResponse]:
        """Every page of one call, for the hook methods users call directly; all checks happen now."""
        return self.run(*self.plan_once(endpoint, span, arguments))

    def plan_once(
        self,
        endpoint: Endpoint,
        span: tuple[Any, Any],
        arguments: Mapping[str, Any],
        whole_batch: bool = False,
    ) -> tuple[Query, Call]:
        """The checked query and its one call, for a hook method's arguments (no request is sent).

        ``span``: the endpoint's own window fields (dates, or epoch seconds). The operators plan
        whole windows (legal spans, batches); a span that needs more than one call fails, and so does
        a batch larger than the endpoint's, unless ``whole_batch`` (the vendor sets no maximum).
        """
        query = endpoint.query(arguments)
        window = endpoint.window.of(*span)
        first, last = endpoint.window.fields
        if len(endpoint.window.ranges(window)) > 1:
            raise InvalidParameterError(
                f"`{first}` to `{last}` spans more than one request covers ({endpoint.window.longest}); "
                "the operators split longer windows for you."
            )
        batch = endpoint.batch
        if batch is not None and not whole_batch and len(query[batch.param]) > batch.size:
            raise InvalidParameterError(
                f"`{batch.param}` holds {len(query[batch.param])} items; one request takes at most "
                f"{batch.size} (the operators batch them for you)."
            )
        calls = endpoint.plan(
            query,
            window,
            now=pendulum.now("UTC"),
            retention_days=self.retention_days(endpoint.retention_days),
            batch_size=len(query[batch.param]) if batch is not None and whole_batch else None,
        )
        return query, calls[0]

    def retention_days(self, default: int | None) -> int | None:
        """Connection extra ``retention_days`` (the old name ``lookback_days`` is still read)."""
        raw = self.conn_extra("retention_days")
        name = "retention_days"
        if raw is None and self.conn_extra("lookback_days") is not None:
            raw, name = self.conn_extra("lookback_days"), "lookback_days"
            warnings.warn(
                f"Connection {self.conn_id!r}: the extra `lookback_days` is now `retention_days`; "
                "rename it (the old name is read until 1.0).",
                DeprecationWarning,
                stacklevel=2,
            )
        if raw is None:
            return default
        try:
            return whole_number(minimum=1, optional=False)(raw, name)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"Connection {self.conn_id!r}: extra {exc.message}") from None

    # -- Airflow UI -----------------------------------------------------------------------------
    @classmethod
    def _provider_conn_type(cls) -> dict[str, Any]:
        from airflow_provider_wa_analytics.get_provider_info import get_provider_info

        for item in get_provider_info()["connection-types"]:
            if item["connection-type"] == cls.conn_type:
                return item
        raise KeyError(cls.conn_type)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow 2.x form behaviour; Airflow 3 reads the same from provider info."""
        behaviour = cls._provider_conn_type()["ui-field-behaviour"]
        return {
            "hidden_fields": list(behaviour["hidden-fields"]),
            "relabeling": dict(behaviour["relabeling"]),
            "placeholders": dict(behaviour["placeholders"]),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Airflow 2.x extra fields, built from the provider info's ``conn-fields``."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        widgets: dict[str, Any] = {}
        for name, spec in cls._provider_conn_type()["conn-fields"].items():
            secret = spec["schema"].get("format") == "password"
            field_cls, widget = (
                (PasswordField, BS3PasswordFieldWidget)
                if secret
                else (
                    StringField,
                    BS3TextFieldWidget,
                )
            )
            widgets[name] = field_cls(
                lazy_gettext(spec["label"]),
                widget=widget(),
                description=spec.get("description", ""),
                default=spec["schema"].get("default"),
            )
        return widgets

    # -- shared operations ---------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Send the cheapest authenticated request of the vendor; never raises."""
        try:
            self.check_connection()
        except WaAnalyticsError as exc:
            return False, self._about_this_connection(str(exc))
        except Exception as exc:
            text = self.client.scrub(str(exc)) if "client" in vars(self) else str(exc)
            return False, f"{type(exc).__name__}: {self._about_this_connection(text)}"
        return True, f"Connection to {self.hook_name} works."

    def _about_this_connection(self, message: str) -> str:
        # The UI's Test button runs on a copy of the form stored under a random temporary conn id:
        # naming it would only confuse, so the messages speak of "this connection".
        name = repr(self.conn_id)
        message = message.replace(f"Connection {name}", "This connection")
        return message.replace(f"connection {name}", "this connection")

    def check_connection(self) -> None:
        raise NotImplementedError
