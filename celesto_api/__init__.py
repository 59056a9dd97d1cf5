"""Python SDK for Celesto computers and deployments.

from celesto_api import Celesto

with Celesto() as client:
    computer = client.computers.create(cpus=2, memory=2048)
    print(client.computers.exec(computer["id"], "uname -a")["stdout"])
    client.computers.delete(computer["id"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import (
    CelestoAuthenticationError,
    CelestoConflictError,
    CelestoError,
    CelestoNetworkError,
    CelestoNotFoundError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
    CelestoValidationError,
)
from .types import (
    BulkDeleteResult,
    CommandHistory,
    CommandInvocation,
    Computer,
    ComputerList,
    Deployment,
    ExecEvent,
    ExecExitEvent,
    ExecOutputEvent,
    ExecResult,
    ExecStartedEvent,
    Observability,
    Project,
    ProjectList,
    PublishedPort,
    Template,
    TerminalConnection,
    TerminalSessionInfo,
)

if TYPE_CHECKING:
    from ._client import AsyncCelesto, Celesto
    from .terminal import SyncTerminalSession, TerminalSession

# The clients load httpx (tens of milliseconds), imported on first use: a program that
# needs only the exceptions, types, limits or validation does not wait for it (the
# dashboard paints its first frame before it makes a client).
_LOADED_ON_USE = {
    "AsyncCelesto": "._client",
    "Celesto": "._client",
    "SyncTerminalSession": ".terminal",
    "TerminalSession": ".terminal",
}

__version__ = "0.1.0"

__all__ = [
    "AsyncCelesto",
    "BulkDeleteResult",
    "Celesto",
    "CelestoAuthenticationError",
    "CelestoConflictError",
    "CelestoError",
    "CelestoNetworkError",
    "CelestoNotFoundError",
    "CelestoPaymentRequiredError",
    "CelestoRateLimitError",
    "CelestoServerError",
    "CelestoValidationError",
    "CommandHistory",
    "CommandInvocation",
    "Computer",
    "ComputerList",
    "Deployment",
    "ExecEvent",
    "ExecExitEvent",
    "ExecOutputEvent",
    "ExecResult",
    "ExecStartedEvent",
    "Observability",
    "Project",
    "ProjectList",
    "PublishedPort",
    "SyncTerminalSession",
    "Template",
    "TerminalConnection",
    "TerminalSession",
    "TerminalSessionInfo",
    "__version__",
]


if not TYPE_CHECKING:  # type checkers see the imports above, and no catch-all attribute

    def __getattr__(name: str) -> Any:
        module = _LOADED_ON_USE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(_LOADED_ON_USE))
