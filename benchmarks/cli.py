"""Cold start of ``celesto-tui computer list --json`` next to ``python -c pass``.

    python benchmarks/cli.py [--runs 15] [--computers 3]

Starts ``celesto-tui local serve`` in a temporary data dir, creates a few computers, then
runs each command ``--runs`` times as a fresh process (interleaved, so machine drift hits
all of them alike) and prints the median wall time of each and its difference from
``python -c pass``. The CLI is started as ``python -m celesto_tui`` (what the tests run)
and, when installed, as the ``celesto-tui`` console script. Target: < 0.3 s more.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    samples: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(runs):
        for name, command in named.items():
            samples[name].append(time_once(command, env))
    return samples


def report(samples: dict[str, list[float]], runs: int) -> None:
    baseline = statistics.median(samples["python -c pass"])
    width = max(len(name) for name in samples)
    print(f"cold start, median of {runs} runs each (CPUs: {os.cpu_count()})")
    print(f"{'command':<{width}}  {'median':>9}  {'min':>9}  {'vs python -c pass':>17}")
    for name, values in samples.items():
        median = statistics.median(values)
        extra = "" if name == "python -c pass" else f"+{(median - baseline) * 1000:.0f} ms"
        print(
            f"{name:<{width}}  {median * 1000:>6.0f} ms  {min(values) * 1000:>6.0f} ms  {extra:>17}"
        )
    cli = [name for name in samples if name.endswith("computer list --json")]
    worst = max(statistics.median(samples[name]) for name in cli) - baseline
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
            report(measure(commands(ready), env, runs), runs)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


if __name__ == "__main__":
    main()
