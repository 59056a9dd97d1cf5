"""``/v1/computers``: lifecycle, exec (buffered and SSE), history, observability, ports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from celesto_api import limits

from ..backend import LocalBackend
from ..errors import ApiError, no_display
from ..schemas import (
    BulkDeleteRequest,
    ComputerCreate,
    DisplayRequest,
    ExecRequest,
    PublishPortRequest,
)
from ..stage_timing import mark
from ..templates import list_templates
from ..text_rules import NoControlChars, Printable
from .deps import backend_dependency

router = APIRouter(prefix="/v1/computers")
Backend = Annotated[LocalBackend, Depends(backend_dependency)]


def _known_status(value: str) -> str:
    if value not in limits.COMPUTER_STATUSES:
        raise ValueError(f"status must be one of {', '.join(limits.COMPUTER_STATUSES)}")
    return value


StatusFilter = Annotated[str, AfterValidator(_known_status)]
# Buffered exec keeps at most this much of each stream; exec/stream has no cap.
EXEC_OUTPUT_CAP = 8 * 1024 * 1024


@router.get("/templates")
async def templates() -> list[dict[str, Any]]:
    return list_templates()


@router.post("/bulk-delete")
async def bulk_delete(body: BulkDeleteRequest, backend: Backend) -> dict[str, Any]:
    return await backend.computers.bulk_delete(body.computer_ids)


@router.post("", status_code=201)
async def create(
    backend: Backend,
    body: Annotated[ComputerCreate | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    x_celesto_client: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    origin = x_celesto_client if x_celesto_client in ("ui", "sdk", "mcp") else "sdk"
    return await backend.computers.create(body or ComputerCreate(), idempotency_key, origin)


@router.get("")
async def list_computers(
    backend: Backend,
    status: StatusFilter | None = None,
    template_id: Annotated[
        str | None, Query(max_length=limits.LIST_TEMPLATE_ID_MAX_CHARS), NoControlChars
    ] = None,
    project_id: Annotated[
        str | None, Query(max_length=limits.LIST_PROJECT_ID_MAX_CHARS), NoControlChars
    ] = None,
    origin: Printable | None = None,
    limit: Annotated[
        int, Query(ge=limits.LIST_LIMIT_MIN, le=limits.LIST_LIMIT_MAX)
    ] = limits.LIST_LIMIT_DEFAULT,
) -> dict[str, Any]:
    rows = backend.store.list_computers(status, template_id, project_id, limit)
    computers = [backend.computers.to_response(row) for row in rows]
    return {"computers": computers, "count": len(computers)}


@router.get("/{computer_id}")
async def get(computer_id: Printable, backend: Backend) -> dict[str, Any]:
    return backend.computers.to_response(backend.computers.row(computer_id))


@router.delete("/{computer_id}")
async def delete(computer_id: Printable, backend: Backend) -> dict[str, Any]:
    return await backend.computers.delete(computer_id)


@router.post("/{computer_id}/stop")
async def stop(computer_id: Printable, backend: Backend) -> dict[str, Any]:
    return await backend.computers.stop(computer_id)


@router.post("/{computer_id}/start")
async def start(computer_id: Printable, backend: Backend) -> dict[str, Any]:
    return await backend.computers.start(computer_id)


@router.post("/{computer_id}/exec")
async def exec_command(
    computer_id: Printable, body: ExecRequest, backend: Backend
) -> dict[str, Any]:
    mark("route")
    command_id, events = await backend.computers.exec_events(
        computer_id, body.command, body.timeout, "exec"
    )
    output: dict[str, list[str]] = {"stdout": [], "stderr": []}
    sizes = {"stdout": 0, "stderr": 0}
    result: dict[str, Any] = {}
    async for event in events:
        kind = event["type"]
        if kind in output:
            if sizes[kind] < EXEC_OUTPUT_CAP:
                output[kind].append(event["data"][: EXEC_OUTPUT_CAP - sizes[kind]])
            sizes[kind] += len(event["data"])
        elif kind == "exit":
            result = event
    return {
        "exit_code": result["exit_code"],
        "stdout": "".join(output["stdout"]),
        "stderr": "".join(output["stderr"]),
        "command_id": command_id,
        "duration_ms": result["duration_ms"],
        "timed_out": result["timed_out"],
    }


@router.post("/{computer_id}/exec/stream")
async def exec_stream(
    computer_id: Printable, body: ExecRequest, backend: Backend
) -> StreamingResponse:
    command_id, events = await backend.computers.exec_events(
        computer_id, body.command, body.timeout, "exec_stream"
    )

    async def sse() -> AsyncIterator[bytes]:
        try:
            async for event in events:
                yield f"data: {json.dumps(event)}\n\n".encode()
        except ApiError as exc:
            # Headers are sent: the failure travels as the stream's last event.
            failure = {"type": "error", "status_code": exc.status_code, "message": exc.detail}
            yield f"data: {json.dumps(failure)}\n\n".encode()

    return StreamingResponse(
        sse(),
        media_type="text/event-stream",
        headers={"x-celesto-command-id": command_id, "cache-control": "no-cache"},
    )


@router.get("/{computer_id}/commands")
async def commands(
    computer_id: Printable,
    backend: Backend,
    limit: Annotated[
        int, Query(ge=limits.COMMANDS_LIMIT_MIN, le=limits.COMMANDS_LIMIT_MAX)
    ] = limits.COMMANDS_LIMIT_DEFAULT,
) -> dict[str, Any]:
    row = backend.computers.row(computer_id)
    history = backend.store.list_commands(row["id"], limit)
    return {"commands": history, "count": len(history)}


@router.get("/{computer_id}/observability")
async def observability(
    computer_id: Printable,
    backend: Backend,
    window: Annotated[str, Query(pattern=r"^(1h|24h)$")] = limits.OBSERVABILITY_WINDOW_DEFAULT,
) -> dict[str, Any]:
    row = backend.computers.row(computer_id)
    return backend.metrics.observability(row["id"], window)


@router.get("/{computer_id}/published-ports")
async def list_ports(computer_id: Printable, backend: Backend) -> list[dict[str, Any]]:
    return backend.ports.list(computer_id)


@router.post("/{computer_id}/published-ports")
async def publish_port(
    computer_id: Printable,
    backend: Backend,
    body: Annotated[PublishPortRequest | None, Body()] = None,
) -> dict[str, Any]:
    return await backend.ports.publish(computer_id, (body or PublishPortRequest()).port)


@router.delete("/{computer_id}/published-ports/{port}")
async def unpublish_port(
    computer_id: Printable,
    port: Annotated[int, Path(ge=limits.PORT_MIN, le=limits.PORT_MAX)],
    backend: Backend,
) -> dict[str, Any]:
    return await backend.ports.unpublish(computer_id, port)


# The cloud answers 409 for a template without a display; every local template is one.
@router.post("/{computer_id}/browser", status_code=201)
async def browser_connection(computer_id: Printable, backend: Backend) -> dict[str, Any]:
    raise no_display(backend.computers.row(computer_id)["name"], "browser")


@router.post("/{computer_id}/display", status_code=201)
async def display_connection(
    computer_id: Printable,
    backend: Backend,
    body: Annotated[DisplayRequest | None, Body()] = None,
) -> dict[str, Any]:
    raise no_display(backend.computers.row(computer_id)["name"], "display")
