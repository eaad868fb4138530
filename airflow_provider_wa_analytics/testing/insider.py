"""The Insider One WhatsApp statistics API of the sandbox: overall and transactional statistics.

Faithful to ``insider-whatsapp-overall-statistics`` and ``insider-whatsapp-transactional-statistics``:
``x-ins-auth-key`` auth, Go-style 3001 parse errors, 3002 validation messages in the documented order,
422s, the 429 body, both 200 shapes. The data is a pure function of the seed: campaigns start every
UTC day (``campaigns_per_day`` of them), run one to three days, and every figure of a campaign-day
comes from a hash of (seed, day, index, day of run), so any window can be answered on the spot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn

from airflow_provider_wa_analytics.testing import server
from airflow_provider_wa_analytics.testing.late import settle, settled_percent
from airflow_provider_wa_analytics.testing.server import Request, Response, Route, VendorApp, json_response

INSIDER_WHATSAPP_KEY = "INS.sandbox-whatsapp-key"
"""Valid for both endpoints."""
INSIDER_WHATSAPP_IP_RESTRICTED_KEY = "INS.ip-restricted"
"""403, ``error.code`` 1088 (ip-restricted)."""
INSIDER_WHATSAPP_INACTIVE_KEY = "INS.whatsapp-inactive"
"""403, ``errorCode`` 3007 (WhatsApp product is not active)."""
INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY = "INS.no-transactional"
"""Valid for overall statistics; 403 3005 (transactional messaging is not active) on transactional."""
INSIDER_WHATSAPP_ALT_SHAPE_KEY = "INS.alt-shape"
"""Valid, but answers the documented second 200 shape ``{"data": {"statistics": {...}}}``."""

DAY = 86_400
MAX_RANGE = 365 * DAY  # "The maximum supported range is 1 year"
TRANSACTIONAL_MIN_START = 1_514_764_800  # the downstream 422 "time.start must be at least ..."
MAX_CAMPAIGNS_PER_DAY = 10_000  # campaign ids are day * 10000 + index

CAMPAIGN_TYPES = {1: "standard", 2: "abTest", 3: "split", 5: "transactional", 6: "other"}
STATUSES = ("active", "test", "passive", "completed", "failed", "scheduled", "draft", "stop")
TAGS = {1: "promo", 2: "newsletter", 3: "vip"}
ACCOUNTS = (
    ("+905000000001", "Main Number"),
    ("+905000000002", "Support Line"),
    ("+905000000003", "Promotions"),
)
_TAG_IDS = {name: tag_id for tag_id, name in TAGS.items()}
# Weighted draws: 20 slots each.
_TYPE_DRAW = (1,) * 8 + (2,) * 3 + (3,) * 2 + (5,) * 5 + (6,) * 2
_STATUS_DRAW = (
    ("completed",) * 8
    + ("active",) * 4
    + ("stop",) * 2
    + ("test",) * 2
    + ("failed", "passive", "scheduled", "draft")
)
_SILENT_STATUSES = frozenset({"scheduled", "draft"})  # nothing sent yet: all figures zero
_NAMES = (
    "Spring",
    "Summer",
    "Autumn",
    "Winter",
    "Weekend",
    "Flash",
    "Loyalty",
    "Welcome",
    "Win-back",
    "Launch",
)
_BUTTONS = ("Yes, I'm interested", "Not now", "Talk to an agent")
_NO_REPLY_BUTTON = "No reply"

# Documented keys and their maximum per campaign-day (exclusive).
DROP_DETAILS = (
    ("frequencyCapped", 20),
    ("duplicates", 10),
    ("invalidPhoneNumbers", 15),
    ("tierLimitation", 3),
    ("templateFailures", 5),
    ("pausedTemplates", 2),
    ("recipientRelatedErrors", 25),
    ("metaTemporaryErrors", 6),
    ("accountIntegrationErrors", 2),
    ("internalErrors", 4),
    ("rateLimits", 3),
    ("policyFailures", 2),
)
UNDELIVERED_DETAILS = (
    ("recipientRelatedErrors", 40),
    ("accountVerificationErrors", 6),
    ("mediaErrors", 4),
    ("heldMessages", 11),
    ("metaExperiment", 3),
    ("metaErrors", 21),
    ("invalidMessages", 6),
    ("metaRecipientLimitsErrors", 11),
    ("deliveryReportMissing", 4),
)
# A campaign-day is one tuple of ints in this order (summed column-wise into rows and totals).
TOTALS = (
    "sent",
    "delivered",
    "open",
    "click",
    "conversion",
    "revenue",
    "drop",
    "targeted",
    "unsubscribe",
    "undelivered",
    "deliveryPending",
)
CHART_EXTRA = ("responses", "clickFromResponses", "conversionFromResponses")
_N_TOTALS, _N_DROP, _N_UNDELIVERED = len(TOTALS), len(DROP_DETAILS), len(UNDELIVERED_DETAILS)
_DROP_AT = _N_TOTALS
_UNDELIVERED_AT = _DROP_AT + _N_DROP
_EXTRA_AT = _UNDELIVERED_AT + _N_UNDELIVERED
_WIDTH = _EXTRA_AT + len(CHART_EXTRA)
_RESPONSE_FIGURES = ("sent", "delivered", "open", "click", "conversion", "revenue")
_ZERO_DAY = (0,) * _WIDTH

ALLOWED_TYPE_IDS = "all, 1, 2, 3, 5, 6"
ALLOWED_STATUSES = "all, " + ", ".join(STATUSES)


_DROP_CAPS = tuple(cap for _, cap in DROP_DETAILS)
_UNDELIVERED_CAPS = tuple(cap for _, cap in UNDELIVERED_DETAILS)


def _digest(size: int, *parts: int) -> bytes:
    """Pseudo-random bytes, a pure function of ``parts`` (the same on every platform and run)."""
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size).digest()


class Campaign(NamedTuple):
    id: int
    day: int  # UTC day number (timestamp // 86400) of its first day
    slot: int  # its rank among the campaigns of its first day
    duration: int  # days, 1 to 3
    type_id: int
    status: str
    account: int  # index in ACCOUNTS
    tags: tuple[int, ...]
    conversational: bool
    architect: bool  # a Journey Builder message: only with show_architect
    buttons: int  # conversational: 2 or 3 buttons
    no_reply: bool  # conversational: also a follow-up for recipients who did not reply
    name_index: int

    @property
    def silent(self) -> bool:
        return self.status in _SILENT_STATUSES

    @property
    def name(self) -> str:
        return f"{_NAMES[self.name_index]} {CAMPAIGN_TYPES[self.type_id]} #{self.slot + 1} {_date(self.day)}"


@lru_cache(maxsize=1 << 15)
def campaign(seed: int, day: int, index: int) -> Campaign:
    """The ``index``-th campaign starting on UTC day ``day``."""
    d = _digest(16, seed, day, index)
    type_id = _TYPE_DRAW[d[1] % 20]
    transactional = type_id == 5
    return Campaign(
        id=day * MAX_CAMPAIGNS_PER_DAY + index,
        day=day,
        slot=index,
        duration=d[0] % 3 + 1,
        type_id=type_id,
        status=_STATUS_DRAW[d[2] % 20],
        account=d[3] % len(ACCOUNTS),
        tags=_TAG_SETS[d[4] % 8],
        # Transactional (hook) messages are neither conversational flows nor journeys.
        conversational=d[5] % 4 == 0 and not transactional,
        architect=d[6] % 8 == 0 and not transactional,
        buttons=2 + d[7] % 2,
        no_reply=d[8] % 2 == 0,
        name_index=d[9] % len(_NAMES),
    )


_TAG_SETS = tuple(tuple(tag for bit, tag in ((1, 1), (2, 2), (4, 3)) if bits & bit) for bits in range(8))


_DayFigures = tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]


def campaign_day(seed: int, c: Campaign, offset: int) -> _DayFigures:
    """Figures of campaign ``c`` on its ``offset``-th day: (TOTALS + details + CHART_EXTRA, responses).

    ``responses`` holds one (sent, delivered, open, click, conversion, revenue) per follow-up message
    of a conversational campaign: one per button, then the no-reply message if it has one.
    """
    n_responses = (c.buttons + c.no_reply) if c.conversational else 0
    if c.silent:
        return _ZERO_DAY, ((0,) * 6,) * n_responses
    d = _digest(48, seed, c.day, c.slot, offset)
    sent = 200 + (d[0] | d[1] << 8) % 1800
    drops = [b % cap for b, cap in zip(d[2:14], _DROP_CAPS, strict=True)]
    undelivered_details = [b % cap for b, cap in zip(d[14:23], _UNDELIVERED_CAPS, strict=True)]
    undelivered = sum(undelivered_details)  # at most 105, always below sent (>= 200)
    delivered = sent - undelivered
    opened = delivered * (20 + d[23] % 40) // 100
    click = opened * (5 + d[24] % 30) // 100
    conversion = click * (5 + d[25] % 25) // 100
    price = 10 + d[26] % 190
    drop = sum(drops)
    responses: list[tuple[int, ...]] = []
    button_clicks = response_clicks = response_conversions = 0
    for i in range(n_responses):
        p_sent, p_read, p_click, p_conversion = d[28 + 4 * i : 32 + 4 * i]
        if i < c.buttons:
            r_sent = delivered * (2 + p_sent % 10) // 100  # one follow-up per button reply
            button_clicks += r_sent
        else:
            r_sent = (delivered - button_clicks) * (5 + p_sent % 10) // 100  # to who did not reply
        r_delivered = r_sent - r_sent // 50
        r_open = r_delivered * (50 + p_read % 40) // 100
        r_click = r_open * (10 + p_click % 30) // 100
        r_conversion = r_click * (10 + p_conversion % 30) // 100
        responses.append((r_sent, r_delivered, r_open, r_click, r_conversion, r_conversion * price))
        response_clicks += r_click
        response_conversions += r_conversion
    figures = (
        sent,
        delivered,
        opened,
        click,
        conversion,
        conversion * price,  # revenue: whole numbers, so that every sum is exact
        drop,
        sent + drop,  # targeted
        d[27] % (1 + sent // 300),  # unsubscribe
        undelivered,
        0,  # deliveryPending: sent == delivered + undelivered holds
        *drops,
        *undelivered_details,
        button_clicks,
        response_clicks,
        response_conversions,
    )
    return figures, tuple(responses)


@lru_cache(maxsize=1 << 13)
def campaign_figures(seed: int, day: int, index: int) -> tuple[_DayFigures, ...]:
    """:func:`campaign_day` for every day of a campaign (cached: windows of a backfill share campaigns)."""
    c = campaign(seed, day, index)
    return tuple(campaign_day(seed, c, k) for k in range(c.duration))


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * DAY))


def window_days(start_time: int, end_time: int) -> range:
    """UTC days whose midnight ``t`` satisfies ``start_time <= t < end_time``."""
    return range(-(-start_time // DAY), (end_time - 1) // DAY + 1)


@dataclass(frozen=True)
class CampaignFilter:
    """A validated ``campaign_filter``; None means "no restriction"."""

    type_ids: frozenset[int] | None = None
    statuses: frozenset[str] | None = None
    accounts: frozenset[str] | None = None
    tag_ids: frozenset[int] | None = None
    show_architect: bool = False

    def matches(self, c: Campaign) -> bool:
        return (
            (self.show_architect or not c.architect)
            and (self.type_ids is None or c.type_id in self.type_ids)
            and (self.statuses is None or c.status in self.statuses)
            and (self.accounts is None or ACCOUNTS[c.account][0] in self.accounts)
            and (self.tag_ids is None or not self.tag_ids.isdisjoint(c.tags))
        )


def _sum_columns(rows: Sequence[tuple[int, ...]], width: int) -> tuple[int, ...]:
    if len(rows) == 1:
        return rows[0]
    return tuple(map(sum, zip(*rows, strict=True))) if rows else (0,) * width


# -- request parsing, Go style ------------------------------------------------------------------


def _fail(status: int, body: dict[str, Any]) -> NoReturn:
    raise server.Reject(json_response(status, body))


def _parse_error(errors: str) -> NoReturn:
    _fail(400, {"message": "failed to parse request", "errorCode": "3001", "errors": errors})


def _invalid(errors: str) -> NoReturn:
    _fail(400, {"message": "validation failed", "errorCode": "3002", "errors": errors})


def _json_kind(value: Any) -> str:
    """Go's name for a JSON value in ``cannot unmarshal <kind> into ...``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "number"


