"""The terminal pane end to end: keystroke echo latency and a `seq` flood, against the real
embedded backend (a `celesto-tui local serve` process, bwrap sandbox, PTY inside it).

Rows, all measured in the same run, rounds interleaved with the order rotated
(benchmarks/harness.py), each figure the median (min-max) of its rounds:

  bare WebSocket echo   one byte to a websockets echo server in another process on loopback
                        and back: the floor any WebSocket terminal pays
  SDK session echo      one byte through `TerminalSession` → gateway → PTY (`stty raw -echo;
                        cat`) in the sandbox → back, no widget
  pane: key → parsed    a Key event posted to the pane's `TerminalView` → encoded → the pane's
                        `TerminalLink` → WebSocket → PTY → back → fed into the view and parsed
  pane: key → painted   the same, until Textual renders the view's row (the frame is drawn);
                        an echo after an idle frame is painted in the same turn of the event
                        loop as its parse, so the two rows are then the same figure

  seq 1 200000          from sending the command to the pane painting the line after its last
                        number (everything parsed, with backpressure, and drawn), 80x24; in the
                        same round, raw `pyte.Screen` and the pane's own emulator parse the
                        bytes the pane received
  colour-heavy log      the same for `cat` of a 1.5 MB log with 16/256/truecolour SGR runs on
                        every line (the generator of `benchmarks/terminal.py`, run in the
                        computer)

Targets: pane key → painted within 2 ms of the bare WebSocket echo (p50); the colour log
painted end to end at least 4x faster than raw pyte parses it alone (ratios per round).

Usage: python benchmarks/terminal_echo.py [--rounds 5] [--samples 50] [--seq-runs 3]
       [--log-size 1500000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyte
from textual import events
from textual.app import App, ComposeResult
from textual.strip import Strip
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (
    footer,
    header,
    percentile,
    ratios,
    rotated,
    rotations,
    spread,
)
from benchmarks.terminal import colour_log  # the same generator
from celesto_api import AsyncCelesto, TerminalSession
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.pane import TerminalPane
from celesto_tui.terminal.screen import TerminalScreen
from celesto_tui.terminal.stream import TerminalStream

ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""
COLUMNS, LINES = 80, 24
RAW_CAT = b"stty raw -echo; exec cat\r"


@contextlib.contextmanager
def child(argv: list[str]) -> Iterator[str]:
    """A helper process; yields the first line it prints."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline()
    finally:
        process.terminate()
        process.wait(30)


class PaneApp(App[None]):
    def __init__(self, api: AsyncCelesto, computer_id: str) -> None:
        super().__init__()
        self.pane = TerminalPane(api, computer_id, "bench")

    def compose(self) -> ComposeResult:
        yield self.pane

    def on_mount(self) -> None:
        self.pane.focus_terminal()


class Probe:
    """Timestamps when output reaches the view and when the view paints a row."""

    def __init__(self, pane: TerminalPane) -> None:
        self.view = pane.view
        self.fed = asyncio.Event()
        self.painted = asyncio.Event()
        self.marker: str | None = None
        self.captured = bytearray()
        self.capturing = False
        feed, render_line = self.view.feed, self.view.render_line

        def probe_feed(data: bytes) -> None:
            feed(data)
            if self.capturing:
                self.captured += data
            self.fed.set()

        def probe_render(y: int) -> Strip:
            strip = render_line(y)
            if self.fed.is_set() and (self.marker is None or self.marker in strip.text):
                self.painted.set()
            return strip

        self.view.feed = probe_feed  # type: ignore[method-assign]
        self.view.render_line = probe_render  # type: ignore[method-assign]

    def arm(self, marker: str | None = None) -> None:
        self.fed.clear()
        self.painted.clear()
        self.marker = marker


async def quiet(seconds: float = 0.005) -> None:
    await asyncio.sleep(seconds)


async def bare_echo(url: str, count: int) -> list[float]:
    samples = []
    async with connect(url, compression=None) as ws:
        for _ in range(count):
            started = time.perf_counter()
            await ws.send(b"x")
            await ws.recv()
            samples.append((time.perf_counter() - started) * 1000)
            await quiet()
    return samples


async def sdk_echo(session: TerminalSession, count: int) -> list[float]:
    samples = []
    for i in range(count):
        byte = bytes([97 + i % 26])
        started = time.perf_counter()
        await session.send(byte)
        seen = b""
        while byte not in seen:
            seen += await session.recv()
        samples.append((time.perf_counter() - started) * 1000)
        await quiet()
    return samples


