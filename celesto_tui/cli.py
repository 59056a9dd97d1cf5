"""The ``celesto-tui`` command: the dashboard, and its subcommands."""

from __future__ import annotations

from pathlib import Path

import click

from .local_cli import local_group


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--local",
    "use_local",
    is_flag=True,
    help="Use the embedded local backend (real sandboxes on this machine).",
)
@click.option("--base-url", envvar="CELESTO_BASE_URL", help="Celesto API origin.")
@click.option("--api-key", envvar="CELESTO_API_KEY", help="Celesto API key.")
@click.option("--profile", envvar="CELESTO_PROFILE", help="Profile from the config file.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data dir of the embedded backend (with --local).",
)
@click.option("--read-only", is_flag=True, help="Hide every action that changes anything.")
@click.option(
    "--refresh",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="Seconds between refreshes (0 = manual, press r).",
)
@click.version_option(package_name="celesto-tui")
@click.pass_context
def main(
    ctx: click.Context,
    use_local: bool,
    base_url: str | None,
    api_key: str | None,
    profile: str | None,
    data_dir: Path | None,
    read_only: bool,
    refresh: float,
) -> None:
    """Drive Celesto computers from the keyboard.

    Without a subcommand, opens the dashboard. With no API key configured it runs on
    the embedded local backend.
    """
    if ctx.invoked_subcommand is not None:
        return
    from celesto_api.local import DataDirBusyError

    from .app import CelestoApp
    from .target import open_target

    try:
        with open_target(use_local, base_url, api_key, profile, data_dir) as target:
            CelestoApp(target, refresh_seconds=refresh, read_only=read_only).run()
    except DataDirBusyError as exc:
        raise click.ClickException(str(exc)) from None


main.add_command(local_group)
