"""The engine's operator: every fetching operator runs its endpoint through this one flow.

``execute``: resolve the window -> check the arguments once into a frozen query
(:meth:`Endpoint.query <airflow_provider_wa_analytics.endpoints.Endpoint.query>`) -> plan the calls
(legal windows, batches, retention, ``max_calls``) -> check the destination -> fetch every page
through the hook -> normalize into the endpoint's tables -> stream to the destination -> commit.
A vendor operator only names its hook and the endpoint it runs: the endpoint's parameters are its
arguments and ``template_fields`` (see :meth:`WaAnalyticsOperator.__init_subclass__`).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pendulum

from airflow_provider_wa_analytics import lineage
from airflow_provider_wa_analytics.destinations.naming import FORMATS, check_format, is_fixed
from airflow_provider_wa_analytics.endpoints import (
    DEFAULT_MAX_CALLS,
    Call,
    Endpoint,
    Query,
    Rows,
    whole_number,
)
from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
from airflow_provider_wa_analytics.lookback import (
    LatePlan,
    check_late_arguments,
    late_plan,
    needs_run_output,
    plan_calls,
    run_output,
)
from airflow_provider_wa_analytics.version_compat import BaseOperator
from airflow_provider_wa_analytics.windows import resolve_window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiResponse
    from airflow_provider_wa_analytics.version_compat import Context

OUTPUT_FORMATS = FORMATS
HookT = TypeVar("HookT", bound=WaAnalyticsHook)

__all__ = ["OUTPUT_FORMATS", "Call", "Progress", "Rows", "WaAnalyticsOperator", "duration"]


class WaAnalyticsOperator(BaseOperator, Generic[HookT]):
    """Shared parameters: ``start``, ``end``, ``destination``, ``destination_conn_id``, ``output_format``.

    :param start: window start (datetime, pendulum, ISO string or epoch seconds); default: the run's
        ``data_interval_start``.
    :param end: window end, exclusive; default: the run's ``data_interval_end``.
    :param destination: ``s3://bucket/key``, ``gs://bucket/key`` or ``file:///path``; ``{table}`` is
        replaced by each table's name. Omitted: the result is returned to XCom.
    :param destination_conn_id: AWS or Google connection (default ``aws_default`` /
        ``google_cloud_default``).
    :param output_format: ``jsonl`` (default) or ``csv`` for normalized rows, ``json`` for the vendor
        responses exactly as received.
    :param compression: ``None`` or ``"gzip"``.
    :param xcom_max_bytes: size guard of the XCom result when ``destination`` is omitted.
    :param max_concurrency: independent calls (batches, date ranges) in flight at once; the pages of
        one call stay sequential and the connection's rate limit paces them all. Default per endpoint.
    :param max_calls: a plan of more requests than this fails before any request (default 2000).
    :param lookback_days: also re-fetch this many UTC days before the window's first day and replace
        what was written for them (late-arriving figures). Default: the endpoint's
        (``endpoint.default_lookback_days``) with a ``{date}`` destination, else 0. Clamped to the
        vendor's retention. See docs/late-arriving-figures.md.

    A vendor operator adds its endpoint's parameters, its batch size and its connection id as keyword
    arguments (see :meth:`__init_subclass__`).
    """

    #: The endpoint this operator runs (declared once in its vendor's hook module).
    endpoint: ClassVar[Endpoint]
    #: Table name -> ordered columns: the endpoint's, set for each subclass.
    tables: ClassVar[Mapping[str, Sequence[str]]] = {}
    #: The vendor hook class (set on each vendor's operators): ``get_hook()`` returns one of it.
    hook_class: type[HookT]
    #: The connection id argument: the hook's ``conn_name_attr`` (``vonage_conn_id``), set for each subclass.
    conn_id_param: ClassVar[str]
    #: The vendor arguments (endpoint parameters, batch size, connection id), set for each subclass.
    vendor_arguments: ClassVar[tuple[inspect.Parameter, ...]] = ()

    template_fields: Sequence[str] = (
        "start",
        "end",
        "destination",
        "destination_conn_id",
        "output_format",
        "compression",
        "lookback_days",
    )
    ui_color = "#25d366"

    def __init__(
        self,
        *,
        start: Any = None,
        end: Any = None,
        destination: str | None = None,
        destination_conn_id: str | None = None,
        output_format: str = "jsonl",
        compression: str | None = None,
        xcom_max_bytes: int = 1_048_576,
        max_concurrency: int | None = None,
        max_calls: int = DEFAULT_MAX_CALLS,
        lookback_days: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        vendor = {p.name: kwargs.pop(p.name, p.default) for p in self.vendor_arguments}
        missing = [name for name, value in vendor.items() if value is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"missing keyword argument(s) {', '.join(map(repr, missing))}")
        super().__init__(**kwargs)
        for name, value in vendor.items():
            setattr(self, name, value)
        # Arguments that are never templated are checked here, when the DAG file is parsed.
        self.max_concurrency = whole_number(optional=False)(
            self.endpoint.default_concurrency if max_concurrency is None else max_concurrency,
            "max_concurrency",
        )
        self.xcom_max_bytes = whole_number(optional=False)(xcom_max_bytes, "xcom_max_bytes")
        self.max_calls = whole_number(optional=False)(max_calls, "max_calls")
        self.start = start
        self.end = end
        self.destination = destination
        self.destination_conn_id = destination_conn_id
        self.output_format = output_format
        self.compression = compression
        self.lookback_days = lookback_days
        check_late_arguments(lookback_days, destination)
        if is_fixed(output_format) and is_fixed(compression):
            check_format(output_format, compression)
        # A bad static destination fails at parse time.
        if destination and is_fixed(destination) and output_format in OUTPUT_FORMATS:
            from airflow_provider_wa_analytics.destinations import destination_uris

            destination_uris(destination, self.tables, output_format)
        # An alias now, the objects' Assets at run time: a concrete s3:// Asset is costly to parse.
        self._asset_alias = lineage.destination_alias(destination)
        if self._asset_alias is not None:
            self.outlets = [*(self.outlets or []), self._asset_alias]
        self.batch_size()  # never templated: checked when the DAG is parsed

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """An operator class naming its ``endpoint`` takes the endpoint's parameters as arguments.

        Each :class:`~..endpoints.Param` (but those only the connection supplies) becomes a templated
        keyword argument with its default, stored under its name; so do the batch size argument (not
        templated) and the hook's connection id. The class's ``__init__`` carries that signature, so
        Airflow's ``default_args``, its "missing keyword argument" check, ``partial``/``expand`` and
        ``help()`` see every argument. A class may still define ``__init__`` for arguments of its own.
        """
        super().__init_subclass__(**kwargs)
        if "endpoint" not in cls.__dict__:
            return
        endpoint = cls.endpoint
        cls.tables = endpoint.tables
        cls.conn_id_param = cls.hook_class.conn_name_attr
        params = [p for p in endpoint.params if p.argument]
        arguments = [_keyword(p.name, inspect.Parameter.empty if p.required else p.default) for p in params]
        if endpoint.batch is not None and endpoint.batch.size_param:
            arguments.append(_keyword(endpoint.batch.size_param, endpoint.batch.size))
        arguments.append(_keyword(cls.conn_id_param, cls.hook_class.default_conn_name))
        cls.vendor_arguments = tuple(arguments)
        if "template_fields" not in cls.__dict__:
            cls.template_fields = (
                *WaAnalyticsOperator.template_fields,
                *(p.name for p in params),
                cls.conn_id_param,
            )
        init = cls.__dict__.get("__init__")
        if init is None:

            def init(self: WaAnalyticsOperator[Any], **kwargs: Any) -> None:
                super(cls, self).__init__(**kwargs)

            init.__name__, init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
            init.__module__ = cls.__module__
            cls.__init__ = init  # type: ignore[method-assign]
        own = [
            p.replace(annotation=p.empty) if p.name == "self" else p
            for p in inspect.signature(init).parameters.values()
            if p.kind != p.VAR_KEYWORD
        ]
        init.__signature__ = inspect.Signature([*own, *arguments, _KWARGS])  # type: ignore[union-attr]

    # -- the engine -------------------------------------------------------------------------------
    def get_hook(self) -> HookT:
        """The run's hook, built once: planning (retention) and fetching share it and its client."""
        if "_hook" not in self.__dict__:
            self._hook = self.hook_class(getattr(self, self.conn_id_param))
        return self._hook

    def retention_days(self) -> int | None:
        """The vendor's retention in days (connection extra ``retention_days``), read once a run."""
        if "_retention_days" not in self.__dict__:
            self._retention_days = self.get_hook().retention_days(self.endpoint.retention_days)
        return self._retention_days

    def arguments(self) -> dict[str, Any]:
        """The endpoint's arguments as rendered: the attributes named like its parameters."""
        return {name: getattr(self, name, None) for name in self.endpoint.param_names}

    def batch_size(self) -> int | None:
        """Items per call of the endpoint's batched parameter (an operator argument may set it)."""
        batch = self.endpoint.batch
        if batch is None or batch.size_param is None:
            return None
        return whole_number(optional=False)(getattr(self, batch.size_param), batch.size_param)

    def late_plan(self, window: Any, now: Any) -> LatePlan:
        """The window with its ``lookback_days`` and the days a ``{date}`` run writes."""
        return late_plan(
            self.endpoint,
            window,
            self.lookback_days,
            self.destination or None,
            now=now,
            retention_days=self.retention_days(),
        )

    def plan(self, query: Query, window: Any, now: Any, late: LatePlan | None = None) -> list[Call]:
        calls = plan_calls(
            self.endpoint,
            query,
            window,
            late or self.late_plan(window, now),
            now=now,
            retention_days=self.retention_days(),
            max_calls=self.max_calls,
            batch_size=self.batch_size(),
        )
        if not calls:
            self.log.info("Window %s holds nothing to ask for (no whole UTC day, or no ids).", window)
        rate = self.get_hook().client.settings.rate_limit
        if rate and len(calls) > 1:  # the cost, before the first request
            self.log.info(
                "%d call(s) at %g requests/minute (connection extra `rate_limit`): about %s",
                len(calls),
                round(rate * 60, 3),
                duration((len(calls) - 1) / rate),
            )
        return calls

    def fetch(self, hook: HookT, query: Query, call: Call) -> Iterator[ApiResponse]:
        return hook.run(query, call)

    def normalize(self, response: ApiResponse, query: Query, call: Call) -> Iterator[tuple[str, Rows]]:
        return self.endpoint.rows(response.data, self.endpoint.provenance_of(query, call))

    # -- shared flow ----------------------------------------------------------------------------
    def _output(self, late: LatePlan) -> Any:
        from airflow_provider_wa_analytics.destinations import Output

        arguments: dict[str, Any] = {
            "destination": self.destination or None,
            "destination_conn_id": self.destination_conn_id or None,
            "output_format": self.output_format,
            "compression": self.compression or None,
            "tables": {name: list(cols) for name, cols in self.tables.items()},
            "xcom_max_bytes": self.xcom_max_bytes,
        }
        if needs_run_output(late, self.output_format, self.destination or None):
            return run_output(self.endpoint, late, **arguments)
        return Output(**arguments)

    def execute(self, context: Context) -> Any:
        now = pendulum.now("UTC")  # the run's "now": every check of today in this run uses it
        window = resolve_window(self.start, self.end, context)
        query = self.endpoint.query(self.arguments())
        late = self.late_plan(window, now)
        calls = self.plan(query, late.window, now, late)
        output = self._output(late)
        output.check()
        hook = self.get_hook()
        query = hook.complete(query)  # what the connection supplies, checked before any request
        self.log.info(
            "%s: window %s, %d call(s) planned, output %s to %s",
            self.task_id,
            window,
            len(calls),
            self.output_format,
            self.destination or "XCom",
        )
        progress = Progress(self.log, len(calls))
        with output:
            for call, pages in self._responses(hook, query, calls):
                for page_no, response in enumerate(pages, start=1):
                    rows = 0
                    if output.wants_raw:
                        output.write_raw(response.body)
                    else:
                        for table, table_rows in self.normalize(response, query, call):
                            counted = _Counted(table_rows)
                            output.write_rows(table, counted, **late.write_args(call))
                            rows += counted.n
                    progress.page(call.label, page_no, rows)
                progress.call_done()
            result = output.commit()
        progress.finish(hook.client.retries)
        self._completed = lineage.record_run(context, self._asset_alias, hook.client, result)
        return result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the vendor endpoint in, every object written out (with schema, rows, bytes)."""
        typed = {name: table.columns for name, table in self.endpoint.schemas.items()}
        return lineage.operator_lineage(vars(self).get("_completed"), typed, self.output_format)

    def _responses(
        self, hook: HookT, query: Query, calls: list[Call]
    ) -> Iterator[tuple[Call, Iterable[ApiResponse]]]:
        """Each call with its pages, in plan order so the output is deterministic.

        With ``max_concurrency`` > 1, independent calls run on threads (each cursor chain stays
        sequential) and the client's rate limiter paces them together.
        """
        if self.max_concurrency <= 1:
            for call in calls:
                yield call, self.fetch(hook, query, call)
            return
        from airflow_provider_wa_analytics.client import ordered_parallel

        def fetch_all(call: Call) -> tuple[Call, list[ApiResponse]]:
            return call, list(self.fetch(hook, query, call))

        # The first call alone, streamed: a bad key or an unknown account then fails after one request,
        # not one per worker already in flight. The others hold their pages until written (at most
        # 2 x max_concurrency calls at a time).
        if calls:
            yield calls[0], self.fetch(hook, query, calls[0])
        yield from ordered_parallel(fetch_all, calls[1:], self.max_concurrency)


def _keyword(name: str, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)


_KWARGS = inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)


def duration(seconds: float) -> str:
    """``398`` -> ``"6 min 38 s"``: a time in words a user reads at a glance."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


