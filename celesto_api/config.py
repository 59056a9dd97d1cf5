"""Where the API key, base URL and organization come from.

Each setting is resolved on its own: the constructor argument, else the environment
(``CELESTO_API_KEY``, ``CELESTO_BASE_URL``, ``CELESTO_ORGANIZATION_ID``), else the active
profile of ``config.toml`` in the platformdirs config dir (``CELESTO_CONFIG_DIR`` overrides
the dir, ``CELESTO_PROFILE`` picks the profile)::

    active_profile = "default"

    [profiles.default]
    api_key = "..."
    base_url = "https://api.celesto.ai"
    organization_id = "..."

Public: the CLI (``auth login``, ``--profile``) and the dashboard read and write the same file
through these functions.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from .exceptions import CelestoAuthenticationError, CelestoError, CelestoValidationError

APP_NAME = "celesto-tui"
CONFIG_FILE_NAME = "config.toml"
DEFAULT_BASE_URL = "https://api.celesto.ai"
DEFAULT_PROFILE = "default"

ENV_API_KEY = "CELESTO_API_KEY"
ENV_BASE_URL = "CELESTO_BASE_URL"
ENV_ORGANIZATION_ID = "CELESTO_ORGANIZATION_ID"
ENV_PROFILE = "CELESTO_PROFILE"
ENV_CONFIG_DIR = "CELESTO_CONFIG_DIR"


@dataclass(frozen=True)
class ClientConfig:
    api_key: str
    base_url: str
    organization_id: str | None = None
    profile: str | None = None

    def __repr__(self) -> str:
        return (
            f"ClientConfig(base_url={self.base_url!r}, "
            f"organization_id={self.organization_id!r}, profile={self.profile!r})"
        )


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def load_config_file(path: Path | None = None) -> dict[str, Any]:
    """The parsed config file, or ``{}`` when there is none."""
    path = path or config_path()
    try:
        with path.open("rb") as handle:
            import tomllib  # only with a file to read: it is most of this module's import time

            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # ValueError: tomllib.TOMLDecodeError, or not UTF-8
        raise CelestoError(f"Could not read the Celesto config file {path}: {exc}") from exc


def normalize_base_url(url: str) -> str:
    """Accept ``https://host``, ``https://host/`` or ``https://host/v1``; return the origin."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CelestoValidationError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL} (got {url!r})",
            field="base_url",
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise CelestoValidationError(
            "base_url must not contain credentials, a query or a fragment", field="base_url"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _selected_profile(
    data: Mapping[str, Any], requested: str | None
) -> tuple[str | None, dict[str, Any]]:
    profiles = data.get("profiles")
    profiles = profiles if isinstance(profiles, dict) else {}
    explicit = requested or os.environ.get(ENV_PROFILE)
    if explicit:
        if explicit not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise CelestoValidationError(
                f"profile {explicit!r} is not in {config_path()} (known profiles: {known})",
                field="profile",
            )
        name = explicit
    else:
        active = data.get("active_profile")
        name = active if isinstance(active, str) else DEFAULT_PROFILE
    profile = profiles.get(name)
    if not isinstance(profile, dict):
        return None, {}
    return name, profile


def _first(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def resolve_config(
    api_key: str | None = None,
    base_url: str | None = None,
    organization_id: str | None = None,
    profile: str | None = None,
) -> ClientConfig:
    env = os.environ
    needs_file = (
        profile is not None
        or env.get(ENV_PROFILE)
        or not (api_key or env.get(ENV_API_KEY))
        or not (base_url or env.get(ENV_BASE_URL))
        or not (organization_id or env.get(ENV_ORGANIZATION_ID))
    )
    profile_name: str | None = None
    stored: dict[str, Any] = {}
    if needs_file:
        profile_name, stored = _selected_profile(load_config_file(), profile)
    key = _first(api_key, env.get(ENV_API_KEY), stored.get("api_key"))
    if key is None:
        raise CelestoAuthenticationError(
            "No Celesto API key found. Pass api_key=..., set the CELESTO_API_KEY "
            f"environment variable, or save a profile in {config_path()} "
            "(celesto-tui auth login)."
        )
    url = _first(base_url, env.get(ENV_BASE_URL), stored.get("base_url")) or DEFAULT_BASE_URL
    organization = _first(
        organization_id, env.get(ENV_ORGANIZATION_ID), stored.get("organization_id")
    )
    return ClientConfig(
        api_key=key,
        base_url=normalize_base_url(url),
        organization_id=organization,
        profile=profile_name,
    )


def save_profile(
    name: str = DEFAULT_PROFILE,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    organization_id: str | None = None,
    activate: bool = True,
    path: Path | None = None,
) -> Path:
    """Create or update one profile, keeping every other setting in the file.

    The file is replaced atomically and is readable by its owner only (0600).
    """
    import tomli_w  # only the writer needs it; keeps `import celesto_api` light

    path = path or config_path()
    data = load_config_file(path)
    profiles = data.setdefault("profiles", {})
    entry = profiles.setdefault(name, {})
    updates = {"api_key": api_key, "base_url": base_url, "organization_id": organization_id}
    entry.update({key: value for key, value in updates.items() if value is not None})
    if updates["base_url"] is not None:
        entry["base_url"] = normalize_base_url(updates["base_url"])
    if activate:
        data["active_profile"] = name

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(data, handle)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