async def pane_echo(probe: Probe, count: int) -> tuple[list[float], list[float]]:
    parsed, painted = [], []
    view = probe.view
    for i in range(count):
        char = chr(97 + i % 26)
        probe.arm()
        started = time.perf_counter()
        view.post_message(events.Key(char, char))
        await probe.fed.wait()
        await view.drained()
        parsed.append((time.perf_counter() - started) * 1000)
        await probe.painted.wait()
        painted.append((time.perf_counter() - started) * 1000)
        await quiet(0.02)  # typing pace: the next key comes after an idle frame
    return parsed, painted


async def flood(probe: Probe, pane: TerminalPane, command: str, name: str) -> tuple[float, bytes]:
    """Seconds from sending `command` to the pane painting the line printed after it, and
    the bytes the pane received meanwhile."""
    await drain_quietly(probe)
    probe.captured.clear()
    probe.arm(f"{name}-DONE")
    started = time.perf_counter()
    probe.capturing = True
    # The marker is computed by the shell, so the echo of the command line does not match.
    pane.link.send(f"{command}; echo {name}-$((0))DONE | tr -d 0\r".encode())
    await probe.painted.wait()
    elapsed = time.perf_counter() - started
    probe.capturing = False
    return elapsed, bytes(probe.captured)


def log_writer(size: int) -> str:
    """A command that writes the colour-heavy log to ~/colour.log in the computer."""
    script = "\n".join(
        [
            "import random",
            inspect.getsource(colour_log),
            "with open('colour.log', 'wb') as out:",
            f"    out.write(colour_log({size}).replace(b'\\r\\n', b'\\n'))",  # the PTY adds CR
        ]
    )
    return f"cd ~ && python3 - <<'PYEOF'\n{script}\nPYEOF"


async def drain_quietly(probe: Probe) -> None:
    """Wait until the shell has been silent for 0.2 s."""
    while True:
        probe.arm()
        try:
            await asyncio.wait_for(probe.fed.wait(), 0.2)
        except TimeoutError:
            return


def parse_time(payload: bytes, stream: Any) -> float:
    chunks = [payload[i : i + 16384] for i in range(0, len(payload), 16384)]
    started = time.perf_counter()
    for chunk in chunks:
        stream.feed(chunk)
    return time.perf_counter() - started


async def raw_pyte_time(payload: bytes) -> float:
    return parse_time(payload, pyte.ByteStream(pyte.Screen(COLUMNS, LINES)))


async def ours_time(payload: bytes) -> float:
    return parse_time(payload, TerminalStream(TerminalScreen(COLUMNS, LINES)))


async def run(args: argparse.Namespace, server: dict[str, Any], echo_url: str) -> dict[str, Any]:
    echoes: dict[str, list[list[float]]] = {}
    floods: dict[str, dict[str, list[float]]] = {}
    payloads: dict[str, bytes] = {}
    async with AsyncCelesto(api_key=server["api_key"], base_url=server["base_url"]) as api:
        computer = await api.computers.create()
        while (await api.computers.get(computer["id"]))["status"] != "running":
            await asyncio.sleep(0.05)
        written = await api.computers.exec(computer["id"], log_writer(args.log_size))
        if written["exit_code"] != 0:
            raise SystemExit(f"could not write the log in the computer: {written}")
        session = await api.computers.open_terminal(computer["id"])
        await session.send(RAW_CAT)
        await asyncio.sleep(0.5)
        app = PaneApp(api, computer["id"])
        async with app.run_test(size=(COLUMNS + 2, LINES + 2)) as pilot:
            pane = app.pane
            while pane.status.phase is not Phase.CONNECTED:
                await pilot.pause(0.01)
            probe = Probe(pane)
            workloads = {
                f"seq 1 {args.seq}": (f"seq 1 {args.seq}", "SEQ"),
                "colour-heavy log": ("cat ~/colour.log", "LOG"),
            }

            async def pane_flood(title: str) -> float:
                command, name = workloads[title]
                pane.link.send(b"clear\r")
                elapsed, payloads[title] = await flood(probe, pane, command, name)
                return elapsed

            for title in workloads:  # a warm-up run, which also captures what the pane receives
                await pane_flood(title)
            for number, order in enumerate(rotations(list(workloads), args.seq_runs)):
                for title in order:
                    contenders = {
                        "pane": partial(pane_flood, title),
                        "pyte": partial(raw_pyte_time, payloads[title]),
                        "ours": partial(ours_time, payloads[title]),
                    }
                    for path in rotated(list(contenders), number):
                        seconds = await contenders[path]()
                        floods.setdefault(title, {}).setdefault(path, []).append(seconds)
            pane.link.send(RAW_CAT)
            await drain_quietly(probe)

            async def pane_paths() -> list[float]:
                parsed, painted = await pane_echo(probe, args.samples)
                echoes.setdefault("pane: key → parsed", []).append(parsed)
                return painted

            paths = {
                "bare WebSocket echo": partial(bare_echo, echo_url, args.samples),
                "SDK session echo": partial(sdk_echo, session, args.samples),
                "pane: key → painted": pane_paths,
            }
            for order in rotations(list(paths), args.rounds):
                for name in order:
                    echoes.setdefault(name, []).append(await paths[name]())
        await session.detach()
        await api.computers.delete(computer["id"])
    return {"echoes": echoes, "floods": floods, "sizes": {t: len(p) for t, p in payloads.items()}}


