"""Wire compatibility: the official Celesto clients, unmodified, against the local backend.

Each test runs a small script with the interpreter of one official client's venv (or its
``celesto`` CLI) and asserts on the JSON it prints. 0.0.x are given the base URL with
``/v1`` (their layout), 0.1.10 the bare origin. Only the clients' public (or, for the
0.1.10 schema checks, packaged generated) code is called; none of it is copied here.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import tarfile
import termios
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer

from .conftest import GetClient, client_env, faults

pytestmark = pytest.mark.timeout(300)

LEGACY = ("0.0.5", "0.0.14")
# Where each 0.0.x keeps its client class (0.0.14 renamed Celesto to _CelestoClient).
LEGACY_CLIENT = {"0.0.5": "celesto.sdk:Celesto", "0.0.14": "celesto.sdk.client:_CelestoClient"}
NEWEST = "0.1.10"


def legacy_args(server: LocalServer, version: str, **extra: Any) -> dict[str, Any]:
    return {
        "client": LEGACY_CLIENT[version],
        "base_url": f"{server.base_url}/v1",
        "api_key": server.api_key,
        **extra,
    }


def newest_args(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {"origin": server.base_url, "api_key": server.api_key, **extra}


def api(server: LocalServer) -> httpx.Client:
    """Raw HTTP for test setup and read-only checks (never instead of the client under test)."""
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )


def wait_status(server: LocalServer, id_or_name: str, wanted: str, timeout: float = 30) -> str:
    with api(server) as http:
        deadline = time.monotonic() + timeout
        while True:
            status = http.get(f"/v1/computers/{id_or_name}").json().get("status")
            if status == wanted or time.monotonic() > deadline:
                return str(status)
            time.sleep(0.05)


def cli_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.stdout.strip(), f"no output (exit {proc.returncode}); stderr: {proc.stderr}"
    try:
        return json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {proc.returncode}):\n{proc.stdout}\nstderr: {proc.stderr}")


# ----------------------------------------------------------------------------------------
# Scripts (run inside an official client's venv; PRELUDE gives ARGS, emit, poll, failure)
# ----------------------------------------------------------------------------------------

LEGACY_IMPORT = """
import importlib
_module, _, _name = ARGS["client"].partition(":")
Client = getattr(importlib.import_module(_module), _name)
client = Client(api_key=ARGS["api_key"], base_url=ARGS["base_url"])
"""

LEGACY_LIFECYCLE = (
    LEGACY_IMPORT
    + """
out = {}
created = client.computers.create(cpus=1, memory=1024)
out["created"] = created
cid, name = created["id"], created["name"]
# The documented flow: exec straight after create, without waiting for "running".
out["first_exec"] = client.computers.exec(cid, "echo first")
out["get"] = client.computers.get(cid)
out["get_by_name"] = client.computers.get(name)["id"]
listing = client.computers.list()
out["list_count"] = listing["count"]
out["listed"] = [computer["id"] for computer in listing["computers"]]
out["templates"] = client.computers.list_templates()
out["exec"] = client.computers.exec(cid, "echo out; echo err >&2; exit 3")
out["exec_by_name"] = client.computers.exec(name, "echo by-name")
out["timed_out"] = client.computers.exec(cid, "sleep 5", timeout=1)
out["stop"] = client.computers.stop(cid)["status"]
out["stopped"] = poll(lambda: client.computers.get(cid)["status"], ("stopped",))
out["exec_when_stopped"] = failure(lambda: client.computers.exec(cid, "echo never"))
out["start"] = client.computers.start(cid)["status"]
out["restarted"] = poll(lambda: client.computers.get(cid)["status"], ("running",))
out["exec_after_start"] = client.computers.exec(cid, "echo back")
out["delete"] = client.computers.delete(cid)["status"]
out["after_delete"] = poll(
    lambda: failure(lambda: client.computers.get(cid))["type"], ("CelestoNotFoundError",)
)
emit(out)
"""
)

LEGACY_FROM_ENVIRONMENT = """
import importlib
_module, _, _name = ARGS["client"].partition(":")
Client = getattr(importlib.import_module(_module), _name)
client = Client()  # CELESTO_API_KEY, and CELESTO_BASE_URL read at import
emit({"base_url": client.base_url, "listing": client.computers.list()})
"""

LEGACY_ERRORS = (
    LEGACY_IMPORT
    + """
emit({
    "missing_id": failure(lambda: client.computers.get("cmp_doesnotexist")),
    "missing_name": failure(lambda: client.computers.exec("no-such-computer", "true")),
    "wrong_key": failure(
        lambda: Client(api_key="sk_wrong", base_url=ARGS["base_url"]).computers.list()
    ),
    "too_many_cpus": failure(lambda: client.computers.create(cpus=99)),
    "unknown_template": failure(lambda: client.computers.create(template_id="no-such")),
})
"""
)

LEGACY_ONE_LIST = (
    LEGACY_IMPORT
    + """
emit(failure(lambda: client.computers.list()))
"""
)

LEGACY_DEPLOY = (
    LEGACY_IMPORT
    + """
from pathlib import Path
import httpx

out = {}
out["deployed"] = client.deployment.deploy(
    Path(ARGS["folder"]),
    name=ARGS["name"],
    envs={"GREETING": "compat"},
    project_name=ARGS["project_name"],
)

def current():
    return next(app for app in client.deployment.list() if app["name"] == ARGS["name"])

out["final"] = poll(lambda: current()["status"], ("READY", "FAILED"), timeout=90)
out["listed"] = current()
url = out["listed"].get("url")  # the local server's route to the app (not a cloud field)
out["body"] = httpx.get(url, timeout=10).text if url else None
emit(out)
"""
)

V014_COMPUTER_RESOURCE = (
    LEGACY_IMPORT
    + """
from celesto import Computer

