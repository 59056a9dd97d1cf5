"""The dashboard's poll interval: one rule for ``--refresh`` and the config file's
``refresh`` (kept free of Textual, so the CLI can check it without importing it)."""

from __future__ import annotations

DEFAULT_REFRESH_S = 2.0
# Below this the dashboard would poll the API several times a second for no visible gain.
MIN_REFRESH_S = 0.5
MAX_REFRESH_S = 3600.0


def refresh_problem(value: object) -> str | None:
    """Why ``value`` is not a refresh interval, or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number of seconds"
    if value != 0 and not MIN_REFRESH_S <= value <= MAX_REFRESH_S:
        return f"must be 0 (manual) or between {MIN_REFRESH_S:g} and {MAX_REFRESH_S:g} seconds"
    return None