def _go_value(value: Any) -> str:
    """What Go's ``%v`` prints for a decoded ``interface{}``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _decode(body: bytes, struct: str) -> dict[str, Any]:
    if not body.strip():
        _parse_error("EOF")
    try:
        text = body.decode("utf-8")
        document = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        _parse_error("invalid character looking for beginning of value")
    except json.JSONDecodeError as error:
        _parse_error(_go_syntax_error(error))
    except ValueError:
        _parse_error("invalid character 'N' looking for beginning of value")
    if not isinstance(document, dict):
        _parse_error(
            f"json: cannot unmarshal {_json_kind(document)} into Go value of type statistics.{struct}"
        )
    return document


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(name)  # NaN / Infinity are not JSON for Go


def _go_syntax_error(error: Any) -> str:
    text, pos, message = error.doc, error.pos, error.msg
    if pos >= len(text.rstrip()) or message.startswith("Unterminated"):
        return "unexpected EOF"
    char = text[pos]
    if message.startswith("Expecting property name"):
        return f"invalid character '{char}' looking for beginning of object key string"
    if message.startswith("Expecting ':'"):
        return f"invalid character '{char}' after object key"
    if message.startswith("Expecting ','"):
        return f"invalid character '{char}' after object key:value pair"
    if message.startswith("Extra data"):
        return f"invalid character '{char}' after top-level value"
    return f"invalid character '{char}' looking for beginning of value"


def _int64(document: Mapping[str, Any], key: str, struct: str) -> int:
    """An ``int64`` field; 0 when absent or null (Go's zero value, which ``required`` rejects)."""
    value = document.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        shown = _json_kind(value)
        if shown == "number":
            shown = f"number {value}"
        _parse_error(f"json: cannot unmarshal {shown} into Go struct field {struct}.{key} of type int64")
    return value


def _array(document: Mapping[str, Any], key: str, field: str, of_strings: bool) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    go_type = "[]string" if of_strings else "[]interface {}"
    if not isinstance(value, list):
        _parse_error(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {field} of type {go_type}"
        )
    if of_strings:
        for item in value:
            if item is not None and not isinstance(item, str):
                kind = _json_kind(item)
                _parse_error(f"json: cannot unmarshal {kind} into Go struct field {field} of type string")
    return ["" if item is None else item for item in value] if of_strings else value


def _check_window(start_time: int, end_time: int) -> None:
    if not start_time:
        _invalid("start_time is required")
    if not end_time:
        _invalid("end_time is required")
    if not 1_000_000_000 <= start_time <= 9_999_999_999:
        _invalid("start_time must be a 10-digit unix timestamp")
    if not 1_000_000_000 <= end_time <= 9_999_999_999:
        _invalid("end_time must be a 10-digit unix timestamp")
    if end_time <= start_time:
        _invalid("end_time must be greater than start_time")
    if end_time - start_time > MAX_RANGE:
        _invalid("date range cannot exceed 1 year")


def _type_id(value: Any) -> int | None:
    """The campaign type a ``campaign_type_ids`` element names (None for "all"); rejects others."""
    if value == "all" and isinstance(value, str):
        return None
    number: Any = value
    if isinstance(value, str) and value.isdigit():
        number = int(value)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, int) and not isinstance(number, bool) and number in CAMPAIGN_TYPES:
        return number
    _invalid(f"invalid campaign_type_id: {_go_value(value)}, allowed values are: {ALLOWED_TYPE_IDS}")


