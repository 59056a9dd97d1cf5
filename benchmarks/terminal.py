"""Throughput of the terminal widget's emulator next to other emulators, on the same bytes.

Workloads, shaped as a PTY delivers them and fed in 16 KiB chunks (a WebSocket frame's worth):

1. `seq 1 200000` output ("N\\r\\n" per line, 1.29 MB);
2. a colour-heavy log: timestamped lines with 16-colour, 256-colour and truecolour SGR runs,
   bold/dim toggles and `ls --color`-style lines (1.5 MB);
3. a real interactive `top` (procps), captured from a PTY of the same size
   (benchmarks/data/top-COLSxLINES.bin, made by benchmarks/capture_top.py), replayed to ~1 MB;
4. an htop-like full-screen repaint: CPU meters, a coloured process table with a highlighted
   row and the function-key bar, every row placed by CUP and ended by EL (1.5 MB).

Each on an 80x24 and a 200x50 screen, through

- **ours**: `TerminalScreen` + `TerminalStream`, the emulator alone;
- **ours+paint**: the same plus, at most 60 times a second as the widget does, the renderer
  turning every changed row into a Textual `Strip`;
- **pyte**: `pyte.Screen` + `pyte.ByteStream`, which ours is built on;
- **bittty** (pure Python), and the native emulators **pyghostty** (libghostty) and
  **vt100wasm** (Rust `vt100` in WebAssembly) when installed (`pip install '.[bench]'`), so the
  distance to the native limit is printed too.

Every contender gets a fresh screen per run; the rounds are interleaved with the order rotated
(benchmarks/harness.py). Printed: MB/s (10^6 bytes) as median (min-max) of the rounds and, first,
how many times faster ours is than each, taken round by round. Targets: ours >= 5x pyte and
>= 1.5x bittty on every row. "same as pyte" compares the final screens' text.

The same workloads from a PTY in a computer to the painted pane are measured against the
embedded backend by `benchmarks/terminal_echo.py`.

Usage: python benchmarks/terminal.py [--rounds N] [--chunk BYTES] [--quick]
       [--workload seq|log|top|htop ...]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import footer, header, interleave, ratios, spread
from celesto_tui.widgets.terminal.render import TerminalRenderer
from celesto_tui.widgets.terminal.screen import TerminalScreen
from celesto_tui.widgets.terminal.stream import TerminalStream

HERE = Path(__file__).resolve().parent

SIZES = ((80, 24), (200, 50))
FRAME = 1 / 60  # the widget repaints at most 60 times a second
DATA = HERE / "data"
TARGETS = {"pyte": 5.0, "bittty": 1.5}

Runner = Callable[[list[bytes], int, int], float]
"""Feed the chunks to a fresh screen of (columns, lines); return the seconds it took."""


def seq_output(count: int) -> bytes:
    return "".join(f"{n}\r\n" for n in range(1, count + 1)).encode()


def colour_log(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    words = [
        *("accept", "worker", "cache", "shard", "retry", "session", "upload", "token"),
        *("queue", "commit", "replica", "socket", "backoff", "lease", "index", "gateway"),
    ]
    levels = ("\x1b[32mINFO \x1b[0m", "\x1b[33mWARN \x1b[0m", "\x1b[1;31mERROR\x1b[0m")
    file_colours = ("\x1b[01;34m", "\x1b[01;32m", "\x1b[01;36m", "\x1b[40;33;01m", "\x1b[0m")
    lines: list[str] = []
    total = 0
    number = 0
    while total < size:
        number += 1
        if number % 4 == 0:
            names = (
                f"{rng.choice(file_colours)}{rng.choice(words)}{rng.choice(('', '.py', '/'))}"
                "\x1b[0m"
                for _ in range(6)
            )
            line = "  ".join(names)
        else:
            red, green, blue = (rng.randrange(256) for _ in range(3))
            message = " ".join(rng.choice(words) for _ in range(rng.randrange(3, 9)))
            line = (
                f"\x1b[2m2025-06-{number % 28 + 1:02d} 10:{number % 60:02d}:{number % 47:02d}"
                f"\x1b[22m {rng.choice(levels)} \x1b[38;5;{rng.randrange(16, 256)}m"
                f"svc.{rng.choice(words)}\x1b[39m {message} "
                f"\x1b[38;2;{red};{green};{blue}mreq={number}\x1b[0m \x1b[1mok\x1b[22m"
            )
        line += "\r\n"
        lines.append(line)
        total += len(line.encode())
    return "".join(lines).encode()


def htop_like(columns: int, lines: int, size: int, seed: int = 3) -> bytes:
    """Full-screen repaints as htop draws them: per row a CUP, SGR runs, text and EL."""
    rng = random.Random(seed)
    commands = ("python3", "postgres", "nginx: worker", "node server.js", "redis-server", "bash")
    keys = ("Help", "Setup", "Search", "Filter", "Tree", "SortBy", "Nice -", "Nice +", "Kill")
    key_bar = "".join(
        f"\x1b[0mF{number}\x1b[30;46m{label:<6}" for number, label in enumerate(keys, 1)
    )
    heading = "  PID USER      PRI  NI  VIRT   RES   SHR S CPU% MEM%   TIME+  Command"
    meters = 4
    frames: list[str] = []
    total = 0
    while total < size:
        out = ["\x1b[?25l\x1b[H"]
        for y in range(meters):
            width = columns // 2 - 10
            used = rng.randrange(width)
            bar = "|" * used
            out.append(
                f"\x1b[{y + 1};1H\x1b[1;36m{y:>3}\x1b[0m\x1b[1m[\x1b[32m{bar[: used // 2]}"
                f"\x1b[31m{bar[used // 2 :]}\x1b[0m{' ' * (width - used)}"
                f"\x1b[1;30m{rng.uniform(0, 100):5.1f}%\x1b[0m\x1b[1m]\x1b[0m\x1b[K"
            )
        out.append(f"\x1b[{meters + 2};1H\x1b[30;42m{heading.ljust(columns)[:columns]}\x1b[0m")
        selected = rng.randrange(meters + 3, lines)
        for y in range(meters + 3, lines):
            cpu = rng.uniform(0, 100)
            row = (
                f"{rng.randrange(1, 99999):>5} {'root':<9} 20   0 {rng.randrange(9999):>4}M "
                f"{rng.randrange(999):>4}M {rng.randrange(99):>4}M S {cpu:4.1f} "
                f"{rng.uniform(0, 10):4.1f} {rng.randrange(99)}:{rng.randrange(60):02d}."
                f"{rng.randrange(99):02d} "
            )
            command = rng.choice(commands)
            if y == selected:
                line = (row + command).ljust(columns)[:columns]
                out.append(f"\x1b[{y};1H\x1b[30;46m{line}\x1b[0m")
            else:
                colour = "\x1b[1;31m" if cpu > 50 else "\x1b[32m"
                out.append(
                    f"\x1b[{y};1H{row[:24]}{colour}{row[24:]}\x1b[0m\x1b[1;34m{command}\x1b[0m"
                    "\x1b[K"
                )
        out.append(f"\x1b[{lines};1H{key_bar}\x1b[0m\x1b[K\x1b[?25h")
        frame = "".join(out)
        frames.append(frame)
        total += len(frame)
    return "".join(frames).encode()


def top_capture(columns: int, lines: int, size: int) -> bytes:
    capture = (DATA / f"top-{columns}x{lines}.bin").read_bytes()
    return capture * max(1, -(-size // len(capture)))


def chunks_of(payload: bytes, size: int) -> list[bytes]:
    return [payload[start : start + size] for start in range(0, len(payload), size)]


def timed(feed: Callable[[bytes], object], chunks: list[bytes]) -> float:
    gc.collect()
    started = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    return time.perf_counter() - started


def run_pyte(chunks: list[bytes], columns: int, lines: int) -> float:
    return timed(pyte.ByteStream(pyte.Screen(columns, lines)).feed, chunks)


def run_ours(chunks: list[bytes], columns: int, lines: int) -> float:
    return timed(TerminalStream(TerminalScreen(columns, lines)).feed, chunks)


def run_ours_painted(chunks: list[bytes], columns: int, lines: int) -> float:
    """Feed, and render the changed rows whenever a frame's time passed, and at the end."""
    screen = TerminalScreen(columns, lines)
    stream = TerminalStream(screen)
    renderer = TerminalRenderer(screen)
    gc.collect()
    started = last_render = time.perf_counter()
    for number, chunk in enumerate(chunks, 1):
        stream.feed(chunk)
        now = time.perf_counter()
        if now - last_render >= FRAME or number == len(chunks):
            last_render = now
            changed = renderer.sync()
            for y in range(lines) if changed is None else changed:
                renderer.row(y)
    return time.perf_counter() - started


