"""Where "now" comes from, so ages and freshness can be frozen in tests and snapshots."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time (timezone-aware, UTC): ages of computers and log entries."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock: freshness of polled data, retry countdowns."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FrozenClock:
    """A clock that only moves when told to (`advance`)."""

    at: datetime
    mono: float = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.mono += seconds
