"""Local deployments for real: build in a sandbox, READY when the app answers HTTP."""

from __future__ import annotations

import io
import json
import random
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api import Celesto
from celesto_api.local import LocalServer
from tests.waiting import wait_until

APP = """\
import http.server, json, os, sys
VERSION = {version!r}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"version": VERSION, "greeting": os.environ.get("GREETING")}})
        self.send_response(200); self.end_headers(); self.wfile.write(body.encode())
    def log_message(self, *args):
        pass
print("listening", flush=True)
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
{after_start}
server.serve_forever()
"""


def app_source(version: str, after_start: str = "") -> str:
    return APP.format(version=version, after_start=after_start)


def bundle(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{random.getrandbits(32):08x}"


def project_id(http: httpx.Client) -> str:
    return str(http.get("/v1/projects/").json()["data"][0]["id"])


def deploy(
    http: httpx.Client,
    name: str,
    files: dict[str, str],
    env: dict[str, str] | None = None,
    network: str = "open",
) -> httpx.Response:
    config: dict[str, Any] = {"env": env or {}}
    if network != "open":
        config["network_policy"] = {"mode": network}
    return http.post(
        "/v1/deploy/agent",
        files={"code_bundle": ("app_bundle.tar.gz", bundle(files), "application/gzip")},
        data={
            "name": name,
            "description": "",
            "project_id": project_id(http),
            "config": json.dumps(config),
        },
    )


def settle(http: httpx.Client, name: str, timeout: float = 60) -> dict[str, Any]:
    """The app's status once it is READY, FAILED or STOPPED."""
    return dict(
        wait_until(
            lambda: http.get(f"/v1/deploy/apps/{name}/status").json(),
            lambda status: status["status"] in ("READY", "FAILED", "STOPPED"),
            f"{name} to settle",
            timeout,
        )
    )


def version_at(url: str) -> str:
    return str(httpx.get(url, timeout=30).json()["version"])


SLOW_APP = """\
import http.server, json, os, time
VERSION = {version!r}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            print("serving /slow", flush=True)
            time.sleep(5)
        body = json.dumps({{"version": VERSION}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def test_a_redeploy_lets_the_old_app_finish_its_requests(http: httpx.Client) -> None:
    """Zero downtime: a request the old version is serving when the new one takes over
    is answered by the old one, which is stopped only afterwards."""
    name = unique("drain")
    deploy(http, name, {"main.py": SLOW_APP.format(version="v1")})
    url = settle(http, name)["url"]
    slow: dict[str, Any] = {}

    def ask_slowly() -> None:
        try:
            response = httpx.get(url + "slow", timeout=30)
            slow["answer"] = (response.status_code, response.json()["version"])
        except httpx.HTTPError as exc:
            slow["answer"] = repr(exc)
        slow["at"] = time.monotonic()

    asker = threading.Thread(target=ask_slowly)
    asker.start()
    wait_until(
        lambda: http.get(f"/v1/deploy/apps/{name}/logs").text,
        lambda logs: "serving /slow" in logs,
        "the slow request to be with v1",
    )
    deploy(http, name, {"main.py": SLOW_APP.format(version="v2")})
    wait_until(lambda: version_at(url), lambda version: version == "v2", "v2 to take over", 60)
    v2_at = time.monotonic()
    asker.join(30)
    assert slow["answer"] == (200, "v1")
    assert v2_at < slow["at"]  # the swap happened while v1 was still answering
    http.delete(f"/v1/deploy/apps/{name}")


def test_stdlib_app_becomes_ready_and_answers(http: httpx.Client) -> None:
    name = unique("hello")
    response = deploy(http, name, {"main.py": app_source("v1")}, {"GREETING": "hi"})
    assert response.status_code == 201
    created = response.json()
    assert created["status"] in ("PENDING", "BUILDING", "READY")
    assert {
        "id",
        "name",
        "organization_id",
        "user_id",
        "status",
        "created_at",
        "updated_at",
    } <= created.keys()
    status = settle(http, name)
    assert status["status"] == "READY", status
    assert status["url"].startswith("http://127.0.0.1:")
    assert httpx.get(status["url"]).json() == {"version": "v1", "greeting": "hi"}
    listed = {item["name"]: item for item in http.get("/v1/deploy/apps").json()}
    assert listed[name]["status"] == "READY"
    assert "listening" in http.get(f"/v1/deploy/apps/{name}/logs").text

    # Redeploy: the URL stays, the new version answers once it is ready; meanwhile the
    # status follows the new build (so a client can wait for it) and the URL is kept.
    redeployed = deploy(http, name, {"main.py": app_source("v2")})
    assert redeployed.status_code == 201
    assert (redeployed.json()["status"], redeployed.json()["url"]) == ("PENDING", status["url"])
    wait_until(
        lambda: version_at(status["url"]), lambda version: version == "v2", "v2 to take over", 60
    )
    assert settle(http, name)["url"] == status["url"]

    # A broken redeploy keeps the old version serving, and says so.
    deploy(http, name, {"main.py": "raise SystemExit('broken on purpose')"})
    after = wait_until(
        lambda: http.get(f"/v1/deploy/apps/{name}/status").json(),
        lambda status: status["last_error"],
        "the broken redeploy to be reported",
        60,
    )
    assert after["status"] == "READY"
    assert "Redeploy failed" in after["last_error"] and "broken on purpose" in after["last_error"]
    assert httpx.get(status["url"]).json()["version"] == "v2"

    stopped = http.post(f"/v1/deploy/apps/{name}/stop").json()
    assert stopped["status"] == "STOPPED"
    assert httpx.get(status["url"]).status_code == 503
    assert http.delete(f"/v1/deploy/apps/{name}").status_code == 200
    assert http.get(f"/v1/deploy/apps/{name}/status").status_code == 404


def test_requirement_that_cannot_be_installed_fails_clearly(http: httpx.Client) -> None:
    name = unique("needs-pkg")
    files = {
        "main.py": app_source("v1"),
        "requirements.txt": "surely-not-a-real-package-celesto-tui==9.9.9\n",
    }
    assert deploy(http, name, files, network="off").status_code == 201
    status = settle(http, name, timeout=300)
    assert status["status"] == "FAILED"
    assert status["last_error"].startswith("Installing requirements.txt failed (exit 1): ERROR:")
    assert "No matching distribution found for surely-not-a-real-package" in status["last_error"]
    assert "network is off" in status["last_error"]  # why: installs are offline then
    assert "\n" not in status["last_error"] and "Retrying" not in status["last_error"]
    assert "surely-not-a-real-package-celesto-tui" in http.get(f"/v1/deploy/apps/{name}/logs").text
    http.delete(f"/v1/deploy/apps/{name}")


def test_crash_on_start_and_crash_after_start(http: httpx.Client) -> None:
    crash = unique("crash")
    deploy(http, crash, {"main.py": "import sys; print('boom'); sys.exit(3)"})
    status = settle(http, crash)
    assert status["status"] == "FAILED"
    assert status["last_error"] == "The app exited during start (status 3): boom"

    late = unique("late-crash")
    after_start = (
        "import threading, os\n"
        "threading.Timer(1.5, lambda: (print('dying now', flush=True), os._exit(7))).start()"
    )
    deploy(http, late, {"main.py": app_source("v1", after_start)})
    assert settle(http, late)["status"] == "READY"
    status = wait_until(
        lambda: http.get(f"/v1/deploy/apps/{late}/status").json(),
        lambda status: status["status"] != "READY",
        f"{late} to crash",
    )
    assert status["status"] == "FAILED"
    assert "after start (status 7)" in status["last_error"]
    assert "dying now" in status["last_error"]
    for name in (crash, late):
        http.delete(f"/v1/deploy/apps/{name}")


def test_a_traceback_is_summed_up_by_its_exception(http: httpx.Client) -> None:
    name = unique("traceback")
    deploy(http, name, {"main.py": "import json\nimport missing_module_celesto_tui\n"})
    status = settle(http, name)
    assert status["status"] == "FAILED"
    assert status["last_error"] == (
        "The app exited during start (status 1): "
        "ModuleNotFoundError: No module named 'missing_module_celesto_tui'"
    )
    assert "Traceback (most recent call last)" in http.get(f"/v1/deploy/apps/{name}/logs").text
    http.delete(f"/v1/deploy/apps/{name}")


def test_procfile_web_line_is_the_start_command(http: httpx.Client) -> None:
    name = unique("procfile")
    files = {"server.py": app_source("procfile"), "Procfile": "web: python3 server.py\n"}
    deploy(http, name, files)
    status = settle(http, name)
    assert status["status"] == "READY", status
    assert httpx.get(status["url"]).json()["version"] == "procfile"
    http.delete(f"/v1/deploy/apps/{name}")


def test_bad_uploads_create_nothing(http: httpx.Client, local_server: LocalServer) -> None:
    before = http.get("/v1/deploy/apps").json()
    pid = project_id(http)

    def post(name: str, payload: bytes, project: str = pid) -> httpx.Response:
        return http.post(
            "/v1/deploy/agent",
            files={"code_bundle": ("app_bundle.tar.gz", payload, "application/gzip")},
            data={"name": name, "description": "", "project_id": project, "config": "{}"},
        )

    good = bundle({"main.py": app_source("v1")})
    not_tar = post(unique("bad"), b"this is not an archive")
    assert not_tar.status_code == 400 and "tar.gz" in not_tar.json()["detail"]
    assert post(unique("bad"), b"").status_code == 400
    empty_name = post("  ", good)
    assert empty_name.status_code == 422
    assert empty_name.json()["detail"][0]["loc"] == ["body", "name"]
    assert post(unique("bad"), good, project="no-such-project").status_code == 404
    missing = http.post("/v1/deploy/agent", data={"name": "x", "project_id": pid})
    assert missing.status_code == 422

    def oversized_multipart() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="code_bundle"; '
            b'filename="app_bundle.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n'
        )
        for _ in range(101):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    oversized = http.post(
        "/v1/deploy/agent",
        content=oversized_multipart(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert oversized.status_code == 413
    escape = bundle({"../escape.py": "print('out')"})
    assert post(unique("bad"), escape).status_code == 400

    secret = "sk-never-echoed-4c1f"
    for config in (json.dumps({"env": {"NOT-A-NAME": secret}}), f"{{not json {secret}"):
        refused = http.post(
            "/v1/deploy/agent",
            files={"code_bundle": ("app_bundle.tar.gz", good, "application/gzip")},
            data={"name": unique("bad"), "project_id": pid, "config": config},
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "config"]
        assert secret not in refused.text
    assert http.get("/v1/deploy/apps").json() == before
    leftovers = list((local_server.data_dir / "deployments").glob("bad-*"))
    assert leftovers == []


def test_sdk_bundle_honours_celestoignore(
    sdk: Celesto, local_server: LocalServer, tmp_path: Path
) -> None:
    folder = tmp_path / "agent"
    (folder / "logs").mkdir(parents=True)
    (folder / "main.py").write_text(app_source("ignored"))
    (folder / ".env").write_text("SECRET=1\n")
    (folder / "logs" / "a.log").write_text("x\n")
    (folder / "keep#me.txt").write_text("kept\n")
    (folder / ".celestoignore").write_text("logs/\n.env  # secrets stay home\n")
    name = unique("ignore")
    sdk.deployment.deploy(folder=folder, name=name)
    stored = next((local_server.data_dir / "deployments" / name).glob("*/bundle.tar.gz"))
    with tarfile.open(stored) as tar:
        names = sorted(tar.getnames())
    assert names == [".celestoignore", "keep#me.txt", "main.py"]
    sdk.deployments.get(name)
    with httpx.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {local_server.api_key}"},
    ) as http:
        http.delete(f"/v1/deploy/apps/{name}")


@pytest.mark.parametrize("status", ["READY"])
def test_deployment_comes_back_after_a_restart(tmp_path: Path, status: str) -> None:
    name = unique("restart")
    for round_ in range(2):
        with (
            LocalServer(data_dir=tmp_path, token="sk_restart") as server,
            httpx.Client(
                base_url=server.base_url, headers={"Authorization": "Bearer sk_restart"}
            ) as http,
        ):
            if round_ == 0:
                deploy(http, name, {"main.py": app_source("persisted")})
            result = settle(http, name)
            assert result["status"] == status, result
            assert httpx.get(result["url"]).json()["version"] == "persisted"
