"""Which Celesto the app talks to: the embedded local backend or a configured cloud."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from celesto_api import AsyncCelesto, CelestoAuthenticationError
from celesto_api._config import ClientConfig, resolve_config


@dataclass(frozen=True)
class Target:
    base_url: str
    api_key: str
    label: str
    local: bool
    isolation: str | None = None
    hint: str = ""

    def client(self) -> AsyncCelesto:
        return AsyncCelesto(api_key=self.api_key, base_url=self.base_url)


@contextlib.contextmanager
def open_target(
    local: bool,
    base_url: str | None = None,
    api_key: str | None = None,
    profile: str | None = None,
    data_dir: Path | None = None,
) -> Iterator[Target]:
    """Yield a Target; with ``local`` (or no key configured) run the embedded backend."""
    settings: ClientConfig | None = None
    if not local:
        try:
            settings = resolve_config(api_key, base_url, profile=profile)
        except CelestoAuthenticationError:
            settings = None
    if settings is not None:
        label = settings.profile or settings.base_url
        yield Target(settings.base_url, settings.api_key, label, local=False)
        return
    from celesto_api.local import LocalServer

    hint = "" if local else "no API key configured: run `celesto-tui auth login` for the cloud"
    with LocalServer(data_dir=data_dir) as server:
        yield Target(
            server.base_url,
            server.api_key,
            "local",
            local=True,
            isolation=server.isolation,
            hint=hint,
        )
