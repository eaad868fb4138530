"""Parsing of list parameters shared by every vendor: checked before any request, named in errors."""

from __future__ import annotations

import ast
import json
from typing import Any

from airflow_provider_wa_analytics.exceptions import InvalidParameterError


def as_list(value: Any, param: str) -> list[Any]:
    """A list parameter. A string (a rendered template) may hold a JSON or Python list, or ``a, b``."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            # The Python repr a list renders to without native templates, or JSON (true/null).
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise InvalidParameterError(f"`{param}` is not a valid list: {text!r}.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterError(
            f"`{param}` must be a list (or a comma-separated string), got {type(value).__name__}."
        )
    return list(value)
