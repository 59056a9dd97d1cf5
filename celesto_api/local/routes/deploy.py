"""``/v1/deploy``: upload an agent bundle, list deployments, read one's status."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import PlainTextResponse

from ..backend import LocalBackend
from ..errors import ApiError, invalid_field
from ..text_rules import Printable
from .deps import backend_dependency

router = APIRouter(prefix="/v1/deploy")
Backend = Annotated[LocalBackend, Depends(backend_dependency)]


@router.post("/agent", status_code=201)
async def deploy_agent(
    backend: Backend,
    code_bundle: Annotated[UploadFile, File()],
    name: Annotated[Printable, Form()],
    project_id: Annotated[Printable, Form()],
    description: Annotated[str, Form()] = "",
    config: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    if not name.strip():
        raise invalid_field("name", "name must not be empty", name)
    # The config carries env values (secrets): errors name its type, never echo it.
    try:
        parsed_config = json.loads(config) if config.strip() else {}
    except (ValueError, RecursionError):
        raise invalid_field("config", "config must be a JSON object", "invalid JSON") from None
    if not isinstance(parsed_config, dict):
        raise invalid_field("config", "config must be a JSON object", type(parsed_config).__name__)
    if backend.store.get_project(project_id) is None:
        raise ApiError(404, f"Project '{project_id}' not found.")
    bundle = await code_bundle.read()
    return await backend.deployments.deploy(
        name.strip(), description or None, project_id, parsed_config, bundle
    )


@router.get("/apps")
async def list_apps(
    backend: Backend, limit: Annotated[int | None, Query(ge=1, le=1000)] = None
) -> list[dict[str, Any]]:
    return [backend.deployments.list_item(row) for row in backend.store.list_deployments(limit)]


@router.get("/apps/{app_name}/status")
async def app_status(app_name: Printable, backend: Backend) -> dict[str, Any]:
    return backend.deployments.read(app_name)


@router.get("/apps/{app_name}/logs", response_class=PlainTextResponse)
async def app_logs(app_name: Printable, backend: Backend) -> str:
    """Local only: the build log and the app's output."""
    backend.deployments.read(app_name)
    return await backend.deployments.logs(app_name)


@router.post("/apps/{app_name}/stop")
async def stop_app(app_name: Printable, backend: Backend) -> dict[str, Any]:
    """Local only: stop a deployment (its record and files stay)."""
    return await backend.deployments.stop(app_name)


@router.delete("/apps/{app_name}")
async def delete_app(app_name: Printable, backend: Backend) -> dict[str, Any]:
    """Local only: stop a deployment and remove its record and files."""
    return await backend.deployments.delete(app_name)
