"""Which sandbox level works on this host (bubblewrap or the plain-process fallback)."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import stat
import subprocess
from pathlib import Path

from .base import Capability
from .cgroups import detect_mode
from .privdrop import UID_BASE
from .rootfs import agent_python, usr_args

PROBE_TIMEOUT = 10.0


@functools.cache
def probe() -> Capability:
    """Detect the isolation level once per process (``probe.cache_clear()`` to redo it)."""
    cgroups = detect_mode()
    details: dict[str, str] = {"euid": str(os.geteuid())}
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Capability("process", None, cgroups, "bwrap is not installed", details)
    details["bwrap"] = bwrap
    if os.stat(bwrap).st_mode & stat.S_ISUID:
        details["bwrap_setuid"] = "yes"
    for knob in (
        "/proc/sys/user/max_user_namespaces",
        "/proc/sys/kernel/unprivileged_userns_clone",
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    ):
        with contextlib.suppress(OSError):
            details[Path(knob).name] = Path(knob).read_text().strip()
    if details.get("max_user_namespaces") == "0":
        return Capability("process", bwrap, cgroups, "user namespaces are disabled", details)
    drop_to = UID_BASE if os.geteuid() == 0 else None
    python = agent_python(drop_to)
    if python is None:
        reason = "no Python >= 3.9 usable inside the sandbox (install python3 in /usr)"
        return Capability("process", bwrap, cgroups, reason, details)
    details["agent_python"] = python.executable
    failure = _run_probe(bwrap, drop_to)
    if failure:
        details["probe_error"] = failure
        return Capability("process", bwrap, cgroups, f"bwrap does not work: {failure}", details)
    return Capability("bwrap", bwrap, cgroups, "", details)


def _run_probe(bwrap: str, drop_to: int | None) -> str:
    """Run a sandbox like the real ones (proc, dev, all namespaces, pid 1); '' on success."""
    argv = [
        bwrap,
        *usr_args(),
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
        "--unshare-all",
        "--uid", "1000",
        "--gid", "1000",
        "--new-session",
        "--as-pid-1",
        "--die-with-parent",
        "--unshare-user",
        "--disable-userns",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--", "true",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            user=drop_to,
            group=drop_to,
            extra_groups=[] if drop_to is not None else None,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if result.returncode != 0:
        return result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
    return ""