out = {}
computer = Computer(client=client)  # creates it
out["created"] = computer.data
out["running"] = poll(lambda: computer.refresh().status, ("running",))
out["by_name"] = Computer.get(computer.name, client=client).id
out["listed"] = [c["id"] for c in Computer.list(client=client, status="running", limit=200)]
out["listed_scratch"] = [c["id"] for c in Computer.list(client=client, template_id="scratch")]
out["templates"] = [t["id"] for t in Computer.list_templates(client=client)]
out["run"] = computer.run("echo run")
out["events"] = list(computer.run_stream("echo one; sleep 0.2; echo two >&2; exit 2"))
# timeout > 110 s: 0.0.14 sends exec through POST .../exec/stream and aggregates it.
out["long_timeout"] = client.computers.exec(computer.id, "echo a; echo b >&2; exit 4", timeout=120)
out["history"] = client.computers.list_command_history(computer.id, limit=2)
computer.stop()
out["stop"] = computer.status
out["stopped"] = poll(lambda: computer.refresh().status, ("stopped",))
out["stream_when_stopped"] = failure(lambda: list(computer.run_stream("echo never")))
computer.start()
out["restarted"] = poll(lambda: computer.refresh().status, ("running",))
computer.delete()
out["delete"] = computer.status
emit(out)
"""
)

SERVE_HTTP = (
    "mkdir -p /tmp/www && echo served-by-computer > /tmp/www/index.html && cd /tmp/www && "
    "(nohup python3 -m http.server 8000 >/dev/null 2>&1 &)"
)

# What a published URL answers: its text on 200, else the status or the error's name.
FETCH = """
import httpx

def fetch(url):
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return response.text if response.status_code == 200 else response.status_code
"""

V014_PORTS = (
    LEGACY_IMPORT
    + FETCH
    + """
from celesto import Computer

out = {}
cid = client.computers.create()["id"]
poll(lambda: client.computers.get(cid)["status"], ("running",))
out["serve"] = client.computers.exec(cid, ARGS["serve"])
computer = Computer.get(cid, client=client)
out["publish_url"] = computer.publish_port(8000)
out["published"] = client.computers.publish_port(cid, 8001)
out["republished"] = client.computers.publish_port(cid, 8001)
out["listed"] = client.computers.list_published_ports(cid)
out["via_url"] = poll(lambda: fetch(out["publish_url"]), ("served-by-computer\\n",), timeout=20)
out["in_computer"] = sorted(p["port"] for p in client.computers.get(cid)["published_ports"])
client.computers.publish_port(cid, 8002)
client.computers.publish_port(cid, 8003)
out["fifth"] = failure(lambda: client.computers.publish_port(cid, 8004))
out["below_range"] = failure(lambda: client.computers.publish_port(cid, 80))
out["unpublished"] = computer.unpublish_port(8000)
out["unpublish_absent"] = client.computers.unpublish_port(cid, 9999)
out["after"] = sorted(p["port"] for p in client.computers.list_published_ports(cid))
out["delete"] = client.computers.delete(cid)["status"]
emit(out)
"""
)

V014_TERMINAL = (
    LEGACY_IMPORT
    + """
from urllib.parse import parse_qs, urlsplit
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

out = {}
cid = client.computers.create()["id"]
poll(lambda: client.computers.get(cid)["status"], ("running",))
info = client.computers.create_terminal_session(cid)
out["info"] = {key: value for key, value in info.items() if key not in ("token", "url")}
out["token_ok"] = bool(info["token"])
out["gateway_query"] = parse_qs(urlsplit(info["gateway_url"]).query)
out["url_token"] = parse_qs(urlsplit(info["url"]).query).get("token") == [info["token"]]
seen = bytearray()
with connect(info["url"]) as ws:
    ws.send(json.dumps({"type": "resize", "cols": 101, "rows": 33}))
    ws.send("echo size_$(stty size | tr ' ' x)\\n")  # 0.0.x keystrokes are text frames
    deadline = time.monotonic() + 20
    while b"size_33x101" not in seen and time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=1)
        except TimeoutError:
            continue
        seen += message if isinstance(message, bytes) else message.encode()
    out["saw_output"] = b"size_33x101" in seen
    ws.send(json.dumps({"type": "close"}))  # what its CLI sends on detach: end the shell
    try:
        while True:
            ws.recv(timeout=10)
    except ConnectionClosed as exc:
        out["close"] = [exc.rcvd.code, exc.rcvd.reason] if exc.rcvd else None
    except TimeoutError:
        out["close"] = "no close frame within 10 s"
client.computers.stop(cid)
poll(lambda: client.computers.get(cid)["status"], ("stopped",))
out["when_stopped"] = failure(lambda: client.computers.create_terminal_session(cid))
client.computers.delete(cid)
emit(out)
"""
)

V014_CONNECTIONS = (
    LEGACY_IMPORT
    + """
cid = client.computers.create()["id"]
poll(lambda: client.computers.get(cid)["status"], ("running",))
out = {
    "browser": failure(lambda: client.computers.create_browser_connection(cid)),
    "display": failure(lambda: client.computers.create_display_connection(cid)),
}
client.computers.delete(cid)
emit(out)
"""
)

V014_ORGANIZATIONS = (
    LEGACY_IMPORT
    + """
# active(): GET /projects/?skip=0&limit=1 for data[0].organization_id, then
# GET /organizations/{id} for its name (it never raises: a failure leaves name None).
active = client.organizations.active()
emit({
    "active": active,
    "get": failure(lambda: client.organizations.get((active or {}).get("id") or "none")),
})
"""
)

NEWEST_IMPORT = """
from celesto import CloudComputer, Computer

ORIGIN, KEY = ARGS["origin"], ARGS["api_key"]

def cloud(**options):
    return CloudComputer(
        api_key=KEY, base_url=ORIGIN, startup_timeout=60, cleanup_timeout=60, **options
    )

def attach(computer_id):
    return Computer.get(computer_id, provider="cloud", api_key=KEY, base_url=ORIGIN)
"""

NEWEST_LIFECYCLE = (
    NEWEST_IMPORT
    + """
out = {}
computer = cloud(lifetime="persistent")
computer.start()  # POST /v1/computers (201, parsed strictly), then polls GET to "running"
cid = out["id"] = computer.id
result = computer.run("echo out; echo err >&2; exit 3")
out["run"] = result.model_dump()
out["events"] = [event.model_dump() for event in computer.run_stream("echo one; echo two >&2")]
attached = attach(cid)
out["attached_run"] = attached.run("echo attached").stdout
computer.stop()  # POST .../stop, polls "stopping" -> "stopped"
out["run_when_stopped"] = failure(lambda: computer.run("echo never"))
out["terminal_when_stopped"] = failure(lambda: computer.terminal())
computer.resume()  # POST .../start, polls "starting" -> "running"
out["run_after_resume"] = computer.run("echo back").stdout
computer.delete()  # DELETE, polls GET until "deleted" or 404
out["get_after_delete"] = failure(lambda: attach(cid))
with cloud() as ephemeral:  # created on enter, deleted on exit
    ephemeral_id = ephemeral.id
    out["ephemeral_run"] = ephemeral.run("echo ephemeral").stdout
