"""Paginators: each answers one question, "what is the request for the next page, if any?".

:meth:`ApiClient.paginate <airflow_provider_wa_analytics.client.ApiClient.paginate>` runs any of
them, refuses links to foreign hosts and stops with an error when a cursor repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import parse_qsl

from airflow_provider_wa_analytics.client import ApiResponse, PageRequest

Path = Sequence[str | int]


class Paginator(Protocol):
    def next_request(self, page: ApiResponse, request: PageRequest) -> PageRequest | None: ...


def dig(data: Any, path: Path) -> Any:
    """``data[path[0]][path[1]]...`` or None when any step is missing or of the wrong type."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(data, list) or not -len(data) <= key < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
        if data is None:
            return None
    return data


class CursorPaginator:
    """Next page = the same request with ``param`` set to the cursor found at the first of ``paths``.

    Several paths cover vendors whose samples disagree on where the cursor lives (Kaleyra puts
    ``paging`` at the top level or inside ``data[0]``). An empty or missing cursor ends the call.
    """

    def __init__(self, param: str, *paths: Path) -> None:
        self.param = param
        self.paths = paths

    def cursor(self, page: ApiResponse) -> str | None:
        for path in self.paths:
            value = dig(page.data, path)
            if value not in (None, ""):
                return str(value)
        return None

    def next_request(self, page: ApiResponse, request: PageRequest) -> PageRequest | None:
        cursor = self.cursor(page)
        if cursor is None:
            return None
        params = (*tuple((k, v) for k, v in request.params if k != self.param), (self.param, cursor))
        return request.replace(params=params)


class LinkPaginator:
    """Next page = the URL found at the first of ``paths`` (``paging.next``, ``_links.next.href``).

    The link carries its own query string; the client re-points it at the connection's host and
    refuses any other host. Links equal to the current page end the call.
    """

    def __init__(self, *paths: Path) -> None:
        self.paths = paths

    def next_request(self, page: ApiResponse, request: PageRequest) -> PageRequest | None:
        for path in self.paths:
            link = dig(page.data, path)
            if isinstance(link, str) and link:
                url, _, query = link.partition("?")
                query = query.split("#", 1)[0]
                return PageRequest(request.method, url, tuple(parse_qsl(query, keep_blank_values=True)))
        return None
