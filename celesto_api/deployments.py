"""``client.deployment`` (alias ``deployments``) and ``client.projects``.

``deploy`` packs a folder into ``app_bundle.tar.gz`` honouring ``.celestoignore`` exactly like
the official SDK (contract §5.4), resolves the project (§5.3) and uploads the multipart form
of §5.1. ``logs``, ``stop`` and ``delete`` are endpoints of the embedded local backend; the
cloud API answers them with 404 (:class:`CelestoNotFoundError`).

Each call is declared once (``_DeploymentCalls``, ``_ProjectCalls``) and both clients are made
from it (see `_calls`); only ``deploy``, which bundles the folder in a thread for the asyncio
client, is written for each.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from . import limits
from . import validation as check
from ._calls import AsyncResource, Call, PlanCall, SyncResource, Transport
from ._transport import Plan, RequestSpec, get
from .exceptions import CelestoNotFoundError, CelestoValidationError
from .types import Deployment, ProjectList

if TYPE_CHECKING:
    import pathspec

__all__ = [
    "AsyncDeployments",
    "AsyncProjects",
    "CelestoIgnoreWarning",
    "Deployments",
    "Projects",
    "build_bundle",
    "bundle_members",
    "read_ignore_patterns",
]

IGNORE_FILE = ".celestoignore"
BUNDLE_FILENAME = "app_bundle.tar.gz"
BUNDLE_CONTENT_TYPE = "application/gzip"
ENV_PROJECT_NAME = "CELESTO_PROJECT_NAME"
DeploymentList = list[Deployment]  # `list` is a method name inside the resource classes
PROJECTS_PATH = "/v1/projects/"  # the trailing slash matters: redirects are not followed


class CelestoIgnoreWarning(UserWarning):
    """``.celestoignore`` could not be read or parsed; the folder is bundled unfiltered."""


# --- bundle -------------------------------------------------------------------------------


def read_ignore_patterns(text: str) -> list[str]:
    """Patterns of a ``.celestoignore``: `` #`` starts a comment, ``#`` alone does not."""
    patterns = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _load_ignore_spec(folder: Path) -> pathspec.PathSpec[Any] | None:
    import pathspec

    ignore_file = folder / IGNORE_FILE
    if not ignore_file.exists():
        return None
    try:
        patterns = read_ignore_patterns(ignore_file.read_text(encoding="utf-8"))
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warnings.warn(
            f"Ignoring {ignore_file}: {exc}; bundling every file",
            CelestoIgnoreWarning,
            stacklevel=2,
        )
        return None


def bundle_members(folder: Path) -> Iterator[tuple[Path, str]]:
    """``(path, archive name)`` of every file that goes into the bundle, in a stable order.

    Directories are tested as ``dir/`` and not entered when ignored; nothing is excluded
    implicitly (``.env``, ``.git/`` and ``.celestoignore`` itself are bundled unless listed).
    """
    spec = _load_ignore_spec(folder)
    for current, dirnames, filenames in os.walk(folder):
        base = Path(current)
        relative_dir = base.relative_to(folder).as_posix()
        prefix = "" if relative_dir == "." else f"{relative_dir}/"
        kept_dirs = []
        for name in sorted(dirnames):
            if spec is not None and spec.match_file(f"{prefix}{name}/"):
                continue
            if (base / name).is_symlink():
                # os.walk does not follow links; keep the link itself, like a file.
                filenames.append(name)
                continue
            kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            relative = f"{prefix}{name}"
            if spec is None or not spec.match_file(relative):
                yield base / name, relative


def build_bundle(folder: str | os.PathLike[str]) -> bytes:
    """The gzip-compressed tar of ``folder`` as ``deploy`` uploads it."""
    root = _check_folder(folder)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, name in bundle_members(root):
            archive.add(path, arcname=name, recursive=False)
    return buffer.getvalue()


def _check_folder(folder: object) -> Path:
    if not isinstance(folder, str | os.PathLike):
        raise CelestoValidationError(
            f"folder must be a path (got {type(folder).__name__})", field="folder"
        )
    path = Path(folder)
    if not path.exists():
        raise CelestoValidationError(f"folder {str(path)!r} does not exist", field="folder")
    if not path.is_dir():
        raise CelestoValidationError(f"folder {str(path)!r} is not a directory", field="folder")
    return path


# --- requests -----------------------------------------------------------------------------


def _project_plan(project_name: str | None) -> Plan[str]:
    """The id of the named project (env ``CELESTO_PROJECT_NAME`` too), else the first one."""
    name = project_name or os.environ.get(ENV_PROJECT_NAME)
    if not name:
        page = yield get(PROJECTS_PATH, {"skip": 0, "limit": 1})
        projects = _page_items(page)
        if not projects:
            raise CelestoNotFoundError("No projects found. Create a project in Celesto first.")
        return str(projects[0]["id"])
    skip = 0
    while True:
        page = yield get(PROJECTS_PATH, {"skip": skip, "limit": limits.PROJECTS_PAGE_SIZE})
        projects = _page_items(page)
        for project in projects:
            if project.get("name") == name:
                return str(project["id"])
        skip += limits.PROJECTS_PAGE_SIZE
        total = page.get("total") if isinstance(page, Mapping) else None
        if not projects or not isinstance(total, int) or skip >= total:
            raise CelestoNotFoundError(f"Project '{name}' not found.")


def _page_items(page: Any) -> list[Mapping[str, Any]]:
    data = page.get("data") if isinstance(page, Mapping) else None
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _deploy_plan(
    bundle: bytes,
    name: str,
    description: str | None,
    envs: dict[str, str],
    project_name: str | None,
) -> Plan[Deployment]:
    project_id = yield from _project_plan(project_name)
    result = yield RequestSpec(
        "POST",
        "/v1/deploy/agent",
        data={
            "name": name,
            "description": description or "",
            "project_id": project_id,
            "config": json.dumps({"env": envs}),
        },
        files={"code_bundle": (BUNDLE_FILENAME, bundle, BUNDLE_CONTENT_TYPE)},
    )
    return cast(Deployment, result)


