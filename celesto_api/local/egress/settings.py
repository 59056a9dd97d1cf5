"""The ``[local.egress]`` table of config.toml, merged with ``local serve`` flags::

[local.egress]
allow = ["pypi.org", "files.pythonhosted.org", "github.com"]
deny = ["203.0.113.0/24"]
host_ports = [5432, 11434]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .policy import EgressPolicyError, Rules


@dataclass(frozen=True)
class EgressSettings:
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    host_ports: tuple[int, ...] = ()

    def merged(self, other: EgressSettings) -> EgressSettings:
        return EgressSettings(
            self.allow + other.allow, self.deny + other.deny, self.host_ports + other.host_ports
        )


def settings_from_config(config: dict[str, Any]) -> EgressSettings:
    """Read (and check) ``[local.egress]``; EgressPolicyError names the bad key."""
    local = config.get("local") or {}
    table = local.get("egress") if isinstance(local, dict) else None
    if table is None:
        return EgressSettings()
    if not isinstance(table, dict):
        raise EgressPolicyError("[local.egress] must be a table")
    unknown = sorted(set(table) - {"allow", "deny", "host_ports"})
    if unknown:
        raise EgressPolicyError(f"[local.egress] has unknown keys: {', '.join(unknown)}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("allow", "deny"):
        entries = table.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise EgressPolicyError(f"[local.egress] {key} must be a list of strings")
        Rules.parse(entries)
        lists[key] = tuple(entries)
    ports = table.get("host_ports", [])
    valid = isinstance(ports, list) and all(
        isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in ports
    )
    if not valid:
        raise EgressPolicyError("[local.egress] host_ports must be a list of ports (1-65535)")
    return EgressSettings(lists["allow"], lists["deny"], tuple(ports))
