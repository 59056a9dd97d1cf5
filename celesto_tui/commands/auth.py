"""``celesto-tui auth login|status``: save an API key (checked first) and see which is used."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from celesto_api import (
    Celesto,
    CelestoAuthenticationError,
    CelestoError,
    CelestoNotFoundError,
)
from celesto_api.config import (
    DEFAULT_BASE_URL,
    DEFAULT_PROFILE,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_PROFILE,
    config_path,
    load_config_file,
    normalize_base_url,
    resolve_config,
    save_profile,
)

from .common import (
    EXIT_INTERRUPTED,
    CommandError,
    GlobalOptions,
    exit_with,
    global_options,
    hint_line,
)
from .output import emit, emit_json, fields, note

VERIFY_TIMEOUT_S = 15.0
SHOWN_KEY_CHARS = 4
MIN_KEY_CHARS_TO_SHOW_TAIL = 12

AUTH_EPILOG = """\b
Examples:
  celesto-tui auth login
  celesto-tui auth login --profile work --base-url https://api.celesto.ai
  celesto-tui auth login --api-key "$CELESTO_API_KEY"
  celesto-tui auth status

Get a key at https://celesto.ai under Settings > Security. The key is saved in the
config file (mode 0600); CELESTO_API_KEY and --api-key take precedence over it.
"""


@click.group("auth", epilog=AUTH_EPILOG)
def auth_group() -> None:
    """Log in and check the API key in use."""


def mask_key(key: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    if len(key) >= MIN_KEY_CHARS_TO_SHOW_TAIL:
        return "****" + key[-SHOWN_KEY_CHARS:]
    return "****"


def verify_key(api_key: str, base_url: str) -> dict[str, Any] | None:
    """The signed-in user for a working key (None when the API has no user endpoint).

    Raises :class:`CelestoAuthenticationError` when the API rejects the key.
    """
    with Celesto(api_key=api_key, base_url=base_url, timeout=VERIFY_TIMEOUT_S) as client:
        try:
            user = client.request("GET", "/v1/users/info")
        except CelestoNotFoundError:
            client.computers.list(limit=1)
            return None
    return user if isinstance(user, dict) else None


def _read_key() -> str:
    if not sys.stdin.isatty():  # `celesto-tui auth login < keyfile`
        return sys.stdin.readline().strip()
    try:
        key = click.prompt("Celesto API key", hide_input=True, err=True)
    except click.exceptions.Abort as exc:
        click.echo(err=True)
        if isinstance(exc.__context__, KeyboardInterrupt):
            note("Interrupted; nothing was saved.")
            exit_with(EXIT_INTERRUPTED)
        return ""  # Ctrl+D: no key
    return str(key).strip()


def _login_base_url(explicit: str | None, profile: str) -> str:
    stored = load_config_file().get("profiles", {}).get(profile, {})
    stored_url = stored.get("base_url") if isinstance(stored, dict) else None
    return normalize_base_url(
        explicit or os.environ.get(ENV_BASE_URL) or stored_url or DEFAULT_BASE_URL
    )


@auth_group.command("login", epilog=AUTH_EPILOG)
@global_options
def login_command(opts: GlobalOptions) -> None:
    """Check an API key against the API and save it in a profile.

    Prompts for the key (input hidden) unless --api-key is given; reads it from stdin
    when stdin is not a terminal. Nothing is saved when the API rejects the key.
    """
    if opts.local:
        raise click.UsageError("the embedded local backend needs no login; drop --local.")
    profile = opts.profile or os.environ.get(ENV_PROFILE) or DEFAULT_PROFILE
    base_url = _login_base_url(opts.base_url, profile)
    api_key = opts.api_key or _read_key()
    if not api_key:
        raise click.UsageError("no API key given.")
    try:
        user = verify_key(api_key, base_url)
    except CelestoAuthenticationError as exc:
        raise CommandError(
            f"{base_url} rejected the API key ({exc.message}); nothing was saved",
            "Copy a key from https://celesto.ai (Settings > Security) and try again.",
        ) from None
    path = save_profile(profile, api_key=api_key, base_url=base_url)
    email = (user or {}).get("email")
    if opts.json:
        emit_json(
            {
                "profile": profile,
                "base_url": base_url,
                "config_path": str(path),
                "api_key": mask_key(api_key),
                "user": user,
            }
        )
        return
    who = f" as {email}" if email else ""
    emit(f"Logged in to {base_url}{who}.")
    emit(f"Saved the key as profile '{profile}' in {path} (readable only by you).")


def _key_source(opts: GlobalOptions, profile: str | None) -> str:
    if opts.api_key:
        return "--api-key"
    if os.environ.get(ENV_API_KEY):
        return ENV_API_KEY
    return f"profile '{profile}'"


@auth_group.command("status", epilog=AUTH_EPILOG)
@global_options
def status_command(opts: GlobalOptions) -> None:
    """Show the profile, API and (masked) key in use, and whether the key works.

    Exits 1 when no key is configured or the API rejects it.
    """
    if opts.local:
        if opts.json:
            emit_json({"local": True, "works": True})
        else:
            emit("Using the embedded local backend (--local): no API key needed.")
        return
    try:
        settings = resolve_config(opts.api_key, opts.base_url, profile=opts.profile)
    except CelestoAuthenticationError:
        if opts.json:
            emit_json({"logged_in": False, "config_path": str(config_path())})
        else:
            emit("Not logged in: no API key configured.")
            emit("Log in with: " + hint_line("auth", "login"))
        exit_with(1)
    works, detail, user = True, "", None
    try:
        user = verify_key(settings.api_key, settings.base_url)
        email = (user or {}).get("email")
        detail = f"yes, signed in as {email}" if email else "yes"
    except CelestoError as exc:
        works = False
        detail = f"no: {exc}"
    report: dict[str, Any] = {
        "logged_in": True,
        "profile": settings.profile,
        "config_path": str(config_path()),
        "base_url": settings.base_url,
        "api_key": mask_key(settings.api_key),
        "key_source": _key_source(opts, settings.profile),
        "organization_id": settings.organization_id,
        "works": works,
        "user": user,
    }
    if opts.json:
        emit_json(report)
    else:
        emit(
            fields(
                [
                    ("Profile", f"{settings.profile or '-'} ({config_path()})"),
                    ("Base URL", settings.base_url),
                    ("API key", f"{mask_key(settings.api_key)} (from {report['key_source']})"),
                    ("Organization", settings.organization_id or ""),
                    ("Works", detail),
                ]
            )
        )
    if not works:
        exit_with(1)