def parse_overall(body: bytes) -> tuple[int, int, CampaignFilter]:
    """Parse and validate an overall request as the API does; raises ``server.Reject`` with its answer."""
    struct = "OverallStatisticsRequest"
    document = _decode(body, struct)
    start_time = _int64(document, "start_time", struct)
    end_time = _int64(document, "end_time", struct)
    raw = document.get("campaign_filter")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        _parse_error(
            f"json: cannot unmarshal {_json_kind(raw)} into Go struct field {struct}.campaign_filter "
            "of type statistics.CampaignFilter"
        )
    prefix = f"{struct}.campaign_filter."
    type_ids = _array(raw, "campaign_type_ids", prefix + "campaign_type_ids", of_strings=False)
    statuses = _array(raw, "statuses", prefix + "statuses", of_strings=True)
    accounts = _array(raw, "accounts", prefix + "accounts", of_strings=True)
    tags = _array(raw, "tags", prefix + "tags", of_strings=False)
    show_architect = raw.get("show_architect")
    if show_architect is not None and not isinstance(show_architect, bool):
        _parse_error(
            f"json: cannot unmarshal {_json_kind(show_architect)} into Go struct field "
            f"{prefix}show_architect of type bool"
        )
    _check_window(start_time, end_time)
    wanted_types = [_type_id(value) for value in type_ids]
    for status in statuses:
        if status != "all" and status not in STATUSES:
            _invalid(f"invalid status: {status}, allowed values are: {ALLOWED_STATUSES}")
    tag_ids: set[int] = set()
    unknown: list[str] = []
    for i, tag in enumerate(tags):
        if isinstance(tag, float) and tag.is_integer():
            tag = int(tag)
        if isinstance(tag, bool) or not isinstance(tag, (int, str)):
            _invalid(f"tag at index {i} must be a string or integer")
        if isinstance(tag, int):
            tag_ids.add(tag)  # an unknown id simply matches nothing
        elif tag in _TAG_IDS:
            tag_ids.add(_TAG_IDS[tag])
        elif tag not in unknown:
            unknown.append(tag)
    if unknown:
        message = "The following tag names could not be found: " + ", ".join(unknown)
        _fail(
            422,
            {"message": "The given data was invalid.", "errors": {"campaign_filter": {"tags": [message]}}},
        )
    campaign_filter = CampaignFilter(
        type_ids=None
        if not wanted_types or None in wanted_types
        else frozenset(t for t in wanted_types if t is not None),
        statuses=None if not statuses or "all" in statuses else frozenset(statuses),
        accounts=frozenset(accounts) or None,
        tag_ids=frozenset(tag_ids) if tags else None,
        show_architect=bool(show_architect),
    )
    return start_time, end_time, campaign_filter


