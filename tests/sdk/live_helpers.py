"""Helpers for the tests that talk to the real local backend."""

from __future__ import annotations

import asyncio
import time

from celesto_api import SyncTerminalSession, TerminalSession


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
