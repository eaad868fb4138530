"""The base of every fetching operator: resolve the window, plan requests, fetch, normalize, write.

A vendor operator declares its tables and implements three small methods:

- :meth:`validate` checks its own parameters (no I/O) and raises ``InvalidParameterError``;
- :meth:`plan` turns the window into the list of :class:`Call` to make (legal windows, batches);
- :meth:`fetch` yields the vendor responses of one call (one per page);
- :meth:`normalize` turns one response into ``(table, rows)`` pairs.

Everything else (defaults from the data interval, output checks before any request, streaming to the
destination, progress logs, the XCom return value) is shared.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_wa_analytics import lineage
from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.version_compat import BaseOperator
from airflow_provider_wa_analytics.windows import Window, resolve_window

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.client import ApiResponse
    from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
    from airflow_provider_wa_analytics.version_compat import Context

OUTPUT_FORMATS = ("json", "jsonl", "csv")
Rows = Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class Call:
    """One logical vendor call (one legal window, one batch); it may span several pages."""

    label: str
    params: Mapping[str, Any] = field(default_factory=dict)
    window: Window | None = None


class WaAnalyticsOperator(BaseOperator):
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
        one call stay sequential and the connection's rate limit paces them all. Default per operator.
    """

    #: Table name -> ordered columns; the README documents each.
    tables: ClassVar[Mapping[str, Sequence[str]]] = {}
    hook_class: ClassVar[type[WaAnalyticsHook]]
    conn_id_param: ClassVar[str]

    template_fields: Sequence[str] = (
        "start",
        "end",
        "destination",
        "destination_conn_id",
        "output_format",
        "compression",
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_concurrency = self.default_concurrency if max_concurrency is None else max_concurrency
        if (
            isinstance(self.max_concurrency, bool)
            or not isinstance(self.max_concurrency, int)
            or self.max_concurrency < 1
        ):
            raise InvalidParameterError(
                f"`max_concurrency` must be a whole number >= 1, got {self.max_concurrency!r}."
            )
        self.start = start
        self.end = end
        self.destination = destination
        self.destination_conn_id = destination_conn_id
        self.output_format = output_format
        self.compression = compression
        self.xcom_max_bytes = xcom_max_bytes
        if destination and output_format in OUTPUT_FORMATS:  # a bad static destination fails at parse time
            from airflow_provider_wa_analytics.destinations import destination_uris

            destination_uris(destination, self.tables, output_format)
        # An alias now, the objects' Assets at run time: a concrete s3:// Asset is costly to parse.
        self._asset_alias = lineage.destination_alias(destination)
        if self._asset_alias is not None:
            self.outlets = [*(self.outlets or []), self._asset_alias]

    # -- to implement ---------------------------------------------------------------------------
    def get_hook(self) -> WaAnalyticsHook:
        """The run's hook, built once: ``plan`` (lookbacks) and ``fetch`` share it and its client."""
        hook = self.__dict__.get("_hook")
        if hook is None:
            hook = self._hook = self.hook_class(getattr(self, self.conn_id_param))
        return hook

    def validate(self) -> None:
        """Check the vendor parameters (after templating, before any request)."""

    def plan(self, window: Window) -> list[Call]:
        raise NotImplementedError

    def fetch(self, hook: WaAnalyticsHook, call: Call) -> Iterator[ApiResponse]:
        raise NotImplementedError

    def normalize(self, response: ApiResponse, call: Call) -> Iterator[tuple[str, Rows]]:
        raise NotImplementedError

    def provenance(self, call: Call) -> dict[str, Any]:
        """Columns on every row: vendor, endpoint, account or WABA, the requested window."""
        window = call.window
        return {
            "vendor": self.hook_class.vendor,
            "endpoint": self.endpoint,
            "window_start": window.start.isoformat() if window else None,
            "window_end": window.end.isoformat() if window else None,
        }

    endpoint: ClassVar[str] = ""
    #: Independent calls in flight at once when ``max_concurrency`` is not given (1 = sequential).
    default_concurrency: ClassVar[int] = 1

    # -- shared flow ----------------------------------------------------------------------------
    def _output(self) -> Any:
        from airflow_provider_wa_analytics.destinations import Output

        if self.output_format not in OUTPUT_FORMATS:
            raise InvalidParameterError(
                f"`output_format` must be one of {', '.join(OUTPUT_FORMATS)}, got {self.output_format!r}."
            )
        return Output(
            destination=self.destination or None,
            destination_conn_id=self.destination_conn_id or None,
            output_format=self.output_format,
            compression=self.compression or None,
            tables={name: list(cols) for name, cols in self.tables.items()},
            xcom_max_bytes=self.xcom_max_bytes,
        )

    def execute(self, context: Context) -> Any:
        window = resolve_window(self.start, self.end, context)
        self.validate()
        calls = self.plan(window)
        output = self._output()
        output.check()
        hook = self.get_hook()
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
            for call, pages in self._responses(hook, calls):
                for page_no, response in enumerate(pages, start=1):
                    rows = 0
                    if output.wants_raw:
                        output.write_raw(response.body)
                    else:
                        for table, table_rows in self.normalize(response, call):
                            counted = _Counted(table_rows)
                            output.write_rows(table, counted)
                            rows += counted.n
                    progress.page(call.label, page_no, rows)
                progress.call_done()
            result = output.commit()
        progress.finish(hook.client.retries)
        self._completed = lineage.record_run(context, self._asset_alias, hook.client, result)
        return result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the vendor endpoint in, every object written out (with schema, rows, bytes)."""
        return lineage.operator_lineage(vars(self).get("_completed"), self.tables, self.output_format)

    def _responses(
        self, hook: WaAnalyticsHook, calls: list[Call]
    ) -> Iterator[tuple[Call, Iterable[ApiResponse]]]:
        """Each call with its pages, in plan order so the output is deterministic.

        With ``max_concurrency`` > 1, independent calls run on threads (each cursor chain stays
        sequential) and the client's rate limiter paces them together.
        """
        if self.max_concurrency <= 1:
            for call in calls:
                yield call, self.fetch(hook, call)
            return
        from airflow_provider_wa_analytics.client import ordered_parallel

        def fetch_all(call: Call) -> tuple[Call, list[ApiResponse]]:
            return call, list(self.fetch(hook, call))

        # The first call alone, streamed: a bad key or an unknown account then fails after one request,
        # not one per worker already in flight. The others hold their pages until written (at most
        # 2 x max_concurrency calls at a time).
        if calls:
            yield calls[0], self.fetch(hook, calls[0])
        calls = calls[1:]
        yield from ordered_parallel(fetch_all, calls, self.max_concurrency)


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
