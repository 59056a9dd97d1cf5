"""Host side of the agent protocol (see agent.py), shared by every driver.

All functions must run on the event loop that owns the sandbox: readiness is awaited with
``loop.add_reader`` because asyncio's ``sock_*`` helpers cannot carry SCM_RIGHTS fds.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import socket
import struct
import termios
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal

from ..stage_timing import mark
from .base import ExecEvent, ExecExit, ExecOutput, ExecStarted, SandboxError, SandboxStats

REPLY_TIMEOUT = 30.0
STATS_TIMEOUT = 120.0
READ_CHUNK = 65536
# Replies are small JSON objects (exec output travels through pipes, not in the line).
MAX_REPLY_LINE = 1 << 20
MAX_READ_PER_TICK = 4 * READ_CHUNK
MAX_HELD_FDS = 8
# After the exit message only what is already buffered is read; this bounds a chatty
# background child that keeps the pipe full.
MAX_DRAIN = 4 << 20

Stream = Literal["stdout", "stderr"]


async def wait_readable(fds: Sequence[int]) -> list[int]:
    """Wait until at least one of ``fds`` is readable; return the ready ones."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    ready: list[int] = []

    def on_ready(fd: int) -> None:
        ready.append(fd)
        if not done.done():
            done.set_result(None)

    for fd in fds:
        loop.add_reader(fd, on_ready, fd)
    try:
        await done
    finally:
        for fd in fds:
            loop.remove_reader(fd)
    return ready


class AgentProtocolError(SandboxError):
    """The agent broke the protocol (an over-long or malformed reply, an fd flood). Only a
    taken-over agent does that, so its sandbox is no longer trusted."""


class AgentChannel:
    """One connection to the agent: JSON lines out and in, fds attached via SCM_RIGHTS.

    Replies are bounded: a line longer than ``MAX_REPLY_LINE`` or that is not a JSON object,
    or more than ``MAX_HELD_FDS`` fds, raise :class:`AgentProtocolError` (and call
    ``on_broken``). Each read takes at most ``MAX_READ_PER_TICK`` bytes, so a flooding peer
    cannot keep the event loop from other work."""

    def __init__(self, sock: socket.socket, on_broken: Callable[[str], None] | None = None) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf already known to hold no newline
        self._fds: list[int] = []
        self._eof = False
        self._on_broken = on_broken

    @classmethod
    async def open(cls, path: str, on_broken: Callable[[str], None] | None = None) -> AgentChannel:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, path)
        except OSError as exc:
            sock.close()
            raise SandboxError(f"sandbox agent is not reachable: {exc}") from exc
        return cls(sock, on_broken)

    def fileno(self) -> int:
        return self.sock.fileno()

    async def send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        try:
            sent = socket.send_fds(self.sock, [data], list(fds)) if fds else self.sock.send(data)
            if sent < len(data):
                await asyncio.get_running_loop().sock_sendall(self.sock, data[sent:])
        except OSError as exc:
            raise SandboxError(f"sandbox agent connection failed: {exc}") from exc

    def _broken(self, reason: str) -> AgentProtocolError:
        self._eof = True
        self._buf.clear()
        if self._on_broken is not None:
            self._on_broken(reason)
        return AgentProtocolError(f"the sandbox agent {reason}")

    def _fill(self) -> None:
        """Read what is available without blocking, up to one tick's worth."""
        taken = 0
        while not self._eof and taken < MAX_READ_PER_TICK:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, READ_CHUNK, MAX_HELD_FDS)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            self._fds.extend(fds)
            if len(self._fds) > MAX_HELD_FDS:
                raise self._broken(f"sent more than {MAX_HELD_FDS} file descriptors")
            if not data:
                self._eof = True
                return
            self._buf += data
            taken += len(data)
            if b"\n" in data:
                return

    def _line_end(self) -> int:
        end = self._buf.find(b"\n", self._scanned)
        self._scanned = len(self._buf) if end < 0 else end
        if end > MAX_REPLY_LINE or (end < 0 and len(self._buf) > MAX_REPLY_LINE):
            raise self._broken(f"sent a reply longer than {MAX_REPLY_LINE} bytes")
        return end

    def poll(self) -> dict[str, Any] | None:
        """The next complete message if one is buffered (reading what is available)."""
        end = self._line_end()
        if end < 0:
            self._fill()
            end = self._line_end()
        if end < 0:
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 1]
        self._scanned = 0
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
            message = None
        if not isinstance(message, dict):
            raise self._broken("sent a malformed reply")
        return message

    def number(self, message: dict[str, Any], key: str) -> int:
        """An integer field of a reply; anything else breaks the protocol."""
        value = message.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._broken(f"sent a malformed reply ({key!r} is not an integer)")
        return value

    def amount(self, message: dict[str, Any], key: str) -> float:
        value = message.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._broken(f"sent a malformed reply ({key!r} is not a number)")
        return float(value)

    def flag(self, message: dict[str, Any], key: str) -> bool:
        value = message.get(key)
        if not isinstance(value, bool):
            raise self._broken(f"sent a malformed reply ({key!r} is not a boolean)")
        return value

    @property
    def at_eof(self) -> bool:
        return self._eof and b"\n" not in self._buf

    async def recv(self, timeout: float | None = REPLY_TIMEOUT) -> dict[str, Any] | None:
        """The next message, or None once the agent closed the connection."""
        async with asyncio.timeout(timeout):
            while True:
                message = self.poll()
                if message is not None:
                    return message
                if self._eof:
                    return None
                await wait_readable([self.fileno()])

    def take_fds(self) -> list[int]:
        fds, self._fds = self._fds, []
        return fds

    def close(self) -> None:
        for fd in self.take_fds():
            os.close(fd)
        self.sock.close()


