"""When to poll next, and how fresh the data on screen is.

Both are plain state machines (no Textual): the app asks `Backoff` for the delay before the
next poll after each result, and renders `Freshness` in the header and the table titles.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from celesto_api import (
    CelestoAuthenticationError,
    CelestoError,
    CelestoNetworkError,
    CelestoRateLimitError,
)

MAX_BACKOFF_S = 60.0
MIN_RETRY_S = 0.5
# While something is changing (a computer starting, a deployment building) poll at least
# this often, so the transition shows without waiting a full interval.
FOLLOW_INTERVAL_S = 1.0
# Data older than this many poll intervals (and at least OVERDUE_MIN_S) is stale even though
# no poll failed: the current one is hanging.
OVERDUE_FACTOR = 3.0
OVERDUE_MIN_S = 10.0


@dataclass
class Backoff:
    """Delay before the next poll: the interval on success, exponential with jitter on
    failure, and exactly the server's ``Retry-After`` when it sent one."""

    interval: float
    max_delay: float = MAX_BACKOFF_S
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def success(self, busy: bool = False) -> float | None:
        """The delay after a successful poll; None when refreshing is manual."""
        self.failures = 0
        if not self.interval:
            return None
        return min(self.interval, FOLLOW_INTERVAL_S) if busy else self.interval

    def failure(self, retry_after: float | None = None) -> float:
        self.failures += 1
        if retry_after is not None and retry_after >= 0:
            return min(self.max_delay, max(retry_after, 0.1))
        base = max(self.interval, MIN_RETRY_S)
        delay = min(self.max_delay, base * 2 ** min(self.failures - 1, 10))
        return float(delay * self.rng.uniform(0.8, 1.0))


class State(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    MANUAL = "manual"  # fresh when fetched, but only refreshed on request (--refresh 0)
    STALE = "stale"
    OFFLINE = "offline"


@dataclass
class Freshness:
    """What the user is told about the data of one resource kind."""

    state: State = State.CONNECTING
    last_ok: float | None = None  # monotonic time of the last successful poll
    took_ms: float | None = None
    retry_at: float | None = None  # monotonic time of the next attempt after a failure
    error: str = ""
    auth_failed: bool = False
    # Seconds between polls while all is well; None when refreshing is manual.
    every: float | None = None

    def shown(self, now: float) -> State:
        """The state to show at ``now``: LIVE data that is overdue reads as STALE."""
        if self.state is not State.LIVE:
            return self.state
        if self.every is None:
            return State.MANUAL
        age = self.age(now)
        if age is not None and age > max(OVERDUE_MIN_S, OVERDUE_FACTOR * self.every):
            return State.STALE
        return State.LIVE

    def succeeded(self, at: float, took_ms: float) -> None:
        self.state = State.LIVE
        self.last_ok, self.took_ms = at, took_ms
        self.retry_at, self.error, self.auth_failed = None, "", False

    def failed(self, error: BaseException, at: float, retry_in: float) -> None:
        offline = isinstance(error, CelestoNetworkError) or self.last_ok is None
        self.state = State.OFFLINE if offline else State.STALE
        self.retry_at = at + retry_in
        self.error = short_error(error)
        self.auth_failed = isinstance(error, CelestoAuthenticationError)

    @property
    def ok(self) -> bool:
        return self.state is State.LIVE

    def age(self, now: float) -> float | None:
        return None if self.last_ok is None else max(0.0, now - self.last_ok)

    def retry_in(self, now: float) -> float | None:
        return None if self.retry_at is None else max(0.0, self.retry_at - now)


def short_error(error: BaseException) -> str:
    """One line about a failed request, without the request id noise."""
    if isinstance(error, CelestoRateLimitError):
        return "rate limited (429)"
    if isinstance(error, CelestoError):
        text = error.message
        if error.status_code and str(error.status_code) not in text:
            text = f"{error.status_code}: {text}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def retry_after_of(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def human_seconds(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s" if seconds < 1 else f"{seconds:.0f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h{(seconds % 3600) // 60:02.0f}m"
