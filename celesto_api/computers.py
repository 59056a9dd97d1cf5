"""``client.computers``: create, run commands in, and manage sandboxed computers.

Every call is declared once, in ``_ComputerCalls``: a function that builds (and validates)
its request, with the call's signature and docstring. :class:`Computers` (blocking) and
:class:`AsyncComputers` (asyncio) are both made from it (see `_calls`); only the streams and
sessions, which differ in kind, are written for each. Every call that takes a computer
accepts its id (``cmp_…``) or its name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

from . import limits
from . import validation as check
from ._bootstrap import httpx
from ._calls import AsyncResource, Call, PlanCall, SyncResource, Transport
from ._sse import ExecStreamDecoder
from ._transport import Plan, RequestSpec, get
from .exceptions import (
    CelestoError,
    CelestoNetworkError,
    CelestoServerError,
    CelestoValidationError,
)
from .terminal import SyncTerminalSession, TerminalSession, legacy_socket_url
from .types import (
    BulkDeleteResult,
    CommandHistory,
    Computer,
    ComputerList,
    ExecEvent,
    ExecResult,
    Observability,
    PublishedPort,
    Template,
    TerminalConnection,
    TerminalSessionInfo,
)

__all__ = ["AsyncComputers", "Computers"]

# Official clients: exec waits `timeout + 15` s for the answer; create may take minutes.
EXEC_READ_MARGIN = 15.0
CREATE_READ_TIMEOUT = 600.0

NetworkPolicyArg = str | Mapping[str, str] | None
# Module-level aliases: inside the resource classes `list` names the method.
TemplateList = list[Template]
PublishedPortList = list[PublishedPort]


def _computer_path(computer_id: str, *rest: str) -> str:
    path = f"/v1/computers/{quote(check.computer_ref(computer_id), safe='')}"
    return "/".join((path, *rest)) if rest else path


def _create(
    cpus: int | None = None,
    memory: int | None = None,
    disk: int | str | None = None,
    image: str | None = None,
    template_id: str | None = None,
    template_version: str | None = None,
    network_policy: NetworkPolicyArg = None,
    persistent_home: bool | None = None,
    *,
    vcpus: int | None = None,
    ram_mb: int | None = None,
    disk_size_mb: int | str | None = None,
    idempotency_key: str | None = None,
) -> RequestSpec:
    """Create a computer. Only the parameters you give are sent; the rest default
    server-side. ``disk`` takes MB or a string such as ``"2gb"``."""
    cpus = check.pick_alias("cpus", cpus, "vcpus", vcpus)
    memory = check.pick_alias("memory", memory, "ram_mb", ram_mb)
    disk = check.pick_alias("disk", disk, "disk_size_mb", disk_size_mb)
    body: dict[str, Any] = {}
    if cpus is not None:
        body["vcpus"] = check.int_in_range("cpus", cpus, limits.CPUS_MIN, limits.CPUS_MAX)
    if memory is not None:
        body["ram_mb"] = check.int_in_range(
            "memory", memory, limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB
        )
    if disk is not None:
        body["disk_size_mb"] = check.parse_disk_mb(disk)
    if image is not None:
        body["image"] = check.string_field("image", image, max_chars=limits.IMAGE_MAX_CHARS)
    if template_id is not None:
        body["template_id"] = check.string_field(
            "template_id", template_id, max_chars=limits.TEMPLATE_ID_MAX_CHARS
        )
    if template_version is not None:
        body["template_version"] = check.string_field(
            "template_version", template_version, max_chars=limits.TEMPLATE_VERSION_MAX_CHARS
        )
    if network_policy is not None:
        body["network_policy"] = check.network_policy(network_policy)
    if persistent_home is not None:
        if not isinstance(persistent_home, bool):
            raise CelestoValidationError(
                f"persistent_home must be True or False (got {persistent_home!r})",
                field="persistent_home",
            )
        body["external_volume_enabled"] = persistent_home
    if body.get("external_volume_enabled") and body.get("network_policy") == {"mode": "off"}:
        raise CelestoValidationError(
            "persistent_home needs internet access; it cannot be combined with "
            "network_policy='off'",
            field="persistent_home",
        )
    key = idempotency_key if idempotency_key is not None else uuid.uuid4().hex
    key = check.string_field("idempotency_key", key, max_chars=255)
    return RequestSpec(
        "POST",
        "/v1/computers",
        json=body,
        headers={"Idempotency-Key": key},
        retry_safe=True,  # the key makes a replay return the same computer
        read_timeout=CREATE_READ_TIMEOUT,
    )


def _get(computer_id: str) -> RequestSpec:
    """One computer, by id or name."""
    return get(_computer_path(computer_id))


def _list(
    status: str | None = None,
    template_id: str | None = None,
    project_id: str | None = None,
    limit: int | None = None,
) -> RequestSpec:
    """Computers of the account, optionally filtered by status, template or project."""
    params: dict[str, str | int] = {}
    if status is not None:
        params["status"] = check.one_of("status", status, limits.COMPUTER_STATUSES)
    if template_id is not None:
        params["template_id"] = check.string_field(
            "template_id", template_id, max_chars=limits.LIST_TEMPLATE_ID_MAX_CHARS
        )
    if project_id is not None:
        params["project_id"] = check.string_field(
            "project_id", project_id, max_chars=limits.LIST_PROJECT_ID_MAX_CHARS
        )
    if limit is not None:
        params["limit"] = check.int_in_range(
            "limit", limit, limits.LIST_LIMIT_MIN, limits.LIST_LIMIT_MAX
        )
    return get("/v1/computers", params or None)


def _exec_spec(computer_id: str, command: str, timeout: int, *, stream: bool) -> RequestSpec:
    path = _computer_path(computer_id, *(("exec", "stream") if stream else ("exec",)))
    seconds = check.exec_timeout(timeout)
    return RequestSpec(
        "POST",
        path,
        json={"command": check.command(command), "timeout": seconds},
        headers={"Accept": "text/event-stream"} if stream else {},
        read_timeout=seconds + EXEC_READ_MARGIN,
    )


def _may_have_run(exc: CelestoError, computer_id: str) -> CelestoError:
    """Exec is never retried: after a failure past the connect, say the command may have
    run, and where to look. ``exc`` itself is returned, its message extended."""
    if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
        return exc  # the request never left
    exc.message = (
        f"{exc.message.rstrip()} The command may have run; check "
        f"`celesto-tui computer history {computer_id}`."
    )
    exc.args = (exc.message,)
    return exc


def _exec(
    transport: Transport,
    computer_id: str,
    command: str,
    timeout: int = limits.EXEC_TIMEOUT_DEFAULT,
) -> Plan[ExecResult]:
    """Run a shell command and wait for it; a nonzero exit code is not an error."""
    spec = _exec_spec(computer_id, command, timeout, stream=False)
    try:
        return cast(ExecResult, (yield spec))
    except (CelestoServerError, CelestoNetworkError) as exc:
        raise _may_have_run(exc, computer_id) from exc.__cause__


def _list_templates() -> RequestSpec:
    """The templates a computer can be created from."""
    return get("/v1/computers/templates")


def _list_command_history(computer_id: str, limit: int | None = None) -> RequestSpec:
    """The commands run on a computer, newest first."""
    params: dict[str, str | int] | None = None
    if limit is not None:
        low, high = limits.COMMANDS_LIMIT_MIN, limits.COMMANDS_LIMIT_MAX
        params = {"limit": check.int_in_range("limit", limit, low, high)}
    return get(_computer_path(computer_id, "commands"), params)


def _observability(
    computer_id: str, window: str = limits.OBSERVABILITY_WINDOW_DEFAULT
) -> RequestSpec:
    """Live metrics of a running computer: the latest sample and a window of samples."""
    window = check.one_of("window", window, limits.OBSERVABILITY_WINDOWS)
    return get(_computer_path(computer_id, "observability"), {"window": window})


def _bulk_delete(computer_ids: Sequence[str]) -> RequestSpec:
    """Delete many computers in one request; the result lists the ids that failed."""
    ids = check.computer_ids(computer_ids)
    return RequestSpec("POST", "/v1/computers/bulk-delete", json={"computer_ids": ids})


def _publish_port(computer_id: str, port: int = limits.PORT_DEFAULT) -> RequestSpec:
    """Publish a port of the computer as a URL."""
    body = {"port": check.port(port)}
    return RequestSpec("POST", _computer_path(computer_id, "published-ports"), json=body)


def _list_published_ports(computer_id: str) -> RequestSpec:
    """The computer's published ports and their URLs."""
    return get(_computer_path(computer_id, "published-ports"))


