"""Local backend benchmark: prints one table, each figure next to its reference measured
in the same run on the same machine.

    python benchmarks/backend.py [--rounds 5] [--isolation auto|bwrap|process]
                                 [--egress-only | --exec-only]

Every round measures each row once, in an order rotated by one each round
(benchmarks/harness.py); p50 is the median (min-max) of the rounds' medians, p95 is over the
samples of all rounds, ratios are taken round by round:
  create→running     POST /v1/computers until GET says running   (target ≤ 100 ms)
  exec round trip    POST …/exec `true` over HTTP, next to GET /v1/health (the HTTP floor)
                     and subprocess.run(sh -c true) (the process floor), with the server's
                     own `duration_ms`        (target p50 ≤ 2x (health + sh -c true));
                     the breakdown is the server's Server-Timing header (perf_counter marks
                     along the exec path), the rest is HTTP outside the server's handling
  keystroke echo     one byte through the terminal WebSocket and back from the PTY in
                     the sandbox, next to the same echo on a local PTY
  port request       GET through a published port, next to a direct loopback GET
  port throughput    a 32 MiB download through a published port, next to direct
  egress             from inside a computer (with every core) through its egress proxy to
                     a host server reached as host.celesto.internal, next to the same
                     client program (the same python3) on the host talking to 127.0.0.1,
                     in a cgroup like the computer's when the server uses cgroups (same
                     parent, same CPU quota: both sides are scheduled alike): connect
                     (TCP + CONNECT handshake vs TCP connect; target p50 within 1 ms) and
                     downloads of 32 and 128 MiB, the median of 5 per round, as a plain
                     proxied GET and through a CONNECT tunnel (target >= 0.8x direct)
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
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, percentile, ratios, rotations, spread
from celesto_api.local.sandbox import cgroups
from celesto_api.local.sandbox.base import SandboxSpec

BLOB_MB = 32
# The same client runs on the host (direct) and inside the computer (through the proxy).
EGRESS_CLIENT = r"""
import json, socket, statistics, sys, time
mode, host, port, count, repeat, *sizes = sys.argv[1:]
port, count, repeat = int(port), int(count), int(repeat)
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
def plain_get(path):
    if mode == "direct":
        return download(socket.create_connection((host, port)), path)
    return download(socket.create_connection(("127.0.0.1", 3128)), f"http://{host}:{port}{path}")
connects = []
for _ in range(count):
    started = time.perf_counter()
    dial().close()
    connects.append((time.perf_counter() - started) * 1000)
result = {"connect": statistics.median(connects)}
for size in sizes:
    gets, tunnels = [], []
    for _ in range(repeat):
        gets.append(plain_get(f"/blob{size}"))
        tunnels.append(download(dial(), f"/blob{size}"))
    result[f"get {size}"] = statistics.median(gets)
    result[f"tunnel {size}"] = statistics.median(tunnels)
