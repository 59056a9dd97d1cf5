"""``attach_raw`` as the dashboard's pop-out will call it: with the ``POST .../terminals``
answer, on a terminal of its own, from a thread other than the main one (so resizes are
polled instead of signalled)."""

from __future__ import annotations

import os
import re
import select
import termios
import threading
import time
from concurrent.futures import Future
from typing import Any

from celesto_api import Celesto
from celesto_tui.terminal.attach import AttachResult, attach_raw
from tests.waiting import wait_until

from .helpers import Terminal


def read_until(fd: int, pattern: str, seen: list[str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, seen[0]):
        assert time.monotonic() < deadline, f"{pattern!r} not in {seen[0][-400:]!r}"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            seen[0] += os.read(fd, 65536).decode(errors="replace")


def test_attach_from_session_info_in_a_worker_thread(
    sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    master, slave = os.openpty()
    Terminal.set_size_of(slave, 24, 80)
    before = termios.tcgetattr(slave)
    info = sdk.computers.terminal(running_computer["id"])
    result: Future[AttachResult] = Future()

    def attach() -> None:
        try:
            result.set_result(attach_raw(info, stdin_fd=slave, stdout_fd=slave))
        except BaseException as exc:
            result.set_exception(exc)

    worker = threading.Thread(target=attach, daemon=True)
    worker.start()
    seen = [""]
    try:
        os.write(master, b"echo from-thread-$((2*21))\r")
        read_until(master, "from-thread-42", seen)
        Terminal.set_size_of(slave, 30, 90)

        def size_arrived() -> bool:
            """No SIGWINCH off the main thread: the attach polls the size, so ask until the
            remote shell has it."""
            os.write(master, b"stty size\r")
            try:
                read_until(master, "30 90", seen, timeout=1)
            except AssertionError:
                return False
            return True

        wait_until(size_arrived, what="the new size to reach the remote shell")
        os.write(master, b"\x1d")
        outcome = result.result(timeout=15)
        assert outcome == AttachResult(detached=True, terminal_id=info["terminal_id"])
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
