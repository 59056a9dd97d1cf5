"""What a relayed byte costs in CPU next to a direct loopback byte: the floor under the
egress proxy's throughput (benchmarks/backend.py) when the cores are busy.

    python benchmarks/relay_cost.py [--rounds 5] [--mib 512]

One process, three threads and no event loop: a sender writes 64 KiB at a time, a receiver
reads into 1 MiB, and in between either nothing (direct), a splice(2) relay through a 1 MiB
pipe (what the proxy does, minus asyncio), or a recv_into/send relay. CPU seconds per GiB of
each thread (thread_time) and in total; the three rotate every round.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, ratios, rotations, spread

F_SETPIPE_SZ = 1031
PIPE = 1 << 20


def connected() -> tuple[socket.socket, socket.socket]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    return client, server


def send_all(sock: socket.socket, total: int, cpu: dict[str, float]) -> None:
    chunk = os.urandom(1 << 16)
    for _ in range(total // len(chunk)):
        sock.sendall(chunk)
    sock.close()
    cpu["sender"] = time.thread_time()


def receive_all(sock: socket.socket, cpu: dict[str, float]) -> None:
    buffer = bytearray(1 << 20)
    while sock.recv_into(buffer):
        pass
    sock.close()
    cpu["receiver"] = time.thread_time()


def splice_relay(source: socket.socket, sink: socket.socket) -> None:
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE)
    while moved := os.splice(source.fileno(), write_end, PIPE):
        while moved:
            moved -= os.splice(read_end, sink.fileno(), moved)
    os.close(read_end)
    os.close(write_end)


def copy_relay(source: socket.socket, sink: socket.socket) -> None:
    buffer = bytearray(PIPE)
    view = memoryview(buffer)
    while size := source.recv_into(buffer):
        sink.sendall(view[:size])


def measure(
    relay: Callable[[socket.socket, socket.socket], None] | None, total: int
) -> dict[str, float]:
    """CPU seconds per GiB of each thread and in total."""
    cpu: dict[str, float] = {}
    sender, upstream = connected()
    threads = [threading.Thread(target=send_all, args=(sender, total, cpu))]
    if relay is None:
        threads.append(threading.Thread(target=receive_all, args=(upstream, cpu)))
    else:
        downstream, receiver = connected()

        def relay_thread() -> None:
            relay(upstream, downstream)
            upstream.close()
            downstream.close()
            cpu["relay"] = time.thread_time()

        threads += [
            threading.Thread(target=relay_thread),
            threading.Thread(target=receive_all, args=(receiver, cpu)),
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_gib = {name: seconds * (1 << 30) / total for name, seconds in cpu.items()}
    per_gib["total"] = sum(per_gib.values())
    return per_gib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=512)
    args = parser.parse_args()
    header("CPU per GiB moved over loopback: direct vs relayed, rounds rotated")
    kinds: dict[str, Callable[[socket.socket, socket.socket], None] | None] = {
        "direct": None,
        "splice relay": splice_relay,
        "recv/send relay": copy_relay,
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in kinds}
    for order in rotations(list(kinds), args.rounds):
        for name in order:
            results[name].append(measure(kinds[name], args.mib << 20))
    print(f"{args.mib} MiB per run, {args.rounds} rounds; CPU s/GiB, median (min-max)")
    columns = ("sender", "relay", "receiver", "total")
    print(f"  {'':16}" + "".join(f"{c:>20}" for c in columns) + f"{'total / direct':>22}")
    direct = [r["total"] for r in results["direct"]]
    for name, runs in results.items():
        cells = [spread([r[c] for r in runs]) if c in runs[0] else "-" for c in columns]
        ratio = spread(ratios([r["total"] for r in runs], direct))
        print(f"  {name:16}" + "".join(f"{cell:>20}" for cell in cells) + f"{ratio:>21}x")
    footer()


if __name__ == "__main__":
    main()
