"""Per-driver runtime directory: agent sockets and launcher logs, keyed by computer id."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

from .base import SandboxError

AGENT_SOURCE = Path(__file__).with_name("agent.py")
# sun_path holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


def computer_key(computer_id: str, scope: str = "") -> str:
    """A short, filesystem- and cgroup-safe name that is unique per computer id and
    ``scope`` (what tells apart two servers on one host that use the same id)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", computer_id)[:24].lstrip(".")
    digest = hashlib.sha256(f"{scope}\0{computer_id}".encode()).hexdigest()[:10]
    return f"{safe}-{digest}"


class RuntimeDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path, 0o700)

    def socket_path(self, computer_id: str) -> Path:
        return self.path / f"{computer_key(computer_id)}.sock"

    def log_path(self, computer_id: str) -> Path:
        return self.path / f"{computer_key(computer_id)}.log"

    def listen(self, computer_id: str) -> tuple[socket.socket, Path, tuple[int, int]]:
        """A fresh listening socket for the computer's agent (inherited by it), its path and
        the path's identity (so a later cleanup never removes a successor's socket)."""
        self.ensure()
        path = self.socket_path(computer_id)
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise SandboxError(f"runtime dir {self.path} is too long for AF_UNIX socket paths")
        path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)
            sock.listen(128)
            st = path.stat()
        except OSError:
            sock.close()
            raise
        return sock, path, (st.st_dev, st.st_ino)

    def open_log(self, computer_id: str) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        return os.open(self.log_path(computer_id), flags, 0o600)

    def log_tail(self, computer_id: str, limit: int = 2000) -> str:
        try:
            data = self.log_path(computer_id).read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode(errors="replace").strip()

    @staticmethod
    def remove_socket(path: Path, identity: tuple[int, int]) -> None:
        try:
            st = path.stat()
            if (st.st_dev, st.st_ino) == identity:
                path.unlink()
        except OSError:
            pass


def agent_source() -> bytes:
    return AGENT_SOURCE.read_bytes()
