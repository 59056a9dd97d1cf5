"""One self-rescheduling poll loop per resource kind.

The next poll is scheduled only when the previous one has finished, so polls never overlap;
``poll_now`` during a poll runs another one right after it instead. Fetching happens in an
async worker and building the rows in a thread; the result arrives as a `Polled` or
`PollFailed` message, which the app handles and then calls `finished`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.timer import Timer

from ..model.clock import Clock
from ..model.polling import Backoff, Freshness, retry_after_of
from ..model.table_rows import TableSpec, ViewParams, build_rows
from .messages import Polled, PollFailed

Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


class Poller:
    def __init__(
        self,
        app: App[Any],
        spec: TableSpec,
        fetch: Fetch,
        params: Callable[[], ViewParams],
        clock: Clock,
        interval: float,
        generation: int = 0,
    ) -> None:
        self.app = app
        # The target's generation: a poll of an earlier target that lands after a switch
        # is dropped by the app.
        self.generation = generation
        self.spec = spec
        self.kind = spec.kind
        self.fetch = fetch
        self.params = params
        self.clock = clock
        self.backoff = Backoff(interval)
        self.freshness = Freshness(every=interval or None)
        self.in_flight = False
        self.again = False
        self._slow_factor = 1.0
        self._timer: Timer | None = None
        self.polls = 0

    @property
    def interval(self) -> float:
        return self.backoff.interval

    @property
    def slow_factor(self) -> float:
        """Polls of a kind nobody is looking at are spaced out by this factor."""
        return self._slow_factor

    @slow_factor.setter
    def slow_factor(self, factor: float) -> None:
        self._slow_factor = factor
        self.freshness.every = self.interval * factor if self.interval else None

    def poll_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.in_flight:
            self.again = True
            return
        self.in_flight = True
        self.app.run_worker(
            self._poll(),
            # One group per target: a poll of the old one is not cancelled by a switch (it
            # may not have started yet), it ends and its message is dropped.
            group=f"poll:{self.kind}:{self.generation}",
            exit_on_error=False,
            exclusive=True,
        )

    async def _poll(self) -> None:
        started = self.clock.monotonic()
        try:
            items = await self.fetch()
            took_ms = (self.clock.monotonic() - started) * 1000
            rows = await asyncio.to_thread(
                build_rows, self.spec, items, self.params(), self.clock.now()
            )
        except Exception as exc:  # every failure becomes a message, never an app exit
            self.app.post_message(PollFailed(self.kind, exc, self.generation))
        else:
            self.app.post_message(Polled(self.kind, items, rows, took_ms, started, self.generation))

    def finished(
        self, ok: bool, busy: bool = False, error: BaseException | None = None
    ) -> float | None:
        """Record the outcome and schedule the next poll; return its delay."""
        self.in_flight = False
        self.polls += 1
        if ok:
            delay = self.backoff.success(busy)
            if delay is not None and not busy:
                delay *= self.slow_factor
        else:
            delay = self.backoff.failure(retry_after_of(error) if error else None)
            assert error is not None
            self.freshness.failed(error, self.clock.monotonic(), delay)
        if self.again:
            self.again = False
            delay = 0.0
        if delay is not None:
            # Textual timers cannot be zero-length: a "now" goes through the message queue.
            self._timer = self.app.set_timer(max(delay, 0.01), self._tick)
        return delay

    def _tick(self) -> None:
        self._timer = None
        self.poll_now()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
