"""Dashboard figures: applying a poll as a diff next to clearing and re-adding the rows, and
the cold start to the first painted dashboard on the embedded backend.

    python benchmarks/dashboard.py [--computers 5000] [--changed 0.05] [--runs 7] [--starts 5]

Poll: the backend's store is seeded with ``--computers`` computers (the API lists at most
200, so the poll is built in process from the backend's own responses); each run changes
``--changed`` of them (status and CPU), shows the change with `ResourceTable.apply` (the
diff), then shows the next change with `ResourceTable.replace_all` (clear and re-add, the
naive way), in the same app. "apply" is the call on the UI thread; "apply + repaint" is the
UI thread's CPU time until the app is idle again (the table's idle work and the repaint of
what is visible). Building the rows runs in a thread in the app; its time is shown apart.

Cold start: a fresh process per start (interpreter, imports, embedded backend with 20
computers, app) until the computers table has painted its first poll. Figures are median
(min-max) of the runs (benchmarks/harness.py), with the machine's load before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, ratios, rotations, spread
from celesto_api.local import LocalServer
from celesto_api.local.store import Store
from celesto_tui.app import CelestoApp
from celesto_tui.computers_model import COMPUTERS
from celesto_tui.settings import Settings
from celesto_tui.table_model import build_rows
from celesto_tui.target import Target

TARGET_APPLY_MS = 20.0
TARGET_SPEEDUP = 10.0
SIZE = (160, 48)


def computer_row(index: int, project_id: str) -> dict[str, Any]:
    return {
        "id": f"cmp_{index:020d}",
        "name": f"bench-{index:05d}",
        "status": "running" if index % 3 else "stopped",
        "vcpus": 1 + index % 4,
        "ram_mb": 1024 * (1 + index % 4),
        "disk_size_mb": 10240,
        "image": "ubuntu-desktop-24.04",
        "template_id": "scratch" if index % 5 else "coding-agent",
        "template_version": "local-1",
        "network_mode": "open",
        "external_volume_enabled": 0,
        "project_id": project_id,
        "origin": "sdk",
        "created_at": f"2026-01-01T{index % 24:02d}:{index % 60:02d}:00.000Z",
        "stopped_at": None,
        "last_error": None,
    }


def seed(store: Store, count: int) -> None:
    project = store.default_project()["id"]
    for index in range(count):
        store.insert_computer(computer_row(index, project))


async def _seed_and_read(server: LocalServer, count: int) -> list[dict[str, Any]]:
    backend = server.backend
    assert backend is not None
    seed(backend.store, count)
    rows = backend.store.list_computers()
    return [backend.computers.to_response(row) for row in rows]


def with_changes(items: list[dict[str, Any]], share: float, rng: random.Random) -> None:
    for item in rng.sample(items, int(len(items) * share)):
        item["status"] = "stopping" if item["status"] == "running" else "starting"
        item["metrics"] = {"cpu_used_percent": rng.uniform(0, 100), "ram_used_mb": 300}


async def bench_poll(count: int, share: float, runs: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, LocalServer(data_dir=tmp) as server:
        items = server.run_coroutine(_seed_and_read(server, count), timeout=300)
        target = Target(server.base_url, server.api_key, "local", local=True, isolation="bwrap")
        app = CelestoApp(
            target, refresh_seconds=0, settings=Settings(), state_path=Path(tmp) / "state.json"
        )
        results: dict[str, list[float]] = {
            "diff": [],
            "diff_paint": [],
            "replace": [],
            "replace_paint": [],
            "build": [],
        }
        async with app.run_test(size=SIZE) as pilot:
            view = app.views["computers"]
            while not view.table.loaded:
                await pilot.pause(0.05)
            for poller in app.pollers.values():
                poller.stop()
            now = datetime.now(UTC)
            view.apply_items(items, build_rows(COMPUTERS, items, view.params, now))
            await pilot.pause()
            view.table.move_cursor(row=count // 2)
            selected = view.table.selected_key()
            for order in rotations(("diff", "replace"), runs):
                for kind in order:
                    items = copy.deepcopy(items)
                    with_changes(items, share, rng)
                    started = time.perf_counter()
                    rows = build_rows(COMPUTERS, items, view.params, now)
                    results["build"].append((time.perf_counter() - started) * 1000)
                    view.items = {item["id"]: item for item in items}
                    await pilot.pause()
                    cpu, wall = time.thread_time(), time.perf_counter()
                    if kind == "diff":
                        view.table.apply(rows)
                    else:
                        view.table.replace_all(rows)
                    results[kind].append((time.perf_counter() - wall) * 1000)
                    await pilot.pause()
                    results[f"{kind}_paint"].append((time.thread_time() - cpu) * 1000)
                    assert view.table.selected_key() == selected, "the cursor moved"
                    assert view.table.row_count == count
    return results


COLD_START = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from celesto_tui.app import CelestoApp
    from celesto_tui.settings import Settings
    from celesto_tui.target import open_target

    async def painted(pilot):
        app = pilot.app
        while not app.views["computers"].table.loaded:
            await pilot.pause(0.005)
        await pilot.pause()
        print("painted", time.time(), flush=True)
        app.exit()

    with open_target(True, data_dir=Path({data!r})) as target:
        app = CelestoApp(target, refresh_seconds=2, settings=Settings(),
                         state_path=Path({data!r}) / "ui-state.json")
        app.run(headless=True, size=(160, 48), auto_pilot=painted)
    """
)


