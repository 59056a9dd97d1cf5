"""Which Celesto the app talks to: the embedded local backend or a configured cloud."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from celesto_api import CelestoAuthenticationError
from celesto_api.config import ClientConfig, config_path, resolve_config

if TYPE_CHECKING:
    from celesto_api import AsyncCelesto

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
    api_key: str = field(repr=False)
    label: str
    local: bool
    isolation: str | None = None
    # The embedded backend's sandbox in a few words (``bundled bwrap 0.11.0``).
    sandbox_label: str | None = None
    hint: str = ""
    profile: str | None = None
    organization_id: str | None = None
    # The embedded backend's, when given with --data-dir (also on a cloud target: the
    # dashboard's `local` context uses it).
    data_dir: Path | None = None
    # --local found the data dir held by a running server (a dashboard, `local serve`) and
    # talks to it: it outlives this process.
    shared: bool = False
    # The embedded backend while it starts in the background (the dashboard paints first).
    startup: EmbeddedStartup | None = None

    @property
    def starting(self) -> bool:
        return self.startup is not None and self.startup.server is None

    def started(self) -> Target:
        """This target once its embedded backend is up: its sandbox is known."""
        assert self.startup is not None and self.startup.server is not None
        server = self.startup.server
        return replace(
            self,
            isolation=server.isolation,
            sandbox_label=server.sandbox_label,
            hint=_local_hint(server, self.hint),
        )

    def client(self, max_retries: int | None = None, timeout: float | None = None) -> AsyncCelesto:
        # Imported here: the SDK's client brings httpx, which the first frame does not need.
        from celesto_api import AsyncCelesto

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
    *,
    background: bool = False,
) -> Iterator[Target]:
    """Yield a Target; with ``local`` (or no key configured) run the embedded backend.

    With `background` the embedded backend is not started here: the Target carries its
    `startup`, for the caller to start when it likes (the dashboard: after painting)."""
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
            data_dir=data_dir,  # for the embedded backend, if the dashboard switches to it
        )
        return
    hint = "" if local else NO_KEY_HINT.format(path=config_path())
    if background:
        startup = EmbeddedStartup(data_dir)
        try:
            yield Target(
                startup.base_url,
                startup.api_key,
                "local",
                local=True,
                hint=hint,
                data_dir=data_dir,
                startup=startup,
            )
        finally:
            startup.stop()
        return
    from celesto_api.local import DataDirBusyError, LocalServer

    server = LocalServer(data_dir=data_dir)
    try:
        server.start()
    except DataDirBusyError as exc:
        if exc.running is None:
            raise
        busy = exc
    else:
        try:
            yield Target(
                server.base_url,
                server.api_key,
                "local",
                local=True,
                isolation=server.isolation,
                sandbox_label=server.sandbox_label,
                hint=_local_hint(server, hint),
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


def _local_hint(server: Any, hint: str) -> str:
    if server.isolation == "bwrap":
        return hint
    # Loud, every time: these computers can read the host's files and network.
    warning = f"⚠ Computers are {server.sandboxing}"
    return f"{warning}\n{hint}" if hint else warning


class EmbeddedStartup:
    """The embedded backend, started in a background thread when asked (the dashboard asks
    after its first frame). Its URL and key are known at once: the socket is bound here
    and connections made before the server is up wait in its backlog."""

    def __init__(self, data_dir: Path | None) -> None:
        from celesto_api.local.listen import base_url, bind, new_api_key

        self._data_dir = data_dir
        self._socket = bind("127.0.0.1", 0)
        self.base_url = base_url("127.0.0.1", self._socket)
        self.api_key = new_api_key()
        self.server: Any = None  # the LocalServer, once it is up
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"EmbeddedStartup(base_url={self.base_url!r}, up={self.server is not None})"

    def start(self, when_done: Callable[[], object]) -> None:
        """Start the backend in a thread; call `when_done` (from that thread) after it
        is up or has failed (then `error` says why)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(when_done,), name="celesto-local-start", daemon=True
        )
        self._thread.start()

    def _run(self, when_done: Callable[[], object]) -> None:
        try:
            from celesto_api.local import LocalServer

            server = LocalServer(self._data_dir, token=self.api_key, listen_socket=self._socket)
            self.server = server.start()
        except Exception as exc:  # reported by the dashboard, never a crash
            self._socket.close()
            self.error = exc
        when_done()

    def wait(self) -> None:
        """Blocking: until a start under way is up or has failed."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        """Stop the backend (and its computers); a start under way finishes first."""
        if self._thread is None:
            self._socket.close()
            return
        self._thread.join()
        if self.server is not None:
            self.server.stop()
