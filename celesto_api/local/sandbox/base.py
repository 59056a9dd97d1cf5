"""The sandbox driver interface the local server programs against.

A running computer is one :class:`Sandbox`. Drivers (bubblewrap, plain process)
differ only in how the sandbox is started and torn down; exec, PTYs and port
connections all go through the same in-sandbox agent protocol.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

IsolationLevel = Literal["bwrap", "process"]
IsolationChoice = Literal["auto", "bwrap", "process"]


class SandboxError(Exception):
    """A sandbox could not be started or did not answer."""


def describe_failure(exc: BaseException, timeout: float) -> str:
    """A readable reason; a bare ``TimeoutError`` has an empty message."""
    if isinstance(exc, TimeoutError) and not str(exc):
        return f"no answer within {timeout:g} s"
    return str(exc) or type(exc).__name__


@dataclass(frozen=True)
class SandboxSpec:
    computer_id: str
    hostname: str
    home: Path
    vcpus: int = 1
    ram_mb: int = 1024
    tmp_size_mb: int = 256
    nproc: int = 512
    network: Literal["open", "off"] = "open"

    @property
    def host_identity(self) -> str:
        """Unique on this host: two servers (data dirs) may both have a computer with this
        id, and must never share its cgroups or its host uid."""
        return f"{self.computer_id}\0{self.home}"

    # Set in every process of the sandbox (the egress proxy's variables).
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecStarted:
    pid: int


@dataclass(frozen=True)
class ExecOutput:
    stream: Literal["stdout", "stderr"]
    data: bytes


@dataclass(frozen=True)
class ExecExit:
    exit_code: int
    timed_out: bool


ExecEvent = ExecStarted | ExecOutput | ExecExit


@dataclass(frozen=True)
class SandboxStats:
    cpu_seconds: float
    rss_bytes: int
    home_used_bytes: int
    process_count: int


@dataclass(frozen=True)
class Capability:
    level: IsolationLevel
    bwrap_path: str | None
    cgroups: str | None
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @property
    def isolated(self) -> bool:
        return self.level == "bwrap"

    def label(self) -> str:
        """A few words for a header: ``bundled bwrap 0.11.0`` or ``NOT ISOLATED (process)``."""
        if not self.isolated:
            return "NOT ISOLATED (process)"
        source = self.details.get("bwrap_source", "")
        return f"{source} bwrap {self.details.get('bwrap_version', '')}".strip()

    def summary(self) -> str:
        """One line for the serve line, the info endpoint, doctor and the dashboard."""
        if self.isolated:
            return f"sandboxed by {self.details.get('bwrap_description', self.bwrap_path)}"
        return f"NOT isolated from the host (plain processes): {self.reason}"


class PtyProcess(Protocol):
    master_fd: int

    async def wait(self) -> int: ...

    def kill(self) -> None: ...


class Sandbox(Protocol):
    spec: SandboxSpec
    isolation: IsolationLevel
    limits: dict[str, str]

    def is_alive(self) -> bool: ...

    def exec(
        self, command: str, timeout: float, env: dict[str, str] | None = None
    ) -> AsyncIterator[ExecEvent]: ...

    async def open_pty(
        self, cols: int, rows: int, env: dict[str, str] | None = None
    ) -> PtyProcess: ...

    async def connect(self, port: int) -> socket.socket: ...

    async def listen(self, port: int) -> socket.socket: ...

    async def stats(self) -> SandboxStats: ...

    async def stop(self) -> None: ...

    async def wait(self) -> int: ...

    def describe_exit(self, code: int) -> str: ...


class SandboxDriver(Protocol):
    capability: Capability

    async def start(self, spec: SandboxSpec) -> Sandbox: ...

    async def destroy_home(self, spec: SandboxSpec) -> None: ...