def bench_cold_start(starts: int) -> list[float]:
    root = str(Path(__file__).resolve().parents[1])
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "state.db")
        seed(store, 20)
        store.close()
        script = COLD_START.format(root=root, data=tmp)
        for _ in range(starts):
            started = time.time()
            out = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
            )
            lines = [line for line in out.stdout.splitlines() if line.startswith("painted")]
            if not lines:
                raise SystemExit(f"cold start failed:\n{out.stdout}\n{out.stderr}")
            times.append((float(lines[-1].split()[1]) - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--computers", type=int, default=5000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    if not args.json:
        header("Dashboard: a poll applied as a diff next to clear-and-re-add; cold start")
    samples = asyncio.run(bench_poll(args.computers, args.changed, args.runs))
    cold = bench_cold_start(args.starts)
    poll = {name: statistics.median(values) for name, values in samples.items()}
    speedups = ratios(samples["replace"], samples["diff"])
    paint_speedups = ratios(samples["replace_paint"], samples["diff_paint"])
    speedup = statistics.median(speedups)
    if args.json:
        print(json.dumps({**poll, "cold_start": statistics.median(cold), "speedup": speedup}))
        return
    changed = int(args.computers * args.changed)
    print(
        f"poll of {args.computers} computers, {changed} changed; {args.runs} rounds, diff and "
        "re-add alternating which goes first; ms as median (min-max), ratios per round"
    )
    print(f"  clear and re-add / diff   {spread(speedups):>22}x  (target >= {TARGET_SPEEDUP:g}x)")
    print(f"  the same with repaint     {spread(paint_speedups):>22}x")
    print(
        f"  apply as a diff           {spread(samples['diff']):>22}   target <= {TARGET_APPLY_MS:g}"
    )
    print(f"  clear and re-add          {spread(samples['replace']):>22}")
    print(f"  diff + repaint (UI CPU)   {spread(samples['diff_paint']):>22}")
    print(f"  re-add + repaint (UI CPU) {spread(samples['replace_paint']):>22}")
    print(f"  building the rows (thread){spread(samples['build']):>22}")
    print(
        f"cold start to first painted dashboard (embedded backend), {args.starts} starts: "
        f"{spread(cold, digits=0)} ms"
    )
    ok = poll["diff"] <= TARGET_APPLY_MS and speedup >= TARGET_SPEEDUP
    print("targets met" if ok else "TARGETS MISSED")
    footer()


if __name__ == "__main__":
    main()
