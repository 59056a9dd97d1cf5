"""Local backend benchmark: prints one table, each figure next to its reference measured
in the same run on the same machine.

    python benchmarks/backend.py [--rounds 5] [--isolation auto|bwrap|process]

Rows (median over rounds; p50/p95 over the samples of all rounds):
  create→running     POST /v1/computers until GET says running   (target ≤ 100 ms)
  exec round trip    POST …/exec `true` over HTTP, next to subprocess.run(sh -c true)
                                                                  (target p50 ≤ 5 ms)
  keystroke echo     one byte through the terminal WebSocket and back from the PTY in
                     the sandbox, next to the same echo on a local PTY
  port request       GET through a published port, next to a direct loopback GET
  port throughput    a 32 MiB download through a published port, next to direct
  egress             from inside the computer through its egress proxy to a host server
                     reached as host.celesto.internal, next to the same client on the host
                     talking to 127.0.0.1 directly: connect (TCP + CONNECT handshake vs TCP
                     connect; target p50 within 1 ms) and 32 MiB downloads as a plain proxied
                     GET and through a CONNECT tunnel (target >= 0.8x direct); rounds
                     interleaved, order rotated, median (min-max) of the round medians
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import pty
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from websockets.sync.client import connect

BLOB_MB = 32


# The same client runs on the host (direct) and inside the computer (through the proxy).
EGRESS_CLIENT = r"""
import json, socket, sys, time
mode, host, port, path, count = sys.argv[1:6]
port, count = int(port), int(count)
def dial():
    if mode == "direct":
        return socket.create_connection((host, port))
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert b" 200 " in head.split(b"\r\n")[0], head
    return s
