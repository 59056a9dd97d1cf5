"""Deployments and projects against the real local backend."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api import AsyncCelesto, Celesto, CelestoNotFoundError, limits
from celesto_api.deployments import LOCAL_ONLY_CODE
from tests.cloud_like import CloudLikeFront
from tests.waiting import wait_until

APP = """\
import http.server, json, os

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"greeting": os.environ.get("GREETING"), "files": sorted(os.listdir(HERE))}
        self.send_response(200)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


http.server.HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
"""


def agent_folder(root: Path) -> Path:
    folder = root / "agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP)
    (folder / "notes.log").write_text("not bundled\n")
    (folder / ".celestoignore").write_text("*.log  # logs stay home\n")
    return folder


def unique(prefix: str) -> str:
    return f"{prefix}-{random.getrandbits(32):08x}"


def test_projects_list(sdk: Celesto) -> None:
    projects = sdk.projects.list()
    assert projects["data"], "the local backend should have a default project"
    assert "total" in projects
    assert {"id", "name"} <= set(projects["data"][0])


def test_deploy_list_and_status(sdk: Celesto, tmp_path: Path) -> None:
    name = unique("sdk-agent")
    result = sdk.deployment.deploy(
        folder=agent_folder(tmp_path),
        name=name,
        description="made by the SDK tests",
        envs={"GREETING": "hi"},
    )
    assert result["name"] == name
    assert result["id"]
    assert result["status"] in limits.DEPLOYMENT_STATUSES

    assert name in {d["name"] for d in sdk.deployments.list()}
    status = wait_ready(sdk, name)
    assert status["status"] == "READY", status
    assert status.get("config", {}).get("env") == {"GREETING": "hi"}
    # The running app lists its own folder: the bundle arrived, filtered by .celestoignore.
    served = httpx.get(status["url"], timeout=10).json()
    assert served == {"greeting": "hi", "files": [".celestoignore", "main.py"]}


def test_deploy_into_named_project(sdk: Celesto, tmp_path: Path) -> None:
    project = sdk.projects.list()["data"][0]
    result = sdk.deployment.deploy(
        folder=agent_folder(tmp_path), name=unique("named"), project_name=project["name"]
    )
    assert result["id"]
    with pytest.raises(CelestoNotFoundError, match="Project 'no-such-project' not found"):
        sdk.deployment.deploy(
            folder=tmp_path / "agent", name=unique("x"), project_name="no-such-project"
        )


def test_unknown_deployment(sdk: Celesto) -> None:
    with pytest.raises(CelestoNotFoundError):
        sdk.deployment.get("no-such-deployment")


async def test_async_deploy(async_sdk: AsyncCelesto, tmp_path: Path) -> None:
    name = unique("async-agent")
    result = await async_sdk.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    assert result["name"] == name
    listing = await async_sdk.deployments.list()
    assert name in {d["name"] for d in listing}
    status = await async_sdk.deployment.get(name)
    assert status["status"] in limits.DEPLOYMENT_STATUSES
    projects = await async_sdk.projects.list(limit=1)
    assert len(projects["data"]) == 1


def wait_ready(client: Celesto, name: str) -> Any:
    """The deployment once its build is over (READY or FAILED)."""
    return wait_until(
        lambda: client.deployment.get(name),
        lambda status: status["status"] in ("READY", "FAILED"),
        f"{name} to be built",
    )


def test_logs_stop_and_delete(sdk: Celesto, tmp_path: Path) -> None:
    name = unique("sdk-manage")
    folder = agent_folder(tmp_path)
    (folder / "main.py").write_text("print('hello from the app', flush=True)\n" + APP)
    sdk.deployment.deploy(folder=folder, name=name)
    ready = wait_ready(sdk, name)
    assert ready["status"] == "READY", ready

    logs = sdk.deployment.logs(name)
    assert isinstance(logs, str) and "hello from the app" in logs

    stopped = sdk.deployment.stop(name)
    assert stopped["status"] == "STOPPED"
    assert httpx.get(ready["url"], timeout=10).status_code == 503
    assert sdk.deployment.get(name)["status"] == "STOPPED"

    deleted = sdk.deployments.delete(name)
    assert deleted["name"] == name
    with pytest.raises(CelestoNotFoundError):
        sdk.deployment.get(name)
    for call in (sdk.deployment.logs, sdk.deployment.stop, sdk.deployment.delete):
        with pytest.raises(CelestoNotFoundError, match=name):
            call(name)


async def test_async_logs_stop_and_delete(async_sdk: AsyncCelesto, tmp_path: Path) -> None:
    name = unique("async-manage")
    await async_sdk.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    assert isinstance(await async_sdk.deployment.logs(name), str)
    assert (await async_sdk.deployment.stop(name))["status"] == "STOPPED"
    assert (await async_sdk.deployment.delete(name))["name"] == name
    with pytest.raises(CelestoNotFoundError):
        await async_sdk.deployment.get(name)


def test_local_only_calls_say_the_cloud_lacks_them(
    sdk: Celesto, local_server: Any, cloud_like: CloudLikeFront, tmp_path: Path
) -> None:
    """Behind the cloud's routes, stop/delete/logs of a deployment that exists name the
    missing endpoint; of one that does not, they stay a plain "not found"."""
    name = unique("cloud-only")
    sdk.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    with Celesto(api_key=local_server.api_key, base_url=cloud_like.base_url) as cloud:
        for what, call in (
            ("stop", cloud.deployment.stop),
            ("delete", cloud.deployment.delete),
            ("logs", cloud.deployment.logs),
        ):
            with pytest.raises(CelestoNotFoundError) as caught:
                call(name)
            assert caught.value.code == LOCAL_ONLY_CODE
            assert f"does not offer deployment {what}" in caught.value.message
            with pytest.raises(CelestoNotFoundError) as missing:
                call("no-such-deployment")
            assert missing.value.code != LOCAL_ONLY_CODE
    assert sdk.deployment.get(name)["name"] == name  # nothing happened to it
    sdk.deployment.delete(name)


async def test_async_local_only_calls_say_the_cloud_lacks_them(
    async_sdk: AsyncCelesto, local_server: Any, cloud_like: CloudLikeFront, tmp_path: Path
) -> None:
    name = unique("cloud-only-async")
    await async_sdk.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    async with AsyncCelesto(api_key=local_server.api_key, base_url=cloud_like.base_url) as cloud:
        with pytest.raises(CelestoNotFoundError) as caught:
            await cloud.deployment.stop(name)
        assert caught.value.code == LOCAL_ONLY_CODE
    await async_sdk.deployment.delete(name)
