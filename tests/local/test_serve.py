"""``celesto-tui local serve`` as its own process: the ready line, SIGTERM, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local.server import exposure_warning
from tests.waiting import wait_until


@contextmanager
def serve(
    data_dir: Path, *args: str, own_group: bool = False
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "celesto_tui", "local", "serve", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A job of its own, as a shell starts it: Ctrl-C then signals the whole group.
        start_new_session=own_group,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else "no output"
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_the_ready_line_says_which_bwrap_or_that_nothing_is_isolated(tmp_path: Path) -> None:
    with serve(tmp_path / "auto", "--isolation", "auto") as (process, ready):
        with httpx.Client(base_url=ready["base_url"]) as client:
            info = client.get(
                "/v1/local/info", headers={"Authorization": f"Bearer {ready['api_key']}"}
            ).json()
        assert info["isolation"] == ready["isolation"]
        assert info["sandbox"] == ready["sandbox"]
        if ready["isolation"] == "bwrap":
            assert info["isolated"] is True
            bwrap = info["bwrap"]
            described = f"sandboxed by {bwrap['source']} bwrap {bwrap['version']} at "
            assert ready["sandbox"].startswith(described)
            assert bwrap["path"] in ready["sandbox"]  # the copy it runs, when staged for root
    with serve(tmp_path / "process", "--isolation", "process") as (process, ready):
        assert ready["isolation"] == "process"
        assert ready["sandbox"].startswith("NOT isolated from the host (plain processes): ")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        stderr = process.stderr.read() if process.stderr else ""
        assert "warning: computers are NOT isolated from the host" in stderr
        assert "Traceback" not in stderr


def _wait_running(client: httpx.Client, computer_id: str) -> None:
    wait_until(
        lambda: client.get(f"/v1/computers/{computer_id}").json()["status"],
        lambda status: status == "running",
        f"{computer_id} to run",
    )


def test_ready_line_and_graceful_sigterm(tmp_path: Path) -> None:
    with serve(tmp_path, "--token", "sk_test_fixed") as (process, ready):
        assert set(ready) == {"base_url", "api_key", "isolation", "sandbox", "data_dir"}
        assert ready["api_key"] == "sk_test_fixed"
        assert ready["base_url"].startswith("http://127.0.0.1:")
        assert ready["data_dir"] == str(tmp_path.resolve())
        headers = {"Authorization": "Bearer sk_test_fixed"}
        with httpx.Client(base_url=ready["base_url"], headers=headers) as client:
            computer = client.post("/v1/computers", json={}).json()
            _wait_running(client, computer["id"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert process.stdout is not None and process.stdout.read() == ""
        stderr = process.stderr.read() if process.stderr else ""
        assert "sk_test_fixed" not in stderr
        assert "warning: serving on" not in stderr  # loopback: nothing to warn about
    with serve(tmp_path) as (_process, ready):
        headers = {"Authorization": f"Bearer {ready['api_key']}"}
        with httpx.Client(base_url=ready["base_url"], headers=headers) as client:
            assert client.get(f"/v1/computers/{computer['id']}").json()["status"] == "stopped"


def test_ctrl_c_in_the_terminal_stops_computers_cleanly(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the foreground group; the sandboxes must not die
    of it before the server stops them, or they come back as `error`."""
    with serve(tmp_path, own_group=True) as (process, ready):
        headers = {"Authorization": f"Bearer {ready['api_key']}"}
        with httpx.Client(base_url=ready["base_url"], headers=headers) as client:
            computer = client.post("/v1/computers", json={}).json()
            _wait_running(client, computer["id"])
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(20) == 0
    with serve(tmp_path) as (_process, ready):
        headers = {"Authorization": f"Bearer {ready['api_key']}"}
        with httpx.Client(base_url=ready["base_url"], headers=headers) as client:
            after = client.get(f"/v1/computers/{computer['id']}").json()
            assert (after["status"], after.get("last_error")) == ("stopped", None)


def _sandbox_pids(hostname: str) -> list[int]:
    """Host processes of a computer's sandbox (bwrap's argv names its hostname)."""
    found = []
    for name in os.listdir("/proc"):
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--hostname" in argv and hostname.encode() in argv:
            found.append(int(name))
    return found


