"""What the sandbox's root filesystem is made of: host /usr and /etc (read-only), generated
identity files, and the interpreter that runs the agent."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

USR_SYMLINK_CANDIDATES = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
MIN_AGENT_PYTHON = (3, 9)
SANDBOX_HOME = "/home/user"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def computer_env(hostname: str, home: str = SANDBOX_HOME, user: str = "user") -> dict[str, str]:
    """The environment every computer starts with, whatever its isolation."""
    return {
        "PATH": SANDBOX_PATH,
        "HOME": home,
        "USER": user,
        "LOGNAME": user,
        "SHELL": login_shell(),
        "LANG": "C.UTF-8",
        "HOSTNAME": sandbox_hostname(hostname),
    }


def sandbox_hostname(hostname: str) -> str:
    """sethostname() takes at most 64 bytes."""
    name = hostname.encode()[:64].decode(errors="ignore").strip()
    return name or "computer"


def usr_args() -> list[str]:
    """Bind /usr read-only and mirror the merged-usr top-level links (or bind real dirs)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in USR_SYMLINK_CANDIDATES:
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def login_shell() -> str:
    return "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh"


def identity_files(hostname: str, uid: int = 1000) -> dict[str, bytes]:
    """/etc files naming the computer's ``uid`` ``user`` (1000 inside bwrap's namespace)."""
    shell = login_shell()
    return {
        "/etc/passwd": (
            f"root:x:0:0:root:/root:{shell}\n"
            f"user:x:{uid}:{uid}:user:/home/user:{shell}\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ).encode(),
        "/etc/group": f"root:x:0:\nuser:x:{uid}:\nnogroup:x:65534:\n".encode(),
        "/etc/hosts": (
            f"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        ).encode(),
        "/etc/hostname": f"{hostname}\n".encode(),
    }


@dataclass(frozen=True)
class AgentPython:
    executable: str
    # A prefix outside /usr that must be bound into the sandbox (pyenv, /opt, ...).
    extra_bind: str | None = None


def agent_python(sandbox_uid: int | None = None) -> AgentPython | None:
    """Prefer the system python3 (already visible via /usr); else the server's own
    interpreter with its prefix bound in, if the sandbox's host uid can reach it."""
    system = Path("/usr/bin/python3")
    if os.access(system, os.X_OK) and _version(system) >= MIN_AGENT_PYTHON:
        return AgentPython(str(system))
    own = Path(sys.executable).resolve()
    prefix = Path(sys.base_prefix).resolve()
    if sys.version_info < MIN_AGENT_PYTHON or not own.is_relative_to(prefix):
        return None
    if sandbox_uid is not None and not reachable_by_others(prefix):
        return None
    if prefix.is_relative_to("/usr"):
        return AgentPython(str(own))
    return AgentPython(str(own), str(prefix))


def _version(python: Path) -> tuple[int, int]:
    match = re.search(r"python(\d+)\.(\d+)$", os.path.realpath(python))
    if match:
        return int(match.group(1)), int(match.group(2))
    try:
        out = subprocess.run(
            [str(python), "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            timeout=10,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return (0, 0)


def reachable_by_others(path: Path) -> bool:
    """Whether a uid with no relation to the owners can traverse to ``path``."""
    current = Path("/")
    for part in path.parts[1:]:
        if not os.stat(current).st_mode & stat.S_IXOTH:
            return False
        current = current / part
    return bool(os.stat(current).st_mode & stat.S_IXOTH)
