"""Fuzzing the response parsers with hypothesis.

Whatever JSON a vendor (or a proxy in front of it) answers, the normalizers either parse it or raise
``MalformedResponseError``; nothing escapes as KeyError, TypeError, IndexError, AttributeError or
ValueError. Two kinds of input: arbitrary JSON, and real sandbox responses with one node replaced by
arbitrary JSON (which reaches the deep parts of each parser). The client's error extraction, its
response mapping and the paginators get the same treatment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wa_analytics.client import (
    ApiClient,
    ApiResponse,
    ClientSettings,
    PageRequest,
    extract_error,
)
from airflow_provider_wa_analytics.exceptions import MalformedResponseError, PaginationError, WaAnalyticsError
from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook, InsiderWhatsAppHook
from airflow_provider_wa_analytics.hooks.kaleyra import PAGINATOR as KALEYRA_PAGINATOR
from airflow_provider_wa_analytics.hooks.kaleyra import KaleyraWhatsAppHook
from airflow_provider_wa_analytics.hooks.vonage import PAGINATOR as VONAGE_PAGINATOR
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook
from airflow_provider_wa_analytics.tables import insider_webpush, insider_whatsapp, kaleyra, vonage
from tests.reliability.cases import CASES_BY_ID, FAST_EXTRAS, MINIMAL_CONTEXT
from tests.reliability.support import TALLY

BASE = {
    "vendor": "fuzz",
    "endpoint": "fuzz",
    "window_start": "2025-03-01T00:00:00+00:00",
    "window_end": "2025-03-02T00:00:00+00:00",
}

#: Normalizer of each registry case: (response data, provenance) -> (table, rows) pairs or rows.
PARSERS: dict[str, Callable[[Any, dict[str, Any]], Iterable[Any]]] = {
    "insider_whatsapp.overall": insider_whatsapp.overall_tables,
    "insider_whatsapp.transactional": insider_whatsapp.transactional_tables,
    "insider_webpush.campaign_metrics": insider_webpush.campaign_metrics_tables,
    "vonage.messaging": vonage.messaging_rows,
    "vonage.template": vonage.template_rows,
    "vonage.pricing": vonage.pricing_rows,
    "kaleyra.template": kaleyra.template_analytics_tables,
}
ESCAPES = (KeyError, TypeError, IndexError, AttributeError, ValueError)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)  # json.loads accepts NaN and Infinity
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "12", "1.5", "100.00%", "12 TRY", "2025-03-01", "1740787200", "-1", "NaN"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def consume(parser: Callable[[Any, dict[str, Any]], Iterable[Any]], data: Any) -> int:
    """Run a parser to the end (its rows are lazy), as the operator's writer would."""
    count = 0
    for item in parser(data, dict(BASE)):
        rows = item[1] if isinstance(item, tuple) else [item]
        for row in rows:
            json.dumps(row, default=str)
            count += 1
    return count


def parse_or_malformed(parser: Callable[[Any, dict[str, Any]], Iterable[Any]], data: Any) -> None:
    """Parse ``data``; only MalformedResponseError may come out (anything else fails the test)."""
    TALLY["fuzz_examples"] += 1
    try:
        consume(parser, data)
        TALLY["fuzz_parsed"] += 1
    except MalformedResponseError:
        TALLY["fuzz_malformed"] += 1


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> Any:
    """``sample`` with one node (reached by a random walk) replaced, removed or re-typed."""

    def walk(node: Any, depth: int) -> Any:
        children = (
            list(node.items())
            if isinstance(node, dict)
            else list(enumerate(node))
            if isinstance(node, list)
            else []
        )
        if not children or depth > 12 or draw(st.integers(0, 5)) == 0:
            return draw(json_values)
        key, child = draw(st.sampled_from(children))
        if isinstance(node, dict):
            copy = dict(node)
            if draw(st.integers(0, 9)) == 0:
                del copy[key]
            else:
                copy[key] = walk(child, depth + 1)
            return copy
        copy_list = list(node)
        copy_list[key] = walk(child, depth + 1)
        return copy_list

    return walk(sample, 0)


