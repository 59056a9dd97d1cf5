"""Exec round-trip latency through the SDK next to raw httpx, on one local backend.

    python benchmarks/sdk.py [--runs 200] [--rounds 5] [--warmup 30] [--command true]

Each client runs ``--runs`` execs per round; every round runs the four clients one after the
other, in an order rotated by one each round (benchmarks/harness.py), so that drift on the
machine hits all of them alike. A client's p50/p95 is the median (min-max) of its per-round
p50/p95; ratios are taken round by round. The ratio compares each SDK client with raw httpx
of the same kind (blocking with blocking, asyncio with asyncio); the target is at most 1.15x.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, ratios, rotations, spread
from celesto_api import AsyncCelesto, Celesto
from celesto_api.local import LocalServer

TARGET_RATIO = 1.15


@dataclass
class Series:
    name: str
    baseline: str | None
    p50s: list[float] = field(default_factory=list)
    p95s: list[float] = field(default_factory=list)

    def add_round(self, samples: list[float]) -> None:
        ordered = sorted(samples)
        self.p50s.append(statistics.median(ordered))
        self.p95s.append(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))])


def time_sync(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


async def time_async(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def wait_running(client: Celesto, computer_id: str) -> None:
    deadline = time.monotonic() + 60
    while client.computers.get(computer_id)["status"] != "running":
        if time.monotonic() > deadline:
            raise SystemExit("the benchmark computer did not start")
        time.sleep(0.05)


def run(args: argparse.Namespace, server: LocalServer) -> list[Series]:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    body = {"command": args.command, "timeout": 30}
    sdk = Celesto(api_key=server.api_key, base_url=server.base_url)
    computer_id = sdk.computers.create()["id"]
    wait_running(sdk, computer_id)
    url = f"{server.base_url}/v1/computers/{computer_id}/exec"
    raw = httpx.Client(timeout=60)

    def raw_exec() -> object:
        response = raw.post(url, json=body, headers=headers)
        response.raise_for_status()
        return response.json()

    def sdk_exec() -> object:
        return sdk.computers.exec(computer_id, args.command)

    series = {
        "raw": Series("raw httpx.Client", None),
        "sdk": Series("Celesto", "raw"),
        "araw": Series("raw httpx.AsyncClient", None),
        "asdk": Series("AsyncCelesto", "araw"),
    }

    async def all_rounds() -> None:
        async with (
            httpx.AsyncClient(timeout=60) as araw,
            AsyncCelesto(api_key=server.api_key, base_url=server.base_url) as asdk,
        ):

            async def araw_exec() -> object:
                response = await araw.post(url, json=body, headers=headers)
                response.raise_for_status()
                return response.json()

            async def asdk_exec() -> object:
                return await asdk.computers.exec(computer_id, args.command)

            async def blocking(call: Callable[[], object], runs: int) -> list[float]:
                return time_sync(call, runs)  # blocks the loop, which has nothing else to do

            clients = {
                "raw": partial(blocking, raw_exec),
                "sdk": partial(blocking, sdk_exec),
                "araw": partial(time_async, araw_exec),
                "asdk": partial(time_async, asdk_exec),
            }
            for measure in clients.values():
                await measure(args.warmup)
            for order in rotations(list(clients), args.rounds):
                for name in order:
                    series[name].add_round(await clients[name](args.runs))

    try:
        asyncio.run(all_rounds())
    finally:
        sdk.computers.delete(computer_id)
        sdk.close()
        raw.close()
    for item in series.values():
        if item.baseline is not None:
            item.baseline = series[item.baseline].name
    return list(series.values())


def render(rows: list[Series], args: argparse.Namespace, isolation: str) -> str:
    by_name = {row.name: row for row in rows}
    lines = [
        f"exec `{args.command}` round trip, {args.runs} runs x {args.rounds} rounds, the four "
        f"clients interleaved with the order rotated each round; local backend isolation: "
        f"{isolation}",
        "p50/p95: median (min-max) of the rounds' p50/p95; ratios taken round by round",
        "",
        "| client | p50 ratio vs raw | p50 (ms) | p95 (ms) | p95 ratio vs raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.baseline is None:
            ratio50 = ratio95 = "1.00x (baseline)"
        else:
            base = by_name[row.baseline]
            r50 = statistics.median(ratios(row.p50s, base.p50s))
            mark = "ok" if r50 <= TARGET_RATIO else f"over {TARGET_RATIO}x"
            ratio50 = f"{spread(ratios(row.p50s, base.p50s))}x ({mark})"
            ratio95 = f"{spread(ratios(row.p95s, base.p95s))}x"
        lines.append(
            f"| {row.name} | {ratio50} | {spread(row.p50s, 1000)} | {spread(row.p95s, 1000)} "
            f"| {ratio95} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--command", default="true")
    args = parser.parse_args()
    header("SDK exec round trip next to raw httpx")
    with tempfile.TemporaryDirectory() as data_dir, LocalServer(data_dir=data_dir) as server:
        rows = run(args, server)
        print(render(rows, args, str(getattr(server, "isolation", "?"))))
    footer()


if __name__ == "__main__":
    main()