def test_restart_after_kill_9_keeps_everything(tmp_path: Path) -> None:
    with serve(tmp_path, "--token", "sk_a") as (process, ready):
        with httpx.Client(
            base_url=ready["base_url"], headers={"Authorization": "Bearer sk_a"}, timeout=30
        ) as client:
            made = [client.post("/v1/computers", json={}).json() for _ in range(2)]
            for computer in made:
                _wait_running(client, computer["id"])
            client.post(
                f"/v1/computers/{made[0]['id']}/exec",
                json={"command": "echo survived > ~/note.txt"},
            )
            client.post(f"/v1/computers/{made[0]['id']}/published-ports", json={"port": 8000})
        sandboxed = ready["isolation"] == "bwrap"
        assert all(_sandbox_pids(c["name"]) for c in made) or not sandboxed
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    # --die-with-parent: the server's sandboxes went with it.
    wait_until(
        lambda: not any(_sandbox_pids(c["name"]) for c in made),
        what="the sandboxes to go with the killed server",
        timeout=10,
    )

    with (
        serve(tmp_path, "--token", "sk_a") as (_process, ready),
        httpx.Client(
            base_url=ready["base_url"], headers={"Authorization": "Bearer sk_a"}, timeout=30
        ) as client,
    ):
        listed = client.get("/v1/computers").json()["computers"]
        assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in made)
        assert {c["status"] for c in listed} == {"stopped"}
        ports = client.get(f"/v1/computers/{made[0]['id']}/published-ports").json()
        assert [p["port"] for p in ports] == [8000]
        client.post(f"/v1/computers/{made[0]['id']}/start")
        _wait_running(client, made[0]["id"])
        note = client.post(
            f"/v1/computers/{made[0]['id']}/exec", json={"command": "cat ~/note.txt"}
        ).json()
        assert note["stdout"] == "survived\n"


def test_second_server_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with serve(tmp_path):
        second = subprocess.run(
            [sys.executable, "-m", "celesto_tui", "local", "serve", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert "Another local Celesto server" in second.stderr
        assert "Traceback" not in second.stderr


def test_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    for args in (["--faults", "error_rate=3"], ["--isolation", "vm"], ["--port", "70000"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "celesto_tui",
                "local",
                "serve",
                "--data-dir",
                str(tmp_path),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_no_warning(host: str) -> None:
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "myhost.lan"])
def test_other_hosts_are_warned_about(host: str) -> None:
    warning = exposure_warning(host)
    assert warning is not None
    assert warning.startswith("warning: ") and host in warning and "token" in warning


def test_the_token_can_come_from_a_file_or_the_environment(tmp_path: Path) -> None:
    """`--token` shows in `ps`; a file or CELESTO_LOCAL_TOKEN does not."""
    token_file = tmp_path / "token"
    token_file.write_text("sk_from_file\n")
    data_dir = tmp_path / "data"
    with serve(data_dir, "--token-file", str(token_file)) as (process, ready):
        assert ready["api_key"] == "sk_from_file"
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"sk_from_file" not in cmdline
        headers = {"Authorization": "Bearer sk_from_file"}
        assert httpx.get(ready["base_url"] + "/v1/computers", headers=headers).status_code == 200
    os.environ["CELESTO_LOCAL_TOKEN"] = "sk_from_env"
    try:
        with serve(data_dir) as (_process, ready):
            assert ready["api_key"] == "sk_from_env"
    finally:
        del os.environ["CELESTO_LOCAL_TOKEN"]


@pytest.mark.parametrize(
    ("content", "args", "said"),
    [
        ("\n", [], "holds no token"),
        ("sk_a\n", ["--token", "sk_b"], "not both"),
    ],
)
def test_bad_token_files_are_usage_errors(
    tmp_path: Path, content: str, args: list[str], said: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(content)
    serve_args = ["local", "serve", "--data-dir", str(tmp_path), "--token-file", str(token_file)]
    result = subprocess.run(
        [sys.executable, "-m", "celesto_tui", *serve_args, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert "sk_a" not in result.stderr and "Traceback" not in result.stderr


def test_token_help_warns_that_the_command_line_is_visible() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "celesto_tui", "local", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "--token-file" in result.stdout
    assert "visible to every user" in " ".join(result.stdout.split())
