"""Cold start of ``celesto-tui computer list --json`` next to ``python -c pass``.

    python benchmarks/cli.py [--runs 15] [--computers 3]

Starts ``celesto-tui local serve`` in a temporary data dir, creates a few computers, then
runs each command ``--runs`` times as a fresh process (interleaved rounds, the order rotated
each round, so machine drift hits all of them alike; benchmarks/harness.py) and prints the
wall time of each as median (min-max) and its difference from ``python -c pass`` round by
round. The CLI is started as ``python -m celesto_tui`` (what the tests run) and, when
installed, as the ``celesto-tui`` console script. Target: < 0.3 s more.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import footer, header, interleave, spread
from celesto_api import Celesto

TARGET_EXTRA_S = 0.3
WARMUP_RUNS = 2


def clean_env(config_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CELESTO_")}
    env["CELESTO_CONFIG_DIR"] = str(config_dir)
    return env


def start_server(
    data_dir: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "celesto_tui", "local", "serve", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit("celesto-tui local serve did not start")
    return process, json.loads(line)


def create_computers(ready: dict[str, str], count: int) -> None:
    with Celesto(api_key=ready["api_key"], base_url=ready["base_url"]) as client:
        for _ in range(count):
            client.computers.create()


def time_once(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def commands(ready: dict[str, str]) -> dict[str, list[str]]:
    target = ["--base-url", ready["base_url"], "--api-key", ready["api_key"]]
    found = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import celesto_api'": [sys.executable, "-c", "import celesto_api"],
        "python -m celesto_tui computer list --json": [
            sys.executable,
            "-m",
            "celesto_tui",
            "computer",
            "list",
            "--json",
            *target,
        ],
    }
    script = shutil.which("celesto-tui")
    if script:
        found["celesto-tui computer list --json"] = [script, "computer", "list", "--json", *target]
    return found


def measure(named: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, list[float]]:
    for command in named.values():
        for _ in range(WARMUP_RUNS):
            time_once(command, env)
    return interleave(
        {name: partial(time_once, command, env) for name, command in named.items()}, runs
    )


def report(samples: dict[str, list[float]], runs: int) -> None:
    baseline = samples["python -c pass"]
    width = max(len(name) for name in samples)
    print(f"cold start, {runs} rounds, order rotated; seconds as median (min-max)")
    print(f"{'command':<{width}}  {'seconds':>19}  {'minus python -c pass, ms':>26}")
    for name, values in samples.items():
        extra = ""
        if name != "python -c pass":
            extra = spread(
                [ours - base for ours, base in zip(values, baseline, strict=True)], 1000, 0
            )
        print(f"{name:<{width}}  {spread(values, digits=3):>19}  {extra:>26}")
    cli = [name for name in samples if name.endswith("computer list --json")]
    worst = max(
        statistics.median([ours - base for ours, base in zip(samples[name], baseline, strict=True)])
        for name in cli
    )
    verdict = "meets" if worst < TARGET_EXTRA_S else "MISSES"
    print(f"target: under +{TARGET_EXTRA_S * 1000:.0f} ms -> {verdict} (+{worst * 1000:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (>= 10)")
    parser.add_argument("--computers", type=int, default=3, help="computers in the list")
    args = parser.parse_args()
    runs = max(10, args.runs)
    with tempfile.TemporaryDirectory(prefix="celesto-cli-bench-") as scratch:
        root = Path(scratch)
        env = clean_env(root / "config")
        process, ready = start_server(root / "data", env)
        try:
            create_computers(ready, args.computers)
            header("CLI cold start")
            report(measure(commands(ready), env, runs), runs)
            footer()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


if __name__ == "__main__":
    main()
