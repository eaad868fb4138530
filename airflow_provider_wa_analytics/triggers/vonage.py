"""The trigger behind ``VonageInsightsSensor(deferrable=True)``: polls in the triggerer until template
analytics can be retrieved for a WABA, holding no worker slot.

It sends the hook's own probe request with ``httpx`` (an Airflow dependency on 2.11 and 3.x; imported
only when the trigger runs) and maps the answer through the same client code as the sensor, so both
agree on what "not yet", "failed" and "ready" mean.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import SimpleNamespace
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wa_analytics import exceptions
from airflow_provider_wa_analytics.client import USER_AGENT, BodyLimit
from airflow_provider_wa_analytics.exceptions import (
    InsightsNotEnabledError,
    RetryableError,
    TransportError,
    WaAnalyticsError,
)
from airflow_provider_wa_analytics.hooks.vonage import VonageWhatsAppHook


def error_event(exc: WaAnalyticsError) -> dict[str, Any]:
    """A JSON-serializable event for a permanent error (its message is already scrubbed)."""
    return {
        "status": "error",
        "error": type(exc).__name__,
        "message": exc.message,
        "http_status": exc.status,
        "code": exc.code,
    }


def error_from_event(event: Mapping[str, Any] | None) -> WaAnalyticsError:
    """The typed error an ``error_event`` describes (``WaAnalyticsError`` for anything unknown)."""
    event = event or {}
    cls = getattr(exceptions, str(event.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, WaAnalyticsError)):
        cls = WaAnalyticsError
    return cls(
        str(event.get("message") or f"VonageInsightsTrigger ended without success: {dict(event)!r}"),
        vendor="vonage",
        status=event.get("http_status"),
        code=event.get("code"),
    )


class VonageInsightsTrigger(BaseTrigger):
    """Fires ``{"status": "success"}`` once template analytics answer for ``waba_id``; polls every
    ``poll_interval`` seconds while insights are not enabled or still propagating, and while the
    vendor fails transiently. Authentication, "not linked" and unknown-WABA errors fire
    ``{"status": "error", ...}`` at once.

    :param waba_id: the WhatsApp Business Account ID.
    :param template_id: a template of the WABA to probe with.
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    :param poll_interval: seconds between two probes.
    """

    def __init__(
        self,
        waba_id: str,
        template_id: str,
        vonage_conn_id: str = VonageWhatsAppHook.default_conn_name,
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.waba_id = waba_id
        self.template_id = template_id
        self.vonage_conn_id = vonage_conn_id
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "waba_id": self.waba_id,
                "template_id": self.template_id,
                "vonage_conn_id": self.vonage_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def _hook(self) -> VonageWhatsAppHook:
        """The hook with its connection read without blocking the triggerer's event loop."""
        hook = VonageWhatsAppHook(vonage_conn_id=self.vonage_conn_id)
        aget = getattr(hook, "aget_connection", None)  # Airflow 3.1+
        if aget is not None:
            conn = await aget(self.vonage_conn_id)
        else:  # Airflow 2.11 / 3.0
            from asgiref.sync import sync_to_async

            conn = await sync_to_async(hook.get_connection)(self.vonage_conn_id)
        vars(hook)["connection"] = conn  # fills the hook's cached ``connection``
        return hook

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import httpx

        try:
            hook = await self._hook()
            client = hook.client  # settings, auth and error mapping; sends nothing itself
            auth = hook.get_auth()
            probe = hook.insights_probe(self.waba_id, self.template_id)
        except WaAnalyticsError as exc:
            yield TriggerEvent(error_event(exc))
            return
        timeout = httpx.Timeout(client.settings.timeout, connect=client.settings.connect_timeout)
        async with httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            verify=client.settings.verify,
            trust_env=not client.loopback,  # as the sync client: no proxy for a loopback host
        ) as http:
            while True:
                try:
                    await self._probe(http, hook, auth.header_value(), probe)
                except (InsightsNotEnabledError, RetryableError) as exc:
                    self.log.info("Template analytics for WABA %s not available yet (%s)", self.waba_id, exc)
                except WaAnalyticsError as exc:
                    yield TriggerEvent(error_event(exc))
                    return
                else:
                    yield TriggerEvent({"status": "success", "waba_id": self.waba_id})
                    return
                await asyncio.sleep(self.poll_interval)
                probe = hook.insights_probe(self.waba_id, self.template_id)  # dates move with the clock

    async def _probe(self, http: Any, hook: VonageWhatsAppHook, authorization: str, probe: Any) -> None:
        import httpx

        client = hook.client
        client.remember_credential(authorization)  # a JWT is new per request: scrub this one too
        url = client.resolve(probe.url)
        what = f"{probe.method} {probe.url}"

        async def fetch() -> tuple[Any, BodyLimit]:
            async with http.stream(
                probe.method,
                url,
                params=list(probe.params),
                headers={
                    "Authorization": authorization,
                    "Accept": "application/json",
                    "User-Agent": f"{USER_AGENT} (triggerer; httpx/{httpx.__version__})",
                },
            ) as resp:
                limit = BodyLimit(resp.status_code, client.settings.max_response_bytes, what, "vonage")
                async for chunk in resp.aiter_bytes():
                    if not limit.add(chunk):
                        break
                return resp, limit

        try:
            # `timeout` bounds the whole probe, headers and body, as in the synchronous client.
            resp, limit = await asyncio.wait_for(fetch(), client.settings.timeout)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise TransportError(f"{what} failed: {type(exc).__name__}", vendor="vonage") from None
        # The same mapping as the synchronous client (status, RFC 7807 body, scrubbing).
        answer = SimpleNamespace(
            status_code=resp.status_code, headers=resp.headers, url=str(resp.url), reason=resp.reason_phrase
        )
        with hook.explained(self.waba_id):
            client.to_response(probe, answer, limit.body, complete=limit.complete)
