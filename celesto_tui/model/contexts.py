"""Contexts: the targets the dashboard can switch to without restarting (k9s's contexts).

One per profile of the config file, ``local`` (the embedded backend) and, when the dashboard
was started with ``--base-url`` outside any profile, that server. What the picker shows of a
profile is its name, its host and whether it has a key: never the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from celesto_api import CelestoError
from celesto_api.config import DEFAULT_BASE_URL, normalize_base_url

from .target import Target

LOCAL = "local"


class ContextError(ValueError):
    """Why a context cannot be switched to, in one sentence."""


@dataclass(frozen=True)
class Context:
    name: str
    host: str
    has_key: bool
    current: bool = False
    note: str = ""


def context_name(target: Target) -> str:
    """How the picker names ``target``: ``local``, its profile, else its host."""
    if target.local:
        return LOCAL
    return target.profile or target.host


def _profiles(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    profiles = config.get("profiles")
    if not isinstance(profiles, dict):
        return {}
    return {str(name): entry for name, entry in profiles.items() if isinstance(entry, dict)}


def _host(url: object) -> str:
    text = url if isinstance(url, str) and url else DEFAULT_BASE_URL
    return urlsplit(text).netloc or text


def list_contexts(
    config: Mapping[str, Any], current: Target, extra: Target | None, local_note: str
) -> list[Context]:
    """Every context, in the picker's order: profiles by name, then ``extra`` (the
    ``--base-url`` server the dashboard started on, if it is no profile), then ``local``."""
    now = context_name(current)
    contexts = [
        Context(
            name,
            _host(entry.get("base_url")),
            isinstance(entry.get("api_key"), str) and bool(entry["api_key"]),
            name == now,
        )
        for name, entry in sorted(_profiles(config).items())
    ]
    if extra is not None and not extra.local and extra.profile is None:
        name = context_name(extra)
        contexts.append(Context(name, extra.host, bool(extra.api_key), name == now, "--base-url"))
    contexts.append(Context(LOCAL, "embedded backend", True, now == LOCAL, local_note))
    return contexts


def filtered(contexts: Iterable[Context], text: str) -> list[Context]:
    """The contexts whose name or host holds every typed word (case-insensitive)."""
    words = text.lower().split()
    return [c for c in contexts if all(w in f"{c.name} {c.host}".lower() for w in words)]


def profile_target(name: str, config: Mapping[str, Any]) -> Target:
    """The Target of profile ``name`` as the file gives it (the environment's
    ``CELESTO_API_KEY`` and ``CELESTO_BASE_URL`` are for the start-up target, not for a
    profile picked by name), or `ContextError`."""
    entry = _profiles(config).get(name)
    if entry is None:
        known = ", ".join(sorted(_profiles(config))) or "none"
        raise ContextError(f"No profile {name!r} in the config file (profiles: {known}).")
    key = entry.get("api_key")
    if not isinstance(key, str) or not key:
        raise ContextError(
            f"Profile {name!r} has no api_key (celesto-tui auth login --profile {name})."
        )
    try:
        base_url = normalize_base_url(str(entry.get("base_url") or DEFAULT_BASE_URL))
    except CelestoError as exc:
        raise ContextError(f"Profile {name!r}: {exc.message}") from None
    organization = entry.get("organization_id")
    return Target(
        base_url,
        key,
        name,
        local=False,
        profile=name,
        organization_id=organization if isinstance(organization, str) else None,
    )


def remembered_start(context: str | None, config: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(``--local``, ``--profile``) for a start without target options: the context last
    picked in the dashboard, when it still exists; else neither."""
    if context == LOCAL:
        return True, None
    if context is not None and context in _profiles(config):
        return False, context
    return False, None