out["ephemeral_after_exit"] = failure(lambda: attach(ephemeral_id))
emit(out)
"""
)

NEWEST_SCHEMA = (
    NEWEST_IMPORT
    + """
# The generated client is 0.1.10's newest schema: parse every shape it documents.
# (raise_on_unexpected_status: a status the schema does not document raises.)
from _celesto_cloud_api.api.computers import (
    bulk_delete_computers_v1_computers_bulk_delete_post as bulk_delete,
    get_computer_observability_v1_computers_computer_id_observability_get as observability,
    get_computer_v1_computers_computer_id_get as get_computer,
    list_computer_commands_v1_computers_computer_id_commands_get as commands,
    list_computer_templates_v1_computers_templates_get as templates,
    list_computers_v1_computers_get as list_computers,
)
from _celesto_cloud_api.api.deployments import (
    get_deployment_v1_deploy_apps_app_name_status_get as deployment_status,
    list_deployments_v1_deploy_apps_get as list_deployments,
)
from _celesto_cloud_api.api.projects import (
    get_default_project_v1_projects_default_get as default_project,
    list_projects_v1_projects_get as list_projects,
)
from _celesto_cloud_api.api.users import get_info_v1_users_info_get as user_info
from _celesto_cloud_api.client import AuthenticatedClient
from _celesto_cloud_api.models.computer_bulk_delete_request import ComputerBulkDeleteRequest

def parsed(endpoint, **kwargs):
    response = endpoint.sync_detailed(client=http, **kwargs)
    return response.status_code, response.parsed

def kind(value):
    if isinstance(value, list):
        return sorted({type(item).__name__ for item in value})
    return type(value).__name__

http = AuthenticatedClient(base_url=ORIGIN, token=KEY, raise_on_unexpected_status=True)
out = {}
computer = cloud(
    lifetime="persistent",
    vcpus=2,
    ram_mb=2048,
    disk_size_mb=4096,
    template_id="coding-agent",
    external_volume_enabled=True,
)
computer.start()
cid = computer.id
computer.run("echo history")
computer.publish_port(8000)
status, got = parsed(get_computer, computer_id=cid)
out["get"] = {
    "status": status,
    "kind": kind(got),
    "vcpus": got.vcpus,
    "ram_mb": got.ram_mb,
    "disk_size_mb": got.disk_size_mb,
    "template_id": got.template_id,
    "external_volume_enabled": got.external_volume_enabled,
    "image": got.image,
    "location": got.compute_location.to_dict(),
    "network_policy": got.network_policy.to_dict(),
    "published_ports": [port.to_dict()["port"] for port in got.published_ports],
    "origin": getattr(got.origin, "value", got.origin),
}
status, listing = parsed(list_computers, limit=50)
out["list"] = {"status": status, "kind": kind(listing), "count": listing.count,
               "items": kind(listing.computers), "ids": [c.id for c in listing.computers]}
status, found = parsed(templates)
out["templates"] = {"status": status, "kind": kind(found), "ids": [t.id for t in found]}
status, history = parsed(commands, computer_id=cid, limit=5)
out["commands"] = {"status": status, "kind": kind(history), "count": history.count,
                   "items": kind(history.commands)}
status, seen = parsed(observability, computer_id=cid)
out["observability"] = {"status": status, "kind": kind(seen)}
status, user = parsed(user_info)
out["user"] = {"status": status, "kind": kind(user), "email": user.email}
status, projects = parsed(list_projects)
out["projects"] = {"status": status, "kind": kind(projects), "total": projects.total,
                   "items": kind(projects.data)}
status, project = parsed(default_project)
out["default_project"] = {"status": status, "kind": kind(project), "is_default": project.is_default}
status, apps = parsed(list_deployments)
out["deployments"] = {"status": status, "kind": kind(apps), "names": [a.name for a in apps]}
status, app = parsed(deployment_status, app_name=ARGS["app_name"])
out["deployment"] = {"status": status, "kind": kind(app), "name": app.name}
status, bulk = parsed(
    bulk_delete, body=ComputerBulkDeleteRequest(computer_ids=[cid, "cmp_doesnotexist"])
)
out["bulk_delete"] = {"status": status, "kind": kind(bulk), **bulk.to_dict()}
emit(out)
"""
)

NEWEST_PORTS = (
    NEWEST_IMPORT
    + FETCH
    + """
out = {}
computer = cloud(lifetime="persistent")
computer.start()
out["serve"] = computer.run(ARGS["serve"]).exit_code
published = computer.publish_port(8000)  # strict PublishedPort (1024-65535, str fields)
out["published"] = published.model_dump()
out["republished"] = computer.publish_port(8000).model_dump()
out["listed"] = [port.model_dump() for port in computer.published_ports()]
out["via_url"] = poll(lambda: fetch(published.url), ("served-by-computer\\n",), timeout=20)
for port in (8001, 8002, 8003):
    computer.publish_port(port)
out["fifth"] = failure(lambda: computer.publish_port(8004))
out["unpublished"] = computer.unpublish_port(8000).model_dump()
out["unpublish_absent"] = computer.unpublish_port(9999).model_dump()
out["after"] = sorted(port.port for port in computer.published_ports())
computer.delete()
emit(out)
"""
)

NEWEST_TERMINAL = (
    NEWEST_IMPORT
    + """
import threading

real_stdout = sys.stdout


class Screen:
    # Stands in for sys.stdout: attach() writes the terminal's bytes to sys.stdout.buffer.
    def __init__(self):
        self.buffer = self
        self.data = bytearray()
        self.changed = threading.Condition()

    def write(self, chunk):
        with self.changed:
            self.data += chunk
            self.changed.notify_all()
        return len(chunk)

    def flush(self):
        pass

    def wait_for(self, needle, timeout=20):
        with self.changed:
            return self.changed.wait_for(lambda: needle in self.data, timeout)


