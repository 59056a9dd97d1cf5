"""Per-computer cgroups (root only): memory, cpu and pids limits under a ``celesto`` parent.

v1 was verified on the development machine; the v2 path follows the kernel documentation and
has not been exercised there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Literal

from .base import SandboxSpec

CgroupMode = Literal["v1", "v2"]

ROOT = Path("/sys/fs/cgroup")
PARENT = "celesto"
V1_CONTROLLERS = ("memory", "cpu", "pids")
CPU_PERIOD_US = 100_000
# bwrap's monitor process lives in the group next to the sandbox's processes.
LAUNCHER_PIDS = 1


def detect_mode() -> CgroupMode | None:
    """The cgroup flavour this process can create groups in, or None."""
    if os.geteuid() != 0:
        return None
    if (ROOT / "cgroup.controllers").exists():
        wanted = {"memory", "cpu", "pids"}
        available = set((ROOT / "cgroup.controllers").read_text().split())
        return "v2" if wanted <= available and _writable(ROOT) else None
    if all(_writable(ROOT / name) for name in V1_CONTROLLERS):
        return "v1"
    return None


def parse_mode(value: str | None) -> CgroupMode | None:
    """Narrow ``Capability.cgroups`` back to a mode."""
    if value == "v1":
        return "v1"
    if value == "v2":
        return "v2"
    return None


def _writable(path: Path) -> bool:
    try:
        return path.is_dir() and os.access(path, os.W_OK) and not _read_only(path)
    except OSError:
        return False


def _read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


class Cgroups:
    """The groups of one running computer. ``procs_files`` are what a launcher writes its
    pid into before exec'ing bwrap, so that everything in the sandbox inherits them."""

    def __init__(self, mode: CgroupMode, dirs: list[Path]) -> None:
        self.mode = mode
        self.dirs = dirs

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    @classmethod
    def create(cls, mode: CgroupMode, name: str, spec: SandboxSpec) -> Cgroups:
        memory = spec.ram_mb << 20
        quota = max(1, spec.vcpus) * CPU_PERIOD_US
        pids = spec.nproc + LAUNCHER_PIDS
        if mode == "v1":
            group = cls("v1", [ROOT / ctrl / PARENT / name for ctrl in V1_CONTROLLERS])
            try:
                for d in group.dirs:
                    d.mkdir(parents=True, exist_ok=True)
                    _kill_members(d)
                mem, cpu, pid = group.dirs
                _set_v1_memory(mem, memory)
                _write(cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
                _write(cpu / "cpu.cfs_quota_us", quota)
                _write(pid / "pids.max", pids)
            except OSError:
                group.remove_now()
                raise
            return group
        parent = ROOT / PARENT
        parent.mkdir(exist_ok=True)
        for d in (ROOT, parent):
            _write(d / "cgroup.subtree_control", "+memory +cpu +pids")
        group = cls("v2", [parent / name])
        try:
            d = group.dirs[0]
            d.mkdir(exist_ok=True)
            _kill_members(d)
            _write(d / "memory.max", memory)
            if (d / "memory.swap.max").exists():
                _write(d / "memory.swap.max", 0)
            _write(d / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            _write(d / "pids.max", pids)
        except OSError:
            group.remove_now()
            raise
        return group

    def remove_now(self) -> bool:
        """Try once to remove the groups; True when all are gone."""
        gone = True
        for d in self.dirs:
            if self.mode == "v2" and (d / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    _write(d / "cgroup.kill", 1)
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                gone = False
        return gone

    async def remove(self, attempts: int = 100) -> bool:
        """Remove the groups, waiting for exiting members (up to about a second)."""
        for _ in range(attempts):
            if self.remove_now():
                return True
            for d in self.dirs:
                _kill_members(d)
            await asyncio.sleep(0.01)
        return False


def sweep_stale(mode: CgroupMode, older_than: float = 60.0) -> int:
    """Remove empty per-computer groups left by a server that died (e.g. ``kill -9``).

    A running computer's group is never empty (its agent lives there); the age check keeps
    us away from a group another server has just created and not yet joined.
    """
    parents = [ROOT / PARENT] if mode == "v2" else [ROOT / c / PARENT for c in V1_CONTROLLERS]
    removed = 0
    cutoff = time.time() - older_than
    for parent in parents:
        try:
            groups = [d for d in parent.iterdir() if d.is_dir()]
        except OSError:
            continue
        for group in groups:
            try:
                if group.stat().st_mtime > cutoff or (group / "cgroup.procs").read_text():
                    continue
                group.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


def _write(path: Path, value: object) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _set_v1_memory(d: Path, limit: int) -> None:
    # memsw (memory+swap) must never be below the memory limit, so the order depends on
    # whether the limits go up or down.
    memsw = d / "memory.memsw.limit_in_bytes"
    if not memsw.exists():
        _write(d / "memory.limit_in_bytes", limit)
        return
    try:
        _write(d / "memory.limit_in_bytes", limit)
        _write(memsw, limit)
    except OSError:
        _write(memsw, limit)
        _write(d / "memory.limit_in_bytes", limit)


def _kill_members(d: Path) -> None:
    """Leftovers of an earlier run of the same computer (e.g. after a server crash)."""
    try:
        pids = (d / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