def report(args: argparse.Namespace, server: dict[str, Any], result: dict[str, Any]) -> None:
    print(
        f"isolation={server['isolation']}, textual {_version('textual')}, {args.rounds} rounds x "
        f"{args.samples} echoes per path (order rotated), {args.seq_runs} rounds per flood"
    )
    echoes = result["echoes"]
    bare_p50s = [statistics.median(samples) for samples in echoes["bare WebSocket echo"]]
    print(
        f"\n{'keystroke echo':24} {'p50 ms: median (min-max) of rounds':>36} {'p95 ms':>7}  "
        f"{'p50 - bare p50, ms':>22}"
    )
    for name in (
        "bare WebSocket echo",
        "SDK session echo",
        "pane: key → parsed",
        "pane: key → painted",
    ):
        rounds = echoes[name]
        p50s = [statistics.median(samples) for samples in rounds]
        p95 = percentile([value for samples in rounds for value in samples], 0.95)
        extra = ""
        if not name.startswith("bare"):
            extra = spread([p50 - bare for p50, bare in zip(p50s, bare_p50s, strict=True)])
        print(f"{name:24} {spread(p50s):>36} {p95:7.2f}  {extra:>22}")
    print("target: pane key → painted within 2 ms of the bare WebSocket echo (p50)")
    for title, paths in result["floods"].items():
        megabytes = result["sizes"][title] / 1e6
        print(f"\n{title} ({megabytes:.2f} MB of PTY output, {COLUMNS}x{LINES})")
        faster = spread(ratios(paths["pyte"], paths["pane"]))
        print(f"  end to end, painted: {faster} x raw pyte's parsing alone (target >= 4x)")
        print(f"  {'path':40} {'seconds':>22} {'MB/s':>6}")
        for name, path in (
            ("PTY → WebSocket → pane, painted", "pane"),
            ("pyte.Screen + ByteStream, parse only", "pyte"),
            ("the pane's emulator, parse only", "ours"),
        ):
            seconds = paths[path]
            speed = megabytes / statistics.median(seconds)
            print(f"  {name:40} {spread(seconds):>22} {speed:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=50, help="echoes per round and path")
    parser.add_argument("--seq", type=int, default=200_000)
    parser.add_argument("--seq-runs", type=int, default=3, help="runs of each flood")
    parser.add_argument("--log-size", type=int, default=1_500_000, help="bytes of colour log")
    parser.add_argument("--quick", action="store_true", help="a short check that it all runs")
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "process"))
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.samples, args.seq, args.seq_runs = 1, 10, 20_000, 1
        args.log_size = 200_000
    with (
        tempfile.TemporaryDirectory() as tmp,
        child(
            [
                sys.executable,
                "-m",
                "celesto_tui",
                "local",
                "serve",
                "--data-dir",
                tmp,
                "--isolation",
                args.isolation,
            ]
        ) as server_line,
        child([sys.executable, "-c", ECHO_SERVER]) as echo_port,
    ):
        server = json.loads(server_line)
        header("The terminal pane end to end, against the embedded backend")
        result = asyncio.run(run(args, server, f"ws://127.0.0.1:{echo_port.strip()}"))

    report(args, server, result)
    footer()


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
