"""Host-side handle of a running sandbox: the agent client plus the launcher's lifetime."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
from collections.abc import AsyncIterator

from .base import ExecEvent, IsolationLevel, PtyProcess, SandboxSpec, SandboxStats
from .client import AgentClient

log = logging.getLogger(__name__)


class ProcessWatch:
    """Awaitable exit of a Popen'ed launcher, via a pidfd on the event loop (no threads)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        try:
            self._pidfd = os.pidfd_open(proc.pid)
        except OSError:
            self._pidfd = -1
        self._exited: asyncio.Future[None] | None = None
        self._poller: asyncio.Task[None] | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    async def wait(self) -> int:
        returncode = self.proc.poll()
        if returncode is not None:
            return returncode
        if self._exited is None or self._exited.done():
            loop = asyncio.get_running_loop()
            self._exited = loop.create_future()
            if self._pidfd >= 0:
                loop.add_reader(self._pidfd, self._on_exit)
            else:
                self._poller = loop.create_task(self._poll(self._exited))
        await asyncio.shield(self._exited)
        return self.proc.wait()

    def _on_exit(self) -> None:
        asyncio.get_running_loop().remove_reader(self._pidfd)
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(None)

    async def _poll(self, exited: asyncio.Future[None]) -> None:
        while self.proc.poll() is None:
            await asyncio.sleep(0.05)
        if not exited.done():
            exited.set_result(None)

    def close(self) -> None:
        if self._pidfd >= 0:
            if self._exited is not None and not self._exited.done():
                asyncio.get_running_loop().remove_reader(self._pidfd)
                self._exited.cancel()
            os.close(self._pidfd)
            self._pidfd = -1


class AgentSandbox:
    """Everything that goes through the agent; drivers add start/stop/wait."""

    isolation: IsolationLevel

    def __init__(self, spec: SandboxSpec, limits: dict[str, str], client: AgentClient) -> None:
        self.spec = spec
        self.limits = limits
        self.client = client
        # Why the sandbox was ended by us rather than by its own exit (see describe_exit).
        self.failure: str | None = None
        self._ending: asyncio.Task[None] | None = None
        client.on_broken = self._agent_broke

    def _agent_broke(self, reason: str) -> None:
        """A taken-over agent can forge every later answer: end the sandbox now."""
        if self.failure is not None:
            return
        self.failure = f"its agent {reason} and was stopped (it can no longer be trusted)"
        log.warning("sandbox %s: agent %s; stopping it", self.spec.computer_id, reason)
        self._ending = asyncio.get_running_loop().create_task(self.stop())

    async def stop(self) -> None:
        raise NotImplementedError

    def describe_exit(self, code: int) -> str:
        """Why the sandbox ended, from ``wait()``'s status (128+N or -N: killed by signal N)."""
        if self.failure is not None:
            return self.failure
        number = -code if code < 0 else code - 128 if code > 128 else 0
        if number:
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            hint = " (out of memory, or killed on the host)" if number == signal.SIGKILL else ""
            return f"its agent was killed by {name}{hint}"
        return f"its agent exited with status {code}"

    def exec(
        self, command: str, timeout: float, env: dict[str, str] | None = None
    ) -> AsyncIterator[ExecEvent]:
        return self.client.exec(command, timeout, env)

    async def open_pty(self, cols: int, rows: int, env: dict[str, str] | None = None) -> PtyProcess:
        return await self.client.open_pty(cols, rows, env)

    async def connect(self, port: int) -> socket.socket:
        return await self.client.connect(port)

    async def listen(self, port: int) -> socket.socket:
        return await self.client.listen(port)

    async def stats(self) -> SandboxStats:
        return await self.client.stats()
