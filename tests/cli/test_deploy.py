"""``deploy FOLDER`` and ``deployments [list|status|logs|stop|delete]`` on the local backend:
real folders, built and run in sandboxes, reached over HTTP."""

from __future__ import annotations

import os
import random
import re
import tarfile
from pathlib import Path

import httpx
import pytest

from celesto_api import Celesto, CelestoNotFoundError
from tests.cloud_like import cloud_like_front

from .helpers import Cli, Result

APP = """\
import http.server, json, os
VERSION = {version!r}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = {{
            "version": VERSION,
            "greeting": os.environ.get("GREETING"),
            "files": sorted(os.listdir(".")),
        }}
        self.send_response(200)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())
    def log_message(self, *args):
        pass
print("app starting", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
SECRET = "s3cret-value-never-printed"
MISSING_PACKAGE = "surely-not-a-real-package-celesto-cli"


def unique(prefix: str) -> str:
    return f"{prefix}-{random.getrandbits(32):08x}"


def agent_folder(tmp_path: Path, version: str = "v1", **extra: str) -> Path:
    folder = tmp_path / f"agent-{version}"
    (folder / "logs").mkdir(parents=True)
    (folder / "main.py").write_text(APP.format(version=version))
    (folder / "notes.log").write_text("left out\n")
    (folder / "logs" / "today.txt").write_text("left out\n")
    (folder / ".env").write_text(f"TOKEN={SECRET}\n")
    (folder / ".celestoignore").write_text("*.log  # logs stay home\nlogs/\n.env\n")
    for name, text in extra.items():
        (folder / name).write_text(text)
    return folder


def stored_bundle_names(cli: Cli, name: str) -> list[str]:
    (bundle,) = (cli.served.data_dir / "deployments" / name).glob("*/bundle.tar.gz")
    with tarfile.open(bundle) as archive:
        return sorted(archive.getnames())


def the_error(result: Result) -> str:
    assert "Traceback" not in result.stderr
    (line,) = result.error_lines
    return line


def test_deploy_wait_json_then_status_and_list(cli: Cli, tmp_path: Path) -> None:
    name = unique("cli-agent")
    result = cli(
        "deploy",
        str(agent_folder(tmp_path)),
        "--name",
        name,
        "--description",
        "says hi",
        "--env",
        "GREETING=hi",
        "--env",
        f"API_TOKEN={SECRET}",
        "--wait",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    deployment = result.json()
    assert deployment["name"] == name
    assert deployment["status"] == "READY"
    assert deployment["config"]["env"] == {"GREETING": "***", "API_TOKEN": "***"}
    served = httpx.get(deployment["url"], timeout=10).json()
    assert served == {"version": "v1", "greeting": "hi", "files": [".celestoignore", "main.py"]}
    assert stored_bundle_names(cli, name) == [".celestoignore", "main.py"]

    status = cli("deployments", "status", name)
    assert status.returncode == 0
    assert re.search(rf"^Name:\s+{name}$", status.stdout, re.MULTILINE)
    assert re.search(r"^Status:\s+READY$", status.stdout, re.MULTILINE)
    assert re.search(r"^Env:\s+API_TOKEN, GREETING$", status.stdout, re.MULTILINE)
    assert re.search(rf"^URL:\s+{re.escape(deployment['url'])}$", status.stdout, re.MULTILINE)
    assert SECRET not in status.stdout
    status_json = cli("deployments", "status", name, "--json")
    assert SECRET not in status_json.stdout
    assert status_json.json()["config"]["env"] == {"GREETING": "***", "API_TOKEN": "***"}

    listed = cli("deployments")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "STATUS", "URL", "UPDATED", "ID"]
    assert re.search(rf"^{name}\s+READY\s+http://127\.0\.0\.1:\d+/", listed.stdout, re.MULTILINE)
    as_json = cli("deployments", "list", "--json").json()
    assert name in {item["name"] for item in as_json}
    assert cli("deployments", "--json").json() == as_json

    logs = cli("deployments", "logs", name)
    assert logs.returncode == 0, logs.stderr
    assert "app starting" in logs.stdout
    assert cli("deployments", "logs", name, "-j").json()["name"] == name


def test_deploy_without_wait_says_how_to_follow(cli: Cli, tmp_path: Path) -> None:
    name = unique("cli-quick")
    result = cli("deploy", str(agent_folder(tmp_path)), "--name", name)
    assert result.returncode == 0, result.stderr
    first_line = rf"Deployment {name} \([0-9a-f-]+\) is (PENDING|BUILDING|READY)\.\n"
    assert re.match(first_line, result.stdout), result.stdout
    assert (
        f"Follow it with: celesto-tui deployments status {name} --base-url {cli.served.base_url}"
    ) in result.stdout
    assert f"Bundling {tmp_path / 'agent-v1'} and uploading it as {name}..." in result.stderr


def test_redeploy_waits_for_the_new_version(cli: Cli, tmp_path: Path) -> None:
    name = unique("cli-redeploy")
    first = cli("deploy", str(agent_folder(tmp_path, "v1")), "--name", name, "--wait", "-j")
    assert first.returncode == 0, first.stderr
    url = first.json()["url"]

    second = cli(
        "deploy", str(agent_folder(tmp_path, "v2")), "--name", name, "--env", "GREETING=new",
        "--wait",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert f"{name}: BUILDING..." in second.stderr  # it waited for the new build
    assert f"URL: {url}\n" in second.stdout
    assert httpx.get(url, timeout=10).json()["version"] == "v2"
    assert httpx.get(url, timeout=10).json()["greeting"] == "new"

    # A redeploy that fails leaves the previous version serving, and says so.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.py").write_text("raise SystemExit('broken on purpose')\n")
    failed = cli("deploy", str(broken), "--name", name, "--wait")
    assert failed.returncode == 1
    error = the_error(failed)
    assert "Redeploy failed" in error and "broken on purpose" in error
    assert "previous version keeps serving" in error
    assert httpx.get(url, timeout=10).json()["version"] == "v2"


def test_a_requirement_that_cannot_be_installed(cli: Cli, tmp_path: Path) -> None:
    name = unique("cli-needs")
    folder = agent_folder(tmp_path, **{"requirements.txt": f"{MISSING_PACKAGE}==9.9.9\n"})
    # Builds reach pip's index through the egress proxy; PIP_NO_INDEX keeps this one offline
    # (and quick) whatever network the machine has.
    result = cli("deploy", str(folder), "--name", name, "--wait", "--env", "PIP_NO_INDEX=1")
    assert result.returncode == 1
    assert f"Deployment {name} (" in result.stdout and ") is FAILED." in result.stdout
    error = the_error(result)
    assert f"Deployment {name} failed: Installing requirements.txt failed" in error
    assert f"No matching distribution found for {MISSING_PACKAGE}" in error
    assert error.endswith(
        f"Read the whole log with: celesto-tui deployments logs {name} "
        f"--base-url {cli.served.base_url}"
    )

    status = cli("deployments", "status", name, "--json").json()
    assert status["status"] == "FAILED"
    assert "\n" not in status["last_error"]
    logs = cli("deployments", "logs", name)
    assert "==> build log <==" in logs.stdout and MISSING_PACKAGE in logs.stdout


def test_an_app_that_crashes_on_start(cli: Cli, tmp_path: Path) -> None:
    name = unique("cli-crash")
    folder = tmp_path / "crash"
    folder.mkdir()
    (folder / "main.py").write_text("import sys\nprint('boom', flush=True)\nsys.exit(3)\n")
    result = cli("deploy", str(folder), "--name", name, "--wait", "--json")
    assert result.returncode == 1
    deployment = result.json()
    assert deployment["status"] == "FAILED"
    assert deployment["url"] is None
    assert deployment["last_error"] == "The app exited during start (status 3): boom"
    assert f"Deployment {name} failed: The app exited during start (status 3): boom" in (
        the_error(result)
    )


def test_stop_and_delete(cli: Cli, sdk: Celesto, tmp_path: Path) -> None:
    name = unique("cli-stop")
    deployed = cli("deploy", str(agent_folder(tmp_path)), "--name", name, "--wait", "-j")
    url = deployed.json()["url"]

    stopped = cli("deployments", "stop", name)
    assert (stopped.returncode, stopped.stdout) == (0, f"Deployment {name} is STOPPED.\n")
    assert httpx.get(url, timeout=10).status_code == 503

    declined = cli("deployments", "delete", name, input="n\n")
    assert declined.returncode == 1 and "Not deleted." in declined.stderr
    no_answer = cli("deployments", "delete", name)
    assert "--force" in the_error(no_answer) and no_answer.returncode == 1
    assert sdk.deployment.get(name)["status"] == "STOPPED"

    deleted = cli("deployments", "delete", name, "--force")
    assert (deleted.returncode, deleted.stdout) == (0, f"Deleted deployment {name}.\n")
    with pytest.raises(CelestoNotFoundError):
        sdk.deployment.get(name)
    assert not (cli.served.data_dir / "deployments" / name).exists()

    gone = cli("deployments", "status", name)
    assert gone.returncode == 1
    assert name in the_error(gone) and "deployments list" in the_error(gone)


def test_the_cloud_lacks_stop_delete_and_logs(cli: Cli, sdk: Celesto, tmp_path: Path) -> None:
    name = unique("cli-cloud")
    cli("deploy", str(agent_folder(tmp_path)), "--name", name)
    with cloud_like_front(cli.served.base_url) as front:
        cloud = ["--base-url", front.base_url, "--api-key", cli.served.api_key]
        for verb in (["stop"], ["delete", "--force"], ["logs"]):
            refused = cli("deployments", verb[0], name, *verb[1:], *cloud, target=False)
            assert refused.returncode == 1, refused.stderr
            error = the_error(refused)
            assert f"does not offer deployment {verb[0]}" in error
            assert "https://celesto.ai" in error and "deployments list" not in error
    assert sdk.deployment.get(name)["status"] != "STOPPED"
    sdk.deployment.delete(name)


def test_bad_input_is_one_line_and_creates_nothing(cli: Cli, sdk: Celesto, tmp_path: Path) -> None:
    before = {item["name"] for item in sdk.deployment.list()}
    folder = agent_folder(tmp_path)
    name = unique("cli-bad")

    empty_name = cli("deploy", str(folder), "--name", "  ")
    assert empty_name.returncode == 2
    assert "Invalid value for '--name': must not be empty" in the_error(empty_name)

    missing = cli("deploy", str(tmp_path / "absent"), "--name", name)
    assert missing.returncode == 2 and "does not exist" in the_error(missing)
    a_file = cli("deploy", str(folder / "main.py"), "--name", name)
    assert a_file.returncode == 2 and "FOLDER" in the_error(a_file)

    bad_env = cli("deploy", str(folder), "--name", name, "--env", f"NO_EQUALS_{SECRET}")
    assert bad_env.returncode == 2 and "--env" in the_error(bad_env)
    assert SECRET not in bad_env.stderr

    project = sdk.projects.list()["data"][0]["name"]
    unknown_project = cli("deploy", str(folder), "--name", name, "--project", "no-such-project")
    assert unknown_project.returncode == 1
    error = the_error(unknown_project)
    assert "Project 'no-such-project' not found" in error and project in error

    big = agent_folder(tmp_path, "big")
    with (big / "weights.bin").open("wb") as handle:  # random bytes: gzip cannot shrink them
        for _ in range(101):
            handle.write(os.urandom(1024 * 1024))
    too_large = cli("deploy", str(big), "--name", name)
    assert too_large.returncode == 1
    error = the_error(too_large)
    assert "too large" in error and "nothing was deployed" in error
    assert "Largest files: weights.bin (101 MB)" in error
    assert str(big / ".celestoignore") in error
    assert "may or may not" not in error

    assert {item["name"] for item in sdk.deployment.list()} == before
    assert not (cli.served.data_dir / "deployments" / name).exists()
