from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from ..backend import LocalBackend


def get_backend(connection: HTTPConnection) -> LocalBackend:
    from ..backend import LocalBackend

    return cast(LocalBackend, connection.app.state.backend)