def run_bittty(chunks: list[bytes], columns: int, lines: int) -> float:
    from bittty import Board

    return timed(Board(width=columns, height=lines).feed_host_data, chunks)


def run_pyghostty(chunks: list[bytes], columns: int, lines: int) -> float:
    import pyghostty

    terminal = pyghostty.Terminal(columns, lines)
    try:
        return timed(terminal.feed, chunks)
    finally:
        terminal.close()


def run_vt100wasm(chunks: list[bytes], columns: int, lines: int) -> float:
    import vt100wasm

    return timed(vt100wasm.Screen(lines, columns).process, chunks)


def contenders() -> dict[str, Runner]:
    runners: dict[str, Runner] = {
        "ours": run_ours,
        "ours+paint": run_ours_painted,
        "pyte": run_pyte,
    }
    optional = {"bittty": run_bittty, "pyghostty": run_pyghostty, "vt100wasm": run_vt100wasm}
    for name, runner in optional.items():
        if importlib.util.find_spec(name) is not None:
            runners[name] = runner
    return runners


def same_as_pyte(payload: bytes, columns: int, lines: int) -> bool:
    reference = pyte.Screen(columns, lines)
    pyte.ByteStream(reference).feed(payload)
    ours = TerminalScreen(columns, lines)
    TerminalStream(ours).feed(payload)
    return bool(reference.display == ours.display)


