"""Projects, the signed-in user and the local server's own info/health/faults routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from celesto_api import __version__

from ..backend import LocalBackend
from ..errors import ApiError
from ..faults import FaultSpecError, parse_fault_spec
from ..schemas import FaultsRequest
from ..store import LOCAL_ORGANIZATION_ID, LOCAL_USER_ID
from ..text_rules import Printable
from .deps import backend_dependency

router = APIRouter()
Backend = Annotated[LocalBackend, Depends(backend_dependency)]


@router.get("/health")
@router.get("/v1/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/projects/")
@router.get("/v1/projects")
async def projects(
    backend: Backend,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    rows, total = backend.store.list_projects(skip, limit)
    return {"data": rows, "total": total, "limit": limit, "offset": skip}


@router.get("/v1/projects/default")
async def default_project(backend: Backend) -> dict[str, Any]:
    return backend.store.default_project()


@router.get("/v1/organizations/{organization_id}")
async def organization(organization_id: Printable, backend: Backend) -> dict[str, Any]:
    if organization_id != LOCAL_ORGANIZATION_ID:
        raise ApiError(404, f"Organization '{organization_id}' not found")
    project = backend.store.default_project()
    return {
        "id": LOCAL_ORGANIZATION_ID,
        "name": "Local",
        "description": "The local backend's organization",
        "billing_status": "active",
        "created_at": project["created_at"],
        "updated_at": project["created_at"],
    }


@router.get("/v1/users/info")
async def user_info() -> dict[str, Any]:
    return {
        "id": LOCAL_USER_ID,
        "first_name": "Local",
        "last_name": "User",
        "email": "local@127.0.0.1",
        "access_suspended": False,
        "onboarding_completed": True,
        "user_type": "local",
    }


@router.get("/v1/local/info")
async def info(backend: Backend) -> dict[str, Any]:
    capability = backend.driver.capability
    return {
        "version": __version__,
        "isolation": capability.level,
        "isolated": capability.isolated,
        "isolation_reason": capability.reason,
        "sandbox": capability.summary(),
        "bwrap": {
            "path": capability.bwrap_path if capability.isolated else None,
            "source": capability.details.get("bwrap_source"),
            "version": capability.details.get("bwrap_version"),
            "refused": capability.details.get("bwrap_refused"),
        },
        "cgroups": capability.cgroups,
        "data_dir": str(backend.data_dir),
        "faults": backend.faults.spec.describe(),
    }


@router.put("/v1/local/faults")
async def set_faults(body: FaultsRequest, backend: Backend) -> dict[str, Any]:
    try:
        spec = parse_fault_spec(body.spec)
    except FaultSpecError as exc:
        raise ApiError(400, str(exc)) from exc
    backend.faults.set(spec)
    return {"faults": spec.describe()}
