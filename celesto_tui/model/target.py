"""Which Celesto the app talks to: the embedded local backend or a configured cloud."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celesto_api import AsyncCelesto, CelestoAuthenticationError
from celesto_api.config import ClientConfig, config_path, resolve_config

NO_KEY_HINT = (
    "No API key configured, so this is the embedded local backend. For the Celesto cloud: "
    "run `celesto-tui auth login`, set CELESTO_API_KEY, or add a profile to {path}"
)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CLOUD_DOMAIN = "celesto.ai"
# Polls give up on a silent API long before the SDK's default read timeout (120 s), so the
# header turns stale and the backoff starts instead of the data quietly ageing.
POLL_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Target:
    base_url: str
    api_key: str
    label: str
    local: bool
    isolation: str | None = None
    # The embedded backend's sandbox in a few words (``bundled bwrap 0.11.0``).
    sandbox_label: str | None = None
    hint: str = ""
    profile: str | None = None
    organization_id: str | None = None
    data_dir: Path | None = None  # the embedded backend's, when given with --data-dir
    # --local found the data dir held by a running server (a dashboard, `local serve`) and
    # talks to it: it outlives this process.
    shared: bool = False

    def client(self, max_retries: int | None = None, timeout: float | None = None) -> AsyncCelesto:
        options: dict[str, Any] = {}
        if max_retries is not None:
            options["max_retries"] = max_retries
        if timeout is not None:
            options["timeout"] = timeout
        return AsyncCelesto(
            api_key=self.api_key,
            base_url=self.base_url,
            organization_id=self.organization_id,
            **options,
        )

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def kind(self) -> str:
        """What the header calls the target: the Celesto cloud or another server."""
        if self.local:
            return "local"
        hostname = (urlsplit(self.base_url).hostname or "").lower()
        if hostname in LOOPBACK_HOSTS:
            return "local server"  # `celesto-tui local serve`, not the cloud
        if hostname == CLOUD_DOMAIN or hostname.endswith("." + CLOUD_DOMAIN):
            return "cloud"
        return "server"

    @property
    def where(self) -> str:
        """How error messages name the target: ``profile 'prod'`` or the host."""
        if self.local:
            return "the embedded backend"
        return f"profile {self.profile!r}" if self.profile else self.host


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
        label = settings.profile or urlsplit(settings.base_url).netloc
        yield Target(
            settings.base_url,
            settings.api_key,
            label,
            local=False,
            profile=settings.profile,
            organization_id=settings.organization_id,
        )
        return
    from celesto_api.local import DataDirBusyError, LocalServer

    hint = "" if local else NO_KEY_HINT.format(path=config_path())
    server = LocalServer(data_dir=data_dir)
    try:
        server.start()
    except DataDirBusyError as exc:
        if exc.running is None:
            raise
        busy = exc
    else:
        try:
            if server.isolation != "bwrap":
                # Loud, every time: these computers can read the host's files and network.
                warning = f"⚠ Computers are {server.sandboxing}"
                hint = f"{warning}\n{hint}" if hint else warning
            yield Target(
                server.base_url,
                server.api_key,
                "local",
                local=True,
                isolation=server.isolation,
                sandbox_label=server.sandbox_label,
                hint=hint,
                data_dir=data_dir,
            )
        finally:
            server.stop()
        return
    assert busy.running is not None
    # The data dir is held by a dashboard or `local serve` of this user: talk to it, so the
    # command log's --local lines run as printed while the dashboard is open.
    yield Target(
        busy.running.base_url,
        busy.running.api_key,
        "local",
        local=True,
        hint=f"Using the local server already running on {busy.data_dir}.",
        data_dir=data_dir,
        shared=True,
    )
