"""The deployments view: deploy dialog (path completion, env vars), live statuses, build
log and last error, URL copy and health probe — with a real local deployment."""

from __future__ import annotations

import random
from pathlib import Path

from textual.widgets import Input, Static, TextArea

from celesto_tui.screens.deploy import DeployScreen, PathSuggester, parse_envs
from celesto_tui.screens.text_view import TextScreen

from .conftest import AppFactory, loaded, wait_for

APP = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
        self.wfile.write(os.environ["GREETING"].encode())
    def log_message(self, *args):
        pass
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


async def test_path_suggester_completes_folders(tmp_path: Path) -> None:
    (tmp_path / "my-agent").mkdir()
    (tmp_path / "my-other").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "my-file").write_text("")
    suggester = PathSuggester()
    assert await suggester.get_suggestion(f"{tmp_path}/my-a") == f"{tmp_path}/my-agent/"
    assert await suggester.get_suggestion(f"{tmp_path}/my-f") is None
    assert await suggester.get_suggestion(f"{tmp_path}/.h") == f"{tmp_path}/.hidden/"


def test_env_vars_parse_like_the_sdk_checks_them() -> None:
    assert parse_envs("A=1\n# comment\nB = two, C=") == {"A": "1", "B": "two", "C": ""}
    try:
        parse_envs("no equals sign")
    except Exception as exc:
        assert "KEY=VALUE" in str(exc)
    else:
        raise AssertionError("accepted a line without '='")


async def test_deploy_follow_status_read_the_log_and_probe(
    make_app: AppFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "hello-agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP)
    name = f"hello-{random.getrandbits(24):06x}"
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        view = app.views["deployments"]
        await wait_for(pilot, lambda: view.table.loaded, what="deployments")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen))
        dialog = app.screen
        dialog.query_one("#deploy-folder", Input).value = str(tmp_path / "nowhere")
        await pilot.click("#deploy")
        assert "does not exist" in str(dialog.query_one("#deploy-error", Static).render())
        dialog.query_one("#deploy-folder", Input).value = str(folder)
        dialog.query_one("#deploy-name", Input).value = name
        dialog.query_one("#deploy-description", Input).value = "says hello"
        dialog.query_one("#deploy-envs", TextArea).text = "GREETING=hi there\nTOKEN=s3cret"
        dialog.query_one("#deploy-name", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: name in app.items["deployments"], what="the new row")
        entry = app.command_log.entries[-1]
        assert entry.action == "deploy"
        assert "s3cret" not in entry.line and "TOKEN=***" in entry.line
        assert entry.line.startswith(f"celesto-tui deploy {folder} --name {name}")
        await wait_for(
            pilot,
            lambda: app.items["deployments"][name]["status"] == "READY",
            timeout=60,
            what="READY",
        )
        await wait_for(pilot, lambda: view.table.selected_key() == name)
        row = [str(cell) for cell in view.table.get_row(name)]
        assert row[1] == "● READY" and row[2] == "says hello"
        url = str(app.items["deployments"][name]["url"])

        await pilot.press("h")
        await wait_for(pilot, lambda: url in view.health, what="the probe")  # type: ignore[attr-defined]
        assert view.health[url].status == 200  # type: ignore[attr-defined]
        await pilot.press("y")
        assert app.clipboard == url

        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen))
        assert "listening" in app.screen.text  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert app.current_view == "deployments"