class _Counted:
    """Counts the rows of an iterable as the destination consumes it (no list is built)."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for row in self._rows:
            self.n += 1
            yield row


class Progress:
    """Progress lines a user can follow: call i of N, page, rows, rate and time left."""

    def __init__(self, logger: Any, total_calls: int, clock: Any = time.monotonic) -> None:
        self.log = logger
        self.total = total_calls
        self.done = 0
        self.pages = 0
        self.rows = 0
        self._clock = clock
        self._t0 = clock()

    def page(self, label: str, page_no: int, rows: int) -> None:
        self.pages += 1
        self.rows += rows
        elapsed = max(self._clock() - self._t0, 1e-9)
        eta = ""
        if self.done:
            remaining = elapsed / self.done * (self.total - self.done)
            eta = f", about {duration(remaining)} left"
        self.log.info(
            "call %d/%d %s: page %d, %d rows (total %d rows, %d pages, %.1f pages/s%s)",
            self.done + 1,
            self.total,
            label,
            page_no,
            rows,
            self.rows,
            self.pages,
            self.pages / elapsed,
            eta,
        )

    def call_done(self) -> None:
        self.done += 1

    def finish(self, retries: int) -> None:
        elapsed = self._clock() - self._t0
        self.log.info(
            "done: %d call(s), %d page(s), %d rows in %s (%d retried request(s))",
            self.done,
            self.pages,
            self.rows,
            duration(elapsed),
            retries,
        )
