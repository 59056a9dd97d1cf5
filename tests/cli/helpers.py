"""Running the CLI as a subprocess, and reading a terminal it draws on."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celesto_api import Celesto
from tests.waiting import wait_status

COMMAND_TIMEOUT_S = 90


@dataclass(frozen=True)
class Served:
    base_url: str
    api_key: str
    data_dir: Path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]


def clean_env(config_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CELESTO_")}
    env["CELESTO_CONFIG_DIR"] = str(config_dir)
    env.pop("CELESTO_TUI_DEBUG", None)
    return env


def celesto_tui(*args: str) -> list[str]:
    return [sys.executable, "-m", "celesto_tui", *args]


@dataclass
class Cli:
    """Runs ``celesto-tui ARGS --base-url ... --api-key ...`` and captures everything."""

    served: Served
    env: dict[str, str]

    def target_args(self) -> list[str]:
        return ["--base-url", self.served.base_url, "--api-key", self.served.api_key]

    def __call__(self, *args: str, input: str | None = None, target: bool = True) -> Result:
        command = celesto_tui(*args, *(self.target_args() if target else []))
        done = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=COMMAND_TIMEOUT_S,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        return Result(done.returncode, done.stdout, done.stderr)


def wait_for(sdk: Celesto, computer_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    return dict(wait_status(sdk, computer_id, status, timeout))


def stopped(sdk: Celesto, computer: dict[str, Any]) -> None:
    sdk.computers.stop(computer["id"])
    wait_for(sdk, computer["id"], "stopped")


class Terminal:
    """A process whose stdin, stdout and stderr are the slave side of a fresh PTY; the
    test plays the user at the master side."""

    def __init__(self, args: list[str], env: dict[str, str], rows: int = 24, cols: int = 80):
        self.master, self.slave = os.openpty()
        self.set_size(rows, cols)
        self.initial_modes = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen(
            args,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            start_new_session=True,
        )
        self.seen = ""
        self._mark = 0

    @staticmethod
    def set_size_of(fd: int, rows: int, cols: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def set_size(self, rows: int, cols: int) -> None:
        self.set_size_of(self.slave, rows, cols)

    def resize(self, rows: int, cols: int) -> None:
        """What a terminal emulator does when its window changes size."""
        self.set_size(rows, cols)
        self.process.send_signal(signal.SIGWINCH)

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.seen += chunk.decode("utf-8", errors="replace")
        return True

    def expect(self, pattern: str, timeout: float = 15) -> re.Match[str]:
        """Wait for ``pattern`` in the output that follows the previous match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.seen, self._mark)
            if match:
                self._mark = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} not seen; output ends with {self.seen[-600:]!r}")
            self._read(min(remaining, 0.2))

    def wait(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, "the process did not exit"
            self._read(0.05)
        while self._read(0.05):
            pass
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)
        os.close(self.slave)
