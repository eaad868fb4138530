"""The sandbox's generic behaviour through real HTTP: faults, rate limits, latency, recording, control."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from airflow_provider_wa_analytics.testing import Fault, Sandbox
from airflow_provider_wa_analytics.testing.insider import INSIDER_WHATSAPP_ALT_SHAPE_KEY, INSIDER_WHATSAPP_KEY

OVERALL = "/v1/statistics/overall"
TRANSACTIONAL = "/v1/statistics/transactional"
BODY = {"start_time": 1740787200, "end_time": 1740787200 + 3 * 86_400}
RATE_LIMITED = {"message": "rate limited", "error": {"message": "rate limited", "code": 2021}}


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Iterator[Sandbox]:
    running_sandbox.reset()
    yield running_sandbox
    running_sandbox.latency = 0.0
    running_sandbox.set_rate_limit("insider_whatsapp", 100, per=1.0)
    running_sandbox.reset()


def post(
    sandbox: Sandbox, path: str = OVERALL, key: str = INSIDER_WHATSAPP_KEY, **kwargs: Any
) -> requests.Response:
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("json", BODY)
    return requests.post(sandbox.url + path, headers={"x-ins-auth-key": key}, **kwargs)  # noqa: S113


def control(sandbox: Sandbox, method: str, action: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/__sandbox__/{action}", json=body, timeout=10)


# -- faults ----------------------------------------------------------------------------------------


def test_rate_limit_fault_has_the_vendor_body_and_retry_after(sandbox):
    sandbox.inject(Fault.RATE_LIMIT, endpoint=OVERALL)
    response = post(sandbox)
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    assert response.headers["Retry-After"] == "1"
    sandbox.inject("RATE_LIMIT", retry_after=7)
    assert post(sandbox).headers["Retry-After"] == "7"
    assert post(sandbox).status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        (
            Fault.SERVER_ERROR,
            500,
            {"message": "internal server error", "error": {"message": "internal server error"}},
        ),
        (
            Fault.UNAVAILABLE,
            503,
            {"message": "service unavailable", "error": {"message": "service unavailable"}},
        ),
    ],
)
def test_server_error_faults_have_a_vendor_json_body(sandbox, kind, status, body):
    sandbox.inject(kind)
    response = post(sandbox)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == body


@pytest.mark.parametrize(("kind", "status"), [(Fault.BAD_GATEWAY_HTML, 502), (Fault.HTML_200, 200)])
def test_html_faults(sandbox, kind, status):
    sandbox.inject(kind)
    response = post(sandbox)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith(("<html", "<!doctype html"))
    with pytest.raises(ValueError):
        response.json()


def test_truncated_fault_cuts_the_valid_body_in_half(sandbox):
    full = post(sandbox).content
    sandbox.inject(Fault.TRUNCATED)
    response = post(sandbox)
    assert response.status_code == 200
    assert response.content == full[: len(full) // 2]
    with pytest.raises(ValueError):
        response.json()


def test_connection_reset_fault_resets_the_connection(sandbox):
    sandbox.inject(Fault.CONNECTION_RESET)
    with pytest.raises(requests.ConnectionError):
        post(sandbox)
    assert post(sandbox).status_code == 200
    assert [(r.fault, r.status) for r in sandbox.requests] == [(Fault.CONNECTION_RESET, None), (None, 200)]


def test_timeout_fault_holds_until_the_client_gives_up_and_reset_releases_it(sandbox):
    sandbox.inject(Fault.TIMEOUT)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        post(sandbox, timeout=0.3)
    assert time.monotonic() - started < 5
    sandbox.reset()  # releases the held request at once
    assert post(sandbox).status_code == 200


def test_stop_is_immediate_even_with_held_and_idle_connections():
    sandbox = Sandbox().start()
    session = requests.Session()  # keeps an idle keep-alive connection open
    assert session.post(sandbox.url + OVERALL, json=BODY, headers={"x-ins-auth-key": INSIDER_WHATSAPP_KEY}).ok
    sandbox.inject(Fault.TIMEOUT, hold=30)
    with pytest.raises(requests.ReadTimeout):
        requests.post(sandbox.url + OVERALL, json=BODY, timeout=0.2)
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 2
    assert not sandbox.running
    sandbox.stop()  # twice is fine
    session.close()


def test_times_skip_and_endpoint_select_the_faulted_requests(sandbox):
    fault = sandbox.inject(Fault.SERVER_ERROR, endpoint=OVERALL, times=2, skip=1)
    assert post(sandbox, TRANSACTIONAL).status_code == 200  # another endpoint: not counted
    statuses = [post(sandbox).status_code for _ in range(4)]
    assert statuses == [200, 500, 500, 200]
    assert fault.fired == 2 and sandbox.faults == []
    assert [r.fault for r in sandbox.requests] == [None, None, Fault.SERVER_ERROR, Fault.SERVER_ERROR, None]


def test_endpoint_may_be_a_regex_and_times_none_lasts_until_reset(sandbox):
    sandbox.inject(Fault.UNAVAILABLE, endpoint=r"/v1/statistics/(overall|transactional)$", times=None)
    assert [post(sandbox, path).status_code for path in (OVERALL, TRANSACTIONAL, OVERALL)] == [503, 503, 503]
    sandbox.reset()
    assert post(sandbox).status_code == 200


def test_faults_apply_in_injection_order(sandbox):
    sandbox.inject(Fault.SERVER_ERROR)
    sandbox.inject(Fault.RATE_LIMIT)
    assert [post(sandbox).status_code for _ in range(3)] == [500, 429, 200]


def test_faults_are_exact_under_concurrency(sandbox):
    sandbox.inject(Fault.SERVER_ERROR, times=5)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: post(sandbox).status_code, range(20)))
    assert statuses.count(500) == 5 and statuses.count(200) == 15
    assert sum(r.fault is Fault.SERVER_ERROR for r in sandbox.requests) == 5


def test_bad_fault_parameters_are_refused(sandbox):
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.inject("meteor")
    with pytest.raises(ValueError, match="times"):
        sandbox.inject(Fault.TIMEOUT, times=0)
    with pytest.raises(KeyError, match="unknown vendor"):
        sandbox.inject(Fault.TIMEOUT, vendor="smoke_signals")


# -- rate limiting ---------------------------------------------------------------------------------


def test_default_rate_limit_is_the_documented_one(sandbox):
    assert sandbox.rate_limits["insider_whatsapp"] == (100.0, 1.0)  # "100 requests per second"


def test_a_burst_beyond_the_bucket_is_429_with_retry_after(sandbox):
    sandbox.set_rate_limit("insider_whatsapp", 5, per=10.0)
    responses = [post(sandbox) for _ in range(8)]
    assert [r.status_code for r in responses] == [200] * 5 + [429] * 3
    assert responses[-1].json() == RATE_LIMITED
    assert int(responses[-1].headers["Retry-After"]) >= 1
    # The bucket is per API key.
    assert post(sandbox, key=INSIDER_WHATSAPP_ALT_SHAPE_KEY).status_code == 200
    sandbox.reset()  # clears the buckets
    assert post(sandbox).status_code == 200


def test_a_client_pacing_evenly_at_the_limit_never_sees_429(sandbox):
    limit, per = 10, 0.2  # 50 requests per second
    sandbox.set_rate_limit("insider_whatsapp", limit, per=per)
    session = requests.Session()
    headers = {"x-ins-auth-key": INSIDER_WHATSAPP_KEY}
    started = time.monotonic()
    statuses = []
    for i in range(3 * limit):
        # Pacing is the behaviour under test, not a wait for something: send on a fixed schedule.
        time.sleep(max(0.0, started + i * per / limit - time.monotonic()))
        statuses.append(
            session.post(sandbox.url + OVERALL, json=BODY, headers=headers, timeout=10).status_code
        )
    assert statuses == [200] * (3 * limit)


def test_no_rate_limit(sandbox):
    sandbox.set_rate_limit("insider_whatsapp", None)
    assert all(post(sandbox).status_code == 200 for _ in range(30))
    with pytest.raises(ValueError):
        sandbox.set_rate_limit("insider_whatsapp", 0)


def test_rate_limits_at_construction():
    with Sandbox(rate_limits={"insider_whatsapp": (1, 60.0)}) as sandbox:
        assert [post(sandbox).status_code for _ in range(2)] == [200, 429]
    with Sandbox(rate_limits={"insider_whatsapp": None}) as sandbox:
        assert sandbox.rate_limits["insider_whatsapp"] is None


# -- latency ---------------------------------------------------------------------------------------


def test_latency_is_added_to_vendor_responses_only(sandbox):
    sandbox.latency = 0.25
    started = time.monotonic()
    assert post(sandbox).status_code == 200
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    assert control(sandbox, "GET", "health").ok
    assert time.monotonic() - started < 0.25
    with pytest.raises(ValueError):
        sandbox.latency = -1


# -- recording -------------------------------------------------------------------------------------


def test_requests_are_recorded(sandbox):
    requests.post(
        sandbox.url + OVERALL,
        params={"a": ["1", "2"], "b": ""},
        json=BODY,
        headers={"x-ins-auth-key": "INS.wrong", "X-Trace": "t1"},
        timeout=10,
    )
    requests.post(sandbox.url + TRANSACTIONAL, data=b"not json", timeout=10)
    requests.get(sandbox.url + "/nowhere", timeout=10)
    control(sandbox, "GET", "health")  # control requests are not recorded
    first, second, third = sandbox.requests
    assert (first.method, first.path, first.query) == ("POST", OVERALL, {"a": ["1", "2"], "b": [""]})
    assert first.headers["x-ins-auth-key"] == "INS.wrong" and first.headers["x-trace"] == "t1"
    assert first.json == BODY and json.loads(first.body) == BODY
    assert (first.vendor, first.endpoint, first.status, first.fault) == (
        "insider_whatsapp",
        "overall",
        401,
        None,
    )
    assert (second.body, second.json, second.status) == (b"not json", None, 401)
    assert (third.vendor, third.endpoint, third.status) == (None, None, 404)
    assert first.received_at <= second.received_at <= third.received_at
    sandbox.reset()
    assert sandbox.requests == []


# -- control endpoints -----------------------------------------------------------------------------


def test_control_health_and_requests(sandbox):
    health = control(sandbox, "GET", "health").json()
    assert (health["status"], health["url"]) == ("ok", sandbox.url)
    assert "insider_whatsapp" in health["vendors"] and health["vendors"] == sorted(sandbox.vendors)
    post(sandbox)
    (recorded,) = control(sandbox, "GET", "requests").json()
    assert (
        recorded["path"] == OVERALL and recorded["status"] == 200 and recorded["vendor"] == "insider_whatsapp"
    )
    assert json.loads(recorded["body"]) == BODY and recorded["json"] == BODY and recorded["fault"] is None


def test_control_faults_and_reset(sandbox):
    created = control(
        sandbox, "POST", "faults", {"kind": "rate_limit", "endpoint": OVERALL, "retry_after": 3}
    )
    assert created.status_code == 201
    assert created.json()["kind"] == "rate_limit" and created.json()["times"] == 1
    assert control(sandbox, "GET", "faults").json()[0]["retry_after"] == 3
    response = post(sandbox)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert control(sandbox, "GET", "requests").json()[0]["fault"] == "rate_limit"
    control(sandbox, "POST", "faults", {"kind": "SERVER_ERROR", "times": 2, "skip": 1})
    assert control(sandbox, "POST", "reset").json() == {"status": "reset"}
    assert control(sandbox, "GET", "requests").json() == []
    assert control(sandbox, "GET", "faults").json() == []
    assert post(sandbox).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "meteor"},
        {"endpoint": OVERALL},
        {"kind": "timeout", "colour": "red"},
        {"kind": "timeout", "times": 0},
    ],
)
def test_control_refuses_bad_faults(sandbox, spec):
    response = control(sandbox, "POST", "faults", spec)
    assert response.status_code == 400 and response.json()["message"]


def test_control_config(sandbox):
    config = control(sandbox, "GET", "config").json()
    assert config["latency"] == 0.0
    assert config["rate_limits"]["insider_whatsapp"] == {"limit": 100.0, "per": 1.0}
    assert config["vendors"]["insider_whatsapp"]["campaigns_per_day"] == 2
    changed = control(
        sandbox,
        "POST",
        "config",
        {
            "latency": 0.01,
            "rate_limits": {"insider_whatsapp": "2/60"},
            "vendors": {"insider_whatsapp": {"campaigns_per_day": 3}},
        },
    ).json()
    assert changed["latency"] == 0.01 and sandbox.latency == 0.01
    assert changed["rate_limits"]["insider_whatsapp"] == {"limit": 2.0, "per": 60.0}
    assert sandbox.insider_whatsapp.campaigns_per_day == 3
    assert [post(sandbox).status_code for _ in range(3)] == [200, 200, 429]
    control(sandbox, "POST", "config", {"rate_limits": {"insider_whatsapp": {"limit": 100, "per": 1}}})
    assert sandbox.rate_limits["insider_whatsapp"] == (100.0, 1.0)
    control(sandbox, "POST", "config", {"rate_limits": {"insider_whatsapp": None}})
    assert sandbox.rate_limits["insider_whatsapp"] is None
    assert control(sandbox, "POST", "config", {"colour": 1}).status_code == 400
    assert control(sandbox, "POST", "config", {"rate_limits": {"nobody": "1/1"}}).status_code == 400
    sandbox.configure("insider_whatsapp", campaigns_per_day=2)


def test_unknown_control_endpoint(sandbox):
    assert control(sandbox, "GET", "nothing").status_code == 404


# -- connections and the package -------------------------------------------------------------------


def test_connection_helpers(sandbox):
    conn = json.loads(sandbox.connection_json("insider_whatsapp"))
    assert conn == {"conn_type": "insider_whatsapp", "password": INSIDER_WHATSAPP_KEY, "host": sandbox.url}
    other = json.loads(sandbox.connection_json("insider_whatsapp", password="INS.ip-restricted"))
    assert other["password"] == "INS.ip-restricted"
    assert sandbox.connection_env("insider_whatsapp") == {
        "AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT": sandbox.connection_json("insider_whatsapp")
    }
    every = sandbox.connection_env()
    assert every["AIRFLOW_CONN_INSIDER_WHATSAPP_DEFAULT"] == sandbox.connection_json("insider_whatsapp")
    assert len(every) == len(sandbox.vendors)
    assert list(sandbox.connection_env("insider_whatsapp", conn_id="wa")) == ["AIRFLOW_CONN_WA"]
    # Airflow parses this URI into host "http://127.0.0.1", the port and the password.
    assert sandbox.connection_uri("insider_whatsapp") == (
        f"insider-whatsapp://http://:{INSIDER_WHATSAPP_KEY}@127.0.0.1:{sandbox.port}"
    )


def test_a_stopped_sandbox_starts_again_with_its_state():
    sandbox = Sandbox(latency=0.05)
    with sandbox:
        post(sandbox)
    sandbox.inject(Fault.SERVER_ERROR)
    with sandbox:
        started = time.monotonic()
        assert post(sandbox).status_code == 500
        assert time.monotonic() - started >= 0.05, "latency still applies after a restart"
        assert [r.status for r in sandbox.requests] == [200, 500]


def test_url_needs_a_running_sandbox():
    with pytest.raises(RuntimeError, match="not running"):
        _ = Sandbox().url


def test_the_sandbox_does_not_import_airflow():
    # The pytest plugin loads before any conftest: importing Airflow there would configure it before a
    # test suite sets its AIRFLOW_HOME (and its metadata DB).
    code = (
        "import sys, airflow_provider_wa_analytics.testing as t\n"
        "import airflow_provider_wa_analytics.testing.pytest_plugin\n"
        "with t.Sandbox() as s: pass\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)  # noqa: S603
    assert result.stdout.strip() == "[]"
