"""Throughput of the terminal widget's emulator against raw pyte, on the same bytes.

Two payloads, shaped as a PTY delivers them:

1. `seq 1 200000` output ("N\\r\\n" per line, 1.29 MB);
2. a colour-heavy log: timestamped lines with 16-colour, 256-colour and truecolour SGR runs,
   bold/dim toggles and `ls --color`-style lines (about 1.5 MB).

Each payload is fed in 16 KiB chunks (a WebSocket frame's worth) through

- **raw pyte**: `pyte.Screen` + `pyte.ByteStream`, parsing only;
- **ours**: `TerminalScreen` + `TerminalStream` (the fast path) and, after every chunk, the
  renderer turning every changed row into a styled Textual `Strip`, which is what the widget
  paints. Rendering after every chunk is pessimistic: the widget renders at most 60 times a
  second, i.e. after ~50 KB at these speeds.

Every measurement uses a fresh screen; the median of `--repeat` runs (default 5) is reported in
MB/s (10^6 bytes), with the ratio ours / raw pyte. The final screens of both are compared as a
sanity check. This is the emulator alone, without a PTY or a socket: the same two workloads
from a PTY in a computer to the painted pane, next to raw pyte on the bytes the pane received,
and the keystroke-to-echo latency next to a bare WebSocket echo, are measured against the
embedded backend by `benchmarks/terminal_echo.py`.

Usage: python benchmarks/terminal.py [--repeat N] [--chunk BYTES] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from celesto_tui.terminal.render import TerminalRenderer
from celesto_tui.terminal.screen import TerminalScreen
from celesto_tui.terminal.stream import TerminalStream

SIZES = ((80, 24), (200, 50))
FRAME = 1 / 60  # the widget repaints at most 60 times a second


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


def chunks_of(payload: bytes, size: int) -> list[bytes]:
    return [payload[start : start + size] for start in range(0, len(payload), size)]


def run_raw_pyte(chunks: list[bytes], columns: int, lines: int) -> tuple[float, list[str]]:
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    gc.collect()
    started = time.perf_counter()
    for chunk in chunks:
        stream.feed(chunk)
    return time.perf_counter() - started, screen.display


def run_ours(
    chunks: list[bytes], columns: int, lines: int, frame: float
) -> tuple[float, list[str]]:
    """Feed, and render the changed rows whenever `frame` seconds passed (0: every chunk)."""
    screen = TerminalScreen(columns, lines)
    stream = TerminalStream(screen)
    renderer = TerminalRenderer(screen)
    gc.collect()
    started = last_render = time.perf_counter()
    for number, chunk in enumerate(chunks, 1):
        stream.feed(chunk)
        now = time.perf_counter()
        if now - last_render >= frame or number == len(chunks):
            last_render = now
            changed = renderer.sync()
            for y in range(lines) if changed is None else changed:
                renderer.row(y)
    elapsed = time.perf_counter() - started
    return elapsed, screen.display


def compare(
    chunks: list[bytes], size: tuple[int, int], repeat: int
) -> tuple[float, float, float, bool]:
    """Median seconds of raw pyte, ours per frame and ours per chunk, runs interleaved so that
    load drifts on the machine hit all three alike."""
    raw_times: list[float] = []
    frame_times: list[float] = []
    chunk_times: list[float] = []
    same = True
    for _ in range(repeat):
        raw, raw_display = run_raw_pyte(chunks, *size)
        per_frame, frame_display = run_ours(chunks, *size, frame=FRAME)
        per_chunk, chunk_display = run_ours(chunks, *size, frame=0.0)
        raw_times.append(raw)
        frame_times.append(per_frame)
        chunk_times.append(per_chunk)
        same = same and raw_display == frame_display == chunk_display
    median = statistics.median
    return median(raw_times), median(frame_times), median(chunk_times), same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=16384, help="bytes per feed")
    parser.add_argument("--quick", action="store_true", help="smaller payloads, 3 runs")
    args = parser.parse_args()
    count, log_size = 200_000, 1_500_000
    if args.quick:
        args.repeat, count, log_size = 3, 50_000, 400_000
    workloads = (
        (f"seq 1 {count}", seq_output(count)),
        ("colour-heavy log", colour_log(log_size)),
    )
    print(
        f"python {platform.python_version()}, pyte {version('pyte')}, textual {version('textual')}"
        f", {platform.machine()}, median of {args.repeat} runs, {args.chunk} B chunks"
    )
    header = (
        f"{'workload':<18} {'size':>7} {'MB':>5}  {'raw pyte':>8}  {'ours/frame':>10}  "
        f"{'ratio':>6}  {'ours/chunk':>10}  {'ratio':>6}  same screen"
    )
    print(header)
    print("-" * len(header))
    for name, payload in workloads:
        chunks = chunks_of(payload, args.chunk)
        for size in SIZES:
            raw, per_frame, per_chunk, same = compare(chunks, size, args.repeat)
            megabytes = len(payload) / 1e6
            print(
                f"{name:<18} {size[0]:>3}x{size[1]:<3} {megabytes:>5.2f}  "
                f"{megabytes / raw:>8.2f}  {megabytes / per_frame:>10.2f}  "
                f"{raw / per_frame:>5.2f}x  {megabytes / per_chunk:>10.2f}  "
                f"{raw / per_chunk:>5.2f}x  {'yes' if same else 'NO'}",
                flush=True,
            )
    print(
        "MB/s = 10^6 bytes/s. ours/frame renders the changed rows at most 60 times a second, "
        "as the widget does;\nours/chunk renders them after every chunk (the worst case). "
        "ratio = ours / raw pyte."
    )


if __name__ == "__main__":
    main()
