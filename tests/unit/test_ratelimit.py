"""The rate budget driven by an injected clock: one shared window, smooth pacing, honest waits.

``limits``' memory storage reads ``time.time()`` of its own module; the fake clock replaces that
module attribute only, so the storage, the budget's waits and its sleeps all follow one fake time.
"""

from __future__ import annotations

import logging
import socket
import types

import pytest
from limits.storage import MemoryStorage

from airflow_provider_wa_analytics import ratelimit
from airflow_provider_wa_analytics.exceptions import InvalidParameterError
from airflow_provider_wa_analytics.ratelimit import (
    RateBudget,
    account_hash,
    budget_window,
    open_storage,
    safe_uri,
)
from airflow_provider_wa_analytics.testing.server import peak_in_window


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sent: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr("limits.storage.memory.time", types.SimpleNamespace(time=clock.time))
    return clock


def budget(clock, storage, rate, account="key-1", jitter=0.5):
    return RateBudget(
        rate,
        vendor="insider_webpush",
        account=account,
        storage=storage,
        wall=clock.time,
        clock=clock.time,
        sleep=clock.sleep,
        jitter=lambda: jitter,
    )


def send(clock, client, n=1):
    for _ in range(n):
        client.acquire()
        clock.sent.append(clock.now)


@pytest.mark.parametrize(
    ("rate", "window"),
    [(100, (100, 1)), (10.5, (10, 1)), (1, (1, 1)), (0.5, (1, 2)), (1 / 6, (1, 6)), (0.3, (1, 4))],
)
def test_the_window_a_rate_implies_never_exceeds_it(rate, window):
    assert budget_window(rate) == window
    assert window[0] / window[1] <= rate + 1e-12


def test_clients_of_one_key_share_one_budget_and_never_burst(clock):
    storage = MemoryStorage()
    clients = [budget(clock, storage, 0.5, jitter=j) for j in (0.0, 0.3, 0.9)]
    for _ in range(6):  # round robin: every client always wants to send
        for client in clients:
            send(clock, client)
    gaps = [b - a for a, b in zip(clock.sent, clock.sent[1:], strict=False)]
    assert min(gaps) >= 2.0  # 1 per 2 s across all three, as the vendor counts
    assert peak_in_window(clock.sent, 2.0) == 1
    assert peak_in_window(clock.sent, 60.0) <= 0.5 * 60 + 1
    # Busy: used at >= 0.95 of the budget (the waits carry a 2-4 % margin).
    assert (len(clock.sent) - 1) / (clock.sent[-1] - clock.sent[0]) >= 0.95 * 0.5


def test_other_keys_have_their_own_budget(clock):
    storage = MemoryStorage()
    a, b = budget(clock, storage, 0.5, "key-a", jitter=0.0), budget(clock, storage, 0.5, "key-b", jitter=0.0)
    send(clock, a)
    send(clock, b)
    assert clock.sent[1] == clock.sent[0]


def test_a_busy_fast_budget_holds_every_window(clock):
    storage = MemoryStorage()
    clients = [budget(clock, storage, 10, jitter=j) for j in (0.1, 0.6)]
    for _ in range(40):
        for client in clients:
            send(clock, client)
    for window in (1.0, 1.5, 2.0, 5.0):
        assert peak_in_window(clock.sent, window) <= 10 * window + 1
    assert (len(clock.sent) - 1) / (clock.sent[-1] - clock.sent[0]) >= 0.95 * 10


def test_the_first_request_starts_at_a_jittered_moment(clock):
    start = clock.now
    send(clock, budget(clock, MemoryStorage(), 0.5, jitter=0.25))
    # 0.25 of one interval (1 / (0.5 * 0.98) s): clients started together do not fire together.
    assert clock.sent[0] - start == pytest.approx(0.25 / (0.5 * 0.98))


def test_long_waits_are_logged_as_they_happen(clock, caplog):
    storage = MemoryStorage()
    first, second = budget(clock, storage, 0.5, jitter=0.0), budget(clock, storage, 0.5, jitter=0.0)
    send(clock, first)
    with caplog.at_level(logging.INFO, logger="airflow_provider_wa_analytics.ratelimit"):
        waited = second.acquire()
    assert waited == pytest.approx(2.0 + 0.04 * 1.0, abs=1e-6)  # the window, plus its margin
    assert f"insider_webpush: waited {waited:.1f} s for the rate budget (1 request(s) per 2 s)" in caplog.text


def test_the_storage_never_sees_the_key(clock):
    storage = MemoryStorage()
    send(clock, budget(clock, storage, 0.5, account="very-secret-api-key"))
    keys = " ".join(storage.events) + " ".join(storage.storage)
    assert "very-secret-api-key" not in keys
    assert account_hash("insider_webpush", "very-secret-api-key") in keys
    assert account_hash("vonage", "k") != account_hash("kaleyra", "k")


def test_uris_lose_their_password_in_messages():
    assert safe_uri("redis://:hunter22@redis.internal:6380/2") == "redis://redis.internal:6380/2"
    assert safe_uri("redis://user:pw@h/0") == "redis://h/0"
    assert safe_uri("redis://:p@ss@[::1]:6379/0") == "redis://[::1]:6379/0"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nosuch://x", "cannot be used"),
        ("async+redis://127.0.0.1:6379", "synchronous"),
    ],
)
def test_unusable_storages_name_the_extra(uri, message):
    with pytest.raises(InvalidParameterError, match=rf"`rate_limit_storage` .*{message}"):
        open_storage(uri)


def test_an_unreachable_redis_is_an_error_not_a_fallback(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    uri = f"redis://:pw-in-uri@127.0.0.1:{port}/0"
    shown = r"`rate_limit_storage` 'redis://127.0.0.1:\d+/0' is unreachable"
    with pytest.raises(InvalidParameterError, match=shown) as info:
        open_storage(uri)
    assert "pw-in-uri" not in str(info.value)
    assert uri not in ratelimit._storages


def test_one_storage_per_uri_per_process():
    assert open_storage("memory://") is open_storage("memory://")
