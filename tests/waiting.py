"""The one way tests wait: ask again until the answer is the one wanted, or fail saying what
never happened and what was seen last. Never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from celesto_api import AsyncCelesto, Celesto

T = TypeVar("T")
TIMEOUT_S = 30.0
INTERVAL_S = 0.02


def wait_until(
    fetch: Callable[[], T],
    done: Callable[[T], object] = bool,
    what: str = "",
    timeout: float = TIMEOUT_S,
) -> T:
    """``fetch()`` until ``done`` holds for its answer; that answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or fetch}; last: {value!r}")
        time.sleep(INTERVAL_S)


async def await_until(
    fetch: Callable[[], T | Awaitable[T]],
    done: Callable[[T], object] = bool,
    what: str = "",
    timeout: float = TIMEOUT_S,
    pause: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """The same for a coroutine (``fetch`` may be async; ``pause`` may be `Pilot.pause`, so
    the app under test runs in between)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        value: T = await answer if inspect.isawaitable(answer) else answer  # type: ignore[assignment]
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or fetch}; last: {value!r}")
        await pause(INTERVAL_S)


def wait_status(client: Celesto, computer_id: str, wanted: str, timeout: float = TIMEOUT_S) -> Any:
    """The computer once its status is ``wanted``."""
    return wait_until(
        lambda: client.computers.get(computer_id),
        lambda computer: computer["status"] == wanted,
        f"{computer_id} to be {wanted}",
        timeout,
    )


async def await_status(
    client: AsyncCelesto, computer_id: str, wanted: str, timeout: float = TIMEOUT_S
) -> Any:
    return await await_until(
        lambda: client.computers.get(computer_id),
        lambda computer: computer["status"] == wanted,
        f"{computer_id} to be {wanted}",
        timeout,
    )
