"""Apache Airflow provider for WhatsApp and Web Push campaign analytics (Insider One, Vonage, Kaleyra)."""

from __future__ import annotations

__version__ = "0.1.0"
