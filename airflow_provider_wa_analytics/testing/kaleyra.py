"""The Kaleyra WhatsApp template analytics API of the sandbox (``kaleyra-whatsapp-template-analytics``).

``GET /v2/{sid}/whatsapp/{waba_id}/templates_analytics`` with the SID in the path and the ``api-key``
header; every documented error body (WA400 with Meta's message, RBC001, WA-401, both WA401, WA-500),
chosen by the SID, key and WABA constants below; pages of ``limit`` data points chained by
``paging.cursors.after``, with ``paging`` inside ``data[0]`` (the doc's sample), at the top level
(SPEC), or alternating page by page. Every figure is a pure function of (seed, WABA, template, day).

Invented where the doc is silent (and marked so): the wording of parameter errors, Meta's 10-ids,
90-day range and lookback errors, the default page size.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from airflow_provider_wa_analytics.testing import server
from airflow_provider_wa_analytics.testing.server import Request, Response, Route, VendorApp, json_response

KALEYRA_SID = "HXSB00000000001IN"
"""The account SID that works with :data:`KALEYRA_API_KEY`."""
KALEYRA_API_KEY = "Asandbox0kaleyra0api0key3"
"""The API key of :data:`KALEYRA_SID` and :data:`KALEYRA_NO_API_SID`; any other SID or key: 401 RBC001."""
KALEYRA_NO_API_SID = "HXSB00000000401IN"
"""A real account without the API: 401 ``WA-401`` "API is not available for given customer"."""
KALEYRA_WABA_ID = "109000000000001"
"""The WABA of :data:`KALEYRA_SID` with template insights enabled. Any WABA not listed here: 401 WA401."""
KALEYRA_OTHER_VERSION_WABA_ID = "109000000000002"
"""A WABA on another version of the WA API: 401 WA401 "associated with different Version"."""
KALEYRA_NO_INSIGHTS_WABA_ID = "109000000000003"
"""400 WA400 "error returned from meta" with "Template Insights are not available yet ..."."""
KALEYRA_SERVER_ERROR_WABA_ID = "109000000000500"
"""500 ``WA-500`` "Please try again later" on every request."""

PAGING_PLACEMENTS = ("data", "top", "alternate")
COUNT_STYLES = ("mixed", "string", "number")
METRIC_TYPES = ("SENT", "DELIVERED", "READ", "CLICKED", "REPLIED")
PRODUCT_TYPES = ("CLOUD_API", "MARKETING_MESSAGES_LITE_API")
TEMPLATE_STATUSES = ("accepted", "pending", "rejected", "paused", "disabled")
LOOKBACK_DAYS = 90
MAX_RANGE_DAYS = 90
MAX_TEMPLATE_IDS = 10  # Meta's template_analytics maximum (Kaleyra forwards to it)
DEFAULT_PAGE_SIZE = 100  # invented: Kaleyra documents no default
DAY = 86_400
_BUTTONS = (
    ("quick_reply_button", "Contact Support"),
    ("unique_url_button", "Tell me more"),
    ("quick_reply_button", "Stop promotions"),
)


def _error(status: int, code: str, message: str, error: Any, data: Any = None) -> Response:
    return json_response(
        status, {"code": code, "message": message, "data": {} if data is None else data, "error": error}
    )


def meta_error(message: str) -> Response:
    """Kaleyra's WA400 wrapping an error from Meta: Meta's text is in ``error.error``."""
    return _error(400, "WA400", "error returned from meta", {"error": message})


def _param_error(param: str, message: str) -> Response:
    return _error(400, "WA400", message, {param: message}, data=[])


def _digest(*parts: Any) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


def encode_cursor(offset: int) -> str:
    return server.encode_token(f"offset:{offset}".encode())


def decode_cursor(cursor: str) -> int | None:
    try:
        prefix, _, number = (server.decode_token(cursor) or b"").decode().partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError):
        return None
    return offset if prefix == "offset" and offset >= 0 else None


class KaleyraWhatsAppApp(VendorApp):
    """``GET /v2/{sid}/whatsapp/{waba_id}/templates_analytics``.

    Options: ``paging_placement`` (``data``, ``top`` or ``alternate``), ``default_page_size`` (data
    points per page when the request has no ``limit``), ``counts`` (``mixed``, ``string`` or
    ``number``: the JSON type of the counts), ``today`` (a ``YYYY-MM-DD`` date the lookback counts
    from; default: the real UTC date).
    """

    vendor = "kaleyra_whatsapp"
    default_rate_limit = None  # Kaleyra documents no rate limit for this API
    accounts = {KALEYRA_SID: KALEYRA_API_KEY, KALEYRA_NO_API_SID: KALEYRA_API_KEY}
    wabas = {
        KALEYRA_SID: (
            KALEYRA_WABA_ID,
            KALEYRA_OTHER_VERSION_WABA_ID,
            KALEYRA_NO_INSIGHTS_WABA_ID,
            KALEYRA_SERVER_ERROR_WABA_ID,
        )
    }

    conn_login, conn_password, conn_extra = KALEYRA_SID, KALEYRA_API_KEY, {"pod": "in"}
    OPTIONS = {
        "seed": None,
        "paging_placement": server.Option("data", server.one_of("paging_placement", PAGING_PLACEMENTS)),
        "default_page_size": server.Option(
            DEFAULT_PAGE_SIZE, server.whole_number("default_page_size must be a positive integer", 1)
        ),
        "counts": server.Option("mixed", server.one_of("counts", COUNT_STYLES)),
        "today": server.Option(None, server.a_day),
    }
    paging_placement: str
    default_page_size: int
    counts: str
    today: dt.date | None

    def routes(self) -> list[Route]:
        return [
            Route.of(
                "GET",
                r"/v2/(?P<sid>[^/]+)/whatsapp/(?P<waba_id>[^/]+)/templates_analytics",
                self._templates_analytics,
                "templates_analytics",
            )
        ]

    # -- vendor conventions --

    def authenticate(self, request: Request) -> str | Response:
        sid = request.params.get("sid", "")
        key = request.header("api-key")
        if not key or self.accounts.get(sid) != key:
            return _error(
                401, "RBC001", "Incorrect SID or API key.", {"error": "Incorrect SID or API key."}, []
            )
        if sid == KALEYRA_NO_API_SID:
            text = "API is not available for given customer.Please contact support for more info"
            return _error(401, "WA-401", text, text)
        return sid

    def error_response(self, status: int) -> Response:
        return _error(status, "WA-500", "Please try again later", {"error": "Internal server error"})

    # -- handler --

    def _templates_analytics(self, request: Request) -> Response:
        sid, waba_id = request.identity or "", request.params["waba_id"]
        if waba_id not in self.wabas.get(sid, ()):
            text = "Waba_Id is not present or does not belong to the account."
            return _error(401, "WA401", text, {"waba_id": text})
        if waba_id == KALEYRA_OTHER_VERSION_WABA_ID:
            text = (
                "The waba_id you're using is associated with different Version of our WA API. "
                "Please use the appropriate endpoint."
            )
            return _error(401, "WA401", text, {"waba_id": text})
        query = self._parse(request.query)
        if waba_id == KALEYRA_NO_INSIGHTS_WABA_ID:
            return meta_error("Template Insights are not available yet for this WhatsApp Business account.")
        if waba_id == KALEYRA_SERVER_ERROR_WABA_ID:
            return self.error_response(500)
        return json_response(200, self.page(waba_id, **query))

    def _parse(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0].strip() if values else None

        def reject(param: str, message: str) -> server.Reject:
            return server.Reject(_param_error(param, message))

        status = one("status")
        if status is not None and status.lower() not in TEMPLATE_STATUSES:
            return_text = f"invalid status given. valid values are : {', '.join(TEMPLATE_STATUSES)}"
            raise reject("status", return_text)
        ids = [part.strip() for part in (one("whatsapp_template_ids") or "").split(",") if part.strip()]
        if not ids:
            raise reject("whatsapp_template_ids", "whatsapp_template_ids is required")
        dates = {}
        for name in ("start_date", "end_date"):
            try:
                dates[name] = dt.date.fromisoformat(one(name) or "")
            except ValueError:
                raise reject(name, f"{name} is required in the format YYYY-MM-DD") from None
        if (one("granularity") or "").upper() != "DAILY":
            raise reject("granularity", "granularity is required and must be DAILY")
        product_type = (one("product_type") or "CLOUD_API").upper()
        if product_type not in PRODUCT_TYPES:
            raise reject("product_type", f"product_type must be one of {', '.join(PRODUCT_TYPES)}")
        metrics = [m.strip().upper() for m in (one("metric_types") or "").split(",") if m.strip()]
        if any(m not in METRIC_TYPES for m in metrics):
            raise reject("metric_types", f"metric_types must be among {', '.join(METRIC_TYPES)}")
        limit_text = one("limit")
        if limit_text is not None and (not limit_text.isdigit() or int(limit_text) < 1):
            raise reject("limit", "limit must be a positive integer")
        after = one("after") or ""
        offset = decode_cursor(after) if after else 0
        if offset is None:
            raise server.Reject(meta_error("Invalid parameter: the after cursor is not valid"))
        # Meta's own checks, passed through by Kaleyra (wording invented).
        start, end = dates["start_date"], dates["end_date"]
        today = self.today or dt.datetime.now(dt.timezone.utc).date()
        if end < start:
            raise server.Reject(meta_error("Invalid parameter: end must be after start"))
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise server.Reject(
                meta_error(f"Invalid parameter: start and end can be at most {MAX_RANGE_DAYS} days apart")
            )
        if start < today - dt.timedelta(days=LOOKBACK_DAYS):
            raise server.Reject(
                meta_error(f"Invalid parameter: start must be within the last {LOOKBACK_DAYS} days")
            )
        if len(ids) > MAX_TEMPLATE_IDS:
            raise server.Reject(
                meta_error(f"Invalid parameter: template_ids can hold at most {MAX_TEMPLATE_IDS} ids")
            )
        return {
            "template_ids": ids,
            "start_date": start,
            "end_date": end,
            "product_type": product_type,
            "metric_types": metrics,
            "limit": int(limit_text) if limit_text else self.default_page_size,
            "offset": offset,
        }

    # -- data --

    def data_point(
        self, waba_id: str, template_id: str, day: dt.date, metric_types: list[str]
    ) -> dict[str, Any]:
        """One template-day; ``metric_types`` empty means all of them."""
        d = _digest(self.seed, waba_id, template_id, day.isoformat())
        sent = 0 if d[0] % 7 == 0 else 1000 + int.from_bytes(d[1:3], "big") % 4000
        delivered = sent * (80 + d[3] % 21) // 100
        read = delivered * (30 + d[4] % 61) // 100
        replied = read * (d[5] % 11) // 100
        # Meta restates a day for a few days: what is delivered, read and replied arrives late.
        delivered, read, replied = (self.settled(value, day) for value in (delivered, read, replied))
        start = int(dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp())
        point: dict[str, Any] = {"template_id": template_id, "start": start, "end": start + DAY}
        wanted = set(metric_types or METRIC_TYPES)
        as_string = self.counts == "string" or (self.counts == "mixed" and d[6] % 2 == 0)
        for name, value in (("sent", sent), ("delivered", delivered), ("read", read), ("replied", replied)):
            if name.upper() in wanted:
                point[name] = str(value) if as_string else value
        # Button clicks exist for MARKETING and UTILITY templates only: 0 to 3 buttons per template.
        n_buttons = _digest(self.seed, waba_id, template_id)[0] % 4
        if "CLICKED" in wanted and n_buttons:
            point["clicked"] = []
            for i, (kind, content) in enumerate(_BUTTONS[:n_buttons]):
                count = read * (d[7 + i] % 30) // 100
                point["clicked"].append(
                    {"type": kind, "button_content": content, "count": str(count) if as_string else count}
                )
        return point

    def data_points(
        self,
        waba_id: str,
        template_ids: list[str],
        start_date: dt.date,
        end_date: dt.date,
        metric_types: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every data point of a request, template by template, day by day (the order pages follow)."""
        days = [start_date + dt.timedelta(days=i) for i in range((end_date - start_date).days + 1)]
        return [self.data_point(waba_id, t, day, metric_types or []) for t in template_ids for day in days]

    def page(
        self,
        waba_id: str,
        *,
        template_ids: list[str],
        start_date: dt.date,
        end_date: dt.date,
        product_type: str = "CLOUD_API",
        metric_types: list[str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The 200 body of one page."""
        points = self.data_points(waba_id, template_ids, start_date, end_date, metric_types)
        chunk = points[offset : offset + limit]
        after = encode_cursor(offset + limit) if offset + limit < len(points) else ""
        before = encode_cursor(offset) if offset else ""
        paging = {"cursors": {"before": before, "after": after}}
        group: dict[str, Any] = {
            "granularity": "DAILY",
            "product_type": product_type.lower(),
            "data_points": chunk,
        }
        body: dict[str, Any] = {"code": "WA200", "message": "Request successfully executed!", "data": [group]}
        placement = self.paging_placement
        if placement == "alternate":
            placement = "data" if (offset // limit) % 2 == 0 else "top"
        if placement == "data":
            group["paging"] = paging
        else:
            body["paging"] = paging
        body["error"] = {}
        return body
