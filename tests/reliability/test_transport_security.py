"""Transport security: plain http only to loopback, and TLS certificates always verified by default.

Every connection type refuses an ``http://`` host that is not a loopback address, before any request;
loopback hosts (the sandbox) are accepted. Verification is on by default in the settings, the
session, and in practice: a local HTTPS server with a self-signed certificate is refused by every
hook, and its handler never sees a request.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_wa_analytics.client import ClientSettings
from airflow_provider_wa_analytics.exceptions import InvalidParameterError, TransportError
from airflow_provider_wa_analytics.hooks.base import WaAnalyticsHook
from airflow_provider_wa_analytics.hooks.insider import InsiderWebPushHook, InsiderWhatsAppHook
from airflow_provider_wa_analytics.hooks.kaleyra import KaleyraWhatsAppHook
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook
from tests.reliability.cases import CASES, MINIMAL_CONTEXT
from tests.reliability.support import TALLY

HOOKS: dict[str, type[WaAnalyticsHook]] = {
    "insider_whatsapp": InsiderWhatsAppHook,
    "insider_webpush": InsiderWebPushHook,
    "vonage_whatsapp": VonageWhatsAppHook,
    "kaleyra_whatsapp": KaleyraWhatsAppHook,
}
PLAIN_HTTP_REMOTE = [
    "http://example.com",
    "http://10.0.0.5:8080",
    "http://[2001:db8::1]:8443",
    "http://localhost.example.com",
    "http://127.0.0.1.nip.io",
    "http://0.0.0.0:8080",
]
LOOPBACK = ["http://127.0.0.1:9", "http://127.8.9.10:9", "http://localhost:9", "http://[::1]:9"]


def set_connection(monkeypatch, conn_type: str, host: str, conn_id: str | None = None) -> str:
    """A connection of ``conn_type`` to ``host`` (no retries), as ``conn_id`` (default transport_<type>)."""
    conn_id = conn_id or f"transport_{conn_type}"
    extra = {"max_retries": 0, "timeout": 5, **({"pod": "in"} if conn_type == "kaleyra_whatsapp" else {})}
    conn = {"conn_type": conn_type, "login": "10000001", "password": "k3y-for-transport", "host": host}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
    return conn_id


@pytest.mark.parametrize("conn_type", HOOKS)
@pytest.mark.parametrize("host", PLAIN_HTTP_REMOTE)
def test_plain_http_to_a_remote_host_is_refused(monkeypatch, conn_type, host):
    hook = HOOKS[conn_type](set_connection(monkeypatch, conn_type, host))
    with pytest.raises(InvalidParameterError, match=r"`host`.*plain http.*https"):
        hook.client  # noqa: B018 - building the client is what refuses the host
    TALLY["transport"] += 1


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_operator_refuses_plain_http_before_sending(monkeypatch, case):
    set_connection(monkeypatch, case.vendor, "http://example.com", case.conn_id)
    with pytest.raises(InvalidParameterError, match="plain http"):
        case.build().execute(MINIMAL_CONTEXT)
    TALLY["transport"] += 1


@pytest.mark.parametrize("conn_type", HOOKS)
@pytest.mark.parametrize("host", LOOPBACK)
def test_plain_http_to_loopback_is_accepted(monkeypatch, conn_type, host):
    hook = HOOKS[conn_type](set_connection(monkeypatch, conn_type, host))
    assert hook.client.settings.base_url == host
    TALLY["transport"] += 1


@pytest.mark.parametrize("conn_type", HOOKS)
def test_tls_verification_is_on_by_default(monkeypatch, conn_type):
    assert ClientSettings("https://api.example.com").verify is True
    hook = HOOKS[conn_type](set_connection(monkeypatch, conn_type, "api.example.com"))
    assert hook.client.settings.base_url.startswith("https://")
    assert hook.client.settings.verify is True
    assert hook.client.session.verify is True
    TALLY["transport"] += 1


# -- in practice: a self-signed certificate is refused --------------------------------------------
def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def self_signed_server(tmp_path_factory) -> Iterator[str]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_self_signed_certificate_is_refused(monkeypatch, self_signed_server, case):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    _Handler.seen.clear()
    set_connection(monkeypatch, case.vendor, self_signed_server, case.conn_id)
    with pytest.raises(TransportError) as caught:
        case.build().execute(MINIMAL_CONTEXT)
    # The message drops the cause (see the report); the chained exception shows it was the certificate.
    assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__context__)
    assert _Handler.seen == []
    TALLY["transport"] += 1


# -- proxies are never used for a loopback host (issue 12, item 11) -------------------------------
@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_proxy_in_the_environment_is_not_used_for_loopback(sandbox, hostile, monkeypatch, case, tmp_path):
    """With HTTP(S)_PROXY pointing at a recording server, the sandbox (loopback) is reached directly:
    the proxy never sees a request, so never the key."""
    from tests.reliability.cases import FAST_EXTRAS, destination
    from tests.reliability.hostile_server import Mode

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, hostile.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    hostile.use(Mode.ECHO)
    case.prepare(sandbox)
    monkeypatch.setenv(*case.connection_env(sandbox, **FAST_EXTRAS).popitem())
    case.build(destination=destination(tmp_path)).execute(MINIMAL_CONTEXT)
    assert sandbox.requests and hostile.received == []
    TALLY["transport"] += 1


@pytest.mark.parametrize("conn_type", HOOKS)
def test_a_host_that_url_parsers_read_differently_is_refused(monkeypatch, sandbox, conn_type):
    """``http://vm:P\\@127.0.0.1:port`` is loopback to one parser and host ``vm`` to urllib3."""
    port = sandbox.url.rpartition(":")[2]
    hook = HOOKS[conn_type](set_connection(monkeypatch, conn_type, f"http://vm:9{port}\\@127.0.0.1:{port}"))
    with pytest.raises(InvalidParameterError, match="`host`") as caught:
        hook.client  # noqa: B018
    assert "vm:9" not in str(caught.value)
    TALLY["transport"] += 1
