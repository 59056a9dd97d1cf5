"""``client.computers``: create, run commands in, and manage sandboxed computers.

The request for every call is built (and validated) once, by the ``_*_spec`` functions and
plans below; :class:`Computers` and :class:`AsyncComputers` only send them. Every call that
takes a computer accepts its id (``cmp_…``) or its name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

import httpx

from . import _validation as check
from . import limits
from ._sse import ExecStreamDecoder
from ._transport import AsyncTransport, Plan, RequestSpec, SyncTransport, get
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


def _create_spec(
    *,
    cpus: int | None,
    memory: int | None,
    disk: int | str | None,
    image: str | None,
    template_id: str | None,
    template_version: str | None,
    network_policy: NetworkPolicyArg,
    persistent_home: bool | None,
    vcpus: int | None,
    ram_mb: int | None,
    disk_size_mb: int | str | None,
    idempotency_key: str | None,
) -> RequestSpec:
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


def _list_spec(
    status: str | None, template_id: str | None, project_id: str | None, limit: int | None
) -> RequestSpec:
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


def _commands_spec(computer_id: str, limit: int | None) -> RequestSpec:
    params: dict[str, str | int] | None = None
    if limit is not None:
        low, high = limits.COMMANDS_LIMIT_MIN, limits.COMMANDS_LIMIT_MAX
        params = {"limit": check.int_in_range("limit", limit, low, high)}
    return get(_computer_path(computer_id, "commands"), params)


def _observability_spec(computer_id: str, window: str) -> RequestSpec:
    window = check.one_of("window", window, limits.OBSERVABILITY_WINDOWS)
    return get(_computer_path(computer_id, "observability"), {"window": window})


def _bulk_delete_spec(computer_ids: Any) -> RequestSpec:
    ids = check.computer_ids(computer_ids)
    return RequestSpec("POST", "/v1/computers/bulk-delete", json={"computer_ids": ids})


def _publish_spec(computer_id: str, port: int) -> RequestSpec:
    body = {"port": check.port(port)}
    return RequestSpec("POST", _computer_path(computer_id, "published-ports"), json=body)


def _unpublish_spec(computer_id: str, port: int) -> RequestSpec:
    path = _computer_path(computer_id, "published-ports", str(check.port(port)))
    return RequestSpec("DELETE", path)


def _terminal_spec(computer_id: str, terminal_id: str | None) -> RequestSpec:
    body = None if terminal_id is None else {"terminal_id": check.terminal_id(terminal_id)}
    return RequestSpec("POST", _computer_path(computer_id, "terminals"), json=body)


def _terminal_connection_plan(
    transport: SyncTransport | AsyncTransport, computer_id: str
) -> Plan[TerminalConnection]:
    # The legacy socket only knows canonical ids, so a name is resolved first.
    computer = yield get(_computer_path(computer_id))
    config = transport.config
    return {
        "url": legacy_socket_url(config.base_url, str(computer["id"])),
        "headers": transport.auth_headers,
        "first_message": json.dumps({"token": config.api_key}),
    }


def _lifecycle_spec(method: str, computer_id: str, action: str | None = None) -> RequestSpec:
    path = _computer_path(computer_id, action) if action else _computer_path(computer_id)
    return RequestSpec(method, path)


class Computers:
    """Computers resource of the blocking :class:`~celesto_api.Celesto` client."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def create(
        self,
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
    ) -> Computer:
        """Create a computer. Only the parameters you give are sent; the rest default
        server-side. ``disk`` takes MB or a string such as ``"2gb"``."""
        spec = _create_spec(
            cpus=cpus,
            memory=memory,
            disk=disk,
            image=image,
            template_id=template_id,
            template_version=template_version,
            network_policy=network_policy,
            persistent_home=persistent_home,
            vcpus=vcpus,
            ram_mb=ram_mb,
            disk_size_mb=disk_size_mb,
            idempotency_key=idempotency_key,
        )
        return cast(Computer, self._transport.request(spec))

    def get(self, computer_id: str) -> Computer:
        return cast(Computer, self._transport.request(get(_computer_path(computer_id))))

    def list(
        self,
        status: str | None = None,
        template_id: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
    ) -> ComputerList:
        spec = _list_spec(status, template_id, project_id, limit)
        return cast(ComputerList, self._transport.request(spec))

    def stop(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("POST", computer_id, "stop")
        return cast(Computer, self._transport.request(spec))

    def start(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("POST", computer_id, "start")
        return cast(Computer, self._transport.request(spec))

    def delete(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("DELETE", computer_id)
        return cast(Computer, self._transport.request(spec))

    def exec(
        self, computer_id: str, command: str, timeout: int = limits.EXEC_TIMEOUT_DEFAULT
    ) -> ExecResult:
        """Run a shell command and wait for it; a nonzero exit code is not an error."""
        spec = _exec_spec(computer_id, command, timeout, stream=False)
        try:
            return cast(ExecResult, self._transport.request(spec))
        except (CelestoServerError, CelestoNetworkError) as exc:
            raise _may_have_run(exc, computer_id) from exc.__cause__

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

    def list_templates(self) -> TemplateList:
        return cast(TemplateList, self._transport.request(get("/v1/computers/templates")))

    def list_command_history(self, computer_id: str, limit: int | None = None) -> CommandHistory:
        spec = _commands_spec(computer_id, limit)
        return cast(CommandHistory, self._transport.request(spec))

    def observability(
        self, computer_id: str, window: str = limits.OBSERVABILITY_WINDOW_DEFAULT
    ) -> Observability:
        spec = _observability_spec(computer_id, window)
        return cast(Observability, self._transport.request(spec))

    def bulk_delete(self, computer_ids: Sequence[str]) -> BulkDeleteResult:
        spec = _bulk_delete_spec(computer_ids)
        return cast(BulkDeleteResult, self._transport.request(spec))

    def publish_port(self, computer_id: str, port: int = limits.PORT_DEFAULT) -> PublishedPort:
        spec = _publish_spec(computer_id, port)
        return cast(PublishedPort, self._transport.request(spec))

    def list_published_ports(self, computer_id: str) -> PublishedPortList:
        spec = get(_computer_path(computer_id, "published-ports"))
        return cast(PublishedPortList, self._transport.request(spec))

    def unpublish_port(self, computer_id: str, port: int = limits.PORT_DEFAULT) -> PublishedPort:
        spec = _unpublish_spec(computer_id, port)
        return cast(PublishedPort, self._transport.request(spec))

    def terminal(self, computer_id: str, terminal_id: str | None = None) -> TerminalSessionInfo:
        """Connection details for a durable terminal; pass ``terminal_id`` to reattach."""
        spec = _terminal_spec(computer_id, terminal_id)
        return cast(TerminalSessionInfo, self._transport.request(spec))

    def get_terminal_connection(self, computer_id: str) -> TerminalConnection:
        """URL, handshake headers and first message of the legacy direct terminal socket."""
        return self._transport.run(_terminal_connection_plan(self._transport, computer_id))

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


class AsyncComputers:
    """Computers resource of :class:`~celesto_api.AsyncCelesto`; same calls, awaitable."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def create(
        self,
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
    ) -> Computer:
        spec = _create_spec(
            cpus=cpus,
            memory=memory,
            disk=disk,
            image=image,
            template_id=template_id,
            template_version=template_version,
            network_policy=network_policy,
            persistent_home=persistent_home,
            vcpus=vcpus,
            ram_mb=ram_mb,
            disk_size_mb=disk_size_mb,
            idempotency_key=idempotency_key,
        )
        return cast(Computer, await self._transport.request(spec))

    async def get(self, computer_id: str) -> Computer:
        return cast(Computer, await self._transport.request(get(_computer_path(computer_id))))

    async def list(
        self,
        status: str | None = None,
        template_id: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
    ) -> ComputerList:
        spec = _list_spec(status, template_id, project_id, limit)
        return cast(ComputerList, await self._transport.request(spec))

    async def stop(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("POST", computer_id, "stop")
        return cast(Computer, await self._transport.request(spec))

    async def start(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("POST", computer_id, "start")
        return cast(Computer, await self._transport.request(spec))

    async def delete(self, computer_id: str) -> Computer:
        spec = _lifecycle_spec("DELETE", computer_id)
        return cast(Computer, await self._transport.request(spec))

    async def exec(
        self, computer_id: str, command: str, timeout: int = limits.EXEC_TIMEOUT_DEFAULT
    ) -> ExecResult:
        spec = _exec_spec(computer_id, command, timeout, stream=False)
        try:
            return cast(ExecResult, await self._transport.request(spec))
        except (CelestoServerError, CelestoNetworkError) as exc:
            raise _may_have_run(exc, computer_id) from exc.__cause__

    def exec_stream(
        self, computer_id: str, command: str, timeout: int = limits.EXEC_TIMEOUT_DEFAULT
    ) -> AsyncIterator[ExecEvent]:
        """``async for event in client.computers.exec_stream(...)``."""
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

    async def list_templates(self) -> TemplateList:
        result = await self._transport.request(get("/v1/computers/templates"))
        return cast(TemplateList, result)

    async def list_command_history(
        self, computer_id: str, limit: int | None = None
    ) -> CommandHistory:
        spec = _commands_spec(computer_id, limit)
        return cast(CommandHistory, await self._transport.request(spec))

    async def observability(
        self, computer_id: str, window: str = limits.OBSERVABILITY_WINDOW_DEFAULT
    ) -> Observability:
        spec = _observability_spec(computer_id, window)
        return cast(Observability, await self._transport.request(spec))

    async def bulk_delete(self, computer_ids: Sequence[str]) -> BulkDeleteResult:
        spec = _bulk_delete_spec(computer_ids)
        return cast(BulkDeleteResult, await self._transport.request(spec))

    async def publish_port(
        self, computer_id: str, port: int = limits.PORT_DEFAULT
    ) -> PublishedPort:
        spec = _publish_spec(computer_id, port)
        return cast(PublishedPort, await self._transport.request(spec))

    async def list_published_ports(self, computer_id: str) -> PublishedPortList:
        spec = get(_computer_path(computer_id, "published-ports"))
        return cast(PublishedPortList, await self._transport.request(spec))

    async def unpublish_port(
        self, computer_id: str, port: int = limits.PORT_DEFAULT
    ) -> PublishedPort:
        spec = _unpublish_spec(computer_id, port)
        return cast(PublishedPort, await self._transport.request(spec))

    async def terminal(
        self, computer_id: str, terminal_id: str | None = None
    ) -> TerminalSessionInfo:
        spec = _terminal_spec(computer_id, terminal_id)
        return cast(TerminalSessionInfo, await self._transport.request(spec))

    async def get_terminal_connection(self, computer_id: str) -> TerminalConnection:
        return await self._transport.run(_terminal_connection_plan(self._transport, computer_id))

    async def open_terminal(
        self,
        computer_id: str,
        terminal_id: str | None = None,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
    ) -> TerminalSession:
        check.terminal_size(cols, rows)
        info = await self.terminal(computer_id, terminal_id)
        return await TerminalSession.connect_gateway(
            info["gateway_url"],
            info["token"],
            terminal_id=info["terminal_id"],
            cols=cols,
            rows=rows,
        )
