"""Start-up and quit: the dashboard next to a Textual hello-world, each a fresh process.

    python benchmarks/startup.py [--rounds 7] [--size 120x40]

First frame: from just before the process is spawned (on a fresh PTY) until its first
screen refresh has been painted, with .pyc files (warmed up) and without them
(PYTHONDONTWRITEBYTECODE and an empty PYTHONPYCACHEPREFIX, so every module is compiled
from source). The dashboard is `celesto-tui --local --data-dir <tmp>`; the apps note the
time of their first refresh through `CELESTO_TUI_STARTUP_PROBE=paint:<file>` and exit. A
third app, "same widgets", is the dashboard's first-frame widget tree built from plain
Textual widgets without any of its code: its ratio to the hello-world is what Textual
itself costs for that tree, the dashboard's ratio to it what the dashboard adds.

Quit: the hello-world and the dashboard left running (`live:<file>`) until the dashboard's
first poll of the embedded backend has answered (nothing running on it), then `q` is
typed into the PTY; the figure is the time from the key to the process's exit, embedded
backend stopped.

Rounds are interleaved with the order rotated (benchmarks/harness.py); figures are median
(min-max), ratios taken round by round; the machine's load is printed before and after.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, ratios, rotations, spread

PROBE_ENV = "CELESTO_TUI_STARTUP_PROBE"
TARGET_RATIO = 1.5
TARGET_QUIT_MS = 200.0
TIMEOUT_S = 60.0
QUIT_APPS = ("hello-world", "dashboard")

# Both reference apps note their first painted frame as the dashboard's probe does
# (celesto_tui/app/first_frame.py), and exit then unless the mode is "live".
PAINT_PROBE = textwrap.dedent(
    f"""
    import os, time

    class PaintProbe:
        def painted(self):
            mode, _, path = os.environ["{PROBE_ENV}"].partition(":")
            with open(path, "a") as out:
                out.write(f"paint {{time.time():.6f}}\\n")
                if mode == "live":
                    out.write(f"live {{time.time():.6f}}\\n")
            if mode == "paint":
                self.exit()
    """
)

# The reference: the smallest Textual app, with the same probe as the dashboard's.
HELLO_WORLD = PAINT_PROBE + textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Static

    class Hello(PaintProbe, App[None]):
        BINDINGS = [("q", "quit", "Quit")]

        def compose(self):
            yield Static("Hello, world")

        def on_mount(self):
            self.call_after_refresh(self.painted)

    Hello().run()
    """
)

# Textual's own cost of the dashboard's first frame: the tree of Textual widgets it mounts
# before that frame (its widgets are thin subclasses of these; the other views and the Exec
# and Ports panes come after it), the same table columns, 13 footer keys, the view loading,
# and none of the dashboard's code or data.
SAME_WIDGETS = PAINT_PROBE + textwrap.dedent(
    """
    from textual.app import App
    from textual.binding import Binding
    from textual.containers import Horizontal, Vertical, VerticalScroll
    from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Static
    from textual.widgets import TabbedContent, TabPane

    class SameWidgets(PaintProbe, App[None]):
        BINDINGS = [Binding(key, f"noop('{key}')", f"key {key}") for key in "abcdefghijkl"]
        BINDINGS.append(("q", "quit", "Quit"))

        def compose(self):
            with Vertical(id="status-bar"):
                with Horizontal():
                    yield Static("local · embedded backend · starting…")
                    yield Static("computers · starting")
                yield Static("hint", classes="hidden")
            with ContentSwitcher(initial="computers"):
                with Vertical(id="computers"):
                    yield Input(classes="hidden")
                    table = DataTable(id="computers-table", cursor_type="row")
                    for number in range(12):
                        table.add_column(f"column {number}")
                    yield table
                    with TabbedContent(initial="overview"):
                        with TabPane("Overview", id="overview"):
                            with VerticalScroll():
                                yield Static("metrics")
                                yield Static("cpu", classes="hidden")
                                yield Static("egress")
                                yield Static("fields")
                        yield TabPane("Exec", id="exec")
                        yield TabPane("Ports", id="ports")
            yield Footer()

        def on_mount(self):
            for hidden in self.query(".hidden"):
                hidden.display = False
            self.query_one("#computers").loading = True
            self.query_one("#computers-table").focus()
            self.call_after_refresh(self.painted)

        def action_noop(self, key):
            pass

    SameWidgets().run()
    """
)


def dashboard_command(data_dir: Path) -> list[str]:
    script = Path(sys.executable).with_name("celesto-tui")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "celesto_tui"]
    return [*program, "--local", "--data-dir", str(data_dir)]


