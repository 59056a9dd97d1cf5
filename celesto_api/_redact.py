"""A logging filter that hides secrets before a record reaches any handler.

Libraries log URLs and handshakes at INFO/DEBUG (websockets, uvicorn): terminal tokens
travel in the ``token`` query parameter, API keys in ``Authorization`` headers and in the
legacy terminal's ``{"token": ...}`` first message. The filter rewrites the formatted
message, so it works whatever the handler or format.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from .exceptions import REDACTED, scrub_secrets

_PATTERNS = (
    (re.compile(r"(token=)[^&\s'\"]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(authorization: ).*"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(\"token\"\s*:\s*\")[^\"]*\"?"), rf'\g<1>{REDACTED}"'),
)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return scrub_secrets(text, secrets)


class RedactingFilter(logging.Filter):
    """Attach to the logger that creates the records (logger filters do not apply to
    records propagated from child loggers)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set(secrets)

    def add_secret(self, secret: str) -> None:
        self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep it as logging would
            return True
        record.msg, record.args = redact_text(message, self._secrets), None
        return True
