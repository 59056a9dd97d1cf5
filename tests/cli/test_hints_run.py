"""Every follow-up line the CLI prints runs as printed: it carries the target options the
user typed (``--base-url``, ``--profile``, ``--local --data-dir``), never the API key."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from celesto_api import Celesto

from .helpers import COMMAND_TIMEOUT_S, Cli, Result, celesto_tui


def hint(text: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}: (celesto-tui .+?)(?:$|\. |\.$)", text, re.MULTILINE)
    assert match, text
    return match.group(1)


def run_as_printed(cli: Cli, line: str, **env: str) -> Result:
    """``line`` pasted into a shell: no options added, only the environment given."""
    words = shlex.split(line)
    assert words[0] == "celesto-tui"
    done = subprocess.run(
        celesto_tui(*words[1:]),
        capture_output=True,
        text=True,
        env={**cli.env, **env},
        timeout=COMMAND_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def test_create_against_base_url_prints_an_ssh_line_with_the_base_url(
    cli: Cli, sdk: Celesto
) -> None:
    result = cli("computer", "create")
    assert result.returncode == 0, result.stderr
    name = re.search(r"^Created computer (\S+) ", result.stdout, re.MULTILINE)
    assert name, result.stdout
    try:
        line = hint(result.stdout, "Connect with")
        assert line == f"celesto-tui computer ssh {name.group(1)} --base-url {cli.served.base_url}"
        assert cli.served.api_key not in result.stdout + result.stderr
        # The key was typed as --api-key, which the line leaves out: say how to supply it.
        assert "leave out your --api-key" in result.stderr
        assert "CELESTO_API_KEY" in result.stderr
        # `ssh` needs a terminal; the same line with `get` proves the target options work.
        got = run_as_printed(
            cli, line.replace(" ssh ", " get "), CELESTO_API_KEY=cli.served.api_key
        )
        assert got.returncode == 0, got.stderr
        assert name.group(1) in got.stdout
    finally:
        sdk.computers.delete(name.group(1))


def test_a_not_found_hint_runs_as_printed_with_the_key_in_the_environment(cli: Cli) -> None:
    result = cli("computer", "get", "no-such-computer")
    assert result.returncode == 1
    line = hint(result.stderr, "List computers with")
    assert line == f"celesto-tui computer list --base-url {cli.served.base_url}"
    listed = run_as_printed(cli, line, CELESTO_API_KEY=cli.served.api_key)
    assert listed.returncode == 0, listed.stderr


def test_a_profile_hint_names_the_profile_and_runs_as_printed(cli: Cli) -> None:
    login = cli(
        "auth",
        "login",
        "--profile",
        "work",
        "--base-url",
        cli.served.base_url,
        "--api-key",
        cli.served.api_key,
        target=False,
    )
    assert login.returncode == 0, login.stderr
    result = cli("computer", "get", "no-such-computer", "--profile", "work", target=False)
    assert result.returncode == 1
    line = hint(result.stderr, "List computers with")
    assert line == "celesto-tui computer list --profile work"
    assert "leave out" not in result.stderr  # the profile holds the key
    listed = run_as_printed(cli, line)
    assert listed.returncode == 0, listed.stderr


def test_a_local_hint_keeps_the_data_dir(cli: Cli, tmp_path: Path) -> None:
    data_dir = tmp_path / "my data"
    args = ("--local", "--data-dir", str(data_dir), "computer", "get", "no-such-computer")
    result = cli(*args, target=False)
    assert result.returncode == 1
    line = hint(result.stderr, "List computers with")
    assert line == f"celesto-tui --data-dir '{data_dir}' computer list --local"
    listed = run_as_printed(cli, line)
    assert listed.returncode == 0, listed.stderr
    assert "No computers" in listed.stdout
