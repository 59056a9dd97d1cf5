"""Quitting the real dashboard in a real PTY: `q` ends the process with status 0, its
embedded backend stopped (the data dir is free again). No wall-clock asserts: the time it
takes is `benchmarks/startup.py`'s business."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from celesto_api.local import LocalServer
from celesto_tui.app.first_frame import PROBE_ENV
from tests.waiting import wait_until


def _drain(master: int) -> None:
    try:
        while os.read(master, 65536):
            pass
    except OSError:
        pass  # the child closed the PTY
    finally:
        os.close(master)


def test_q_quits_the_dashboard_and_stops_its_embedded_backend(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        PROBE_ENV: f"live:{probe}",
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "CELESTO_STATE_DIR": str(tmp_path / "state"),
    }
    env.pop("CELESTO_API_KEY", None)
    master, slave = pty.openpty()
    command = [sys.executable, "-m", "celesto_tui", "--local", "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    try:
        wait_until(
            lambda: probe.read_text() if probe.exists() else "",
            lambda text: "live" in text,
            what="the dashboard's first poll of its embedded backend",
        )
        os.write(master, b"q")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with LocalServer(data_dir=data_dir):  # would raise DataDirBusyError had it not stopped
        pass
