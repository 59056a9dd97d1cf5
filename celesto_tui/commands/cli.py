"""The ``celesto-tui`` command: the dashboard, and its subcommands."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import click

from ..model.refresh import refresh_problem
from . import subcommands
from .usage import CelestoGroup

ROOT_EPILOG = """\b
Examples:
  celesto-tui                                  the dashboard
  celesto-tui --local                          the dashboard on the embedded backend
  celesto-tui auth login                       save an API key (checked first)
  celesto-tui computer create --cpus 2 --memory 2048
  celesto-tui computer run einstein "uname -a"
  celesto-tui computer ssh einstein            Ctrl+] detaches, the shell keeps running
  celesto-tui computer list --json             raw API JSON for scripts and agents
  celesto-tui deploy ./my-agent --name weather-agent --wait
  celesto-tui deployments status weather-agent
  celesto-tui local serve                      the Celesto API on 127.0.0.1

\b
Every command takes --local, --base-url, --api-key/-k, --profile and --json/-j,
after the command or before it (celesto-tui --json computer list).
Exit status: 0 success; 1 API or command error (one line on stderr); 2 usage error;
`computer run` exits with the remote command's exit code.
"""


def _check_refresh(_ctx: click.Context, _param: click.Parameter, value: float | None) -> Any:
    if value is not None and (problem := refresh_problem(value)):
        raise click.BadParameter(f"{value:g} {problem}")
    return value


@click.group(
    cls=CelestoGroup,
    commands=subcommands(),
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=ROOT_EPILOG,
)
@click.option(
    "--local",
    "use_local",
    is_flag=True,
    help="Use the embedded local backend (real sandboxes on this machine).",
)
@click.option("--base-url", envvar="CELESTO_BASE_URL", help="Celesto API origin.")
@click.option("--api-key", "-k", envvar="CELESTO_API_KEY", help="Celesto API key.")
@click.option("--profile", envvar="CELESTO_PROFILE", help="Profile from the config file.")
@click.option(
    "--json",
    "-j",
    "json_output",
    is_flag=True,
    help="Raw API JSON from the subcommand (same as its own --json).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data dir of the embedded backend (with --local).",
)
@click.option("--read-only", is_flag=True, help="Hide every action that changes anything.")
@click.option(
    "--refresh",
    type=float,
    callback=_check_refresh,
    metavar="SECONDS",
    help="Seconds between refreshes: 0 = manual (press r), else 0.5-3600 "
    "[default: refresh in the config file, else 2].",
)
@click.option(
    "--terminal",
    metavar="NAME",
    help="Open straight into a terminal on this computer (name or id).",
)
@click.option(
    "--theme",
    metavar="NAME",
    help="Colour theme, e.g. nord or textual-light (the dashboard remembers the last one).",
)
@click.version_option(package_name="celesto-tui")
@click.pass_context
def main(
    ctx: click.Context,
    use_local: bool,
    base_url: str | None,
    api_key: str | None,
    profile: str | None,
    json_output: bool,
    data_dir: Path | None,
    read_only: bool,
    refresh: float | None,
    terminal: str | None,
    theme: str | None,
) -> None:
    """Drive Celesto computers from the keyboard.

    Without a subcommand, opens the dashboard. With no API key configured it runs on
    the embedded local backend.
    """
    if ctx.invoked_subcommand is not None:
        return
    if json_output:
        raise click.UsageError("--json needs a command, e.g. celesto-tui --json computer list", ctx)
    # Start-up allocates a great deal and frees almost nothing: the garbage collector's passes
    # over it were ~10% of the time to the first frame. The app turns it back on after that.
    gc.disable()
    from ..app.celesto_app import CelestoApp
    from ..model.target import open_target

    if not (use_local or base_url or api_key or profile):
        use_local, profile = _remembered_context()

    # The embedded backend starts after the first frame; the dashboard reports its failures
    # (a data dir in use, no sandbox) in the header and a notification.
    with open_target(use_local, base_url, api_key, profile, data_dir, background=True) as target:
        app = CelestoApp(
            target,
            refresh_seconds=refresh,
            read_only=read_only,
            theme=theme,
            terminal=terminal,
            collector_paused=True,
        )
        app.run()
    # Everything is stopped and saved: spare the interpreter's final garbage collection over
    # the app's objects, which took ~0.4 s of the time between `q` and the shell prompt.
    gc.freeze()


def _remembered_context() -> tuple[bool, str | None]:
    """The context last picked in the dashboard (ctrl+o), as k9s reopens its last one."""
    from celesto_api import CelestoError
    from celesto_api.config import load_config_file

    from ..model.contexts import remembered_start
    from ..model.ui_state import default_state_path, load_state

    try:
        config = load_config_file()
    except CelestoError:
        return False, None  # the dashboard reports the file's problem itself
    return remembered_start(load_state(default_state_path()).context, config)
