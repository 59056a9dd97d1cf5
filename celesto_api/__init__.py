"""Python SDK for Celesto computers and deployments.

from celesto_api import Celesto

with Celesto() as client:
    computer = client.computers.create(cpus=2, memory=2048)
    print(client.computers.exec(computer["id"], "uname -a")["stdout"])
    client.computers.delete(computer["id"])
"""

from __future__ import annotations

# Must run before anything imports httpx; see _bootstrap.
from . import _bootstrap  # noqa: F401

# isort: split
from ._client import AsyncCelesto, Celesto
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
from .terminal import SyncTerminalSession, TerminalSession
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
