from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from ..backend import LocalBackend


def get_backend(connection: HTTPConnection) -> LocalBackend:
    from ..backend import LocalBackend

    return cast(LocalBackend, connection.app.state.backend)


async def backend_dependency(connection: HTTPConnection) -> LocalBackend:
    """`get_backend` as a route dependency: FastAPI runs a plain `def` dependency in a worker
    thread, two thread switches on every request (about a millisecond on a loaded machine)."""
    return get_backend(connection)