def _check_deploy_args(
    folder: object, name: object, description: object, envs: object
) -> tuple[Path, str, dict[str, str]]:
    checked_name = check.deploy_name(name)
    if description is not None and not isinstance(description, str):
        raise CelestoValidationError("description must be a string", field="description")
    return _check_folder(folder), checked_name, check.env_mapping(envs)


def _app_path(name: str, suffix: str = "") -> str:
    return f"/v1/deploy/apps/{quote(check.deploy_name(name), safe='')}{suffix}"


def _status_spec(name: str) -> RequestSpec:
    """A deployment by name, with its current status."""
    return get(_app_path(name, "/status"))


def _list() -> RequestSpec:
    """Every deployment of the account."""
    return get("/v1/deploy/apps")


def _stop_spec(name: str) -> RequestSpec:
    return RequestSpec("POST", _app_path(name, "/stop"))


def _delete_spec(name: str) -> RequestSpec:
    return RequestSpec("DELETE", _app_path(name))


def _logs_spec(name: str) -> RequestSpec:
    return get(_app_path(name, "/logs"))


LOCAL_ONLY_CODE = "local_backend_only"
"""``code`` of the not-found error for an endpoint only the embedded local backend has."""


def _local_only(spec: RequestSpec, name: str, what: str, base_url: str) -> Plan[Any]:
    """A call to an endpoint only the embedded local backend serves (stop, delete, logs).
    The cloud answers 404 for the route itself: when the deployment does exist, say that
    the API lacks the endpoint rather than that the deployment is missing."""
    try:
        return (yield spec)
    except CelestoNotFoundError:
        yield _status_spec(name)  # the deployment is missing: that "not found" stands
        raise CelestoNotFoundError(
            f"{base_url} does not offer deployment {what}; only the embedded local backend "
            "does. Manage cloud deployments at https://celesto.ai.",
            status_code=404,
            code=LOCAL_ONLY_CODE,
        ) from None


def _log_text(result: Any) -> str:
    """The logs endpoint answers text/plain, which the transport wraps (or, when the text
    happens to be valid JSON, decodes)."""
    if isinstance(result, Mapping) and set(result) <= {"raw_response"}:
        return str(result.get("raw_response", ""))
    return result if isinstance(result, str) else json.dumps(result)


def _logs(transport: Transport, name: str) -> Plan[str]:
    """The build log and the app's output (local backend)."""
    base_url = transport.config.base_url
    return _log_text((yield from _local_only(_logs_spec(name), name, "logs", base_url)))


def _stop(transport: Transport, name: str) -> Plan[Deployment]:
    """Stop the app; its record and files stay, deploying again restarts it (local)."""
    base_url = transport.config.base_url
    return cast(Deployment, (yield from _local_only(_stop_spec(name), name, "stop", base_url)))


def _delete(transport: Transport, name: str) -> Plan[Deployment]:
    """Stop the app and remove its record and files (local backend)."""
    base_url = transport.config.base_url
    result = yield from _local_only(_delete_spec(name), name, "delete", base_url)
    return cast(Deployment, result)


def _projects_spec(skip: int | None = None, limit: int | None = None) -> RequestSpec:
    """The account's projects, a page at a time."""
    params: dict[str, str | int] = {}
    if skip is not None:
        params["skip"] = check.int_in_range("skip", skip, 0, 2**31 - 1)
    if limit is not None:
        params["limit"] = check.int_in_range("limit", limit, 1, limits.LIST_LIMIT_MAX)
    return get(PROJECTS_PATH, params or None)


class _DeploymentCalls:
    """The calls both clients make (``deploy`` aside)."""

    list = Call(_list, DeploymentList)
    get = Call(_status_spec, Deployment)
    logs = PlanCall(_logs)
    stop = PlanCall(_stop)
    delete = PlanCall(_delete)


class Deployments(_DeploymentCalls, SyncResource):
    """Deploy agents from a folder and follow their status (blocking client)."""

    def deploy(
        self,
        folder: str | os.PathLike[str],
        name: str,
        description: str | None = None,
        envs: Mapping[str, str] | None = None,
        project_name: str | None = None,
    ) -> Deployment:
        """Bundle ``folder`` (honouring ``.celestoignore``), upload it and start the app."""
        root, name, env = _check_deploy_args(folder, name, description, envs)
        bundle = build_bundle(root)
        plan = _deploy_plan(bundle, name, description, env, project_name)
        return self._transport.run(plan)


class AsyncDeployments(_DeploymentCalls, AsyncResource):
    """Deploy agents from a folder and follow their status (asyncio client)."""

    async def deploy(
        self,
        folder: str | os.PathLike[str],
        name: str,
        description: str | None = None,
        envs: Mapping[str, str] | None = None,
        project_name: str | None = None,
    ) -> Deployment:
        """Bundle ``folder`` (honouring ``.celestoignore``; in a thread), upload it and start
        the app."""
        root, name, env = _check_deploy_args(folder, name, description, envs)
        bundle = await asyncio.to_thread(build_bundle, root)
        plan = _deploy_plan(bundle, name, description, env, project_name)
        return await self._transport.run(plan)


class _ProjectCalls:
    list = Call(_projects_spec, ProjectList)


class Projects(_ProjectCalls, SyncResource):
    """Projects of the account (blocking client)."""


class AsyncProjects(_ProjectCalls, AsyncResource):
    """Projects of the account (asyncio client)."""
