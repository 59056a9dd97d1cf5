"""Dashboard settings from the user's config file (the SDK's ``config.toml``).

The dashboard only reads this file, never writes it::

    theme = "nord"            # default theme (the last one picked in the app wins)
    refresh = 5               # seconds between polls (0 = manual); --refresh wins

    [keymap]                  # binding id = keys (comma-separated for several)
    create = "ctrl+n"
    delete = "X"

    [profiles.prod]
    read_only = true          # this profile always opens read-only
    refresh = 10              # and polls less often

Problems (unknown ids, unsafe keys) do not stop the app: they are listed in its errors view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celesto_api import CelestoError
from celesto_api.config import config_path, load_config_file

from ..model.refresh import DEFAULT_REFRESH_S, refresh_problem
from .bindings import DESTRUCTIVE_IDS, IDS, unsafe_key


@dataclass
class Settings:
    keymap: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    read_only: bool = False
    refresh: float = DEFAULT_REFRESH_S
    problems: list[str] = field(default_factory=list)
    path: Path | None = None


def _keymap(raw: Any, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append('[keymap] must be a table of binding id = "keys"')
        return {}
    keymap: dict[str, str] = {}
    for binding_id, keys in raw.items():
        if binding_id not in IDS:
            problems.append(
                f"[keymap] {binding_id!r} is not a binding id (press ? to see them all)"
            )
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'[keymap] {binding_id} must be a key such as "ctrl+n"')
        elif binding_id in DESTRUCTIVE_IDS and (bad := unsafe_key(keys)):
            problems.append(
                f"[keymap] {binding_id} = {keys!r} ignored: destructive actions are never "
                f"bound to a single ctrl-key ({bad})"
            )
        else:
            keymap[binding_id] = ",".join(key.strip() for key in keys.split(","))
    return keymap


def load_settings(profile: str | None = None, path: Path | None = None) -> Settings:
    path = path or config_path()
    settings = Settings(path=path)
    try:
        data = load_config_file(path)
    except CelestoError as exc:
        settings.problems.append(str(exc))
        return settings
    settings.keymap = _keymap(data.get("keymap"), settings.problems)
    theme = data.get("theme")
    if isinstance(theme, str) and theme:
        settings.theme = theme
    _refresh(data, "refresh", settings)
    profiles = data.get("profiles")
    entry = profiles.get(profile) if isinstance(profiles, dict) and profile else None
    if isinstance(entry, dict):
        settings.read_only = entry.get("read_only") is True
        _refresh(entry, f"profiles.{profile}.refresh", settings)
    return settings


def _refresh(table: dict[str, Any], where: str, settings: Settings) -> None:
    if "refresh" not in table:
        return
    value = table["refresh"]
    problem = refresh_problem(value)
    if problem:
        settings.problems.append(f"{where} = {value!r} ignored: {problem}")
    else:
        settings.refresh = float(value)
