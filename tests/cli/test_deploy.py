"""``deploy FOLDER`` and ``deployments [list|status NAME]`` on the local backend."""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx

from .helpers import Cli

APP = """\
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(os.environ.get("GREETING", "").encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
SECRET = "s3cret-value-never-printed"


def agent_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP)
    (folder / "notes.log").write_text("left out")
    (folder / ".celestoignore").write_text("*.log\n")
    return folder


def test_deploy_wait_json_then_status_and_list(cli: Cli, tmp_path: Path) -> None:
    name = f"cli-agent-{random.getrandbits(32):08x}"
    folder = agent_folder(tmp_path)
    result = cli(
        "deploy",
        str(folder),
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
    assert httpx.get(deployment["url"], timeout=10).text == "hi"

    status = cli("deployments", "status", name)
    assert status.returncode == 0
    assert re.search(rf"^Name:\s+{name}$", status.stdout, re.MULTILINE)
    assert re.search(r"^Status:\s+READY$", status.stdout, re.MULTILINE)
    assert re.search(r"^Env:\s+API_TOKEN, GREETING$", status.stdout, re.MULTILINE)
    assert SECRET not in status.stdout

    listed = cli("deployments")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "STATUS", "URL", "UPDATED", "ID"]
    assert re.search(rf"^{name}\s+READY\s+http://127\.0\.0\.1:\d+/", listed.stdout, re.MULTILINE)
    as_json = cli("deployments", "list", "--json").json()
    assert name in {item["name"] for item in as_json}
    assert cli("deployments", "--json").json() == as_json


def test_deploy_without_wait_says_how_to_follow(cli: Cli, tmp_path: Path) -> None:
    name = f"cli-quick-{random.getrandbits(32):08x}"
    result = cli("deploy", str(agent_folder(tmp_path)), "--name", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Deployed {name} (")
    assert f"Follow it with: celesto-tui deployments status {name}" in result.stdout


def test_deploy_errors(cli: Cli, tmp_path: Path) -> None:
    missing = cli("deployments", "status", "no-such-deployment")
    assert missing.returncode == 1
    assert missing.error_lines and "no-such-deployment" in missing.error_lines[0]
    assert "deployments list" in missing.error_lines[0]

    bad_env = cli("deploy", str(tmp_path), "--name", "x", "--env", f"NO_EQUALS_{SECRET}")
    assert bad_env.returncode == 2
    assert "--env" in bad_env.stderr and SECRET not in bad_env.stderr

    no_folder = cli("deploy", str(tmp_path / "absent"), "--name", "x")
    assert no_folder.returncode == 2 and "does not exist" in no_folder.stderr
    assert "Traceback" not in bad_env.stderr + no_folder.stderr + missing.stderr
