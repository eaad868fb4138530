"""The Insider One Web Push campaign-metrics API of the sandbox (``insider-webpush-campaign-metrics``).

``POST /v1/statistics/campaign-metrics`` with ``Authorization: Bearer`` auth, 400 for a missing field,
a bad date format or a start after the end, 424 for an unknown campaign, the documented 30 requests
per minute (a token bucket per token, configurable), and every figure as a string as documented.
The data is a pure function of (seed, campaign, UTC day, device): any range is answered on the spot,
and the device rows always sum to the overview, the reasons to ``dropped`` and ``undelivered``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from airflow_provider_wa_analytics.testing import server
from airflow_provider_wa_analytics.testing.server import Request, Response, Route, VendorApp, json_response

INSIDER_WEBPUSH_TOKEN = "sandbox-webpush-token"  # noqa: S105 (a sandbox-only credential)
"""The valid API token (``Authorization: Bearer ...``)."""
INSIDER_WEBPUSH_PARTNER_ID = "10000001"
"""The partner whose campaigns the sandbox serves (another partner has none: 424)."""
INSIDER_WEBPUSH_FIRST_CAMPAIGN_ID = 10001
"""Campaigns ``10001 .. 10000 + campaigns`` exist (option ``campaigns``, default 250)."""
INSIDER_WEBPUSH_UPSTREAM_FAILURE_CAMPAIGN_ID = "99999424"
"""Always answers 424 with an upstream-dependency message (not "campaign not found")."""

PATH = "/v1/statistics/campaign-metrics"
FIELDS = ("partner_id", "start_date", "end_date", "campaign_id")
DEVICES = ("Desktop", "Mobile")
DROPPED = ("frequencyCapped", "unsubscriptions", "serviceProviderErrors", "internalErrors")
UNDELIVERED = ("offlineRecipients", "other")
STATUSES = ((1, "completed", 3), (2, "active", 1), (3, "stopped", 4))
CURRENCY = "TRY"
_EPOCH = dt.date(1970, 1, 1)
MAX_DAYS = 3660  # the sandbox's own guard against absurd ranges (the API documents none)


def _digest(*parts: Any) -> bytes:
    """Pseudo-random bytes, a pure function of ``parts`` (the same on every platform and run)."""
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


def device_day(seed: int, campaign_id: int, day: dt.date, device: int) -> tuple[int, int, int, int, int]:
    """(sent, delivered, clicks, conversions, revenue in cents) of one campaign, day and device."""
    d = _digest(seed, campaign_id, day.toordinal(), device)
    sent = int.from_bytes(d[:2], "big") % (400 if device == 0 else 900)
    delivered = sent - min(sent, d[2] % 40)
    clicks = delivered * (d[3] % 12) // 100
    conversions = clicks * (d[4] % 30) // 100
    revenue = conversions * (1000 + int.from_bytes(d[5:7], "big") % 20000)  # 10.00 to 209.99 each
    return sent, delivered, clicks, conversions, revenue


def dropped_day(seed: int, campaign_id: int, day: dt.date) -> tuple[int, ...]:
    d = _digest(seed, campaign_id, day.toordinal(), "dropped")
    return tuple(d[i] % cap for i, cap in enumerate((25, 8, 6, 3)))


def _rate(part: int, whole: int) -> str:
    return f"{(100 * part / whole if whole else 0):.2f}%"


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0


def _money(cents: int) -> str:
    amount = str(cents // 100) if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"
    return f"{amount} {CURRENCY}"


def _bad_request(message: str) -> Response:
    return json_response(400, {"message": message})


class InsiderWebPushApp(VendorApp):
    """``POST /v1/statistics/campaign-metrics``."""

    vendor = "insider_webpush"
    default_rate_limit = (30.0, 60.0)  # "The rate limit is 30 requests per minute."

    conn_login, conn_password = INSIDER_WEBPUSH_PARTNER_ID, INSIDER_WEBPUSH_TOKEN
    OPTIONS = {
        "campaigns": server.Option(
            250, server.whole_number("campaigns must be an integer from 0 to 1000000", 0, 1_000_000)
        ),
        "seed": None,
    }

    campaigns: int

    @property
    def campaign_ids(self) -> list[str]:
        """The IDs of the campaigns that exist, as the API takes them."""
        first = INSIDER_WEBPUSH_FIRST_CAMPAIGN_ID
        return [str(i) for i in range(first, first + self.campaigns)]

    def exists(self, campaign_id: str) -> bool:
        first = INSIDER_WEBPUSH_FIRST_CAMPAIGN_ID
        return campaign_id.isdigit() and first <= int(campaign_id) < first + self.campaigns

    def routes(self) -> list[Route]:
        return [Route.of("POST", PATH, self._campaign_metrics, "campaign-metrics")]

    def authenticate(self, request: Request) -> str | Response:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != INSIDER_WEBPUSH_TOKEN:
            return json_response(401, {"message": "Unauthorized"})
        return token.strip()

    def rate_limited_response(self, retry_after: int) -> Response:
        return json_response(429, {"message": "Request limit exceeded"}, {"Retry-After": str(retry_after)})

    def error_response(self, status: int) -> Response:
        return json_response(status, {"message": "Internal Server Error"})

    # -- handler --

    def _campaign_metrics(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return _bad_request("The request body must be a JSON object.")
        for name in FIELDS:
            if body.get(name) in (None, ""):
                return _bad_request(f"The {name} field is required.")
            if not isinstance(body[name], str):
                return _bad_request(f"The {name} field must be a string.")
        dates = {}
        for name in ("start_date", "end_date"):
            try:
                if len(body[name]) != 10:
                    raise ValueError
                dates[name] = dt.date.fromisoformat(body[name])
            except ValueError:
                return _bad_request(f"The {name} does not match the format Y-m-d.")
        start, end = dates["start_date"], dates["end_date"]
        if start > end:
            return _bad_request("The start_date must be a date before or equal to end_date.")
        if (end - start).days >= MAX_DAYS:
            return _bad_request(f"The date range must not exceed {MAX_DAYS} days.")
        campaign_id = body["campaign_id"]
        if campaign_id == INSIDER_WEBPUSH_UPSTREAM_FAILURE_CAMPAIGN_ID:
            return json_response(424, {"message": "SERVICE:-Upstream dependency failed"})
        if body["partner_id"] != INSIDER_WEBPUSH_PARTNER_ID or not self.exists(campaign_id):
            return json_response(424, {"message": "SERVICE:-Campaign not found"})
        return json_response(200, self.campaign_metrics(campaign_id, start, end))

    # -- the data, also for tests computing their expectations --

    def _device_day(self, cid: int, day: dt.date, device: int) -> tuple[int, ...]:
        """:func:`device_day` as of :attr:`as_of`: deliveries, clicks, conversions, revenue arrive late."""
        sent, *late = device_day(self.seed, cid, day, device)
        return (sent, *(self.settled(value, day) for value in late))

    def campaign_metrics(self, campaign_id: str | int, start: dt.date, end: dt.date) -> dict[str, Any]:
        """The 200 body for one campaign over the end-inclusive days ``start .. end``."""
        cid = int(campaign_id)
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        devices = [
            [sum(col) for col in zip(*(self._device_day(cid, day, k) for day in days), strict=True)]
            for k in range(len(DEVICES))
        ]
        dropped = [sum(col) for col in zip(*(dropped_day(self.seed, cid, day) for day in days), strict=True)]
        sent, delivered, clicks, conversions, revenue = (sum(col) for col in zip(*devices, strict=True))
        undelivered = sent - delivered
        offline = undelivered * 3 // 4
        targeted = sent + sum(dropped)
        status, status_name, working_status = STATUSES[cid % len(STATUSES)]
        created = _EPOCH + dt.timedelta(days=19000 + cid % 500)
        return {
            "success": True,
            "message": "",
            "name": f"Web Push campaign {cid}",
            "statusName": status_name,
            "status": status,
            "workingStatus": working_status,
            "sendType": cid % 2,
            "primaryGoal": "salesFromClick",
            "startDate": f"{created.isoformat()}T21:00:00.000000Z",
            "endDate": f"{(created + dt.timedelta(days=30)).isoformat()}T20:59:59.999999Z",
            "isRecurring": cid % 3 == 0,
            "alias": "single",
            "preferredCurrency": CURRENCY,
            "personalizationStatus": "Active",
            "isTTLEnded": True,
            "goalMenu": {"camp-join": "Clicks", "sales-from-click": "Purchases From Click..."},
            "overview": {
                "total": {
                    "targeted": str(targeted),
                    "deliveryRate": _rate(delivered, sent),
                    "ctr": _rate(clicks, delivered),
                    "conversionRate": _rate(conversions, clicks),
                },
                "targeted": {"sent": str(sent), "dropped": str(sum(dropped))},
                "deliveryRate": {"delivered": str(delivered), "undelivered": str(undelivered)},
                "ctr": {"clicks": str(clicks)},
                "conversionRate": {"conversions": str(conversions)},
                "revenue": _money(revenue),
            },
            "deviceMetrics": [
                {
                    "device": name,
                    "sent": str(d_sent),
                    "delivered": str(d_delivered),
                    "deliveryRate": _rate(d_delivered, d_sent),
                    "clicks": str(d_clicks),
                    "ctr": _rate(d_clicks, d_delivered),
                    "conversions": str(d_conversions),
                    "conversionRate": _rate(d_conversions, d_clicks),
                    "revenue": _money(d_revenue),
                }
                for name, (d_sent, d_delivered, d_clicks, d_conversions, d_revenue) in zip(
                    DEVICES, devices, strict=True
                )
            ],
            "unsuccessfulMessages": {
                "dropped": [
                    {"label": label, "count": str(n), "percentage": _share(n, targeted)}
                    for label, n in zip(DROPPED, dropped, strict=True)
                ],
                "undelivered": [
                    {"label": label, "count": str(n), "percentage": _share(n, sent)}
                    for label, n in zip(UNDELIVERED, (offline, undelivered - offline), strict=True)
                ],
            },
            "comparisonData": [],
        }
