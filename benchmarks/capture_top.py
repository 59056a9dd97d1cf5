"""Record what an interactive `top` sends to its terminal, for `benchmarks/terminal.py`.

`top` runs on a real PTY of the given size (TERM=xterm-256color) refreshing every 0.2 s; after
`--seconds` it is sent `q`, and every byte it wrote is saved as it was read. The fixtures in
benchmarks/data/ were made with:

    python benchmarks/capture_top.py 80 24
    python benchmarks/capture_top.py 200 50

Usage: python benchmarks/capture_top.py COLUMNS LINES [--seconds 6]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import termios
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def capture(columns: int, lines: int, seconds: float) -> bytes:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", LINES=str(lines), COLUMNS=str(columns))
        os.execvp("top", ["top", "-d", "0.2"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    output = bytearray()
    deadline = time.monotonic() + seconds
    quit_sent = False
    while True:
        if not quit_sent and time.monotonic() >= deadline:
            os.write(fd, b"q")
            quit_sent = True
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: top exited and closed the PTY
                break
            if not data:
                break
            output += data
    os.waitpid(pid, 0)
    return bytes(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("columns", type=int)
    parser.add_argument("lines", type=int)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    payload = capture(args.columns, args.lines, args.seconds)
    path = DATA / f"top-{args.columns}x{args.lines}.bin"
    path.write_bytes(payload)
    print(f"{path}: {len(payload)} bytes")


if __name__ == "__main__":
    main()
