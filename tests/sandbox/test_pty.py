"""Interactive shells on a PTY created inside the sandbox."""

from __future__ import annotations

import fcntl
import os
import struct
import termios

from .conftest import Harness
from .helpers import Screen, eventually, host_processes_with, unique_sleep


async def test_shell_echo_ctrl_c_resize_and_exit(harness: Harness) -> None:
    sandbox = await harness.start()
    pty = await sandbox.open_pty(100, 30)
    screen = Screen(pty)
    try:
        screen.write(b"echo hi-$((40+2))\r")
        await screen.expect("hi-42")
        screen.write(b"stty size; tty\r")
        await screen.expect("30 100")
        await screen.expect("/dev/pts/")
        command = unique_sleep(100)
        screen.write(f"{command}\r".encode())
        await screen.expect(command)
        # bash hands the terminal to the child before it execs sleep: once sleep runs, ^C
        # goes to it.
        await eventually(lambda: host_processes_with(command))
        screen.write(b"\x03")
        screen.write(b"echo rc=$?\r")
        await screen.expect("rc=130")
        fcntl.ioctl(pty.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 0))
        screen.write(b"stty size\r")
        await screen.expect("50 132")
        screen.write(b"echo $TERM $COLORTERM\r")
        await screen.expect("xterm-256color truecolor")
        screen.write(b"exit 7\r")
        assert await pty.wait() == 7
    finally:
        os.close(pty.master_fd)


async def test_kill_hangs_the_session_up(harness: Harness) -> None:
    sandbox = await harness.start()
    baseline = (await sandbox.stats()).process_count
    pty = await sandbox.open_pty(80, 24)
    screen = Screen(pty)
    try:
        screen.write(b"sleep 300 & trap '' HUP; echo ready\r")
        await screen.expect("ready")
        pty.kill()
        code = await pty.wait()
        assert code in (128 + 1, 128 + 9), code
    finally:
        os.close(pty.master_fd)
    # The shell ignored SIGHUP, so the 1 s SIGKILL finished the session, background job too.
    assert (await sandbox.stats()).process_count == baseline


async def test_pty_ends_when_the_sandbox_stops(harness: Harness) -> None:
    sandbox = await harness.start()
    pty = await sandbox.open_pty(80, 24)
    try:
        await sandbox.stop()
        assert await pty.wait() in (-1, 137)
    finally:
        os.close(pty.master_fd)


async def test_resize_helper_and_close(harness: Harness) -> None:
    sandbox = await harness.start()
    pty = await sandbox.open_pty(80, 24)
    screen = Screen(pty)
    try:
        pty.resize(120, 40)  # type: ignore[attr-defined]
        screen.write(b"stty size\r")
        await screen.expect("40 120")
        pty.close()  # type: ignore[attr-defined]
        assert await pty.wait() == -1
    finally:
        os.close(pty.master_fd)
