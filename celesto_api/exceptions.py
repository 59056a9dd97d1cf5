"""Exceptions raised by the Celesto SDK.

The names are those of the official SDK (`CelestoAuthenticationError`, ...). Every error
carries the HTTP status, the API's machine-readable ``error_code`` when it sent one, the
``x-request-id`` and the decoded response body. Secrets never reach a message or repr: the
transport scrubs the API key out of server text and terminal URLs are shown with their
``token`` redacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "CelestoAuthenticationError",
    "CelestoConflictError",
    "CelestoError",
    "CelestoNetworkError",
    "CelestoNotFoundError",
    "CelestoPaymentRequiredError",
    "CelestoRateLimitError",
    "CelestoServerError",
    "CelestoValidationError",
]

REDACTED = "***"


class CelestoError(Exception):
    """Base class of every error raised by the SDK."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.response = response

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        for name in ("status_code", "code", "request_id"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class CelestoAuthenticationError(CelestoError):
    """The API key is missing, invalid, or lacks access (HTTP 401/403)."""


class CelestoValidationError(CelestoError):
    """A parameter is invalid, found before sending (client side) or by the API (400/422)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            code=code,
            request_id=request_id,
            response=response,
        )
        self.field = field

    def __repr__(self) -> str:
        base = super().__repr__()
        if self.field is None:
            return base
        return f"{base[:-1]}, field={self.field!r})"


class CelestoPaymentRequiredError(CelestoError):
    """The organization has no usable credit or subscription (HTTP 402)."""


class CelestoNotFoundError(CelestoError):
    """The computer, deployment or project does not exist (HTTP 404)."""


class CelestoConflictError(CelestoError):
    """The resource is in the wrong state for the call, e.g. exec on a stopped computer (409)."""


class CelestoRateLimitError(CelestoError):
    """Too many requests or a capacity limit (HTTP 429); ``retry_after`` is in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            code=code,
            request_id=request_id,
            response=response,
        )
        self.retry_after = retry_after


class CelestoServerError(CelestoError):
    """The API failed (HTTP 5xx) or answered with a status the SDK does not expect."""


class CelestoNetworkError(CelestoError):
    """The API could not be reached, the request timed out, or a stream broke off."""


def scrub_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each (non-trivial) secret in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_url(url: str) -> str:
    """Return ``url`` with the value of any ``token`` query parameter hidden."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, REDACTED if key == "token" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))