def parse_transactional(body: bytes) -> tuple[int, int, frozenset[str] | None]:
    struct = "TransactionalStatisticsRequest"
    document = _decode(body, struct)
    start_time = _int64(document, "start_time", struct)
    end_time = _int64(document, "end_time", struct)
    accounts = _array(document, "accounts", f"{struct}.accounts", of_strings=True)
    _check_window(start_time, end_time)
    if start_time < TRANSACTIONAL_MIN_START:
        message = f"The time.start must be at least {TRANSACTIONAL_MIN_START}."
        _fail(422, {"message": "The given data was invalid.", "errors": {"time.start": [message]}})
    return start_time, end_time, frozenset(accounts) or None


# -- the app ------------------------------------------------------------------------------------


_Keep = Callable[[Campaign], bool]
_Row = tuple[Campaign, tuple[int, ...], tuple[tuple[int, ...], ...]]


class InsiderWhatsAppApp(VendorApp):
    """``POST /v1/statistics/overall`` and ``POST /v1/statistics/transactional``."""

    vendor = "insider_whatsapp"
    default_rate_limit = (100.0, 1.0)  # "100 requests per second with the same API Key"
    valid_keys = frozenset(
        {INSIDER_WHATSAPP_KEY, INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY, INSIDER_WHATSAPP_ALT_SHAPE_KEY}
    )

    conn_password = INSIDER_WHATSAPP_KEY
    OPTIONS = {"campaigns_per_day": server.Option(2), "seed": None}  # the property's setter checks the value

    @property
    def campaigns_per_day(self) -> int:
        return self._campaigns_per_day

    @campaigns_per_day.setter
    def campaigns_per_day(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAMPAIGNS_PER_DAY:
            raise ValueError(f"campaigns_per_day must be an integer from 0 to {MAX_CAMPAIGNS_PER_DAY}")
        self._campaigns_per_day = value

    def routes(self) -> list[Route]:
        return [
            Route.of("POST", r"/v1/statistics/overall", self._overall, "overall"),
            Route.of("POST", r"/v1/statistics/transactional", self._transactional, "transactional"),
        ]

    # -- vendor conventions --

    def authenticate(self, request: Request) -> str | Response:
        key = request.header("x-ins-auth-key")
        if not key:
            return json_response(401, {"message": "authentication required", "errorCode": "1001"})
        if key == INSIDER_WHATSAPP_IP_RESTRICTED_KEY:
            body = {"message": "ip-restricted", "error": {"message": "ip-restricted", "code": 1088}}
            return json_response(403, body)
        if key == INSIDER_WHATSAPP_INACTIVE_KEY:
            return json_response(403, {"message": "WhatsApp product is not active", "errorCode": "3007"})
        if key not in self.valid_keys:
            return json_response(401, {"message": "unauthorized", "error": {"message": "unauthorized"}})
        return key

    def rate_limited_response(self, retry_after: int) -> Response:
        body = {"message": "rate limited", "error": {"message": "rate limited", "code": 2021}}
        return json_response(429, body, {"Retry-After": str(retry_after)})

    def error_response(self, status: int) -> Response:
        message = "service unavailable" if status == 503 else "internal server error"
        return json_response(status, {"message": message, "error": {"message": message}})

    # -- handlers --

    def _overall(self, request: Request) -> Response:
        start_time, end_time, campaign_filter = parse_overall(request.body)
        body = self._overall_body(start_time, end_time, campaign_filter)
        if request.identity == INSIDER_WHATSAPP_ALT_SHAPE_KEY:
            body = alt_shape_body(body["summary"])
        return json_response(200, body)

    def _transactional(self, request: Request) -> Response:
        if request.identity == INSIDER_WHATSAPP_NO_TRANSACTIONAL_KEY:
            return json_response(
                403, {"message": "transactional messaging is not active", "errorCode": "3005"}
            )
        start_time, end_time, accounts = parse_transactional(request.body)
        body = self._transactional_body(start_time, end_time, accounts)
        if request.identity == INSIDER_WHATSAPP_ALT_SHAPE_KEY:
            body = alt_shape_body(body)
        return json_response(200, body)

    # -- the data, also for tests computing their expectations --

    def overall(
        self,
        start_time: int,
        end_time: int,
        campaign_filter: Mapping[str, Any] | None = None,
        *,
        alt_shape: bool = False,
    ) -> dict[str, Any]:
        """The body the server returns for this valid request (the alternative 200 shape if asked).

        Raises ``ValueError`` with the API's error body when the request is not valid.
        """
        body = _json_body(
            {"start_time": start_time, "end_time": end_time, "campaign_filter": campaign_filter}
        )
        try:
            start, end, parsed = parse_overall(body)
        except server.Reject as reject:
            raise ValueError(reject.response.body.decode()) from None
        result = self._overall_body(start, end, parsed)
        return alt_shape_body(result["summary"]) if alt_shape else result

    def transactional(
        self,
        start_time: int,
        end_time: int,
        accounts: Iterable[str] | None = None,
        *,
        alt_shape: bool = False,
    ) -> dict[str, Any]:
        """The body the server returns for this valid transactional request."""
        payload: dict[str, Any] = {"start_time": start_time, "end_time": end_time}
        if accounts is not None:
            payload["accounts"] = list(accounts)
        try:
            start, end, wanted = parse_transactional(_json_body(payload))
        except server.Reject as reject:
            raise ValueError(reject.response.body.decode()) from None
        result = self._transactional_body(start, end, wanted)
        return alt_shape_body(result) if alt_shape else result

    def _campaign_days(self, days: range, keep: _Keep) -> list[tuple[Campaign, list[int]]]:
        """Campaigns kept by ``keep`` with at least one day in ``days``, with those days' offsets."""
        found: list[tuple[Campaign, list[int]]] = []
        if not days:
            return found
        for start_day in range(days.start - 2, days.stop):  # campaigns run at most 3 days
            for index in range(self._campaigns_per_day):
                c = campaign(self.seed, start_day, index)
                offsets = [k for k in range(c.duration) if start_day + k in days]
                if offsets and keep(c):
                    found.append((c, offsets))
        return found

    def _aggregate(self, days: range, keep: _Keep) -> tuple[list[_Row], dict[str, Any], tuple[int, ...]]:
        """Per campaign, its figures summed over its days in the window (and per response); chart; totals."""
        seed, first = self.seed, days.start
        per_day: list[list[tuple[int, ...]]] = [[] for _ in days]
        rows: list[_Row] = []
        for c, offsets in self._campaign_days(days, keep):
            every_day = campaign_figures(seed, c.day, c.slot)
            parts = [(self._as_known(every_day[k][0], c.day + k), every_day[k][1]) for k in offsets]
            for k, (figures, _) in zip(offsets, parts, strict=True):
                per_day[c.day + k - first].append(figures)
            if len(parts) == 1:
                rows.append((c, *parts[0]))
                continue
            responses = zip(*(day_responses for _, day_responses in parts), strict=True)
            rows.append(
                (
                    c,
                    _sum_columns([figures for figures, _ in parts], _WIDTH),
                    tuple(_sum_columns(column, 6) for column in responses),
                )
            )
        daily = [_sum_columns(figures, _WIDTH) for figures in per_day]
        columns = list(zip(*daily, strict=True)) or [()] * _WIDTH
        chart: dict[str, Any] = {
            "dates": [_date(day) for day in days],
            "datesAsTimestamp": [day * DAY for day in days],
        }
        for key in ("sent", "delivered", "open", "click", "conversion"):
            chart[key] = list(columns[TOTALS.index(key)])
        chart["verified"] = [0] * len(daily)
        for i, key in enumerate(CHART_EXTRA):
            chart[key] = list(columns[_EXTRA_AT + i])
        # The sum of the days is the sum of the campaigns: both are the sum of the campaign-days.
        totals = tuple(map(sum, columns))
        return rows, chart, totals

    def _as_known(self, figures: tuple[int, ...], day: int) -> tuple[int, ...]:
        """A campaign-day's figures as of :attr:`as_of`: deliveries, opens, clicks, conversions and
        revenue arrive late; what is not delivered yet counts as ``deliveryPending``."""
        percent = settled_percent(_EPOCH_DATE + dt.timedelta(days=day), self.as_of)
        if percent >= 100:
            return figures
        values = list(figures)
        for name in _LATE:
            values[TOTALS.index(name)] = settle(figures[TOTALS.index(name)], percent)
        delivered = TOTALS.index("delivered")
        values[TOTALS.index("deliveryPending")] += figures[delivered] - values[delivered]
        return tuple(values)

    def _overall_body(
        self, start_time: int, end_time: int, campaign_filter: CampaignFilter
    ) -> dict[str, Any]:
        rows, chart, totals = self._aggregate(window_days(start_time, end_time), campaign_filter.matches)
        summary = _figures(totals, with_pending=True)
        details = [_detail(c, figures, responses) for c, figures, responses in rows]
        return {"chart": chart, "summary": summary, "details": details}

    def _transactional_body(
        self, start_time: int, end_time: int, accounts: frozenset[str] | None
    ) -> dict[str, Any]:
        def keep(c: Campaign) -> bool:
            return c.type_id == 5 and (accounts is None or ACCOUNTS[c.account][0] in accounts)

        _, chart, totals = self._aggregate(window_days(start_time, end_time), keep)
        figures = _figures(totals, with_pending=False)
        body: dict[str, Any] = {key: figures[key] for key in TOTALS if key != "deliveryPending"}
        body["chart"] = chart
        body["dropDetails"] = figures["dropDetails"]
        body["undeliveredDetails"] = figures["undeliveredDetails"]
        return body


_DROP_KEYS = tuple(key for key, _ in DROP_DETAILS)
_UNDELIVERED_KEYS = tuple(key for key, _ in UNDELIVERED_DETAILS)


_EPOCH_DATE = dt.date(1970, 1, 1)
#: The campaign-day figures that arrive late (see :mod:`.late`); ``sent`` is known at once.
_LATE = ("delivered", "open", "click", "conversion", "revenue")


def _figures(values: tuple[int, ...], *, with_pending: bool) -> dict[str, Any]:
    figures: dict[str, Any] = dict(zip(TOTALS, values[:_N_TOTALS], strict=True))
    if not with_pending:
        del figures["deliveryPending"]
    figures["dropDetails"] = dict(zip(_DROP_KEYS, values[_DROP_AT:_UNDELIVERED_AT], strict=True))
    figures["undeliveredDetails"] = dict(
        zip(_UNDELIVERED_KEYS, values[_UNDELIVERED_AT:_EXTRA_AT], strict=True)
    )
    return figures


def _detail(c: Campaign, values: tuple[int, ...], responses: tuple[tuple[int, ...], ...]) -> dict[str, Any]:
    account, account_name = ACCOUNTS[c.account]
    ends_on = (c.day + c.duration) * DAY
    row: dict[str, Any] = {
        "id": c.id,
        "status": c.status,
        "campName": c.name,
        "isConversational": c.conversational,
        "campaignType": CAMPAIGN_TYPES[c.type_id],
        "startsOn": c.day * DAY,
        "endsOn": ends_on,
        "campaignLastDeliveryDate": 0 if c.silent else ends_on - DAY // 2,
        "tags": [{"id": tag, "name": TAGS[tag]} for tag in c.tags],
        "phoneNumber": account,
        "phoneNumberName": account_name,
    }
    row.update(_figures(values, with_pending=True))
    if c.conversational:
        row["responses"] = [
            {
                "cardId": i + 1,
                "buttonName": _BUTTONS[i] if i < c.buttons else _NO_REPLY_BUTTON,
                **dict(zip(_RESPONSE_FIGURES, figures, strict=True)),
                "isNoReplyMessage": i >= c.buttons,
            }
            for i, figures in enumerate(responses)
        ]
        row["responseSummary"] = {
            "sent": sum(r[0] for r in responses),
            "open": sum(r[2] for r in responses),
            "click": sum(r[3] for r in responses),
            "conversion": sum(r[4] for r in responses),
            "buttonClick": values[_EXTRA_AT],
        }
    return row


def alt_shape_body(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The documented second 200 shape, from the same totals: ``read`` is the opens."""
    statistics = {"sent": figures["sent"], "delivered": figures["delivered"], "read": figures["open"]}
    return {"data": {"statistics": statistics}}


def _json_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()
