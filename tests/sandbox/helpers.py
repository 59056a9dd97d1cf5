"""Helpers shared by the sandbox tests."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from celesto_api.local.sandbox import (
    ExecExit,
    ExecOutput,
    ExecStarted,
    PtyProcess,
    Sandbox,
)
from tests.waiting import await_until


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    pid: int
    seconds: float = field(default=0.0)


async def run(
    sandbox: Sandbox, command: str, timeout: float = 20, env: dict[str, str] | None = None
) -> Result:
    out: list[bytes] = []
    err: list[bytes] = []
    pid = -1
    start = time.monotonic()
    async for event in sandbox.exec(command, timeout, env):
        if isinstance(event, ExecStarted):
            pid = event.pid
        elif isinstance(event, ExecOutput):
            (out if event.stream == "stdout" else err).append(event.data)
        elif isinstance(event, ExecExit):
            return Result(
                event.exit_code,
                b"".join(out).decode(errors="replace"),
                b"".join(err).decode(errors="replace"),
                event.timed_out,
                pid,
                time.monotonic() - start,
            )
    raise AssertionError("exec ended without an exit event")


async def check(sandbox: Sandbox, command: str, **kwargs: object) -> str:
    result = await run(sandbox, command, **kwargs)  # type: ignore[arg-type]
    assert result.exit_code == 0, (command, result)
    return result.stdout


class Screen:
    """Collects a PTY's output and waits for text to appear."""

    def __init__(self, pty: PtyProcess) -> None:
        self.pty = pty
        self.data = b""

    def write(self, data: bytes) -> None:
        os.write(self.pty.master_fd, data)

    async def expect(self, needle: str, timeout: float = 10) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle.encode() not in self.data:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not seen in {self.data[-500:]!r}")
            ready: asyncio.Future[None] = loop.create_future()

            def wake(future: asyncio.Future[None] = ready) -> None:
                if not future.done():
                    future.set_result(None)

            loop.add_reader(self.pty.master_fd, wake)
            try:
                await asyncio.wait_for(ready, remaining)
            except TimeoutError:
                continue
            finally:
                loop.remove_reader(self.pty.master_fd)
            try:
                chunk = os.read(self.pty.master_fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                break
            self.data += chunk
        if needle.encode() not in self.data:
            raise AssertionError(f"{needle!r} not seen in {self.data[-500:]!r}")
        return self.data.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(name))
    return found


def unique_sleep(seconds: int) -> str:
    """``sleep`` for a little over ``seconds``, with a command line no other process has:
    `host_processes_with` then tells when it runs (the event a test waits for before it
    interrupts the command)."""
    return f"sleep {seconds}.{random.randrange(10**6):06d}"


def host_uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    await await_until(predicate, what="the condition", timeout=timeout)
