"""Sandboxes for the embedded local backend (bubblewrap, or a plain-process fallback)."""

from __future__ import annotations

from pathlib import Path

from .base import (
    Capability,
    ExecEvent,
    ExecExit,
    ExecOutput,
    ExecStarted,
    IsolationChoice,
    IsolationLevel,
    PtyProcess,
    Sandbox,
    SandboxDriver,
    SandboxError,
    SandboxSpec,
    SandboxStats,
)
from .bwrap import BwrapDriver
from .probe import probe
from .process import ProcessDriver

__all__ = [
    "BwrapDriver",
    "Capability",
    "ExecEvent",
    "ExecExit",
    "ExecOutput",
    "ExecStarted",
    "IsolationChoice",
    "IsolationLevel",
    "ProcessDriver",
    "PtyProcess",
    "Sandbox",
    "SandboxDriver",
    "SandboxError",
    "SandboxSpec",
    "SandboxStats",
    "make_driver",
    "probe",
]


def make_driver(
    isolation: IsolationChoice, runtime_dir: Path, bwrap: str | None = None
) -> SandboxDriver:
    """``auto`` picks what the probe found; ``bwrap`` fails loudly when it is unusable.
    ``bwrap`` is an explicit executable to try before the system's and the bundled one."""
    if isolation == "process":
        return ProcessDriver(runtime_dir, capability=probe(bwrap))
    capability = probe(bwrap)
    if capability.level == "bwrap":
        return BwrapDriver(runtime_dir, capability=capability)
    if isolation == "bwrap":
        raise SandboxError(f"bubblewrap isolation is unavailable: {capability.reason}")
    return ProcessDriver(runtime_dir, capability=capability)
