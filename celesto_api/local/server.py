"""Serving the local backend: ``serve()`` for ``celesto-tui local serve`` and
:class:`LocalServer`, the same server in a background thread (TUI, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from .._redact import RedactingFilter
from .app import create_app
from .backend import LocalBackend, LocalConfig
from .faults import parse_fault_spec
from .listen import base_url, bind
from .sandbox import IsolationChoice

log = logging.getLogger("celesto_api.local")

WS_MAX_MESSAGE = 1024 * 1024
# uvicorn logs WebSocket paths with their query string (the terminal token) at INFO, and
# hands the same logger to websockets for handshake DEBUG lines.
SERVER_LOGGERS = (
    "uvicorn.error",
    "uvicorn.access",
    "celesto_api.local",
    "celesto_api.local.access",
)
_log_filter = RedactingFilter()
SHUTDOWN_STEP_S = 0.005


def exposure_warning(host: str) -> str | None:
    """The warning to print when ``host`` makes the server reachable from elsewhere."""
    name = host.strip("[]")
    if name == "localhost":
        return None
    try:
        if ipaddress.ip_address(name).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may resolve to anything
    return (
        f"warning: serving on {host}, reachable beyond this machine; "
        "anyone who can reach it and has the token controls your computers"
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve()`` installs handlers that exit
    cleanly (status 0) and a background-thread server must not touch signals at all.

    It also stops at once: uvicorn notices ``should_exit`` on a 100 ms tick and sleeps another
    100 ms while shutting down, which made quitting the dashboard wait ~200 ms for nothing.
    Here a stop request wakes the loop, and the shutdown waits for connections and tasks in
    short steps (still up to ``timeout_graceful_shutdown``), then runs the lifespan shutdown
    that stops the computers."""

    _exit_requested: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        """Ask the server on `loop` to stop; callable from any thread."""
        self.should_exit = True
        with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to wake
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        if self._exit_requested is not None:
            self._exit_requested.set()

    async def main_loop(self) -> None:
        self._exit_requested = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter += 10  # on_tick refreshes the Date header when counter % 10 == 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                state = self.server_state
                while (state.connections or state.tasks) and not self.force_exit:
                    await asyncio.sleep(SHUTDOWN_STEP_S)
                for server in self.servers:
                    await server.wait_closed()
        except TimeoutError:
            log.error(
                "cancelling %d request(s) still running after the grace period",
                len(self.server_state.tasks),
            )
            for task in self.server_state.tasks:
                task.cancel(msg="the server is stopping")
        if not self.force_exit:
            await self.lifespan.shutdown()


def _redact_server_logs(api_key: str) -> None:
    _log_filter.add_secret(api_key)
    for name in SERVER_LOGGERS:
        logging.getLogger(name).addFilter(_log_filter)


def _uvicorn_server(backend: LocalBackend) -> _Server:
    config = uvicorn.Config(
        create_app(backend),
        log_level="warning",
        access_log=False,
        ws_max_size=WS_MAX_MESSAGE,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    # After Config: it (re)configures uvicorn's loggers.
    _redact_server_logs(backend.api_key)
    return _Server(config)


class LocalServer:
    """The local backend on a free loopback port, in a background thread.

    >>> with LocalServer(data_dir=tmp) as server:
    ...     client = Celesto(api_key=server.api_key, base_url=server.base_url)
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        isolation: IsolationChoice | None = None,
        bwrap: str | None = None,
        faults: str | None = None,
        terminal_token_ttl: float | None = None,
        host_ports: Iterable[int] = (),
        egress_allow: Iterable[str] = (),
        egress_deny: Iterable[str] = (),
        listen_socket: socket.socket | None = None,
    ) -> None:
        """`listen_socket`, already bound and listening, is served instead of binding
        `host`/`port` (the dashboard binds it before painting, to know the URL at once)."""
        config = LocalConfig(
            host=host,
            port=port,
            token=token,
            bwrap=bwrap,
            host_ports=list(host_ports),
            egress_allow=list(egress_allow),
            egress_deny=list(egress_deny),
        )
        if isolation is not None:
            config.isolation = isolation
        if terminal_token_ttl is not None:
            config.terminal_token_ttl = terminal_token_ttl
        if data_dir is not None:
            config.data_dir = Path(data_dir)
        config.faults = parse_fault_spec(faults)
        self._config = config
        self._listen_socket = listen_socket
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: _Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.backend: LocalBackend | None = None
        self.base_url = ""

    def __repr__(self) -> str:
        return f"LocalServer(base_url={self.base_url!r}, isolation={self.isolation!r})"

    @property
    def api_key(self) -> str:
        return self._require().api_key

    @property
    def isolation(self) -> str:
        return self.backend.isolation if self.backend else "unknown"

    @property
    def sandbox_label(self) -> str:
        """A few words: ``bundled bwrap 0.11.0`` or ``NOT ISOLATED (process)``."""
        return self.backend.capability.label() if self.backend else "unknown"

    @property
    def sandboxing(self) -> str:
        """One line: which bwrap sandboxes the computers, or why they are not isolated."""
        return self.backend.capability.summary() if self.backend else "unknown"

    @property
    def data_dir(self) -> Path:
        return self._require().data_dir

    def _require(self) -> LocalBackend:
        if self.backend is None:
            raise RuntimeError("the local server is not running")
        return self.backend

    def set_faults(self, spec: str | None) -> None:
        self._require().faults.set(parse_fault_spec(spec))

    def start(self, timeout: float = 30) -> Self:
        warning = exposure_warning(self._config.host)
        if warning:
            log.warning("%s", warning.removeprefix("warning: "))
        self._thread = threading.Thread(target=self._run, name="celesto-local", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the local server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            backend = LocalBackend(self._config)
        except BaseException:
            if self._listen_socket is not None:
                self._listen_socket.close()
            raise
        sock = self._listen_socket or bind(self._config.host, self._config.port)
        backend.base_url = base_url(self._config.host, sock)
        self.backend = backend
        self.base_url = backend.base_url
        self._server = server = _uvicorn_server(backend)
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.005)
        self._ready.set()
        await serving

    def run_coroutine(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (tests use it to reach the backend)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 30) -> None:
        if self._server is not None and self._loop is not None:
            self._server.request_exit(self._loop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(config: LocalConfig, ready_stream: Any = None) -> None:
    """Serve until SIGINT/SIGTERM; print one JSON line once ready."""
    out = ready_stream or sys.stdout
    warning = exposure_warning(config.host)
    if warning:
        print(warning, file=sys.stderr)

    async def main() -> None:
        backend = LocalBackend(config)
        sock = bind(config.host, config.port)
        backend.base_url = base_url(config.host, sock)
        server = _uvicorn_server(backend)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, server.request_exit, loop)
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.005)
        if server.started:
            line = {
                "base_url": backend.base_url,
                "api_key": backend.api_key,
                "isolation": backend.isolation,
                "sandbox": backend.capability.summary(),
                "data_dir": str(backend.data_dir),
            }
            if not backend.capability.isolated:
                print(f"warning: computers are {backend.capability.summary()}", file=sys.stderr)
            print(json.dumps(line), file=out, flush=True)
        await serving

    asyncio.run(main())