def _unpublish_port(computer_id: str, port: int = limits.PORT_DEFAULT) -> RequestSpec:
    """Stop publishing a port (the server inside keeps running)."""
    path = _computer_path(computer_id, "published-ports", str(check.port(port)))
    return RequestSpec("DELETE", path)


def _terminal(computer_id: str, terminal_id: str | None = None) -> RequestSpec:
    """Connection details for a durable terminal; pass ``terminal_id`` to reattach."""
    body = None if terminal_id is None else {"terminal_id": check.terminal_id(terminal_id)}
    return RequestSpec("POST", _computer_path(computer_id, "terminals"), json=body)


def _get_terminal_connection(transport: Transport, computer_id: str) -> Plan[TerminalConnection]:
    """URL, handshake headers and first message of the legacy direct terminal socket."""
    # The legacy socket only knows canonical ids, so a name is resolved first.
    computer = yield get(_computer_path(computer_id))
    config = transport.config
    return {
        "url": legacy_socket_url(config.base_url, str(computer["id"])),
        "headers": transport.auth_headers,
        "first_message": json.dumps({"token": config.api_key}),
    }


def _stop(computer_id: str) -> RequestSpec:
    """Stop a computer; files in its home directory are kept."""
    return RequestSpec("POST", _computer_path(computer_id, "stop"))


