"""How API values read in the UI: plain text, readable without colour.

Every status carries a glyph as well as a word, so it reads the same in monochrome; the
colour is added by the table from the status *category* (see `status_category`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from celesto_api.exceptions import redact_url

Category = Literal["ok", "busy", "idle", "bad", "unknown"]

STATUS_GLYPHS = {
    "running": "●",
    "creating": "◐",
    "starting": "◐",
    "restoring": "◐",
    "pending": "◐",
    "stopping": "◑",
    "deleting": "◑",
    "stopped": "○",
    "deleted": "○",
    "error": "✖",
    "lost": "✖",
    "restorable": "◌",
    # deployments
    "READY": "●",
    "PENDING": "◌",
    "ENQUEUED": "◌",
    "BUILDING": "◐",
    "STOPPED": "○",
    "FAILED": "✖",
    # published ports
    "published": "●",
    "publishing": "◐",
    "unpublishing": "◑",
    "unpublished": "○",
}
_CATEGORIES: dict[str, Category] = {
    "running": "ok",
    "READY": "ok",
    "published": "ok",
    "creating": "busy",
    "starting": "busy",
    "restoring": "busy",
    "pending": "busy",
    "stopping": "busy",
    "deleting": "busy",
    "PENDING": "busy",
    "ENQUEUED": "busy",
    "BUILDING": "busy",
    "publishing": "busy",
    "unpublishing": "busy",
    "stopped": "idle",
    "deleted": "idle",
    "restorable": "idle",
    "STOPPED": "idle",
    "unpublished": "idle",
    "error": "bad",
    "lost": "bad",
    "FAILED": "bad",
}
# Statuses that will change by themselves soon: poll faster while one is on screen.
TRANSITIONAL = frozenset(name for name, category in _CATEGORIES.items() if category == "busy")
# Sort order of statuses: what needs attention first.
STATUS_RANK = {"bad": 0, "busy": 1, "ok": 2, "idle": 3, "unknown": 4}


def status_category(status: str) -> Category:
    return _CATEGORIES.get(status, "unknown")


def status_text(status: str) -> str:
    return f"{STATUS_GLYPHS.get(status, '?')} {status}"


def status_of_text(text: str) -> str:
    """The status word of a `status_text` cell."""
    return text.split(" ", 1)[-1]


def megabytes(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return "-"
    return f"{value / 1024:g} GB" if value >= 1024 else f"{value} MB"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        then = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return then if then.tzinfo else then.replace(tzinfo=UTC)


def age(created_at: Any, now: datetime | None = None) -> str:
    then = parse_time(created_at)
    if then is None:
        return "-"
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def percent(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    return f"{value:.0f}%"


def duration_ms(value: float) -> str:
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value // 60_000:.0f}m{(value % 60_000) / 1000:02.0f}s"


def one_line(value: Any, limit: int = 60) -> str:
    if value is None or value == "":
        return "-"
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redacted(value: Any) -> Any:
    """``value`` with the ``token`` of any URL in it hidden (connection URLs may carry one)."""
    if isinstance(value, str):
        return redact_url(value) if "token=" in value and "://" in value else value
    if isinstance(value, Mapping):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": 1}}`` → ``[("a.b", "1")]``; lists of objects are numbered."""
    if isinstance(value, Mapping):
        if not value and prefix:
            return [(prefix, "{}")]
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "[]")]
        if all(not isinstance(item, Mapping | list) for item in value):
            return [(prefix, ", ".join(str(item) for item in value))]
        rows = []
        for index, item in enumerate(value):
            rows.extend(flatten(item, f"{prefix}[{index}]"))
        return rows
    if value is None:
        return [(prefix, "-")]
    if isinstance(value, bool):
        return [(prefix, "yes" if value else "no")]
    return [(prefix, str(value))]
