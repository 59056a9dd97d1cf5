"""Durable terminal sessions: a shell on a PTY created inside the sandbox that keeps
running while no WebSocket is attached, with the recent output kept for replay.

Attachments are plain callbacks (send bytes / close), so this module knows
nothing of the web framework; ``routes/terminals.py`` adapts WebSockets to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hmac
import logging
import os
import secrets
import struct
import termios
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .computers import ComputerService, new_id
from .errors import ApiError
from .sandbox import PtyProcess

log = logging.getLogger("celesto_api.local")

TOKEN_TTL_SECONDS = 300
REPLAY_BYTES = 128 * 1024
READ_CHUNK = 64 * 1024
# Stop reading the PTY while any attachment has this much unsent output queued.
PAUSE_AT_BYTES = 1024 * 1024
MAX_DIMENSION = 1000


@dataclass
class Attachment:
    send: Callable[[bytes], Awaitable[None]]
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    pending: int = 0


@dataclass
class PtySession:
    terminal_id: str
    computer_id: str
    pty: PtyProcess
    cols: int
    rows: int
    legacy: bool = False
    replay: bytearray = field(default_factory=bytearray)
    attachments: list[Attachment] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    exit_code: int | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    exit_watcher: asyncio.Task[None] | None = None
    _input: bytearray = field(default_factory=bytearray)
    _paused: bool = False


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _clamp(value: int) -> int:
    return max(1, min(MAX_DIMENSION, int(value)))


class TerminalService:
    def __init__(self, computers: ComputerService, token_ttl: float = TOKEN_TTL_SECONDS) -> None:
        self.computers = computers
        self.token_ttl = token_ttl
        self._sessions: dict[str, PtySession] = {}
        computers.before_stop.append(self.end_for_computer)

    def get(self, terminal_id: str) -> PtySession | None:
        return self._sessions.get(terminal_id)

    def sessions_for(self, computer_id: str) -> list[PtySession]:
        return [s for s in self._sessions.values() if s.computer_id == computer_id]

    # creation and tokens -----------------------------------------------------------------

    async def open(
        self, id_or_name: str, terminal_id: str | None, legacy: bool = False
    ) -> tuple[PtySession, str, str]:
        """Create a session (or find the one to reattach); return it with a fresh token."""
        row, sandbox = await self.computers.running_sandbox(id_or_name, "open a terminal")
        if terminal_id is not None:
            session = self._sessions.get(terminal_id)
            if session is None or session.computer_id != row["id"]:
                raise ApiError(
                    404,
                    f"Terminal '{terminal_id}' not found on computer '{row['name']}'; "
                    "it may have exited. Open a new one.",
                )
        else:
            pty = await sandbox.open_pty(80, 24)
            session = PtySession(new_id("term"), row["id"], pty, 80, 24, legacy=legacy)
            self._sessions[session.terminal_id] = session
            self._start_reading(session)
        token = secrets.token_urlsafe(32)
        now = time.time()
        expires = now + self.token_ttl
        session.tokens = {t: exp for t, exp in session.tokens.items() if exp > now}
        session.tokens[token] = expires
        return session, token, _iso(expires)

    def redeem(self, terminal_id: str, token: str) -> PtySession | None:
        """The session if ``token`` was issued for it and has not expired."""
        session = self._sessions.get(terminal_id)
        if session is None or session.ended.is_set():
            return None
        now = time.time()
        for known, expires in session.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()) and expires > now:
                return session
        return None

    # PTY I/O -----------------------------------------------------------------------------

    def _start_reading(self, session: PtySession) -> None:
        os.set_blocking(session.pty.master_fd, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(session.pty.master_fd, self._on_readable, session)
        session.exit_watcher = loop.create_task(self._await_exit(session))

    def _on_readable(self, session: PtySession) -> None:
        try:
            data = os.read(session.pty.master_fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                log.debug("terminal %s read failed: %s", session.terminal_id, exc)
            data = b""
        if not data:
            self._stop_reading(session)
            return
        session.replay += data
        if len(session.replay) > REPLAY_BYTES:
            del session.replay[: len(session.replay) - REPLAY_BYTES]
        for attachment in session.attachments:
            attachment.pending += len(data)
            attachment.queue.put_nowait(data)
            if attachment.pending > PAUSE_AT_BYTES and not session._paused:
                session._paused = True
                asyncio.get_running_loop().remove_reader(session.pty.master_fd)

    def _stop_reading(self, session: PtySession) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(session.pty.master_fd)
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_writer(session.pty.master_fd)

    def _resume_if_drained(self, session: PtySession) -> None:
        if session._paused and all(a.pending <= PAUSE_AT_BYTES // 2 for a in session.attachments):
            session._paused = False
            if not session.ended.is_set():
                asyncio.get_running_loop().add_reader(
                    session.pty.master_fd, self._on_readable, session
                )

    async def _await_exit(self, session: PtySession) -> None:
        code = await session.pty.wait()
        # Let the reader drain what the shell printed last.
        await asyncio.sleep(0.05)
        with contextlib.suppress(OSError):
            while True:
                data = os.read(session.pty.master_fd, READ_CHUNK)
                if not data:
                    break
                for attachment in session.attachments:
                    attachment.queue.put_nowait(data)
        self._end(session, code)

    def _end(self, session: PtySession, code: int | None) -> None:
        if session.ended.is_set():
            return
        session.exit_code = code
        self._stop_reading(session)
        with contextlib.suppress(OSError):
            os.close(session.pty.master_fd)
        session.ended.set()
        for attachment in session.attachments:
            attachment.queue.put_nowait(None)
        self._sessions.pop(session.terminal_id, None)

    def write(self, session: PtySession, data: bytes) -> None:
        if session.ended.is_set() or not data:
            return
        session._input += data
        self._flush_input(session)

    def _flush_input(self, session: PtySession) -> None:
        loop = asyncio.get_running_loop()
        try:
            written = os.write(session.pty.master_fd, bytes(session._input))
        except BlockingIOError:
            written = 0
        except OSError:
            session._input.clear()
            return
        del session._input[:written]
        if session._input:
            loop.add_writer(session.pty.master_fd, self._flush_input, session)
        else:
            with contextlib.suppress(Exception):
                loop.remove_writer(session.pty.master_fd)

    def resize(self, session: PtySession, cols: int, rows: int) -> None:
        session.cols, session.rows = _clamp(cols), _clamp(rows)
        if session.ended.is_set():
            return
        with contextlib.suppress(OSError):
            fcntl.ioctl(
                session.pty.master_fd,
                termios.TIOCSWINSZ,
                struct.pack("HHHH", session.rows, session.cols, 0, 0),
            )

    def kill(self, session: PtySession) -> None:
        with contextlib.suppress(Exception):
            session.pty.kill()

    # attachments -------------------------------------------------------------------------

    def attach(self, session: PtySession, send: Callable[[bytes], Awaitable[None]]) -> Attachment:
        attachment = Attachment(send)
        if session.replay:
            attachment.queue.put_nowait(_replay_from_line_start(bytes(session.replay)))
        session.attachments.append(attachment)
        if session.ended.is_set():
            attachment.queue.put_nowait(None)
        return attachment

    def detach(self, session: PtySession, attachment: Attachment) -> None:
        with contextlib.suppress(ValueError):
            session.attachments.remove(attachment)
        self._resume_if_drained(session)

    async def pump(self, session: PtySession, attachment: Attachment) -> None:
        """Send queued output to one attachment until the shell ends."""
        while True:
            data = await attachment.queue.get()
            if data is None:
                return
            attachment.pending = max(0, attachment.pending - len(data))
            self._resume_if_drained(session)
            for start in range(0, len(data), READ_CHUNK):
                await attachment.send(data[start : start + READ_CHUNK])

    async def end_for_computer(self, computer_id: str) -> None:
        for session in self.sessions_for(computer_id):
            self.kill(session)
            self._end(session, None)

    async def shutdown(self) -> None:
        for session in list(self._sessions.values()):
            self.kill(session)
            self._end(session, None)


def _replay_from_line_start(data: bytes) -> bytes:
    """Cut replayed output at a line start so it never begins mid escape sequence."""
    if len(data) < REPLAY_BYTES:
        return data
    newline = data.find(b"\n")
    return data[newline + 1 :] if newline >= 0 else data
