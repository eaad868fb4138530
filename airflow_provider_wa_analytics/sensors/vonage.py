"""``VonageInsightsSensor``: waits until template analytics can actually be retrieved for a WABA.

Enabling insights takes minutes to propagate. Until then the vendor answers "not enabled"; the
sensor keeps waiting. Authentication, "not linked" (403) and unknown-WABA (404) errors fail it at
once. With ``deferrable=True`` the waiting happens in the triggerer (:class:`VonageInsightsTrigger`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_analytics.exceptions import RetryableError
from airflow_provider_wa_analytics.hooks.vonage import TEMPLATE_IDS, WABA_ID, VonageWhatsAppHook
from airflow_provider_wa_analytics.triggers.vonage import VonageInsightsTrigger, error_from_event
from airflow_provider_wa_analytics.version_compat import BaseSensorOperator

if TYPE_CHECKING:
    from airflow_provider_wa_analytics.version_compat import Context


def _default_deferrable() -> bool:
    from airflow.providers.common.compat.sdk import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


class VonageInsightsSensor(BaseSensorOperator):
    """Wait until template analytics for ``waba_id`` answer (insights enabled and propagated).

    Each poke asks for one day of ``template_id``'s analytics: an answer means done; "insights not
    enabled" and transient failures (5xx, 429, timeouts, after the client's retries) mean keep
    waiting; authentication, "not linked" and unknown-WABA errors fail the task without retries.

    :param waba_id: the WhatsApp Business Account ID.
    :param template_id: a template of the WABA to probe with.
    :param vonage_conn_id: connection of type ``vonage_whatsapp``.
    :param deferrable: wait in the triggerer instead of a worker slot (default: Airflow's
        ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("waba_id", "template_id", "vonage_conn_id")
    ui_color = "#25d366"

    def __init__(
        self,
        *,
        waba_id: str,
        template_id: str,
        vonage_conn_id: str = VonageWhatsAppHook.default_conn_name,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.waba_id = waba_id
        self.template_id = template_id
        self.vonage_conn_id = vonage_conn_id
        self.deferrable = _default_deferrable() if deferrable is None else deferrable

    def _checked(self) -> tuple[str, str]:
        return WABA_ID.check(self.waba_id, "waba_id"), TEMPLATE_IDS([self.template_id], "template_ids")[0]

    def poke(self, context: Context) -> bool:
        waba_id, template_id = self._checked()
        try:
            return VonageWhatsAppHook(vonage_conn_id=self.vonage_conn_id).insights_available(
                waba_id, template_id
            )
        except RetryableError as exc:
            self.log.warning("Vonage failed transiently (%s); poking again later.", exc)
            return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        waba_id, template_id = self._checked()
        if self.poke(context):
            return None
        self.defer(
            trigger=VonageInsightsTrigger(
                waba_id=waba_id,
                template_id=template_id,
                vonage_conn_id=self.vonage_conn_id,
                poll_interval=float(self.poke_interval),
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any] | None = None) -> None:
        if event and event.get("status") == "success":
            self.log.info("Template analytics are available for WABA %s.", event.get("waba_id"))
            return
        raise error_from_event(event)
