"""Helpers shared by the SDK tests (not fixtures: the session conftest owns those)."""

from __future__ import annotations

import inspect
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any


def closed_loopback_url() -> str:
    """An origin on 127.0.0.1 where nothing listens: any request fails to connect."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def drive_sync(result: Any) -> Any:
    """Make a sync SDK call actually send: iterators are advanced once."""
    if isinstance(result, Iterator):
        return next(result)
    return result


async def drive_async(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    if isinstance(result, AsyncIterator):
        return await result.__anext__()
    return result