def _start(computer_id: str) -> RequestSpec:
    """Start a stopped computer."""
    return RequestSpec("POST", _computer_path(computer_id, "start"))


def _delete(computer_id: str) -> RequestSpec:
    """Delete a computer and its files."""
    return RequestSpec("DELETE", _computer_path(computer_id))


class _ComputerCalls:
    """The calls both clients make; each is a method of :class:`Computers` and a coroutine
    method of :class:`AsyncComputers`."""

    create = Call(_create, Computer)
    get = Call(_get, Computer)
    list = Call(_list, ComputerList)
    stop = Call(_stop, Computer)
    start = Call(_start, Computer)
    delete = Call(_delete, Computer)
    exec = PlanCall(_exec)
    list_templates = Call(_list_templates, TemplateList)
    list_command_history = Call(_list_command_history, CommandHistory)
    observability = Call(_observability, Observability)
    bulk_delete = Call(_bulk_delete, BulkDeleteResult)
    publish_port = Call(_publish_port, PublishedPort)
    list_published_ports = Call(_list_published_ports, PublishedPortList)
    unpublish_port = Call(_unpublish_port, PublishedPort)
    terminal = Call(_terminal, TerminalSessionInfo)
    get_terminal_connection = PlanCall(_get_terminal_connection)


class Computers(_ComputerCalls, SyncResource):
    """Computers resource of the blocking :class:`~celesto_api.Celesto` client."""

    def exec_stream(
        self, computer_id: str, command: str, timeout: int = limits.EXEC_TIMEOUT_DEFAULT
    ) -> Iterator[ExecEvent]:
        """Run a command and yield ``started``/``stdout``/``stderr``/``exit`` events live."""
        spec = _exec_spec(computer_id, command, timeout, stream=True)
        return self._stream_events(spec)

    def _stream_events(self, spec: RequestSpec) -> Iterator[ExecEvent]:
        with self._transport.stream(spec) as lines:
            decoder = ExecStreamDecoder(lines.headers.get("x-celesto-command-id"))
            for line in lines:
                yield from decoder.feed(line)
                if decoder.finished:
                    return
            yield from decoder.close()

    def open_terminal(
        self,
        computer_id: str,
        terminal_id: str | None = None,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
    ) -> SyncTerminalSession:
        """Attach to a (new or existing) durable terminal and return the open session."""
        check.terminal_size(cols, rows)
        info = self.terminal(computer_id, terminal_id)
        return SyncTerminalSession.connect_gateway(
            info["gateway_url"],
            info["token"],
            terminal_id=info["terminal_id"],
            cols=cols,
            rows=rows,
        )


class AsyncComputers(_ComputerCalls, AsyncResource):
    """Computers resource of :class:`~celesto_api.AsyncCelesto`; same calls, awaitable."""

    def exec_stream(
        self, computer_id: str, command: str, timeout: int = limits.EXEC_TIMEOUT_DEFAULT
    ) -> AsyncIterator[ExecEvent]:
        """Run a command and yield ``started``/``stdout``/``stderr``/``exit`` events live:
        ``async for event in client.computers.exec_stream(...)``."""
        spec = _exec_spec(computer_id, command, timeout, stream=True)
        return self._stream_events(spec)

    async def _stream_events(self, spec: RequestSpec) -> AsyncIterator[ExecEvent]:
        async with self._transport.stream(spec) as lines:
            decoder = ExecStreamDecoder(lines.headers.get("x-celesto-command-id"))
            async for line in lines:
                for event in decoder.feed(line):
                    yield event
                if decoder.finished:
                    return
            for event in decoder.close():
                yield event

    async def open_terminal(
        self,
        computer_id: str,
        terminal_id: str | None = None,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
    ) -> TerminalSession:
        """Attach to a (new or existing) durable terminal and return the open session."""
        check.terminal_size(cols, rows)
        info = await self.terminal(computer_id, terminal_id)
        return await TerminalSession.connect_gateway(
            info["gateway_url"],
            info["token"],
            terminal_id=info["terminal_id"],
            cols=cols,
            rows=rows,
        )