def download(s, target):
    started = time.perf_counter()
    s.sendall(f"GET {target} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
    buf, total = bytearray(1 << 20), 0
    while n := s.recv_into(buf):
        total += n
    s.close()
    return total / (1 << 20) / (time.perf_counter() - started)
connects = []
for _ in range(count):
    started = time.perf_counter()
    dial().close()
    connects.append((time.perf_counter() - started) * 1000)
if mode == "direct":
    get = download(socket.create_connection((host, port)), path)
else:
    get = download(socket.create_connection(("127.0.0.1", 3128)), f"http://{host}:{port}{path}")
print(json.dumps({"connect": connects, "get": get, "tunnel": download(dial(), path)}))
"""


def egress_round(
    http: httpx.Client, cid: str, port: int, mode: str, count: int
) -> dict[str, object]:
    args = [mode, "127.0.0.1" if mode == "direct" else "host.celesto.internal", str(port)]
    args += ["/blob", str(count)]
    if mode == "direct":
        out = subprocess.run(
            ["python3", "-c", EGRESS_CLIENT, *args], check=True, capture_output=True, text=True
        ).stdout
    else:
        command = "python3 -c " + shlex.quote(EGRESS_CLIENT) + " " + " ".join(args)
        reply = http.post(f"/v1/computers/{cid}/exec", json={"command": command, "timeout": 120})
        out = reply.json()["stdout"]
        if not out:
            raise RuntimeError(f"egress client failed: {reply.json()['stderr']}")
    return dict(json.loads(out))


@contextlib.contextmanager
def local_serve(
    data_dir: Path, isolation: str, extra: tuple[str, ...] = ()
) -> Iterator[dict[str, str]]:
    """`celesto-tui local serve` in its own process, as users and the CLI run it (an
    in-process server would share the GIL with this benchmark's client)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celesto_tui",
            "local",
            "serve",
            "--data-dir",
            str(data_dir),
            "--isolation",
            isolation,
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(30)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def wait_running(http: httpx.Client, computer_id: str) -> None:
    while http.get(f"/v1/computers/{computer_id}").json()["status"] != "running":
        pass


def bench_create(http: httpx.Client, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        computer = http.post("/v1/computers", json={}).json()
        wait_running(http, computer["id"])
        samples.append((time.perf_counter() - started) * 1000)
        http.delete(f"/v1/computers/{computer['id']}")
    return samples


def bench_echo(info: dict[str, str], count: int) -> list[float]:
    samples = []
    with connect(f"{info['gateway_url']}?token={info['token']}") as ws:
        ws.send(b"stty -echo; stty raw echo; cat\r")
        time.sleep(0.5)
        while True:
            try:
                ws.recv(timeout=0.2)
            except TimeoutError:
                break
        for i in range(count):
            byte = bytes([97 + i % 26])
            started = time.perf_counter()
            ws.send(byte)
            seen = b""
            while byte not in seen:
                frame = ws.recv(timeout=5)
                seen += frame if isinstance(frame, bytes) else frame.encode()
            samples.append((time.perf_counter() - started) * 1000)
            # let `cat` echo its own copy too, so the next read starts clean
            time.sleep(0.001)
            while True:
                try:
                    ws.recv(timeout=0.005)
                except TimeoutError:
                    break
    return samples


def bench_local_pty_echo(count: int) -> list[float]:
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", "stty raw echo; exec cat"])
    time.sleep(0.3)
    samples = []
    for i in range(count):
        byte = bytes([97 + i % 26])
        started = time.perf_counter()
        os.write(fd, byte)
        seen = b""
        while byte not in seen:
            seen += os.read(fd, 4096)
        samples.append((time.perf_counter() - started) * 1000)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return samples


def start_direct_server(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def throughput(url: str) -> float:
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", url, timeout=60) as response:
        for chunk in response.iter_bytes(1 << 20):
            size += len(chunk)
    return size / (1 << 20) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "process"])
    parser.add_argument("--egress-only", action="store_true", help="only the egress rows")
    args = parser.parse_args()

    rows: dict[str, list[list[float]]] = {}

    def record(name: str, samples: list[float]) -> None:
        rows.setdefault(name, []).append(samples)

    egress: dict[str, list[float]] = {}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        direct_dir = Path(tmp) / "direct"
        direct_dir.mkdir()
        (direct_dir / "small.txt").write_text("hello\n")
        (direct_dir / "blob").write_bytes(os.urandom(BLOB_MB << 20))
        direct, direct_url = start_direct_server(direct_dir)
        direct_port = direct.server_address[1]
        server = stack.enter_context(
            local_serve(Path(tmp) / "data", args.isolation, ("--host-port", str(direct_port)))
        )
        headers = {"Authorization": f"Bearer {server['api_key']}"}
        http = httpx.Client(base_url=server["base_url"], headers=headers, timeout=60)
        computer = http.post("/v1/computers", json={}).json()
        wait_running(http, computer["id"])
        cid = computer["id"]
        exec_once = lambda: http.post(f"/v1/computers/{cid}/exec", json={"command": "true"})  # noqa: E731
        proxied = computer_egress(http, cid) == "proxy"
        # The direct client runs unconstrained on the host: give the proxied one every core
        # too (a 1-vCPU computer's cgroup quota would be measured instead of the proxy).
        egress_computer = http.post("/v1/computers", json={"vcpus": os.cpu_count() or 1}).json()
        wait_running(http, egress_computer["id"])
        http.post(
            f"/v1/computers/{cid}/exec",
            json={
                "command": "cd ~ && echo hello > small.txt && "
                f"head -c {BLOB_MB << 20} /dev/urandom > blob && "
                "(python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &)"
            },
        )
        port_url = http.post(f"/v1/computers/{cid}/published-ports", json={"port": 8000}).json()[
            "url"
        ]
        while httpx.get(port_url + "small.txt").status_code != 200:
            time.sleep(0.05)
        terminal = http.post(f"/v1/computers/{cid}/terminals").json()
        for _ in range(20):
            exec_once()
        with httpx.Client() as plain:
            for _ in range(0 if args.egress_only else args.rounds):
                record("create→running", bench_create(http, 5))
                record("exec `true`", timed(exec_once, 100))
                record(
                    "subprocess.run(sh -c true)",
                    timed(lambda: subprocess.run(["sh", "-c", "true"], check=True), 100),
                )
                record("keystroke echo (sandbox PTY over WS)", bench_echo(terminal, 50))
                record("keystroke echo (local PTY)", bench_local_pty_echo(50))
                record(
                    "GET via published port", timed(lambda: plain.get(port_url + "small.txt"), 100)
                )
                record(
                    "GET direct loopback", timed(lambda: plain.get(direct_url + "small.txt"), 100)
                )
                record("MiB/s via published port", [throughput(port_url + "blob")])
                record("MiB/s direct loopback", [throughput(direct_url + "blob")])
            for index in range(args.rounds if proxied else 0):
                modes = ["direct", "proxy"] if index % 2 == 0 else ["proxy", "direct"]
                for mode in modes:
                    result = egress_round(http, egress_computer["id"], direct_port, mode, 100)
                    connects = [float(v) for v in result["connect"]]  # type: ignore[attr-defined]
                    egress.setdefault(f"connect {mode}", []).append(statistics.median(connects))
                    for key in ("get", "tunnel"):
                        egress.setdefault(f"{key} {mode}", []).append(float(result[key]))  # type: ignore[arg-type]
        direct.shutdown()
        http.close()
        isolation = server["isolation"]

    print(
        f"local backend benchmark — isolation={isolation}, rounds={args.rounds}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    if rows:
        print_rows(rows)
    if egress:
        print_egress(egress)
    else:
        print("egress: skipped (the computer is not behind an egress proxy: process isolation)")


def print_rows(rows: dict[str, list[list[float]]]) -> None:
    print(f"{'measure':40} {'p50':>9} {'p95':>9} {'unit':>6}")
    print("-" * 67)
    medians: dict[str, float] = {}
    for name, rounds in rows.items():
        all_samples = [s for r in rounds for s in r]
        unit = "MiB/s" if name.startswith("MiB/s") else "ms"
        p50 = statistics.median(statistics.median(r) for r in rounds)
        medians[name] = p50
        p95 = percentile(all_samples, 0.95) if unit == "ms" else min(all_samples)
        print(f"{name:40} {p50:9.2f} {p95:9.2f} {unit:>6}")
    print("-" * 67)
    print("ratios (median of round medians):")
    ratio_rows = (
        ("exec `true` / subprocess.run", "exec `true`", "subprocess.run(sh -c true)"),
        (
            "echo sandbox / local PTY",
            "keystroke echo (sandbox PTY over WS)",
            "keystroke echo (local PTY)",
        ),
        ("GET published / direct", "GET via published port", "GET direct loopback"),
        ("MiB/s published / direct", "MiB/s via published port", "MiB/s direct loopback"),
    )
    for label, a, b in ratio_rows:
        print(f"  {label:38} {medians[a] / medians[b]:6.2f}x")
    print("targets: create→running ≤ 100 ms, exec p50 ≤ 5 ms")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f} ({min(values):.2f}-{max(values):.2f})"


def print_egress(egress: dict[str, list[float]]) -> None:
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"egress proxy vs direct host loopback (load average {load}), median (min-max):")
    rows = (
        ("connect p50 ms", "connect"),
        ("MiB/s plain GET via proxy", "get"),
        ("MiB/s CONNECT tunnel", "tunnel"),
    )
    print(f"  {'measure':28} {'via proxy':>24} {'direct':>24} {'ratio':>7}")
    for label, key in rows:
        proxy, direct = egress[f"{key} proxy"], egress[f"{key} direct"]
        ratio = statistics.median(proxy) / statistics.median(direct)
        print(f"  {label:28} {spread(proxy):>24} {spread(direct):>24} {ratio:6.2f}x")
    delta = statistics.median(egress["connect proxy"]) - statistics.median(egress["connect direct"])
    print(f"  connect p50 difference: {delta:.3f} ms (target ≤ 1 ms); throughput target ≥ 0.8x")


def computer_egress(http: httpx.Client, cid: str) -> str:
    local = http.get(f"/v1/computers/{cid}").json().get("local") or {}
    return str((local.get("egress") or {}).get("mode"))


if __name__ == "__main__":
    main()
