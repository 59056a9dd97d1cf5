"""What the probe looked at, as checks a person can read (``celesto-tui local doctor``)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from .base import Capability
from .privdrop import UID_BASE


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    text: str


def checks(capability: Capability) -> list[Check]:
    details = capability.details
    found: list[Check] = [
        Check("platform", True, f"{platform.system()} {platform.machine()} {platform.release()}")
    ]
    if os.geteuid() == 0:
        user = f"root: computers run as unprivileged host uids from {UID_BASE}"
    else:
        user = f"uid {os.geteuid()}: computers run as this user (mapped to uid 1000 inside)"
    found.append(Check("server user", True, user))
    knobs = [
        f"{name} = {details[name]}"
        for name in (
            "max_user_namespaces",
            "unprivileged_userns_clone",
            "apparmor_restrict_unprivileged_userns",
        )
        if name in details
    ]
    userns_ok = details.get("max_user_namespaces") != "0" and (
        details.get("unprivileged_userns_clone") != "0"
    )
    found.append(Check("user namespaces", userns_ok, ", ".join(knobs) or "no knobs found"))
    for missing in filter(None, details.get("bwrap_missing", "").split("; ")):
        found.append(Check("bwrap", True, f"{missing} (skipped)"))
    for refused in filter(None, details.get("bwrap_refused", "").split("; ")):
        found.append(Check("bwrap", False, f"refused: {refused}"))
    if "bwrap_description" in details:
        found.append(Check("bwrap", True, f"works: {details['bwrap_description']}"))
    python = details.get("agent_python")
    found.append(
        Check("agent python", python is not None, python or "none usable inside a sandbox")
    )
    cgroups = capability.cgroups
    found.append(
        Check(
            "limits",
            True,
            f"cgroups {cgroups} (memory, cpu, pids)"
            if cgroups
            else "rlimits (no writable cgroups)",
        )
    )
    found.append(Check("isolation", capability.isolated, capability.summary()))
    return found
