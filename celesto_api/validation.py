"""Client-side validation: every range of the contract is checked before a request is sent.

Each check raises :class:`CelestoValidationError` naming the parameter (as the caller spelled
it) and the allowed range, e.g. ``cpus must be between 1 and 16 (got 17)``. Public: the CLI
and the dashboard check what users type with the same rules, before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import limits
from .exceptions import CelestoValidationError

_TERMINAL_ID_RE = re.compile(limits.TERMINAL_ID_PATTERN)
_DISK_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def _fail(field: str, message: str) -> CelestoValidationError:
    return CelestoValidationError(message, field=field)


def int_in_range(field: str, value: object, low: int, high: int) -> int:
    # bool is an int subclass, but True as a CPU count is almost certainly a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"{field} must be an integer between {low} and {high} (got {value!r})")
    if not low <= value <= high:
        raise _fail(field, f"{field} must be between {low} and {high} (got {value})")
    return value


def optional_int_in_range(field: str, value: object, low: int, high: int) -> int | None:
    return None if value is None else int_in_range(field, value, low, high)


def string_field(field: str, value: object, *, max_chars: int, min_chars: int = 1) -> str:
    if not isinstance(value, str):
        raise _fail(field, f"{field} must be a string (got {type(value).__name__})")
    if not min_chars <= len(value) <= max_chars:
        raise _fail(
            field,
            f"{field} must be {min_chars} to {max_chars} characters long (got {len(value)})",
        )
    return value


def optional_string_field(field: str, value: object, *, max_chars: int) -> str | None:
    return None if value is None else string_field(field, value, max_chars=max_chars)


def one_of(field: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise _fail(field, f"{field} must be one of {choices} (got {value!r})")
    return value


def computer_ref(value: object, field: str = "computer_id") -> str:
    """A computer id (``cmp_…``) or name: any non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, f"{field} must be a non-empty computer id or name (got {value!r})")
    return value


def parse_disk_mb(value: object, field: str = "disk") -> int:
    """Disk size in MB from an int (MB) or a string such as ``"2gb"`` or ``"512 MiB"``."""
    if isinstance(value, str):
        match = _DISK_RE.match(value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in limits.DISK_UNIT_MB:
            raise _fail(
                field,
                f"{field} must be a size in MB or a string like '2gb' "
                f"(units: m, mb, mib, g, gb, gib, t, tb, tib) (got {value!r})",
            )
        megabytes = float(match.group(1)) * limits.DISK_UNIT_MB[unit]
        if not megabytes.is_integer():
            raise _fail(field, f"{field} must be a whole number of MB (got {value!r})")
        value = int(megabytes)
    return int_in_range(field, value, limits.DISK_MIN_MB, limits.DISK_MAX_MB)


def network_policy(value: object) -> dict[str, str]:
    """``"open"``/``"off"`` or ``{"mode": ...}`` → the wire object ``{"mode": ...}``."""
    mode = value.get("mode") if isinstance(value, Mapping) else value
    return {"mode": one_of("network_policy", mode, limits.NETWORK_POLICY_MODES)}


def command(value: object) -> str:
    text = string_field(
        "command", value, min_chars=limits.COMMAND_MIN_CHARS, max_chars=limits.COMMAND_MAX_CHARS
    )
    if not text.strip():
        raise _fail("command", "command must not be blank")
    return text


def exec_timeout(value: object) -> int:
    return int_in_range("timeout", value, limits.EXEC_TIMEOUT_MIN, limits.EXEC_TIMEOUT_MAX)


def port(value: object) -> int:
    return int_in_range("port", value, limits.PORT_MIN, limits.PORT_MAX)


def terminal_id(value: object) -> str:
    text = string_field(
        "terminal_id",
        value,
        min_chars=limits.TERMINAL_ID_MIN_CHARS,
        max_chars=limits.TERMINAL_ID_MAX_CHARS,
    )
    if not _TERMINAL_ID_RE.match(text):
        raise _fail(
            "terminal_id",
            f"terminal_id must look like 'term_…' (letters, digits, '_' or '-') (got {text!r})",
        )
    return text


def terminal_size(cols: object, rows: object) -> tuple[int, int]:
    """Terminal sizes are clamped to at least 1, as the official clients do."""
    for field, value in (("cols", cols), ("rows", rows)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(field, f"{field} must be an integer (got {value!r})")
    assert isinstance(cols, int) and isinstance(rows, int)
    return max(1, cols), max(1, rows)


def computer_ids(values: object) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise _fail("computer_ids", "computer_ids must be a list of computer ids")
    count = len(values)
    low, high = limits.BULK_DELETE_MIN_IDS, limits.BULK_DELETE_MAX_IDS
    if not low <= count <= high:
        raise _fail(
            "computer_ids", f"computer_ids must hold between {low} and {high} ids (got {count})"
        )
    return [computer_ref(value, "computer_ids") for value in values]


def pick_alias(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """Merge a parameter given under its SDK name and its wire alias (``cpus``/``vcpus``)."""
    if value is not None and alias_value is not None and value != alias_value:
        raise _fail(
            name,
            f"{name} and {alias} are the same setting; give one of them "
            f"(got {name}={value!r}, {alias}={alias_value!r})",
        )
    return value if value is not None else alias_value


def deploy_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("name", f"name must be a non-empty string (got {value!r})")
    return value


def env_mapping(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(
            "envs", f"envs must be a mapping of names to values (got {type(value).__name__})"
        )
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise _fail("envs", f"envs keys must be non-empty strings (got {key!r})")
        if not isinstance(item, str):
            raise _fail("envs", f"envs[{key!r}] must be a string (got {type(item).__name__})")
        result[key] = item
    return result