class Run:
    """One fresh process on its own PTY, reporting through the probe file."""

    def __init__(
        self, command: list[str], env: dict[str, str], size: tuple[int, int], probe: Path
    ) -> None:
        self.probe = probe
        self.command, self.env, self.size = command, env, size

    def spawn(self, mode: str) -> tuple[subprocess.Popen[bytes], int, float]:
        master, slave = pty.openpty()
        columns, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**self.env, PROBE_ENV: f"{mode}:{self.probe}"}
        started = time.time()
        process = subprocess.Popen(
            self.command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        threading.Thread(target=_drain, args=(master,), daemon=True).start()
        return process, master, started

    def wait_for(self, event: str, process: subprocess.Popen[bytes]) -> float:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if self.probe.exists():
                for line in self.probe.read_text().splitlines():
                    name, _, when = line.partition(" ")
                    if name == event:
                        return float(when)
            if process.poll() is not None:
                raise RuntimeError(
                    f"{self.command[0]} exited ({process.returncode}) before {event}"
                )
            time.sleep(0.002)
        raise RuntimeError(f"{self.command[0]}: no {event} within {TIMEOUT_S:.0f} s")

    def first_frame(self) -> float:
        self.probe.unlink(missing_ok=True)
        process, _master, started = self.spawn("paint")
        try:
            painted = self.wait_for("paint", process)
            process.wait(TIMEOUT_S)
        finally:
            _end(process)
        return painted - started

    def quit(self) -> float:
        self.probe.unlink(missing_ok=True)
        process, master, _started = self.spawn("live")
        try:
            self.wait_for("live", process)
            pressed = time.time()
            os.write(master, b"q")
            process.wait(TIMEOUT_S)
            return time.time() - pressed
        finally:
            _end(process)


def _drain(master: int) -> None:
    try:
        while os.read(master, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(master)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", default="120x40", help="terminal COLUMNSxROWS")
    args = parser.parse_args()
    columns, rows = (int(part) for part in args.size.split("x"))
    size = (columns, rows)

    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        hello = work / "hello_world.py"
        hello.write_text(HELLO_WORLD)
        same_widgets = work / "same_widgets.py"
        same_widgets.write_text(SAME_WIDGETS)
        base_env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CELESTO_", "PYTHON"))
        }
        # The user's config, UI state and keys stay out of it: the dashboard starts as new.
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            base_env[name] = str(work / name.lower())
        base_env["TERM"] = "xterm-256color"
        no_pyc = {
            **base_env,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPYCACHEPREFIX": str(work / "empty-pycache"),
        }
        commands = {
            "hello-world": [sys.executable, str(hello)],
            "same widgets": [sys.executable, str(same_widgets)],
            "dashboard": dashboard_command(work / "data"),
        }
        runs = {
            (app, pyc): Run(command, base_env if pyc else no_pyc, size, work / f"probe-{app}-{pyc}")
            for app, command in commands.items()
            for pyc in (True, False)
        }
        header(
            f"Start-up: first painted frame and quit, {args.rounds} rounds, "
            f"terminal {columns}x{rows}"
        )
        for app in commands:  # warm-up: writes the .pyc files, creates the data dir
            runs[app, True].quit()

        contenders: dict[str, Callable[[], float]] = {}
        for (app, pyc), run in runs.items():
            contenders[f"paint {app} {pyc}"] = run.first_frame
        for app in QUIT_APPS:
            contenders[f"quit {app}"] = runs[app, True].quit
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for order in rotations(list(contenders), args.rounds):
            for name in order:
                samples[name].append(contenders[name]())
        report(samples)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    footer()


def report(samples: dict[str, list[float]]) -> None:
    print()
    print(f"{'first painted frame':32}{'with .pyc':>26}{'without .pyc':>26}")
    ratio_cells = []
    for pyc in (True, False):
        ratio = ratios(samples[f"paint dashboard {pyc}"], samples[f"paint hello-world {pyc}"])
        ratio_cells.append(spread(ratio, unit="x"))
    medians = [
        statistics.median(
            ratios(samples[f"paint dashboard {pyc}"], samples[f"paint hello-world {pyc}"])
        )
        for pyc in (True, False)
    ]
    verdict = "ok" if max(medians) <= TARGET_RATIO else "MISSED"
    print(f"{'dashboard / hello-world':32}{ratio_cells[0]:>26}{ratio_cells[1]:>26}")
    print(f"{'':32}target ≤ {TARGET_RATIO}x (median): {verdict}")
    # Where the rest goes: Textual's cost of the same widget tree, and the dashboard's own.
    for top, bottom in (("same widgets", "hello-world"), ("dashboard", "same widgets")):
        cells = [
            spread(ratio, unit="x")
            for pyc in (True, False)
            if (ratio := ratios(samples[f"paint {top} {pyc}"], samples[f"paint {bottom} {pyc}"]))
        ]
        print(f"{f'{top} / {bottom}':32}{cells[0]:>26}{cells[1]:>26}")
    for app in ("hello-world", "same widgets", "dashboard"):
        cells = [spread(samples[f"paint {app} {pyc}"], 1000, 0, " ms") for pyc in (True, False)]
        print(f"{app:32}{cells[0]:>26}{cells[1]:>26}")
    print()
    print("quit: q typed -> process exited (with .pyc, nothing running)")
    for app in QUIT_APPS:
        print(f"{app:32}{spread(samples[f'quit {app}'], 1000, 0, ' ms'):>26}")
    quit_ms = statistics.median(samples["quit dashboard"]) * 1000
    verdict = "ok" if quit_ms <= TARGET_QUIT_MS else "MISSED"
    print(f"{'':32}target ≤ {TARGET_QUIT_MS:.0f} ms (median): {verdict}")


if __name__ == "__main__":
    main()
