"""How commands print: aligned plain-text tables for people, raw API JSON for scripts.

Results go to stdout; progress notes ("Resuming...") and errors go to stderr, so
``--json`` output on stdout is always exactly one parseable document (or JSON lines with
``--stream``). Plain text only: no colour, no Rich, nothing slow to import.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..model.format import age, megabytes

COLUMN_GAP = "  "
MISSING = "-"


def emit_json(document: Any) -> None:
    """One JSON document on stdout (indented; still a single value for parsers)."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit_json_line(document: Any) -> None:
    """One compact JSON value per line, flushed at once (event streams)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def emit(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A progress or status line for the person watching, on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    cells = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append(COLUMN_GAP.join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)


def fields(pairs: Iterable[tuple[str, str]]) -> str:
    """``Label:  value`` lines with the values aligned (a multi-line value stays in its
    column)."""
    shown = [(label, value) for label, value in pairs if value not in ("", None)]
    width = max((len(label) for label, _ in shown), default=0) + 1
    indent = "\n" + " " * (width + len(COLUMN_GAP))
    return "\n".join(
        f"{label + ':':<{width}}{COLUMN_GAP}{indent.join(value.splitlines())}"
        for label, value in shown
    )


def text(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


def size(value: Any) -> str:
    return megabytes(value)


def timestamp(value: Any, now: datetime | None = None) -> str:
    """``2026-01-02T03:04:05Z (5m ago)``; ``-`` when absent."""
    if not isinstance(value, str) or not value:
        return MISSING
    ago = age(value, now or datetime.now(UTC))
    return value if ago == MISSING else f"{value} ({ago} ago)"


def yes_no(value: Any) -> str:
    return "yes" if value else "no"
