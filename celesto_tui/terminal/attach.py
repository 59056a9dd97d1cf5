"""Attach this process's terminal to a remote shell, like ``ssh`` does.

:func:`attach_raw` puts the local tty in raw mode (every key, Ctrl+C included, goes to the
remote shell), copies output to the screen from a background thread, forwards the window
size at start and on every ``SIGWINCH``, and returns when the user presses Ctrl+] (the
shell keeps running; attach again with its ``terminal_id``) or the remote shell ends.
The tty is restored on every way out, including exceptions and SIGTERM/SIGHUP.

``celesto-tui computer ssh`` uses it, and so does the dashboard's terminal pop-out (inside
``App.suspend()``), so both behave the same.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import threading
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from celesto_api import CelestoError, SyncTerminalSession, TerminalSessionInfo, limits

__all__ = ["DETACH_KEY", "AttachResult", "attach_raw", "terminal_size"]

DETACH_KEY = b"\x1d"  # Ctrl+]
READ_SIZE = 65536
# Without a SIGWINCH handler (not on the main thread) the size is polled this often.
RESIZE_POLL_S = 0.25
# How long a failed send waits to learn whether the remote side simply ended.
SEND_FAILURE_GRACE_S = 1.0
OUTPUT_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class AttachResult:
    detached: bool  # True: the user pressed the detach key; False: the remote shell ended
    terminal_id: str | None


def terminal_size(*fds: int) -> tuple[int, int]:
    """``(cols, rows)`` of the first fd that is a terminal, else 80x24."""
    for fd in fds:
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        if size.columns > 0 and size.lines > 0:
            return size.columns, size.lines
    return limits.TERMINAL_DEFAULT_COLS, limits.TERMINAL_DEFAULT_ROWS


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


class _Wakeup:
    """A self-pipe that wakes the input loop (output ended, window resized)."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def notify(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self.write_fd, b"!")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.read_fd, 4096):
                pass

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class _OutputPump(threading.Thread):
    """Copies the session's output to ``fd`` until the session closes."""

    def __init__(self, session: SyncTerminalSession, fd: int, wakeup: _Wakeup) -> None:
        super().__init__(name="terminal-output", daemon=True)
        self.session = session
        self.fd = fd
        self.wakeup = wakeup
        self.error: Exception | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            while chunk := self.session.recv():
                _write_all(self.fd, chunk)
        except (CelestoError, OSError) as exc:
            self.error = exc
        finally:
            self.finished.set()
            self.wakeup.notify()


@contextlib.contextmanager
def _raw_mode(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Unwinds through every `finally`, so the tty is restored before the process ends.
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _signal_handlers(wakeup: _Wakeup) -> Iterator[bool]:
    """SIGWINCH wakes the loop; SIGTERM/SIGHUP unwind cleanly. Yields whether resizes are
    signalled (handlers can only be set on the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return

    def on_resize(signum: int, frame: FrameType | None) -> None:
        wakeup.notify()

    previous = {signal.SIGWINCH: signal.signal(signal.SIGWINCH, on_resize)}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _terminate)
    try:
        yield True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _send_or_end(session: SyncTerminalSession, data: bytes, output: _OutputPump) -> bool:
    """Send keystrokes; False when the remote side has ended in the meantime."""
    try:
        session.send(data)
    except CelestoError:
        output.finished.wait(SEND_FAILURE_GRACE_S)
        if output.finished.is_set() and output.error is None:
            return False
        raise
    return True


def _forward_input(
    session: SyncTerminalSession,
    fds: tuple[int, int],
    wakeup: _Wakeup,
    output: _OutputPump,
    resizes_signalled: bool,
    detach_key: bytes,
) -> bool:
    """Copy keystrokes until the detach key (True) or the end of the session (False)."""
    stdin_fd, stdout_fd = fds
    size = terminal_size(stdout_fd, stdin_fd)
    stdin_open = True
    timeout = None if resizes_signalled else RESIZE_POLL_S
    while not output.finished.is_set():
        watched = [wakeup.read_fd, stdin_fd] if stdin_open else [wakeup.read_fd]
        ready, _, _ = select.select(watched, [], [], timeout)
        if wakeup.read_fd in ready:
            wakeup.drain()
        if output.finished.is_set():
            break
        current = terminal_size(stdout_fd, stdin_fd)
        if current != size:
            size = current
            session.resize(*size)
        if stdin_fd not in ready:
            continue
        data = os.read(stdin_fd, READ_SIZE)
        if not data:
            # End of input (a pipe): keep showing output until the remote side closes.
            stdin_open = False
            continue
        keys, detach, _ = data.partition(detach_key)
        if keys and not _send_or_end(session, keys, output):
            return False
        if detach:
            return True
    return False


def attach_raw(
    target: SyncTerminalSession | TerminalSessionInfo,
    *,
    stdin_fd: int | None = None,
    stdout_fd: int | None = None,
    detach_key: bytes = DETACH_KEY,
) -> AttachResult:
    """Attach the terminal on ``stdin_fd``/``stdout_fd`` (default: this process's) to a
    terminal session, given open or as the ``POST .../terminals`` answer.

    Returns when the user presses ``detach_key`` (the session is detached and the remote
    shell keeps running) or when the remote shell ends. Raises
    :class:`~celesto_api.CelestoNetworkError` when the connection breaks off.
    """
    stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    stdout_fd = sys.stdout.fileno() if stdout_fd is None else stdout_fd
    cols, rows = terminal_size(stdout_fd, stdin_fd)
    if isinstance(target, SyncTerminalSession):
        session = target
        session.resize(cols, rows)
    else:
        session = SyncTerminalSession.connect_gateway(
            target["gateway_url"],
            target["token"],
            terminal_id=target["terminal_id"],
            cols=cols,
            rows=rows,
        )
    sys.stdout.flush()
    sys.stderr.flush()
    wakeup = _Wakeup()
    output = _OutputPump(session, stdout_fd, wakeup)
    try:
        with _raw_mode(stdin_fd), _signal_handlers(wakeup) as resizes_signalled:
            output.start()
            try:
                detached = _forward_input(
                    session,
                    (stdin_fd, stdout_fd),
                    wakeup,
                    output,
                    resizes_signalled,
                    detach_key,
                )
            finally:
                if not session.closed:
                    session.detach()
                output.join(OUTPUT_JOIN_TIMEOUT_S)
    finally:
        if not output.is_alive():
            wakeup.close()
    if not detached and output.error is not None:
        raise output.error
    return AttachResult(detached=detached, terminal_id=session.terminal_id)