@pytest.fixture(scope="module")
def samples(sandbox, tmp_path_factory) -> dict[str, list[Any]]:
    """Real responses of every registry case (its raw ``json`` output from the sandbox)."""
    found: dict[str, list[Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        for case_id in PARSERS:
            case = CASES_BY_ID[case_id]
            case.prepare(sandbox)
            mp.setenv(*case.connection_env(sandbox, **FAST_EXTRAS).popitem())
            target = tmp_path_factory.mktemp("samples") / "raw.json"
            case.build(destination=target.as_uri(), output_format="json").execute(MINIMAL_CONTEXT)
            pages = json.loads(target.read_bytes())
            # The smallest pages keep the examples quick; the shapes are the same.
            found[case_id] = sorted(pages, key=lambda page: len(json.dumps(page)))[:2]
    return found


@pytest.mark.parametrize("case_id", PARSERS)
def test_the_samples_parse(samples, case_id):
    assert all(consume(PARSERS[case_id], page) > 0 for page in samples[case_id])


@pytest.mark.parametrize("case_id", PARSERS)
@settings(max_examples=150)
@given(data=json_values)
def test_arbitrary_json_is_parsed_or_malformed(case_id, data):
    parse_or_malformed(PARSERS[case_id], data)


@pytest.mark.parametrize("case_id", PARSERS)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(choice=st.data())
def test_a_real_response_with_one_node_changed_is_parsed_or_malformed(samples, case_id, choice):
    sample = choice.draw(st.sampled_from(samples[case_id]))
    parse_or_malformed(PARSERS[case_id], choice.draw(mutated(sample)))


# -- the client: error extraction, response mapping, pagination ----------------------------------
@given(data=json_values)
def test_extract_error_never_raises(data):
    code, message, _ = extract_error(data)
    assert code is None or isinstance(code, str)
    assert message is None or isinstance(message, str)


@given(
    data=json_values,
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 424, 429, 500, 502, 503]),
    code=st.none() | st.text(max_size=6),
    message=st.none() | st.text(max_size=20),
)
def test_vendor_error_classifiers_never_raise(data, status, code, message):
    for hook in HOOKS:  # classify_error reads no connection
        result = hook.classify_error(status, code, message, data)
        assert result is None or issubclass(result, WaAnalyticsError)


HOOKS = [
    cls("fuzz") for cls in (InsiderWhatsAppHook, InsiderWebPushHook, VonageWhatsAppHook, KaleyraWhatsAppHook)
]


def make_response(status: int, body: bytes, headers: dict[str, str]) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.headers.update(headers)
    resp.url = "http://127.0.0.1:1/v1/fuzz"
    resp.reason = "Fuzz"
    return resp


CLIENT = ApiClient(
    ClientSettings("http://127.0.0.1:1"), vendor="fuzz", auth=None, secrets=["SECRET-canary-123"]
)


@given(
    status=st.sampled_from([200, 201, 204, 400, 401, 403, 404, 422, 424, 429, 500, 502, 503]),
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps(v).encode()[: max(0, len(json.dumps(v)) // 2)]),
        st.binary(max_size=40),
    ),
    retry_after=st.none()
    | st.text(max_size=30)
    | st.sampled_from(["0", "1", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"]),
)
def test_any_answer_becomes_a_response_or_a_typed_error(status, body, retry_after):
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    resp = make_response(status, body, headers)
    try:
        result = CLIENT.to_response(PageRequest("GET", "/v1/fuzz"), resp, body)
    except WaAnalyticsError as exc:
        assert "SECRET-canary-123" not in str(exc)
        return
    assert 200 <= status < 300 and isinstance(result, ApiResponse)


links = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "/", "//", "http://", "https://", "ftp://", "javascript:"]),
    st.sampled_from(
        ["", "127.0.0.1:1", "api.nexmo.com", "api.example.net", "127.0.0.1:1@evil.com", "a b", "]"]
    )
    | st.text(max_size=12),
    st.sampled_from(["", "/v1/fuzz", "/v2/x?cursor=abc", "?after=1&after=2", "#frag"]) | st.text(max_size=12),
)


@pytest.mark.parametrize("paginator", [VONAGE_PAGINATOR, KALEYRA_PAGINATOR], ids=["links", "cursor"])
@given(
    data=json_values
    | st.fixed_dictionaries({"paging": st.fixed_dictionaries({"next": links})})
    | st.fixed_dictionaries(
        {"_links": st.fixed_dictionaries({"next": st.fixed_dictionaries({"href": links})})}
    )
)
def test_any_next_page_is_a_request_on_the_connections_host_or_a_typed_error(paginator, data):
    page = ApiResponse(200, "http://127.0.0.1:1/v1/fuzz", b"", data)
    try:
        nxt = paginator.next_request(page, PageRequest("GET", "/v1/fuzz", (("a", "1"),)))
        if nxt is not None:
            url = CLIENT.resolve(nxt.url)
            assert url.startswith("http://127.0.0.1:1/")
    except (MalformedResponseError, PaginationError):
        pass
