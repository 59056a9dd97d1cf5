"""How API values read in the UI (plain text, readable without colour)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

STATUS_GLYPHS = {
    "running": "●",
    "creating": "◐",
    "starting": "◐",
    "restoring": "◐",
    "stopping": "◑",
    "deleting": "◑",
    "stopped": "○",
    "deleted": "○",
    "error": "✖",
    "lost": "✖",
    "restorable": "◌",
}
STATUS_STYLES = {
    "running": "green",
    "creating": "yellow",
    "starting": "yellow",
    "restoring": "yellow",
    "stopping": "yellow",
    "deleting": "yellow",
    "stopped": "dim",
    "error": "red",
    "lost": "red",
}


def status_text(status: str) -> str:
    return f"{STATUS_GLYPHS.get(status, '?')} {status}"


def megabytes(value: Any) -> str:
    if not isinstance(value, int):
        return "-"
    return f"{value / 1024:g} GB" if value >= 1024 else f"{value} MB"


def age(created_at: Any, now: datetime | None = None) -> str:
    if not isinstance(created_at, str):
        return "-"
    try:
        then = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return "-"
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def percent(value: Any) -> str:
    return f"{value:.0f}%" if isinstance(value, int | float) else "-"


def computer_cells(computer: dict[str, Any], now: datetime | None = None) -> tuple[str, ...]:
    metrics = computer.get("metrics") or {}
    return (
        str(computer.get("name", "")),
        str(computer.get("id", "")),
        status_text(str(computer.get("status", ""))),
        str(computer.get("vcpus", "-")),
        megabytes(computer.get("ram_mb")),
        megabytes(computer.get("disk_size_mb")),
        str(computer.get("template_id") or "-"),
        str(len(computer.get("published_ports") or [])),
        percent(metrics.get("cpu_used_percent")),
        megabytes(metrics.get("ram_used_mb")) if metrics else "-",
        age(computer.get("created_at"), now),
    )


COMPUTER_COLUMNS = (
    "Name",
    "ID",
    "Status",
    "CPUs",
    "Memory",
    "Disk",
    "Template",
    "Ports",
    "CPU",
    "RAM",
    "Age",
)
