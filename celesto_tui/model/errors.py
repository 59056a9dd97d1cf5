"""How failures read: one actionable sentence for the user, full details for the errors view.

`advice` is the one table of what to do about each kind of API failure: the CLI appends it to
its one-line errors, the dashboard to its toasts.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from celesto_api import (
    CelestoAuthenticationError,
    CelestoConflictError,
    CelestoError,
    CelestoNetworkError,
    CelestoNotFoundError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
    CelestoValidationError,
)
from celesto_api.exceptions import REDACTED, scrub_secrets

from .command_lines import command_line

MAX_ERRORS = 200
LOGIN_HINT = "run `celesto-tui auth login`, set CELESTO_API_KEY, or pick another --profile"


def advice(error: CelestoError, base_url: str | None = None) -> str | None:
    """What the user can do about ``error``, as a sentence; None when the message says it all."""
    if isinstance(error, CelestoAuthenticationError):
        check = command_line("auth", "status")
        if error.status_code == 403:
            return f"Use a key with access (check it with: {check})."
        return f"Check the key with: {check}; or {LOGIN_HINT}."
    if isinstance(error, CelestoPaymentRequiredError):
        return "Add credit or start a trial at https://celesto.ai."
    if isinstance(error, CelestoNetworkError):
        at = f" at {base_url}" if base_url else ""
        return f"Check that the API is reachable{at} (--base-url) and try again."
    if isinstance(error, CelestoRateLimitError):
        if error.retry_after is not None:
            return f"Try again in {error.retry_after:.0f} s."
        return "Try again shortly."
    if isinstance(error, CelestoServerError) and (error.status_code or 500) >= 500:
        return "The change may or may not have happened; check, then try again."
    return None


def explain(error: BaseException, where: str = "") -> str:
    """What went wrong and, when the user can fix it, how. Rate limits, network and server
    failures get no advice here: the dashboard retries them by itself."""
    text = error.message if isinstance(error, CelestoError) else str(error)
    text = " ".join(text.split())
    if isinstance(error, CelestoAuthenticationError):
        who = f" for {where}" if where else ""
        if error.status_code == 403:
            return f"The API key{who} is not allowed to do this ({text}). {advice(error)}"
        return f"The API key{who} was rejected ({text}). {advice(error)}"
    if isinstance(error, CelestoPaymentRequiredError):
        return f"Billing: {text}. {advice(error)}"
    if isinstance(error, CelestoRateLimitError):
        wait = f"; retrying in {error.retry_after:g}s" if error.retry_after else ""
        return f"Rate limited: {text}{wait}."
    if isinstance(error, CelestoNetworkError):
        return f"Cannot reach the Celesto API: {text}"
    if isinstance(error, CelestoConflictError | CelestoNotFoundError | CelestoValidationError):
        return text
    if isinstance(error, CelestoServerError):
        return f"The API failed: {text}"
    return f"{type(error).__name__}: {text}"


def is_expected(error: BaseException) -> bool:
    """API errors are part of life; anything else is a bug worth the errors view."""
    return isinstance(error, CelestoError)


@dataclass
class ErrorEntry:
    at: datetime
    source: str
    summary: str
    details: str


TOKEN_VALUE = re.compile(r"(token=)[^&\s'\"]+")


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` without the API key or any ``token=`` value (errors view, clipboard)."""
    return scrub_secrets(TOKEN_VALUE.sub(rf"\g<1>{REDACTED}", text), secrets)


class ErrorLog:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.entries: list[ErrorEntry] = []
        self.secrets = [secret for secret in secrets if secret]

    def add(self, at: datetime, source: str, error: BaseException | str) -> ErrorEntry:
        if isinstance(error, BaseException):
            summary = f"{type(error).__name__}: {error}"
            details = "".join(traceback.format_exception(error)).rstrip()
        else:
            summary = details = error
        summary, details = scrub(summary, self.secrets), scrub(details, self.secrets)
        entry = ErrorEntry(at, source, " ".join(summary.split()), details)
        self.entries.append(entry)
        del self.entries[:-MAX_ERRORS]
        return entry

    def clear(self) -> None:
        self.entries.clear()
