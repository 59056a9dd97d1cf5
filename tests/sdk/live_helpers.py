"""Helpers for the tests that talk to the real local backend."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from celesto_api import AsyncCelesto, Celesto, SyncTerminalSession, TerminalSession


def wait_status(client: Celesto, computer_id: str, wanted: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        computer = client.computers.get(computer_id)
        if computer["status"] == wanted:
            return computer
        assert time.monotonic() < deadline, f"{computer_id} stuck in {computer['status']}"
        time.sleep(0.05)


async def await_status(
    client: AsyncCelesto, computer_id: str, wanted: str, timeout: float = 30
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        computer = await client.computers.get(computer_id)
        if computer["status"] == wanted:
            return computer
        assert time.monotonic() < deadline, f"{computer_id} stuck in {computer['status']}"
        await asyncio.sleep(0.05)


def read_until(session: SyncTerminalSession, needle: bytes, timeout: float = 15) -> bytes:
    """Terminal output up to and including ``needle``."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{needle!r} never arrived; last output: {seen[-400:]!r}"
        try:
            chunk = session.recv(timeout=remaining)
        except TimeoutError:
            continue
        assert chunk, f"terminal closed before {needle!r}; output: {seen[-400:]!r}"
        seen += chunk
    return seen


async def aread_until(session: TerminalSession, needle: bytes, timeout: float = 15) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{needle!r} never arrived; last output: {seen[-400:]!r}"
        try:
            chunk = await asyncio.wait_for(session.recv(), remaining)
        except TimeoutError:
            continue
        assert chunk, f"terminal closed before {needle!r}; output: {seen[-400:]!r}"
        seen += chunk
    return seen
