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


def test_projects_list(client: Celesto) -> None:
    projects = client.projects.list()
    assert projects["data"], "the local backend should have a default project"
    assert "total" in projects
    assert {"id", "name"} <= set(projects["data"][0])


def test_deploy_list_and_status(client: Celesto, tmp_path: Path) -> None:
    name = unique("sdk-agent")
    result = client.deployment.deploy(
        folder=agent_folder(tmp_path),
        name=name,
        description="made by the SDK tests",
        envs={"GREETING": "hi"},
    )
    assert result["name"] == name
    assert result["id"]
    assert result["status"] in limits.DEPLOYMENT_STATUSES

    assert name in {d["name"] for d in client.deployments.list()}
    status = wait_ready(client, name)
    assert status["status"] == "READY", status
    assert status.get("config", {}).get("env") == {"GREETING": "hi"}
    # The running app lists its own folder: the bundle arrived, filtered by .celestoignore.
    served = httpx.get(status["url"], timeout=10).json()
    assert served == {"greeting": "hi", "files": [".celestoignore", "main.py"]}


def test_deploy_into_named_project(client: Celesto, tmp_path: Path) -> None:
    project = client.projects.list()["data"][0]
    result = client.deployment.deploy(
        folder=agent_folder(tmp_path), name=unique("named"), project_name=project["name"]
    )
    assert result["id"]
    with pytest.raises(CelestoNotFoundError, match="Project 'no-such-project' not found"):
        client.deployment.deploy(
            folder=tmp_path / "agent", name=unique("x"), project_name="no-such-project"
        )


def test_unknown_deployment(client: Celesto) -> None:
    with pytest.raises(CelestoNotFoundError):
        client.deployment.get("no-such-deployment")


async def test_async_deploy(aclient: AsyncCelesto, tmp_path: Path) -> None:
    name = unique("async-agent")
    result = await aclient.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    assert result["name"] == name
    listing = await aclient.deployments.list()
    assert name in {d["name"] for d in listing}
    status = await aclient.deployment.get(name)
    assert status["status"] in limits.DEPLOYMENT_STATUSES
    projects = await aclient.projects.list(limit=1)
    assert len(projects["data"]) == 1


def wait_ready(client: Celesto, name: str) -> Any:
    """The deployment once its build is over (READY or FAILED)."""
    return wait_until(
        lambda: client.deployment.get(name),
        lambda status: status["status"] in ("READY", "FAILED"),
        f"{name} to be built",
    )


def test_logs_stop_and_delete(client: Celesto, tmp_path: Path) -> None:
    name = unique("sdk-manage")
    folder = agent_folder(tmp_path)
    (folder / "main.py").write_text("print('hello from the app', flush=True)\n" + APP)
    client.deployment.deploy(folder=folder, name=name)
    ready = wait_ready(client, name)
    assert ready["status"] == "READY", ready

    logs = client.deployment.logs(name)
    assert isinstance(logs, str) and "hello from the app" in logs

    stopped = client.deployment.stop(name)
    assert stopped["status"] == "STOPPED"
    assert httpx.get(ready["url"], timeout=10).status_code == 503
    assert client.deployment.get(name)["status"] == "STOPPED"

    deleted = client.deployments.delete(name)
    assert deleted["name"] == name
    with pytest.raises(CelestoNotFoundError):
        client.deployment.get(name)
    for call in (client.deployment.logs, client.deployment.stop, client.deployment.delete):
        with pytest.raises(CelestoNotFoundError, match=name):
            call(name)


async def test_async_logs_stop_and_delete(aclient: AsyncCelesto, tmp_path: Path) -> None:
    name = unique("async-manage")
    await aclient.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    assert isinstance(await aclient.deployment.logs(name), str)
    assert (await aclient.deployment.stop(name))["status"] == "STOPPED"
    assert (await aclient.deployment.delete(name))["name"] == name
    with pytest.raises(CelestoNotFoundError):
        await aclient.deployment.get(name)


def test_local_only_calls_say_the_cloud_lacks_them(
    client: Celesto, local_server: Any, cloud_like: CloudLikeFront, tmp_path: Path
) -> None:
    """Behind the cloud's routes, stop/delete/logs of a deployment that exists name the
    missing endpoint; of one that does not, they stay a plain "not found"."""
    name = unique("cloud-only")
    client.deployment.deploy(folder=agent_folder(tmp_path), name=name)
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
    assert client.deployment.get(name)["name"] == name  # nothing happened to it
    client.deployment.delete(name)


async def test_async_local_only_calls_say_the_cloud_lacks_them(
    aclient: AsyncCelesto, local_server: Any, cloud_like: CloudLikeFront, tmp_path: Path
) -> None:
    name = unique("cloud-only-async")
    await aclient.deployment.deploy(folder=agent_folder(tmp_path), name=name)
    async with AsyncCelesto(api_key=local_server.api_key, base_url=cloud_like.base_url) as cloud:
        with pytest.raises(CelestoNotFoundError) as caught:
            await cloud.deployment.stop(name)
        assert caught.value.code == LOCAL_ONLY_CODE
    await aclient.deployment.delete(name)
