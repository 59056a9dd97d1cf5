"""Regenerate the README's dashboard screenshots from the real app on the embedded backend.

    python screenshots/make.py [--out screenshots] [--size 140x40]

Starts an embedded backend in a temporary data dir, makes real computers (one serving HTTP
on a published port, one stopped), deploys a small agent, then drives the dashboard with
Pilot and saves one SVG per view.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.pilot import Pilot

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.settings import Settings
from celesto_tui.app.widgets.computers_view import ComputersView
from celesto_tui.model.target import Target

AGENT = """\
import http.server, os
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello")
    def log_message(self, *args):
        pass
print("listening on", os.environ["PORT"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Hello).serve_forever()
"""


def wait_status(client: Celesto, computer_id: str, wanted: str) -> None:
    deadline = time.monotonic() + 60
    while client.computers.get(computer_id)["status"] != wanted:
        if time.monotonic() > deadline:
            raise SystemExit(f"{computer_id} never became {wanted}")
        time.sleep(0.05)


def prepare(client: Celesto, workdir: Path) -> dict[str, Any]:
    """Real computers and a deployment for the dashboard to show."""
    web = client.computers.create(cpus=2, memory=2048)
    worker = client.computers.create(cpus=4, memory=4096, disk="8gb")
    spare = client.computers.create(template_id="coding-agent")
    idle = client.computers.create()
    for computer in (web, worker, spare, idle):
        wait_status(client, computer["id"], "running")
    client.computers.stop(idle["id"])
    client.computers.exec(
        web["id"], "(python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &)"
    )
    client.computers.publish_port(web["id"], 8000)
    agent = workdir / "weather-agent"
    agent.mkdir()
    (agent / "main.py").write_text(AGENT)
    client.deployment.deploy(agent, "weather-agent", description="answers with the weather")
    broken = workdir / "triage-bot"
    broken.mkdir()
    (broken / "README.md").write_text("no start command here\n")
    client.deployment.deploy(broken, "triage-bot", description="sorts incoming issues")
    deadline = time.monotonic() + 120
    while {d["status"] for d in client.deployment.list()} - {"READY", "FAILED"}:
        if time.monotonic() > deadline:
            raise SystemExit("the deployments did not settle")
        time.sleep(0.2)
    return dict(web)


async def until(pilot: Pilot[Any], predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {predicate}")
        await pilot.pause(0.05)


async def shoot(app: CelestoApp, web: dict[str, Any], out: Path, size: tuple[int, int]) -> None:
    def save(name: str) -> None:
        path = out / f"dashboard-{name}.svg"
        path.write_text(app.export_screenshot(title="celesto-tui"))
        print(path)

    async with app.run_test(size=size) as pilot:
        view = app.views["computers"]
        assert isinstance(view, ComputersView)
        await until(pilot, lambda: view.table.loaded and web["id"] in view.table.rows)
        await pilot.pause(2.5)  # a second poll brings live CPU and memory
        view.table.select_key(web["id"])
        await until(
            pilot, lambda: "live" in str(view.overview.query_one("#overview-metrics").render())
        )
        await pilot.pause()
        save("computers")

        await pilot.press("e")
        view.exec_pane.prompt.value = "uname -sr; python3 --version; ls /nonexistent"
        await pilot.press("enter")
        await until(pilot, lambda: view.exec_pane.last_exit is not None)
        await pilot.pause()
        save("exec")

        await pilot.press("escape", "p")
        await until(pilot, lambda: view.ports_pane.health)
        await pilot.pause()
        save("ports")

        await pilot.press("escape", "a")
        await until(
            pilot, lambda: any("uname" in row.text for row in view.activity_pane.shown_rows)
        )
        await pilot.pause()
        save("activity")

        await pilot.press("2")
        deployments = app.views["deployments"]
        await until(pilot, lambda: deployments.table.loaded and deployments.table.row_count >= 2)
        deployments.table.select_key("weather-agent")
        await until(pilot, lambda: getattr(deployments, "health", None))
        await pilot.pause()
        save("deployments")

        await pilot.press("1", "n")
        await pilot.pause(0.5)
        await pilot.press("4", "0")
        await pilot.pause()
        save("create")
        await pilot.press("escape")

        await pilot.press("3")
        await pilot.pause()
        save("command-log")

        await pilot.press("1", "question_mark")
        await pilot.pause()
        save("help")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--size", default="140x40", help="columns x rows")
    args = parser.parse_args()
    columns, rows = (int(part) for part in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, LocalServer(data_dir=Path(tmp) / "data") as server:
        with Celesto(api_key=server.api_key, base_url=server.base_url) as client:
            web = prepare(client, Path(tmp))
        target = Target(
            server.base_url, server.api_key, "local", local=True, isolation=server.isolation
        )
        app = CelestoApp(target, settings=Settings(), state_path=Path(tmp) / "ui-state.json")
        asyncio.run(shoot(app, web, args.out, (columns, rows)))


if __name__ == "__main__":
    main()
