"""Every command's ``--help`` is complete, and the cloud path starts without the heavy
imports (Textual, FastAPI, uvicorn, Rich)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from celesto_tui.commands.cli import main

from .helpers import Cli, Result, celesto_tui

GLOBAL_FLAGS = ("--local", "--base-url", "--api-key", "--profile", "--json")
HEAVY_MODULES = ("textual", "fastapi", "starlette", "uvicorn", "rich", "pydantic", "pyte")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
    return paths


def leaf(path: tuple[str, ...]) -> click.Command:
    command: Any = main
    for name in path:
        command = command.commands[name]
    return command  # type: ignore[no-any-return]


def run_help(path: tuple[str, ...]) -> Result:
    done = subprocess.run(celesto_tui(*path, "--help"), capture_output=True, text=True, timeout=60)
    return Result(done.returncode, done.stdout, done.stderr)


def test_root_help_lists_the_verbs_examples_and_exit_codes() -> None:
    result = run_help(())
    assert result.returncode == 0
    # invoke_without_command: the bare command opens the dashboard, so COMMAND is optional
    assert result.stdout.startswith("Usage: celesto-tui [OPTIONS] [COMMAND] [ARGS]...")
    for verb in ("auth", "computer", "deploy", "deployments", "local"):
        assert f"\n  {verb} " in result.stdout
    assert "Examples:" in result.stdout and "Exit status:" in result.stdout


def test_every_subcommand_has_complete_help() -> None:
    paths = command_paths(main)
    assert ("computer", "port", "publish") in paths and ("deployments", "logs") in paths
    assert ("local", "serve") in paths
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(paths, pool.map(run_help, paths), strict=True))
    for path, result in results.items():
        where = " ".join(path)
        assert result.returncode == 0, (where, result.stderr)
        assert result.stdout.startswith(f"Usage: celesto-tui {where} "), where
        assert "Examples:" in result.stdout, where
        command = leaf(path)
        assert command.help, where
        if path[0] == "local":
            continue  # the server takes no client options
        if not isinstance(command, click.Group) or path == ("deployments",):
            for flag in GLOBAL_FLAGS:
                assert flag in result.stdout, (where, flag)


def test_cloud_path_skips_heavy_imports(cli: Cli) -> None:
    command = celesto_tui("computer", "list", "--json", *cli.target_args())
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        capture_output=True,
        text=True,
        env=cli.env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "httpx" in imported
    assert not imported & set(HEAVY_MODULES)


def test_the_command_tree_is_imported_only_when_a_subcommand_is_used() -> None:
    # The bare command opens the dashboard: parsing its options needs click, not the verbs.
    script = (
        "import sys; from celesto_tui.commands.cli import main; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('celesto_tui.commands.'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [
        "celesto_tui.commands.cli",
        "celesto_tui.commands.lazy",
        "celesto_tui.commands.usage",
    ]
    assert leaf(("computer", "port", "publish")).name == "publish"  # looked up: imported


def test_an_unknown_subcommand_is_a_one_line_usage_error() -> None:
    done = subprocess.run(celesto_tui("nonsense"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: No such command 'nonsense'. See: celesto-tui --help"
    ]