def workloads(names: list[str], quick: bool) -> list[tuple[str, Callable[[int, int], bytes]]]:
    count, size = (50_000, 400_000) if quick else (200_000, 1_500_000)
    top_size = 250_000 if quick else 1_000_000
    log = colour_log(size)
    seq = seq_output(count)
    table: dict[str, tuple[str, Callable[[int, int], bytes]]] = {
        "seq": (f"seq 1 {count}", lambda columns, lines: seq),
        "log": ("colour-heavy log", lambda columns, lines: log),
        "top": ("top (captured)", lambda columns, lines: top_capture(columns, lines, top_size)),
        "htop": ("htop-like repaint", lambda columns, lines: htop_like(columns, lines, size)),
    }
    return [table[name] for name in names]


def versions(names: list[str]) -> str:
    known = []
    for name in ("pyte", "textual", *names):
        try:
            known.append(f"{name} {version(name)}")
        except Exception:
            continue
    return ", ".join(dict.fromkeys(known))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=16384, help="bytes per feed")
    parser.add_argument("--quick", action="store_true", help="smaller payloads, 3 rounds")
    parser.add_argument(
        "--workload", action="append", choices=("seq", "log", "top", "htop"), default=[]
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds = 3
    runners = contenders()
    header(
        f"Terminal emulators, {args.rounds} rounds interleaved, {args.chunk} B chunks: "
        f"{versions(list(runners))}"
    )
    others = [name for name in runners if name != "ours"]
    summary: list[str] = []
    for title, make in workloads(args.workload or ["seq", "log", "top", "htop"], args.quick):
        for columns, lines in SIZES:
            payload = make(columns, lines)
            chunks = chunks_of(payload, args.chunk)
            megabytes = len(payload) / 1e6
            samples = interleave(
                {name: partial(run, chunks, columns, lines) for name, run in runners.items()},
                args.rounds,
            )
            same = "yes" if same_as_pyte(payload, columns, lines) else "no"
            print(f"\n{title}, {columns}x{lines}, {megabytes:.2f} MB (same text as pyte: {same})")
            print(f"  {'engine':<11} {'ours is ... x faster':>24}  {'MB/s':>22}")
            ours = samples["ours"]
            for name in ["ours", *others]:
                speed = spread([megabytes / seconds for seconds in samples[name]])
                faster = "" if name == "ours" else spread(ratios(samples[name], ours))
                print(f"  {name:<11} {faster:>24}  {speed:>22}", flush=True)
            verdicts = []
            for name, target in TARGETS.items():
                if name in samples:
                    per_round = ratios(samples[name], ours)
                    verdict = "ok" if statistics.median(per_round) >= target else "MISS"
                    verdicts.append(f"{spread(per_round):>19}x {name} ({verdict})")
            summary.append(f"  {title:<18} {columns:>3}x{lines:<3} " + "  ".join(verdicts))
    print(f"\nours vs targets (>= {TARGETS['pyte']}x pyte, >= {TARGETS['bittty']}x bittty):")
    print("\n".join(summary))
    footer()


if __name__ == "__main__":
    main()