def attach_with(terminal, steps):
    # attach() bridges stdin (here a pipe) and stdout (here a Screen) until detach or exit.
    read_end, write_end = os.pipe()
    screen = Screen()
    result = {"seen": []}

    def type_keys():
        for keys, expect in steps:
            os.write(write_end, keys)
            if expect is not None:
                result["seen"].append(screen.wait_for(expect))

    sys.stdin, sys.stdout = os.fdopen(read_end, "rb", buffering=0), screen
    typist = threading.Thread(target=type_keys, daemon=True)
    typist.start()
    try:
        terminal.attach()
        result["attach"] = "returned"
    except Exception as exc:
        result["attach"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        sys.stdout = real_stdout
        sys.stdin.close()
        os.close(write_end)
    typist.join(5)
    return result


out = {}
computer = cloud(lifetime="persistent")
computer.start()
terminal = computer.terminal()  # POST .../terminals {} -> 201, validated
out["terminal_id"] = terminal.terminal_id
out["expires_at_tz"] = terminal.expires_at.tzinfo is not None
out["first"] = attach_with(terminal, [
    (b"export FOO=bar_$((6*7)); echo first_$FOO\\n", b"first_bar_42"),
    (b"\\x1d", None),  # Ctrl+]: detach, closing 1000 "client detached"; the shell stays
])
again = computer.terminal(terminal_id=terminal.terminal_id)  # fresh token, same session
out["same_id"] = again.terminal_id == terminal.terminal_id
out["second"] = attach_with(again, [
    (b"echo again_$FOO\\n", b"again_bar_42"),
    (b"exit\\n", None),  # the shell ends: the server must close 1000
])
computer.delete()
emit(out)
"""
)

NEWEST_ERRORS = (
    NEWEST_IMPORT
    + """
emit({
    "missing": failure(lambda: attach("cmp_doesnotexist")),
    "wrong_key": failure(
        lambda: CloudComputer(api_key="sk_wrong", base_url=ORIGIN).start()
    ),
    "too_many_vcpus": failure(lambda: cloud(vcpus=99).start()),
    "too_little_ram": failure(lambda: cloud(ram_mb=100).start()),
})
"""
)

NEWEST_ONE_CREATE = (
    NEWEST_IMPORT
    + """
emit(failure(lambda: cloud().start()))
"""
)

NEWEST_CONNECTIONS = (
    NEWEST_IMPORT
    + """
computer = cloud(lifetime="persistent")
computer.start()
out = {
    "browser": failure(lambda: computer.browser()),
    "display": failure(lambda: computer.display(mode="read_only")),
}
computer.delete()
emit(out)
"""
)


# ----------------------------------------------------------------------------------------
# 0.0.5 and 0.0.14: the seed's SDK (base URL with /v1)
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_sdk_computer_lifecycle(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, version: str
) -> None:
    out = official_client(version).run_script(
        LEGACY_LIFECYCLE, client_env(home_dir), legacy_args(tidy_local_server, version)
    )

    created = out["created"]
    assert created["id"].startswith("cmp_")
    assert created["status"] in ("creating", "running")
    assert (created["vcpus"], created["ram_mb"]) == (1, 1024)
    for key in ("name", "image", "created_at", "disk_size_mb", "template_id"):
        assert key in created, key
    assert (out["first_exec"]["exit_code"], out["first_exec"]["stdout"]) == (0, "first\n")
    assert out["get"]["id"] == created["id"]
    assert out["get_by_name"] == created["id"]
    assert created["id"] in out["listed"]
    assert isinstance(out["list_count"], int)
    for template in out["templates"]:
        for key in ("id", "display_name", "description", "default_vcpus", "default_ram_mb"):
            assert key in template, (key, template)
    assert "scratch" in [template["id"] for template in out["templates"]]

    result = out["exec"]
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "out\n", "err\n")
    assert out["exec_by_name"]["stdout"] == "by-name\n"
    assert out["timed_out"]["timed_out"] is True
    assert out["timed_out"]["exit_code"] != 0

    assert out["stop"] in ("stopping", "stopped")
    assert out["stopped"] == "stopped"
    stopped = out["exec_when_stopped"]
    assert stopped["type"] == "CelestoServerError", stopped
    assert stopped["http_status"] == 409
    # Both 0.0.x CLIs' auto-resume test (celesto/computer.py `run`), verbatim:
    assert "stopped" in stopped["message"].lower() or "409" in stopped["message"]
    assert out["start"] in ("starting", "running")
    assert out["restarted"] == "running"
    assert out["exec_after_start"]["stdout"] == "back\n"
    assert out["delete"] in ("deleting", "deleted")
    assert out["after_delete"] == "CelestoNotFoundError"


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_sdk_reads_key_and_base_url_from_environment(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, version: str
) -> None:
    env = client_env(
        home_dir,
        CELESTO_API_KEY=tidy_local_server.api_key,
        CELESTO_BASE_URL=f"{tidy_local_server.base_url}/v1",
    )
    out = official_client(version).run_script(
        LEGACY_FROM_ENVIRONMENT, env, {"client": LEGACY_CLIENT[version]}
    )

    assert out["base_url"] == f"{tidy_local_server.base_url}/v1"
    assert set(out["listing"]) >= {"computers", "count"}


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_sdk_error_classes(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, version: str
) -> None:
    client = official_client(version)
    env = client_env(home_dir)
    out = client.run_script(LEGACY_ERRORS, env, legacy_args(tidy_local_server, version))

    assert out["missing_id"]["type"] == "CelestoNotFoundError"
    assert out["missing_id"]["http_status"] == 404
    assert out["missing_id"]["message"].startswith("Resource not found: ")
    assert out["missing_name"]["type"] == "CelestoNotFoundError"
    assert out["wrong_key"]["type"] == "CelestoAuthenticationError"
    assert out["wrong_key"]["http_status"] == 401
    # Neither 0.0.x validates cpus client-side: the server's 422 must come through.
    assert out["too_many_cpus"]["type"] == "CelestoValidationError"
    assert out["too_many_cpus"]["http_status"] == 422
    assert out["unknown_template"]["type"] == "CelestoValidationError"
    assert out["unknown_template"]["http_status"] == 400

    with faults(tidy_local_server, "rate_limit=1,retry_after=7,count=1"):
        limited = client.run_script(LEGACY_ONE_LIST, env, legacy_args(tidy_local_server, version))
    assert limited["type"] == "CelestoRateLimitError"
    assert limited["retry_after"] == 7
    with faults(tidy_local_server, "error_rate=1,count=1"):
        broken = client.run_script(LEGACY_ONE_LIST, env, legacy_args(tidy_local_server, version))
    assert broken["type"] == "CelestoServerError"
    assert broken["message"].startswith("Server error (503)")
    # 0.0.x has no class for 402: it is an "Unexpected response".
    with faults(tidy_local_server, "error_rate=1,error_status=402,count=1"):
        unpaid = client.run_script(LEGACY_ONE_LIST, env, legacy_args(tidy_local_server, version))
    assert unpaid["type"] == "CelestoServerError"
    assert unpaid["message"].startswith("Unexpected response (402)")


APP_MAIN = """\
import http.server
import os


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        secret = os.path.exists("secret.txt")
        body = ("hello %s secret=%s" % (os.environ.get("GREETING"), secret)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""


def app_folder(root: Path) -> Path:
    folder = root / "agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP_MAIN)
    (folder / "secret.txt").write_text("not for the server\n")
    (folder / ".celestoignore").write_text("# keep secrets local\nsecret.txt # inline comment\n")
    return folder


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_sdk_deploys_and_lists(
    official_client: GetClient,
    tidy_local_server: LocalServer,
    home_dir: Path,
    tmp_path: Path,
    version: str,
) -> None:
    with api(tidy_local_server) as http:
        project_name = http.get("/v1/projects/").json()["data"][0]["name"]
    # 0.0.5 takes the first project (GET /projects/?skip=0&limit=1); 0.0.14 searches by name.
    args = legacy_args(
        tidy_local_server,
        version,
        folder=str(app_folder(tmp_path)),
        name=f"compat-{version.replace('.', '-')}",
        project_name=project_name if version == "0.0.14" else None,
    )
    out = official_client(version).run_script(LEGACY_DEPLOY, client_env(home_dir), args)

    deployed = out["deployed"]
    assert deployed["name"] == args["name"]
    assert deployed["status"] in ("PENDING", "ENQUEUED", "BUILDING", "READY")
    assert deployed["config"] == {"env": {"GREETING": "compat"}}
    assert out["final"] == "READY", out["listed"]
    for key in ("id", "name", "organization_id", "user_id", "status", "created_at", "updated_at"):
        assert key in out["listed"], key
    # The app runs with the env it was given, without the file .celestoignore excluded.
    assert out["body"] == "hello compat secret=False"


# ----------------------------------------------------------------------------------------
# 0.0.14 only: Computer resource, exec/stream, published ports, gateway terminal
# ----------------------------------------------------------------------------------------


def test_v014_computer_resource_and_exec_stream(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client("0.0.14").run_script(
        V014_COMPUTER_RESOURCE, client_env(home_dir), legacy_args(tidy_local_server, "0.0.14")
    )

    created = out["created"]
    assert created["status"] in ("creating", "running")
    assert out["running"] == "running"
    assert out["by_name"] == created["id"]
    assert created["id"] in out["listed"]
    assert created["id"] in out["listed_scratch"]
    assert "scratch" in out["templates"]
    assert (out["run"]["exit_code"], out["run"]["stdout"]) == (0, "run\n")

    events = out["events"]
    assert events[0]["type"] == "started"
    assert isinstance(events[0]["command_id"], str)
    assert [(e["type"], e.get("data")) for e in events[1:-1]] == [
        ("stdout", "one\n"),
        ("stderr", "two\n"),
    ]
    assert events[-1]["type"] == "exit"
    assert events[-1]["exit_code"] == 2

    long = out["long_timeout"]
    assert (long["exit_code"], long["stdout"], long["stderr"]) == (4, "a\n", "b\n")
    history = out["history"]
    assert history["count"] == len(history["commands"]) == 2
    for entry in history["commands"]:
        assert {"command_id", "source", "status"} <= set(entry)

    assert out["stop"] in ("stopping", "stopped")
    assert out["stopped"] == "stopped"
    stopped = out["stream_when_stopped"]
    assert stopped["type"] == "CelestoServerError"
    assert stopped["http_status"] == 409
    assert "stopped" in stopped["message"].lower()
    assert out["restarted"] == "running"
    assert out["delete"] in ("deleting", "deleted")


def test_v014_published_ports(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client("0.0.14").run_script(
        V014_PORTS, client_env(home_dir), legacy_args(tidy_local_server, "0.0.14", serve=SERVE_HTTP)
    )

    assert out["serve"]["exit_code"] == 0, out["serve"]
    assert out["publish_url"].startswith("http://127.0.0.1:")
    published = out["published"]
    assert {"id", "computer_id", "port", "status", "url", "created_at"} <= set(published)
    assert (published["port"], published["status"]) == (8001, "published")
    assert out["republished"]["url"] == published["url"]
    assert sorted(port["port"] for port in out["listed"]) == [8000, 8001]
    assert out["via_url"] == "served-by-computer\n"
    assert out["in_computer"] == [8000, 8001]
    # "Each computer supports up to four public ports" (publish_port docstring).
    assert out["fifth"]["type"] == "CelestoValidationError"
    assert out["fifth"]["http_status"] == 400
    assert out["below_range"]["http_status"] == 422
    assert (out["unpublished"]["port"], out["unpublished"]["status"]) == (8000, "unpublished")
    assert out["unpublish_absent"]["status"] == "unpublished"
    assert out["after"] == [8001, 8002, 8003]


def test_v014_gateway_terminal_via_create_terminal_session(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client("0.0.14").run_script(
        V014_TERMINAL, client_env(home_dir), legacy_args(tidy_local_server, "0.0.14")
    )

    info = out["info"]
    assert info["terminal_id"].startswith("term_")
    assert info["gateway_url"].startswith("ws://127.0.0.1:")
    assert "token" not in out["gateway_query"]
    assert out["token_ok"] and out["url_token"]
    assert info["expires_at"].endswith(("Z", "+00:00"))
    assert out["saw_output"] is True
    assert out["close"][0] == 1000
    stopped = out["when_stopped"]
    assert stopped["type"] == "CelestoServerError"
    assert stopped["http_status"] == 409


def test_v014_browser_and_display_are_refused_with_409(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client("0.0.14").run_script(
        V014_CONNECTIONS, client_env(home_dir), legacy_args(tidy_local_server, "0.0.14")
    )

    for kind in ("browser", "display"):
        assert out[kind]["type"] == "CelestoServerError", (kind, out[kind])
        assert out[kind]["http_status"] == 409


def test_v014_organizations_resolve_the_keys_organization(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client("0.0.14").run_script(
        V014_ORGANIZATIONS, client_env(home_dir), legacy_args(tidy_local_server, "0.0.14")
    )

    assert out["get"]["type"] is None, out["get"]
    assert out["active"] is not None
    assert isinstance(out["active"]["name"], str) and out["active"]["name"]


# ----------------------------------------------------------------------------------------
# The 0.0.x CLIs (`celesto computer ...`, CELESTO_API_KEY / CELESTO_BASE_URL)
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_cli_json(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, version: str
) -> None:
    client = official_client(version)
    env = client_env(
        home_dir,
        CELESTO_API_KEY=tidy_local_server.api_key,
        CELESTO_BASE_URL=f"{tidy_local_server.base_url}/v1",
    )

    created = cli_json(client.run_cli(["computer", "create", "--json"], env))
    name = created["name"]
    assert created["id"].startswith("cmp_")
    listed = cli_json(client.run_cli(["computer", "list", "--json"], env))
    assert isinstance(listed, list)  # --json prints only the `computers` array
    assert created["id"] in [computer["id"] for computer in listed]
    templates = cli_json(client.run_cli(["computer", "templates", "--json"], env))
    assert "scratch" in [template["id"] for template in templates]

    ran = client.run_cli(["computer", "run", name, "echo hi", "--json"], env)
    assert ran.returncode == 0, ran.stderr
    assert (cli_json(ran)["stdout"], cli_json(ran)["exit_code"]) == ("hi\n", 0)
    failed = client.run_cli(["computer", "run", name, "echo no; exit 3", "--json"], env)
    assert cli_json(failed)["exit_code"] == 3
    # 0.0.14 exits with the remote exit code under --json; 0.0.5 exits 0 there.
    assert failed.returncode == (3 if version == "0.0.14" else 0)
    plain = client.run_cli(["computer", "run", name, "echo plain; exit 5"], env)
    assert (plain.returncode, plain.stdout) == (5, "plain\n")

    stopped = cli_json(client.run_cli(["computer", "stop", name, "--json"], env))
    assert stopped["status"] in ("stopping", "stopped")
    assert wait_status(tidy_local_server, name, "stopped") == "stopped"
    # Auto-resume: exec answers 409 "... is stopped", the CLI starts it, polls, re-runs.
    resumed = client.run_cli(["computer", "run", name, "echo resumed", "--json"], env)
    assert resumed.returncode == 0, resumed.stderr
    assert cli_json(resumed)["stdout"] == "resumed\n"
    assert wait_status(tidy_local_server, name, "running") == "running"

    deleted = cli_json(client.run_cli(["computer", "delete", name, "--json"], env))
    assert deleted["status"] in ("deleting", "deleted")


def test_v014_cli_get_stream_and_ports(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    client = official_client("0.0.14")
    env = client_env(
        home_dir,
        CELESTO_API_KEY=tidy_local_server.api_key,
        CELESTO_BASE_URL=f"{tidy_local_server.base_url}/v1",
    )
    created = cli_json(client.run_cli(["computer", "create", "--json"], env))
    name = created["name"]

    got = cli_json(client.run_cli(["computer", "get", name, "--json"], env))
    assert got["id"] == created["id"]
    listed = cli_json(
        client.run_cli(["computer", "list", "--status", "running", "--limit", "200", "--json"], env)
    )
    assert all(computer["status"] == "running" for computer in listed)

    stream = client.run_cli(
        ["computer", "run", name, "echo s; sleep 0.2; echo e >&2; exit 6", "--stream", "--json"],
        env,
    )
    events = [json.loads(line) for line in stream.stdout.splitlines() if line.strip()]
    assert stream.returncode == 6, stream.stderr
    assert [event["type"] for event in events] == ["started", "stdout", "stderr", "exit"]
    assert (events[1]["data"], events[2]["data"], events[3]["exit_code"]) == ("s\n", "e\n", 6)

    port_cmd = ["computer", "port"]
    published = cli_json(client.run_cli([*port_cmd, "publish", name, "-p", "8000", "--json"], env))
    assert (published["port"], published["status"]) == (8000, "published")
    ports = cli_json(client.run_cli([*port_cmd, "list", name, "--json"], env))
    assert [port["port"] for port in ports] == [8000]
    gone = cli_json(client.run_cli([*port_cmd, "unpublish", name, "-p", "8000", "--json"], env))
    assert gone["status"] == "unpublished"
    table = client.run_cli([*port_cmd, "list", name], env)
    assert "No published ports." in table.stdout

    deleted = client.run_cli(["computer", "delete", name, "--force"], env)
    assert deleted.returncode == 0, deleted.stderr


def test_v014_cli_auth_login_saves_a_key_the_other_commands_use(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    client = official_client("0.0.14")
    env = client_env(
        home_dir, CELESTO_BASE_URL=f"{tidy_local_server.base_url}/v1"
    )  # no CELESTO_API_KEY

    rejected = client.run_cli(["auth", "login", "--api-key", "sk_wrong"], env)
    assert rejected.returncode == 1
    assert "did not work" in rejected.stdout
    # Login validates with GET /computers/templates; the keyring fails here, so it saves
    # the key to $XDG_CONFIG_HOME/celesto/credentials.json.
    login = client.run_cli(["auth", "login", "--api-key", tidy_local_server.api_key], env)
    assert login.returncode == 0, login.stdout + login.stderr
    assert "Saved your Celesto API key" in login.stdout
    assert (home_dir / ".config" / "celesto" / "credentials.json").exists()
    listed = client.run_cli(["computer", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert isinstance(cli_json(listed), list)


# ----------------------------------------------------------------------------------------
# `celesto computer ssh` in a pseudo-terminal: 0.0.5 legacy socket, 0.0.14 gateway
# ----------------------------------------------------------------------------------------


def drive_ssh(
    argv: list[str],
    env: dict[str, str],
    *,
    rows: int,
    cols: int,
    keys: bytes,
    marker: bytes,
    timeout: float = 45,
) -> tuple[int | None, str]:
    """Run an interactive ``ssh`` command on a pty: wait for "Connected." and raw mode,
    type ``keys``, wait for ``marker``, detach with Ctrl+]. (exit status, transcript)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=env["HOME"])
    os.close(slave)
    transcript = bytearray()
    deadline = time.monotonic() + timeout

    def pump(done: Any, until: float = deadline) -> bool:
        while not done():
            if time.monotonic() > until:
                return False
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed
                return bool(done())
            if not chunk:
                return bool(done())
            transcript.extend(chunk)
        return True

    def raw_mode() -> bool:
        # Typing before the client switches to raw mode would be flushed by tty.setraw().
        return not termios.tcgetattr(master)[3] & termios.ICANON

    status = None
    try:
        if pump(lambda: b"Connected." in transcript) and pump(raw_mode):
            os.write(master, keys)
            if pump(lambda: marker in transcript):
                os.write(master, b"\x1d")  # Ctrl+]: disconnect
                status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                pump(lambda: False, until=time.monotonic() + 0.5)  # its last words
    except subprocess.TimeoutExpired:
        status = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, transcript.decode(errors="replace")


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_cli_ssh_resumes_and_connects(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, version: str
) -> None:
    """0.0.5: GET the name, start a stopped computer, open the legacy socket
    ``/v1/computers/{id}/terminal`` (Bearer header + first message ``{"token": key}``).
    0.0.14: the same resume, then ``POST …/terminals`` and the gateway URL with ``?token=``."""
    client = official_client(version)
    env = client_env(
        home_dir,
        CELESTO_API_KEY=tidy_local_server.api_key,
        CELESTO_BASE_URL=f"{tidy_local_server.base_url}/v1",
    )
    name = cli_json(client.run_cli(["computer", "create", "--json"], env))["name"]
    assert wait_status(tidy_local_server, name, "running") == "running"
    client.run_cli(["computer", "stop", name, "--json"], env)
    assert wait_status(tidy_local_server, name, "stopped") == "stopped"

    rows, cols = 31, 97
    # 0.0.5 unpacks os.get_terminal_size() (columns, lines) as (rows, cols): its resize
    # frame swaps them. The server must apply whatever frame the client sends.
    size = f"{cols}x{rows}" if version == "0.0.5" else f"{rows}x{cols}"
    status, transcript = drive_ssh(
        [str(client.cli), "computer", "ssh", name],
        env,
        rows=rows,
        cols=cols,
        keys=b"echo size_$(stty size | tr ' ' x)\r",
        marker=f"size_{size}".encode(),
    )

    assert status == 0, transcript
    assert "Computer is stopped. Resuming..." in transcript
    assert "Computer resumed." in transcript
    assert "Disconnected." in transcript
    assert "Connection closed" not in transcript
    assert "ended unexpectedly" not in transcript
    client.run_cli(["computer", "delete", name, "--json"], env)


# ----------------------------------------------------------------------------------------
# 0.1.10: the generated client (origin base URL, strict parsing, polling helpers)
# ----------------------------------------------------------------------------------------


def test_v110_cloud_computer_lifecycle(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client(NEWEST).run_script(
        NEWEST_LIFECYCLE, client_env(home_dir), newest_args(tidy_local_server)
    )

    assert out["id"].startswith("cmp_")
    assert out["run"] == {"stdout": "out\n", "stderr": "err\n", "exit_code": 3}
    events = out["events"]
    assert [event["type"] for event in events] == ["started", "stdout", "stderr", "exit"]
    assert (events[1]["data"], events[2]["data"], events[3]["exit_code"]) == (
        "one\n",
        "two\n",
        0,
    )
    assert events[0]["command_id"] == events[3]["command_id"]
    assert out["attached_run"] == "attached\n"
    for call in ("run_when_stopped", "terminal_when_stopped"):
        assert out[call]["type"] == "CloudAPIError", out[call]
        assert out[call]["status_code"] == 409
    assert out["run_after_resume"] == "back\n"
    assert out["get_after_delete"]["type"] == "VMNotFoundError"
    assert out["ephemeral_run"] == "ephemeral\n"
    assert out["ephemeral_after_exit"]["type"] == "VMNotFoundError"


def test_v110_generated_schema_parses_every_response(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path, tmp_path: Path
) -> None:
    app_name = "compat-schema"
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        main = APP_MAIN.encode()
        info = tarfile.TarInfo("main.py")
        info.size = len(main)
        tar.addfile(info, io.BytesIO(main))
    with api(tidy_local_server) as http:
        project_id = http.get("/v1/projects/").json()["data"][0]["id"]
        deployed = http.post(
            "/v1/deploy/agent",
            files={"code_bundle": ("app_bundle.tar.gz", bundle.getvalue(), "application/gzip")},
            data={"name": app_name, "description": "", "project_id": project_id, "config": "{}"},
        )
        assert deployed.status_code == 201, deployed.text

    out = official_client(NEWEST).run_script(
        NEWEST_SCHEMA, client_env(home_dir), newest_args(tidy_local_server, app_name=app_name)
    )

    got = out["get"]
    assert (got["status"], got["kind"]) == (200, "ComputerResponse")
    assert (got["vcpus"], got["ram_mb"], got["disk_size_mb"]) == (2, 2048, 4096)
    assert got["template_id"] == "coding-agent"
    assert got["external_volume_enabled"] is True
    assert got["image"] == "ubuntu-desktop-24.04"
    assert set(got["location"]) >= {"provider", "region", "country_code"}
    assert got["network_policy"] == {"mode": "open"}
    assert got["published_ports"] == [8000]
    assert got["origin"] == "sdk"  # X-Celesto-Client: sdk
    assert out["list"]["kind"] == "ComputerListResponse"
    assert out["list"]["items"] == ["ComputerResponse"]
    assert out["list"]["count"] == len(out["list"]["ids"])
    assert out["templates"]["kind"] == ["SandboxTemplateResponse"]
    assert "scratch" in out["templates"]["ids"]
    assert out["commands"]["kind"] == "SandboxCommandInvocationsResponse"
    assert out["commands"]["count"] >= 1
    assert out["commands"]["items"] == ["SandboxCommandInvocationResponse"]
    assert out["observability"]["kind"] == "ComputerObservabilityResponse"
    assert out["user"]["kind"] == "UserPublic"
    assert out["user"]["email"]
    assert out["projects"]["kind"] == "ProjectListResponse"
    assert out["projects"]["items"] == ["ProjectResponse"]
    assert out["default_project"] == {"status": 200, "kind": "ProjectResponse", "is_default": True}
    assert out["deployments"]["kind"] == ["AppDeploymentListItem"]
    assert app_name in out["deployments"]["names"]
    assert out["deployment"] == {"status": 200, "kind": "AppDeploymentRead", "name": app_name}
    bulk = out["bulk_delete"]
    assert (bulk["status"], bulk["kind"], bulk["deleted"]) == (200, "ComputerBulkDeleteResponse", 1)
    assert bulk["failed_ids"] == ["cmp_doesnotexist"]


def test_v110_published_ports(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client(NEWEST).run_script(
        NEWEST_PORTS, client_env(home_dir), newest_args(tidy_local_server, serve=SERVE_HTTP)
    )

    assert out["serve"] == 0
    published = out["published"]
    assert (published["port"], published["status"]) == (8000, "published")
    assert published["url"].startswith("http://127.0.0.1:")
    assert published["id"] and published["created_at"]
    assert out["republished"]["url"] == published["url"]
    assert [port["port"] for port in out["listed"]] == [8000]
    assert out["via_url"] == "served-by-computer\n"
    fifth = out["fifth"]
    assert (fifth["type"], fifth["status_code"]) == ("CloudAPIError", 400)
    assert "Port 8004 cannot be published" in fifth["message"]
    assert (out["unpublished"]["port"], out["unpublished"]["status"]) == (8000, "unpublished")
    assert out["unpublish_absent"]["status"] == "unpublished"
    assert out["after"] == [8001, 8002, 8003]


def test_v110_terminal_detach_reattach_and_exit(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client(NEWEST).run_script(
        NEWEST_TERMINAL, client_env(home_dir), newest_args(tidy_local_server)
    )

    assert out["terminal_id"].startswith("term_")
    assert out["expires_at_tz"] is True
    # Detach (Ctrl+]) returns cleanly and the shell survives for the reattachment.
    assert out["first"] == {"seen": [True], "attach": "returned"}
    assert out["same_id"] is True
    assert out["second"] == {"seen": [True], "attach": "returned"}


def test_v110_error_classes(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    client = official_client(NEWEST)
    env = client_env(home_dir)
    out = client.run_script(NEWEST_ERRORS, env, newest_args(tidy_local_server))

    assert out["missing"]["type"] == "VMNotFoundError"
    # 0.1.10 only surfaces an x-request-id that is a UUID or 32 hex characters.
    assert re.fullmatch(r"[0-9a-f]{32}|[0-9a-f-]{36}", out["wrong_key"]["request_id"] or "")
    wrong = out["wrong_key"]
    assert (wrong["type"], wrong["status_code"], wrong["code"]) == (
        "CloudAPIError",
        401,
        "http_401",
    )
    for case, constraint in (
        ("too_many_vcpus", "less_than_equal"),
        ("too_little_ram", "greater_than_equal"),
    ):
        error = out[case]
        assert (error["type"], error["status_code"]) == ("CloudAPIError", 422), error
        assert error["code"] == "validation_error"
        field = "vcpus" if "vcpus" in case else "ram_mb"
        assert error["validation_errors"] == [{"field": field, "code": constraint}]

    with faults(tidy_local_server, "rate_limit=1,count=1"):
        limited = client.run_script(NEWEST_ONE_CREATE, env, newest_args(tidy_local_server))
    assert (limited["type"], limited["status_code"]) == ("CloudAPIError", 429)
    with faults(tidy_local_server, "error_rate=1,count=1"):
        broken = client.run_script(NEWEST_ONE_CREATE, env, newest_args(tidy_local_server))
    assert (broken["type"], broken["status_code"]) == ("CloudAPIError", 503)
    assert broken["side_effects"] == "unknown"  # a 5xx on create: it may have happened
    # The billing refusal's body is the shape 0.1.10 recognises.
    with faults(tidy_local_server, "error_rate=1,error_status=402,count=1"):
        unpaid = client.run_script(NEWEST_ONE_CREATE, env, newest_args(tidy_local_server))
    assert (unpaid["type"], unpaid["status_code"]) == ("CloudAPIError", 402), unpaid
    assert unpaid["code"] == "trial_expired"


def test_v110_browser_and_display_are_refused_with_409(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    out = official_client(NEWEST).run_script(
        NEWEST_CONNECTIONS, client_env(home_dir), newest_args(tidy_local_server)
    )

    for kind in ("browser", "display"):
        assert out[kind]["type"] == "CloudAPIError", (kind, out[kind])
        assert out[kind]["status_code"] == 409


def test_v110_cli_cloud_commands(
    official_client: GetClient, tidy_local_server: LocalServer, home_dir: Path
) -> None:
    """`celesto auth login --base-url ORIGIN` stores the key and origin in
    ~/.celesto/credentials; every `--cloud` command then uses them."""
    client = official_client(NEWEST)
    env = client_env(home_dir)  # no CELESTO_API_KEY: it would override the stored base_url

    def run(*args: str) -> tuple[int, Any]:
        proc = client.run_cli(list(args), env)
        return proc.returncode, cli_json(proc)

    code, login = run(
        "auth",
        "login",
        "--api-key",
        tidy_local_server.api_key,
        "--base-url",
        tidy_local_server.base_url,
        "--json",
    )
    assert (code, login["ok"]) == (0, True), login
    code, created = run("computer", "create", "--cloud", "--json")
    assert code == 0, created
    computer_id = created["data"]["computer_id"]
    code, listed = run("computer", "list", "--cloud", "--json")
    assert computer_id in [row["computer_id"] for row in listed["data"]["computers"]]
    code, got = run("computer", "get", computer_id, "--json")
    assert (got["data"]["computer_id"], got["data"]["status"]) == (computer_id, "running")

    code, ran = run("computer", "run", computer_id, "echo hi", "--json")
    assert (code, ran["data"]) == (0, {"exit_code": 0, "stdout": "hi\n", "stderr": ""})
    code, failed = run("computer", "run", computer_id, "exit 3", "--json")
    assert (code, failed["error"]["code"]) == (3, "command_failed")
    code, executed = run("computer", "exec", computer_id, "--cloud", "--json", "--", "echo", "a b")
    assert (code, executed["data"]["stdout"]) == (0, "a b\n")

    code, published = run("computer", "port", "publish", computer_id, "--port", "8000", "--json")
    assert (code, published["data"]["port"], published["data"]["status"]) == (0, 8000, "published")
    code, ports = run("computer", "port", "list", computer_id, "--cloud", "--json")
    assert [port["port"] for port in ports["data"]["ports"]] == [8000]
    code, gone = run("computer", "port", "unpublish", computer_id, "--port", "8000", "--json")
    assert (code, gone["data"]["status"]) == (0, "unpublished")

    code, stopped = run("computer", "stop", computer_id, "--cloud", "--json")
    assert code == 0, stopped
    assert stopped["data"]["status"] in ("stopping", "stopped")
    assert wait_status(tidy_local_server, computer_id, "stopped") == "stopped"
    code, refused = run("computer", "run", computer_id, "echo no", "--json")
    assert code == 1 and refused["error"]["code"] == "runtime_error"  # no auto-resume in 0.1.10
    code, started = run("computer", "start", computer_id, "--cloud", "--json")
    assert code == 0, started
    assert started["data"]["status"] in ("starting", "running")
    assert wait_status(tidy_local_server, computer_id, "running") == "running"

    code, deleted = run("computer", "delete", computer_id, "--cloud", "--json")
    assert (code, deleted["ok"]) == (0, True), deleted
    code, missing = run("computer", "get", computer_id, "--json")
    assert code == 1 and missing["ok"] is False