def _raise_for_error(message: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if message is None:
        raise SandboxError(f"sandbox agent closed the connection during {what}")
    if "error" in message:
        raise SandboxError(
            f"{what} failed in sandbox: {message.get('message') or message['error']}"
        )
    return message


class AgentPty:
    """A shell on a PTY inside the sandbox. ``master_fd`` is non-blocking and owned by the
    caller (close it yourself); this object owns only the control connection."""

    def __init__(self, master_fd: int, pid: int, channel: AgentChannel) -> None:
        self.master_fd = master_fd
        self.pid = pid
        self._channel = channel
        self._code: int | None = None
        self._lock = asyncio.Lock()
        self._waiting = False

    async def wait(self) -> int:
        """The shell's exit code (128+signal when killed); -1 if the sandbox went away."""
        async with self._lock:
            if self._code is None:
                self._waiting = True
                try:
                    message = await self._channel.recv(timeout=None)
                    if message is not None and "exit" in message:
                        self._code = self._channel.number(message, "exit")
                except (OSError, ValueError, SandboxError):
                    message = None
                finally:
                    self._waiting = False
                if self._code is None:
                    self._code = -1
                self._channel.close()
            return self._code

    def kill(self) -> None:
        """Hang the session up: SIGHUP now, SIGKILL after 1 s. ``wait()`` still reports."""
        if self._code is None:
            with contextlib.suppress(OSError):
                self._channel.sock.shutdown(socket.SHUT_WR)

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self) -> None:
        """Release the control connection (hangs the session up if it still runs)."""
        if self._code is not None:
            return
        if self._waiting:
            with contextlib.suppress(OSError):
                self._channel.sock.shutdown(socket.SHUT_RDWR)
        else:
            self._code = -1
            self._channel.close()


