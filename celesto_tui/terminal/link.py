"""The connection behind a terminal pane: SDK terminal session, reconnects, flow control.

`TerminalLink` knows nothing of Textual. It attaches to a durable terminal through the
gateway flow (the legacy direct socket when the gateway endpoint is missing: 404/405 on
`POST …/terminals` for a new terminal), feeds every output chunk to an `OutputSink` (the
`TerminalView`), and sends keystrokes and resizes through a single writer task so their order
is kept. It stops reading the socket while the sink has more than `high_water` bytes waiting
to be parsed, so a flood is held back by TCP instead of piling up in memory, and reads again
once a quarter of that is left (not only when all is parsed, so the parser never idles
while the next frames are on their way).

When the connection drops, it reattaches to the same `terminal_id` with backoff; the shell
and everything on its screen survive. Every state change is reported as a `LinkStatus`;
errors become statuses, never exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from celesto_api import (
    CelestoConflictError,
    CelestoError,
    CelestoNetworkError,
    CelestoNotFoundError,
    CelestoRateLimitError,
    CelestoServerError,
    TerminalSession,
)
from celesto_api.computers import AsyncComputers

log = logging.getLogger(__name__)

# Close codes after which reattaching cannot help: the server refused us.
_FATAL_CLOSE_CODES = frozenset({1003, 1008})
_STARTING_STATES = frozenset({"creating", "starting"})
_STOPPED_STATES = frozenset({"stopped", "stopping"})
# A reattach replays recent output; the screen starts over (RIS + erase saved lines) so the
# replay rebuilds it instead of being appended to what is already shown.
REPLAY_RESET = b"\x1bc\x1b[3J"
DEFAULT_BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


class Phase(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STARTING = "starting"
    DETACHED = "detached"
    STOPPED = "stopped"
    ENDED = "ended"


@dataclass(frozen=True)
class LinkStatus:
    """Where the link is. `attempt` counts reconnects; `retry_in` is the wait before the next."""

    phase: Phase
    detail: str = ""
    attempt: int = 0
    retry_in: float | None = None
    close_code: int | None = None
    legacy: bool = False
    error: bool = False


class OutputSink(Protocol):
    """Where output goes (a `TerminalView`)."""

    def feed(self, data: bytes) -> None: ...

    @property
    def pending_bytes(self) -> int: ...

    async def wait_below(self, limit: int) -> None: ...


class _Stopped(Exception):
    pass


class _Gone(Exception):
    pass


class _Fatal(Exception):
    pass


def backoff_delay(attempt: int, schedule: Sequence[float], rng: random.Random) -> float:
    """The wait before reconnect `attempt` (1-based), with ±20 % jitter."""
    base = schedule[min(attempt, len(schedule)) - 1]
    return base * rng.uniform(0.8, 1.2)


class TerminalLink:
    """One terminal attachment that survives drops. Start it with `start()`."""

    def __init__(
        self,
        computers: AsyncComputers,
        computer_id: str,
        sink: OutputSink,
        *,
        size: Callable[[], tuple[int, int]],
        on_status: Callable[[LinkStatus], None],
        terminal_id: str | None = None,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        max_attempts: int = 8,
        high_water: int = 256 * 1024,
        start_timeout: float = 120.0,
    ) -> None:
        self.computers = computers
        self.computer_id = computer_id
        self._sink = sink
        self._size = size
        self._on_status = on_status
        self._terminal_id = terminal_id
        self._backoff = tuple(backoff)
        self._max_attempts = max_attempts
        self._high_water = high_water
        self._start_timeout = start_timeout
        self._rng = random.Random()
        self._status = LinkStatus(Phase.IDLE)
        self._task: asyncio.Task[None] | None = None
        self._session: TerminalSession | None = None
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._sent_size: tuple[int, int] | None = None
        self._detaching = False
        self._legacy = False

    # -- public ----------------------------------------------------------------------------

    @property
    def terminal_id(self) -> str | None:
        """The durable terminal's id once attached (None on the legacy socket)."""
        return self._terminal_id

    @property
    def status(self) -> LinkStatus:
        return self._status

    @property
    def connected(self) -> bool:
        return self._session is not None and self._status.phase is Phase.CONNECTED

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, *, power_on: bool = False) -> None:
        """Attach (or reattach) in the background; `power_on` starts the computer first."""
        if self.running:
            return
        self._detaching = False
        self._task = asyncio.create_task(self._run(power_on), name=f"terminal {self.computer_id}")

    def send(self, data: bytes) -> bool:
        """Queue keystrokes; False (and dropped) when not connected."""
        if not self.connected or not data:
            return False
        self._outbox.put_nowait(data)
        return True

    def resize(self) -> None:
        """Tell the remote PTY the current size (coalesced; sent only when it changed)."""
        if self.connected:
            self._outbox.put_nowait(None)

    async def detach(self) -> None:
        """Close with 1000 "client detached": the remote shell keeps running."""
        task, session, self._detaching = self._task, self._session, True
        if task is None or task.done():
            return
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.detach(), 5)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._report(Phase.DETACHED, "the shell keeps running")

    def forget(self, reason: str) -> None:
        """The terminal ended outside this link: report it, and open a new one next time."""
        if not self.running:
            self._terminal_id = None
            self._report(Phase.ENDED, reason)

    # -- the connection loop ---------------------------------------------------------------

    def _report(
        self,
        phase: Phase,
        detail: str = "",
        *,
        attempt: int = 0,
        retry_in: float | None = None,
        close_code: int | None = None,
        error: bool = False,
    ) -> None:
        status = LinkStatus(phase, detail, attempt, retry_in, close_code, self._legacy, error)
        if status != self._status:
            self._status = status
            self._on_status(status)

    async def _run(self, power_on: bool) -> None:
        try:
            if power_on:
                await self._power_on()
            await self._attach_loop()
        except asyncio.CancelledError:
            raise
        except _Stopped as exc:
            self._report(Phase.STOPPED, str(exc))
        except (_Fatal, _Gone, CelestoError) as exc:
            self._report(Phase.ENDED, str(exc), error=True)
        except Exception as exc:  # a bug must end up in the status line, not a traceback
            log.exception("terminal link failed")
            self._report(Phase.ENDED, f"{type(exc).__name__}: {exc}", error=True)
        finally:
            self._session = None

    async def _attach_loop(self) -> None:
        attempt = 0
        first = True
        while True:
            if attempt:
                self._report(Phase.RECONNECTING, attempt=attempt)
            else:
                self._report(Phase.CONNECTING)
            try:
                session, replayed = await self._open(first)
            except CelestoError as exc:
                if not _retryable(exc):
                    raise
                if attempt >= self._max_attempts:
                    raise _Fatal(f"gave up after {attempt} attempts: {exc}") from None
                attempt += 1
                await self._wait_before(attempt, str(exc), _retry_after(exc))
                continue
            first, attempt = False, 0
            ended = await self._serve(session, replayed)
            if self._detaching:
                return
            code, reason = session.close_code, session.close_reason or ""
            if ended:
                self._terminal_id = None
                if await self._computer_stopped():
                    raise _Stopped("stopped")
                self._report(Phase.ENDED, reason or "the terminal closed", close_code=code)
                return
            if code in _FATAL_CLOSE_CODES:
                raise _Fatal(f"the server closed the terminal: {reason or code}")
            attempt = 1
            await self._wait_before(attempt, f"connection lost ({code or 'no close frame'})")

    async def _wait_before(self, attempt: int, why: str, at_least: float = 0.0) -> None:
        delay = max(at_least, backoff_delay(attempt, self._backoff, self._rng))
        self._report(Phase.RECONNECTING, why, attempt=attempt, retry_in=round(delay, 2))
        await asyncio.sleep(delay)

    async def _open(self, first: bool) -> tuple[TerminalSession, bool]:
        """Connect; returns the session and whether it replays earlier output."""
        cols, rows = self._size()
        if self._legacy:
            return await self._open_legacy(cols, rows), False
        reattach = self._terminal_id is not None
        try:
            info = await self.computers.terminal(self.computer_id, self._terminal_id)
        except CelestoNotFoundError as exc:
            if reattach and not first:
                gone, self._terminal_id = self._terminal_id, None
                raise _Gone(f"terminal {gone} no longer exists (the shell exited?)") from None
            if reattach:  # a remembered terminal that is gone: open a new one
                self._terminal_id = None
                return await self._open(first)
            return await self._fall_back_to_legacy(exc, cols, rows), False
        except CelestoConflictError as exc:
            await self._explain_conflict(exc)
            return await self._open(first)
        except CelestoError as exc:
            if exc.status_code == 405 and not reattach:
                return await self._fall_back_to_legacy(exc, cols, rows), False
            raise
        session = await TerminalSession.connect_gateway(
            info["gateway_url"],
            info["token"],
            terminal_id=info["terminal_id"],
            cols=cols,
            rows=rows,
        )
        self._terminal_id = info["terminal_id"]
        self._sent_size = (cols, rows)
        return session, reattach

    async def _fall_back_to_legacy(
        self, error: CelestoError, cols: int, rows: int
    ) -> TerminalSession:
        try:
            session = await self._open_legacy(cols, rows)
        except CelestoNotFoundError:
            raise error from None
        self._legacy = True
        return session

    async def _open_legacy(self, cols: int, rows: int) -> TerminalSession:
        connection = await self.computers.get_terminal_connection(self.computer_id)
        session = await TerminalSession.connect_legacy(connection, cols=cols, rows=rows)
        self._sent_size = (cols, rows)
        return session

    async def _computer_stopped(self) -> bool:
        """Whether the computer is stopping or stopped: a stop ends its shells."""
        try:
            computer = await self.computers.get(self.computer_id)
        except CelestoError:
            return False
        return str(computer.get("status", "")) in _STOPPED_STATES

    async def _explain_conflict(self, error: CelestoConflictError) -> None:
        """409 on attach: wait out a start in progress; a stopped computer is reported."""
        computer = await self.computers.get(self.computer_id)
        status = str(computer.get("status", ""))
        if status in _STOPPED_STATES:
            raise _Stopped(status) from None
        if status not in _STARTING_STATES:
            raise error
        await self._wait_running()

    async def _power_on(self) -> None:
        self._report(Phase.STARTING, "starting the computer")
        await self.computers.start(self.computer_id)
        await self._wait_running()

    async def _wait_running(self) -> None:
        self._report(Phase.STARTING, "waiting for the computer to start")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        while True:
            computer = await self.computers.get(self.computer_id)
            status = str(computer.get("status", ""))
            if status == "running":
                return
            if status not in _STARTING_STATES or loop.time() > deadline:
                raise _Fatal(f"the computer did not start (status: {status})")
            await asyncio.sleep(0.25)

    # -- one attachment --------------------------------------------------------------------

    async def _serve(self, session: TerminalSession, replayed: bool) -> bool:
        """Pump output until the socket closes; True when the terminal ended normally."""
        self._session = session
        self._outbox = asyncio.Queue()
        if replayed:
            self._sink.feed(REPLAY_RESET)
        self._report(Phase.CONNECTED, "legacy socket" if self._legacy else "")
        self.resize()  # the view may have changed size while we connected
        writer = asyncio.create_task(self._write(session))
        try:
            return await self._read(session)
        finally:
            self._session = None
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _read(self, session: TerminalSession) -> bool:
        sink = self._sink
        try:
            while True:
                if sink.pending_bytes > self._high_water:
                    await sink.wait_below(self._high_water // 4)
                chunk = await session.recv()
                if not chunk:
                    return True
                if self._legacy and chunk.startswith(b'{"type"'):
                    _raise_on_gateway_error(chunk)
                sink.feed(chunk)
        except CelestoNetworkError:
            return False

    async def _write(self, session: TerminalSession) -> None:
        outbox = self._outbox
        try:
            while True:
                batch = [await outbox.get()]
                while not outbox.empty():  # keys typed or pasted while a frame went out
                    batch.append(outbox.get_nowait())
                data = bytearray()
                for item in batch:
                    if item is not None:
                        data += item
                        continue
                    if data:
                        await session.send(bytes(data))
                        data.clear()
                    await self._send_size(session)
                if data:
                    await session.send(bytes(data))
        except CelestoError:
            return  # the reader sees the close and decides what happens next

    async def _send_size(self, session: TerminalSession) -> None:
        size = self._size()
        if size != self._sent_size:
            self._sent_size = size
            await session.resize(*size)


def _retryable(error: CelestoError) -> bool:
    return isinstance(error, CelestoNetworkError | CelestoServerError | CelestoRateLimitError)


def _retry_after(error: CelestoError) -> float:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) else 0.0


def _raise_on_gateway_error(chunk: bytes) -> None:
    """The legacy socket reports refusals as a JSON text frame before closing."""
    try:
        message = json.loads(chunk)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("type") == "error":
        raise _Fatal(str(message.get("message") or "the terminal was refused"))