print(json.dumps(result))
"""
# A 32 MiB download lasts ~16 ms here, a few scheduler slices: it shows what the relay's
# CPU costs when client and server already keep both cores busy; 128 MiB is memory-bound.
EGRESS_SIZES_MB = (32, 128)
EGRESS_ROWS = (
    "connect",
    *(f"{kind} {size}" for size in EGRESS_SIZES_MB for kind in ("get", "tunnel")),
)
EXEC_ROWS = ("exec `true`", "GET /v1/health", "subprocess.run(sh -c true)")


def server_timing(header: str) -> dict[str, float]:
    """`route;dur=0.123, lookup;dur=0.010` -> {"route": 0.123, "lookup": 0.01} (ms)."""
    stages = {}
    for entry in filter(None, (part.strip() for part in header.split(","))):
        name, _, duration = entry.partition(";dur=")
        stages[name] = float(duration)
    return stages


EGRESS_REPEAT = 5


@dataclass
class EgressClient:
    """How the same client program runs on both sides: ``interpreter`` is the computer's
    own python3 (the host's /usr, mounted read-only inside); with ``cgroup_mode`` the direct
    client runs in a cgroup like the computer's (same parent, same CPU quota), so that
    neither side is scheduled differently; None when the server has no cgroups."""

    interpreter: str
    cgroup_mode: cgroups.CgroupMode | None
    vcpus: int
    confinement: str


def egress_round(
    http: httpx.Client, cid: str, port: int, mode: str, client: EgressClient
) -> dict[str, float]:
    """One run of the client: connect p50 (ms) and the two downloads (median MiB/s)."""
    args = [mode, "127.0.0.1" if mode == "direct" else "host.celesto.internal", str(port)]
    args += ["100", str(EGRESS_REPEAT), *map(str, EGRESS_SIZES_MB)]
    if mode == "direct":
        with direct_group(client) as procs_files:
            process = subprocess.Popen(
                [client.interpreter, "-c", EGRESS_CLIENT, *args], stdout=subprocess.PIPE, text=True
            )
            # Joined while the interpreter starts up (tens of ms before the first byte
            # moves); a preexec_fn could deadlock with this process's server thread.
            for path in procs_files:
                with open(path, "w") as procs:
                    procs.write(str(process.pid))
            out, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"direct egress client exited with {process.returncode}")
    else:
        command = "python3 -c " + shlex.quote(EGRESS_CLIENT) + " " + " ".join(args)
        reply = http.post(f"/v1/computers/{cid}/exec", json={"command": command, "timeout": 300})
        out = reply.json()["stdout"]
        if not out:
            raise RuntimeError(f"egress client failed: {reply.json()['stderr']}")
    return {key: float(value) for key, value in json.loads(out).items()}


@contextlib.contextmanager
def direct_group(client: EgressClient) -> Iterator[list[str]]:
    """A fresh group per run: servers on this machine sweep empty groups under the parent."""
    if client.cgroup_mode is None:
        yield []
        return
    with tempfile.TemporaryDirectory() as home:
        spec = SandboxSpec("bench-direct", "bench-direct", Path(home), vcpus=client.vcpus)
        name = f"bench-direct-{os.getpid()}"
        group = cgroups.Cgroups.create(client.cgroup_mode, name, spec)
        try:
            yield group.procs_files
        finally:
            # The client has exited; give the kernel a moment to let the group go.
            for _ in range(100):
                if group.remove_now():
                    break
                time.sleep(0.01)


def egress_client(http: httpx.Client, cid: str, vcpus: int) -> EgressClient:
    """The direct side's interpreter and cgroup, matched to the computer ``cid``."""
    interpreter = run_in(http, cid, "command -v python3").strip() or "python3"
    enforced = (http.get(f"/v1/computers/{cid}").json().get("local") or {}).get(
        "enforced_limits", {}
    )
    mode = cgroups.detect_mode() if enforced.get("cpu") == "cgroup" else None
    if mode is None:
        confinement = f"no cgroups (cpu limit inside: {enforced.get('cpu')}); direct unconfined"
    else:
        confinement = (
            f"both clients in a cgroup {mode} under {cgroups.PARENT}/ with a {vcpus}-core "
            f"CPU quota (the direct one in a sibling of the computer's), {interpreter}"
        )
    return EgressClient(interpreter, mode, vcpus, confinement)


def run_in(http: httpx.Client, cid: str, command: str) -> str:
    reply = http.post(f"/v1/computers/{cid}/exec", json={"command": command}).json()
    return str(reply["stdout"])


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
    parser.add_argument("--exec-only", action="store_true", help="only exec and its floors")
    args = parser.parse_args()

    rows: dict[str, list[list[float]]] = {}
    egress: dict[str, list[float]] = {}
    header("Local backend, rounds interleaved with the order rotated")
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        direct_dir = Path(tmp) / "direct"
        direct_dir.mkdir()
        (direct_dir / "small.txt").write_text("hello\n")
        (direct_dir / "blob").write_bytes(os.urandom(BLOB_MB << 20))
        if not args.exec_only:
            for size in EGRESS_SIZES_MB:
                (direct_dir / f"blob{size}").write_bytes(os.urandom(size << 20))
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
        durations: list[float] = []
        stages: dict[str, list[float]] = {}

        def exec_once() -> None:
            started = time.perf_counter()
            response = http.post(f"/v1/computers/{cid}/exec", json={"command": "true"})
            total = (time.perf_counter() - started) * 1000
            durations.append(float(response.json().get("duration_ms", "nan")))
            timing = server_timing(response.headers.get("server-timing", ""))
            for name, value in timing.items():
                stages.setdefault(name, []).append(value)
            stages.setdefault("outside the server", []).append(total - sum(timing.values()))

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
        durations.clear()
        stages.clear()
        health_stages: dict[str, list[float]] = {}

        def health_once() -> None:
            started = time.perf_counter()
            response = http.get("/v1/health")
            total = (time.perf_counter() - started) * 1000
            timing = server_timing(response.headers.get("server-timing", ""))
            for name, value in timing.items():
                health_stages.setdefault(name, []).append(value)
            health_stages.setdefault("outside the server", []).append(total - sum(timing.values()))

        with httpx.Client() as plain:
            measures: dict[str, Callable[[], list[float]]] = {
                "create→running": lambda: bench_create(http, 5),
                "exec `true`": lambda: timed(exec_once, 100),
                "GET /v1/health": lambda: timed(health_once, 100),
                "subprocess.run(sh -c true)": lambda: timed(
                    lambda: subprocess.run(["sh", "-c", "true"], check=True), 100
                ),
                "keystroke echo (sandbox PTY over WS)": lambda: bench_echo(terminal, 50),
                "keystroke echo (local PTY)": lambda: bench_local_pty_echo(50),
                "GET via published port": lambda: timed(
                    lambda: plain.get(port_url + "small.txt"), 100
                ),
                "GET direct loopback": lambda: timed(
                    lambda: plain.get(direct_url + "small.txt"), 100
                ),
                "MiB/s via published port": lambda: [throughput(port_url + "blob")],
                "MiB/s direct loopback": lambda: [throughput(direct_url + "blob")],
            }
            if args.exec_only:
                measures = {name: measures[name] for name in EXEC_ROWS}
            for order in rotations(list(measures), 0 if args.egress_only else args.rounds):
                for name in order:
                    rows.setdefault(name, []).append(measures[name]())
        confinement = ""
        if computer_egress(http, cid) == "proxy" and not args.exec_only:
            # The direct client runs unconstrained on the host: give the proxied one every
            # core too (a 1-vCPU computer's cgroup quota would be measured, not the proxy).
            body = {"vcpus": os.cpu_count() or 1}
            egress_id = http.post("/v1/computers", json=body).json()["id"]
            wait_running(http, egress_id)
            client = egress_client(http, egress_id, body["vcpus"])
            confinement = client.confinement
            for order in rotations(["direct", "proxy"], args.rounds):
                for mode in order:
                    measured = egress_round(http, egress_id, direct_port, mode, client)
                    for key, value in measured.items():
                        egress.setdefault(f"{key} {mode}", []).append(value)
        direct.shutdown()
        http.close()
        isolation = server["isolation"]
    if rows:
        report(rows, durations, stages, health_stages, isolation, args.rounds)
    if egress:
        report_egress(egress, confinement)
    elif not args.exec_only:
        print("egress: skipped (process isolation: computers use the host's network)")
    footer()


def computer_egress(http: httpx.Client, cid: str) -> str:
    local = http.get(f"/v1/computers/{cid}").json().get("local") or {}
    return str((local.get("egress") or {}).get("mode"))


# The server's Server-Timing stages of an exec, in order (each ends at its mark).
STAGE_LABELS = {
    "route": "middleware, routing, body validation",
    "lookup": "computer lookup",
    "history": "history insert queued",
    "request": "pipes, agent connect, request + fds",
    "spawn": "agent spawns → pid back (+insert)",
    "wait": "command runs → exit, output drained",
    "record": "history update (SQLite commit)",
    "respond": "JSON response built",
    "outside the server": "outside the server (h11, client)",
}


def report_egress(egress: dict[str, list[float]], confinement: str) -> None:
    print("egress proxy vs direct host loopback, median (min-max) of rounds:")
    print(f"  like with like: {confinement}")
    print(f"  each round: 100 connects (p50), {EGRESS_REPEAT} downloads of each kind (median)")
    print(f"  {'measure':30} {'via the proxy':>26} {'direct':>26} {'ratio':>22}")
    labels = {"connect": "connect p50 ms"}
    for size in EGRESS_SIZES_MB:
        labels[f"get {size}"] = f"MiB/s plain GET, {size} MiB"
        labels[f"tunnel {size}"] = f"MiB/s CONNECT tunnel, {size} MiB"
    for key in EGRESS_ROWS:
        proxy, direct = egress[f"{key} proxy"], egress[f"{key} direct"]
        ratio = spread(ratios(proxy, direct))
        print(f"  {labels[key]:30} {spread(proxy):>26} {spread(direct):>26} {ratio:>21}x")
    extra = [p - d for p, d in zip(egress["connect proxy"], egress["connect direct"], strict=True)]
    print(f"  connect p50 difference: {spread(extra, digits=3)} ms (target within 1 ms)")
    print("  throughput target: >= 0.8x direct")


def report(
    rows: dict[str, list[list[float]]],
    durations: list[float],
    stages: dict[str, list[float]],
    health_stages: dict[str, list[float]],
    isolation: str,
    rounds: int,
) -> None:
    print(f"isolation={isolation}, {rounds} rounds")
    print(f"{'measure':38} {'p50: median (min-max) of rounds':>32} {'p95':>8} {'unit':>6}")
    print("-" * 87)
    medians: dict[str, list[float]] = {}
    for name, samples in rows.items():
        unit = "MiB/s" if name.startswith("MiB/s") else "ms"
        medians[name] = [statistics.median(round_samples) for round_samples in samples]
        every = [value for round_samples in samples for value in round_samples]
        p95 = percentile(every, 0.95) if unit == "ms" else min(every)
        print(f"{name:38} {spread(medians[name]):>32} {p95:8.2f} {unit:>6}")
    if durations:
        # duration_ms is whole milliseconds (the wire contract), so this split is coarse.
        inside = statistics.median(durations)
        print(f"{'  exec: duration_ms (server, whole ms)':38} {inside:>32.0f}")
    if stages:
        print("  exec `true` breakdown, median of every sample (ms):")
        for name, samples in stages.items():
            label = f"    {STAGE_LABELS.get(name, name)}"
            print(f"{label:38} {statistics.median(samples):>32.3f}")
    if health_stages:
        print("  GET /v1/health, for comparison (ms):")
        for name, samples in health_stages.items():
            label = f"    {'server' if name == 'respond' else STAGE_LABELS.get(name, name)}"
            print(f"{label:38} {statistics.median(samples):>32.3f}")
    print("-" * 87)
    print("ratios, round by round:")
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
    for label, top, bottom in ratio_rows:
        if top not in medians or bottom not in medians:
            continue
        print(f"  {label:38} {spread(ratios(medians[top], medians[bottom])):>24}x")
    floor = [
        health + shell
        for health, shell in zip(
            medians["GET /v1/health"], medians["subprocess.run(sh -c true)"], strict=True
        )
    ]
    label = "exec `true` / (health + sh -c true)"
    print(f"  {label:38} {spread(ratios(medians['exec `true`'], floor)):>24}x")
    print("targets: create→running ≤ 100 ms; exec p50 ≤ 2x (health round trip + sh -c true)")


if __name__ == "__main__":
    main()
