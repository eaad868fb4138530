"""Pure parts of the HTTP core: settings, the token bucket, error extraction, retry waits."""

from __future__ import annotations

import pytest

from airflow_provider_wa_analytics.client import (
    ClientSettings,
    RateLimiter,
    extract_error,
    is_loopback,
    retry_after_seconds,
)
from airflow_provider_wa_analytics.exceptions import InvalidParameterError


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.5:8080", "ftp://x", "nohost"])
def test_plain_http_is_refused_except_on_loopback(url):
    with pytest.raises(InvalidParameterError, match="host"):
        ClientSettings(base_url=url)


@pytest.mark.parametrize(
    "url", ["https://example.com", "http://127.0.0.1:1234", "http://localhost", "http://[::1]:80"]
)
def test_https_and_loopback_are_accepted(url):
    assert ClientSettings(base_url=url).verify is True


def test_is_loopback():
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("192.168.1.1") and not is_loopback("example.com")


def test_token_bucket_spaces_requests_evenly():
    now = [0.0]
    limiter = RateLimiter(rate=10, clock=lambda: now[0])
    waits = [limiter.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    now[0] = 10.0  # long idle: only one token (burst 1) accumulates
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"message": "validation failed", "errorCode": "3002", "errors": "x"},
            ("3002", "validation failed", "x"),
        ),
        (
            {"message": "ip-restricted", "error": {"message": "ip-restricted", "code": 1088}},
            ("1088", "ip-restricted", None),
        ),
        ({"message": "unauthorized", "error": {"message": "unauthorized"}}, (None, "unauthorized", None)),
        ({"code": "WA-401", "message": "m", "error": "m"}, ("WA-401", "m", None)),
        (
            {"code": "RBC001", "message": "Incorrect", "error": {"error": "Incorrect"}},
            ("RBC001", "Incorrect", {"error": "Incorrect"}),
        ),
        ({"title": "Forbidden", "detail": "not linked"}, (None, "Forbidden", "not linked")),
        ({"message": "Unauthorized"}, (None, "Unauthorized", None)),
        ("not an object", (None, None, None)),
    ],
)
def test_extract_error_reads_every_documented_shape(body, expected):
    assert extract_error(body) == expected


def test_retry_after():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None


def _client(**settings):
    from airflow_provider_wa_analytics.client import ApiClient

    return ApiClient(ClientSettings(base_url="http://127.0.0.1:1", **settings), vendor="t", auth=None)


def test_a_deeply_nested_body_is_malformed_not_a_recursion_error():
    from types import SimpleNamespace

    from airflow_provider_wa_analytics.client import PageRequest
    from airflow_provider_wa_analytics.exceptions import MalformedResponseError

    resp = SimpleNamespace(status_code=200, headers={}, url="http://127.0.0.1:1/x", reason="OK")
    with pytest.raises(MalformedResponseError):
        _client().to_response(PageRequest("GET", "/x"), resp, b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("link", ["//]", "http://[::1/x", "https://api.example.net/v1/x"])
def test_unusable_or_foreign_links_are_pagination_errors(link):
    from airflow_provider_wa_analytics.exceptions import PaginationError

    with pytest.raises(PaginationError):
        _client().resolve(link)


@pytest.mark.parametrize("path", ["/api.nexmo.com:", "/a:b", "/v1/x:1?z=2"])
def test_a_path_with_a_colon_stays_on_the_connections_host(path):
    # Found by Hypothesis (test_fuzz_parsers[links]): urljoin took "api.nexmo.com:" for a scheme.
    assert _client().resolve(path) == "http://127.0.0.1:1/" + path.lstrip("/")


def test_retry_after_is_never_infinite():
    assert retry_after_seconds("inf") is None
    assert retry_after_seconds("nan") is None
