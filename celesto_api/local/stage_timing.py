"""Per-request stage timings, sent back as a ``Server-Timing`` header.

The outermost middleware opens a clock for each HTTP request; code on the request path calls
``mark("stage")`` when a stage ends (a no-op outside a request). The header lists each
stage's duration in milliseconds since the previous mark, so a client (benchmarks/backend.py)
can print where a request's time went without attaching a profiler.
"""

from __future__ import annotations

import itertools
import time
from contextvars import ContextVar

_marks: ContextVar[list[tuple[str, float]] | None] = ContextVar("stage_marks", default=None)


def open_clock() -> list[tuple[str, float]]:
    """Start timing the current request (its first mark is ``start``)."""
    marks = [("start", time.perf_counter())]
    _marks.set(marks)
    return marks


def mark(stage: str) -> None:
    """Record that ``stage`` of the current request just ended."""
    marks = _marks.get()
    if marks is not None:
        marks.append((stage, time.perf_counter()))


def server_timing(marks: list[tuple[str, float]]) -> bytes | None:
    """The ``Server-Timing`` header value for ``marks`` (None before the first stage ends)."""
    if len(marks) < 2:
        return None
    stages = [
        f"{name};dur={(end - begin) * 1000:.3f}"
        for (_, begin), (name, end) in itertools.pairwise(marks)
    ]
    return ", ".join(stages).encode()