class AgentClient:
    """Talks to one sandbox's agent through its AF_UNIX socket path."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        # Set once the agent broke the protocol; every later request fails at once.
        self.broken: str | None = None
        self.on_broken: Callable[[str], None] | None = None

    def _mark_broken(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason
            if self.on_broken is not None:
                self.on_broken(reason)

    async def _request(self, message: dict[str, Any], fds: Sequence[int] = ()) -> AgentChannel:
        if self.broken is not None:
            raise AgentProtocolError(f"the sandbox agent {self.broken}")
        channel = await AgentChannel.open(self.socket_path, self._mark_broken)
        try:
            await channel.send(message, fds)
        except BaseException:
            channel.close()
            raise
        return channel

    async def ping(self, timeout: float = REPLY_TIMEOUT) -> int:
        """The agent's pid (1 inside a PID namespace)."""
        channel = await self._request({"op": "ping"})
        try:
            reply = _raise_for_error(await channel.recv(timeout), "ping")
            return channel.number(reply, "pid")
        finally:
            channel.close()

    async def exec(
        self, command: str, timeout: float, env: dict[str, str] | None = None
    ) -> AsyncIterator[ExecEvent]:
        """Run ``/bin/sh -c command``; ``timeout <= 0`` means none. Closing the iterator
        early kills the command's process group."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        pipes: dict[int, Stream] = {out_r: "stdout", err_r: "stderr"}
        channel: AgentChannel | None = None
        try:
            try:
                request = {"op": "exec", "command": command, "timeout": timeout, "env": env or {}}
                channel = await self._request(request, [null, out_w, err_w])
                mark("request")
            finally:
                for fd in (null, out_w, err_w):
                    os.close(fd)
            for fd in pipes:
                os.set_blocking(fd, False)
            started = _raise_for_error(await channel.recv(), "exec")
            yield ExecStarted(pid=channel.number(started, "pid"))
            while True:
                # The exit message may already be buffered (it can arrive with the pid).
                message = channel.poll()
                if message is None and channel.at_eof:
                    raise SandboxError("sandbox stopped while the command was running")
                if message is not None:
                    code = channel.number(message, "exit")
                    timed_out = channel.flag(message, "timed_out")
                    for fd, stream in pipes.items():
                        for chunk in _drain(fd):
                            yield ExecOutput(stream=stream, data=chunk)
                    yield ExecExit(exit_code=code, timed_out=timed_out)
                    return
                ready = await wait_readable([*pipes, channel.fileno()])
                for fd in [fd for fd in pipes if fd in ready]:
                    data = _read_some(fd)
                    if data is None:
                        continue
                    if not data:
                        os.close(fd)
                        del pipes[fd]
                        continue
                    yield ExecOutput(stream=pipes[fd], data=data)
        finally:
            for fd in pipes:
                os.close(fd)
            if channel is not None:
                channel.close()

    async def open_pty(self, cols: int, rows: int, env: dict[str, str] | None = None) -> AgentPty:
        channel = await self._request({"op": "pty", "cols": cols, "rows": rows, "env": env or {}})
        try:
            reply = _raise_for_error(await channel.recv(), "pty")
            pid = channel.number(reply, "pid")
            fds = channel.take_fds()
            if not fds:
                raise SandboxError("sandbox agent sent no pty")
            for extra in fds[1:]:
                os.close(extra)
        except BaseException:
            channel.close()
            raise
        os.set_blocking(fds[0], False)
        return AgentPty(fds[0], pid, channel)

    async def connect(self, port: int) -> socket.socket:
        """A non-blocking TCP socket connected to 127.0.0.1:port (or [::1]:port) inside the
        sandbox. Raises ConnectionRefusedError (or another OSError) like a local connect."""
        if not 0 < port < 65536:
            raise ValueError(f"invalid port {port}")
        channel = await self._request({"op": "connect", "port": port})
        try:
            reply = await channel.recv()
            fds = channel.take_fds()
        finally:
            channel.close()
        if reply is not None and "errno" in reply and "ok" not in reply:
            for fd in fds:
                os.close(fd)
            code = channel.number(reply, "errno")
            raise OSError(code, os.strerror(code))
        _raise_for_error(reply, "connect")
        if not fds:
            raise SandboxError("sandbox agent sent no socket")
        for extra in fds[1:]:
            os.close(extra)
        sock = socket.socket(fileno=fds[0])
        sock.setblocking(False)
        return sock

    async def listen(self, port: int) -> socket.socket:
        """A non-blocking TCP socket listening on 127.0.0.1:port inside the sandbox."""
        if not 0 < port < 65536:
            raise ValueError(f"invalid port {port}")
        channel = await self._request({"op": "listen", "port": port})
        try:
            reply = _raise_for_error(await channel.recv(), "listen")
            fds = channel.take_fds()
        finally:
            channel.close()
        if not fds or "ok" not in reply:
            for fd in fds:
                os.close(fd)
            raise SandboxError("sandbox agent sent no listening socket")
        for extra in fds[1:]:
            os.close(extra)
        sock = socket.socket(fileno=fds[0])
        sock.setblocking(False)
        return sock

    async def stats(self) -> SandboxStats:
        channel = await self._request({"op": "stats"})
        try:
            reply = _raise_for_error(await channel.recv(STATS_TIMEOUT), "stats")
            return SandboxStats(
                cpu_seconds=channel.amount(reply, "cpu_seconds"),
                rss_bytes=channel.number(reply, "rss_bytes"),
                home_used_bytes=channel.number(reply, "home_used_bytes"),
                process_count=channel.number(reply, "process_count"),
            )
        finally:
            channel.close()


def _read_some(fd: int) -> bytes | None:
    """One read; None when nothing is available right now."""
    try:
        return os.read(fd, READ_CHUNK)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError as exc:
        if exc.errno == errno.EIO:
            return b""
        raise


def _drain(fd: int) -> list[bytes]:
    chunks: list[bytes] = []
    total = 0
    while total < MAX_DRAIN:
        data = _read_some(fd)
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return chunks
