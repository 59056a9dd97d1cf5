"""``celesto-tui local ...``: run the embedded backend as a server of its own."""

from __future__ import annotations

from pathlib import Path

import click

SERVE_EPILOG = """\b
Examples:
  celesto-tui local serve
  celesto-tui local serve --port 8787 --data-dir ~/celesto-local
  celesto-tui local serve --faults "error_rate=0.1,latency_ms=50-200"
  celesto-tui local serve --host-port 5432 --egress-deny example.com

\b
Egress lists can also live in config.toml (the flags add to them):
  [local.egress]
  allow = ["pypi.org", "files.pythonhosted.org"]
  host_ports = [5432]

\b
Point the CLI, the dashboard or any Celesto SDK at it with the ready line's values:
  export CELESTO_BASE_URL=http://127.0.0.1:8787 CELESTO_API_KEY=sk_local_...
  celesto-tui computer list
"""


BWRAP_OPTION = click.option(
    "--bwrap",
    "bwrap",
    envvar="CELESTO_BWRAP",
    type=click.Path(dir_okay=False, path_type=str),
    help="A bwrap executable to try first (then the system's on PATH, then the bundled one).",
)


@click.group("local", epilog=SERVE_EPILOG)
def local_group() -> None:
    """The embedded local backend (the Celesto API on this machine)."""


@local_group.command("serve", epilog=SERVE_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0 picks a free one).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where computers, homes and state live (default: the user data dir).",
)
@click.option(
    "--token",
    envvar="CELESTO_LOCAL_TOKEN",
    help="API key clients must send (default: a random one, printed once). On the command "
    "line it is visible to every user of this machine (ps); prefer --token-file or "
    "CELESTO_LOCAL_TOKEN.",
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the API key from this file (its first line).",
)
@click.option(
    "--isolation",
    type=click.Choice(["auto", "bwrap", "process"]),
    default="auto",
    show_default=True,
    envvar="CELESTO_LOCAL_ISOLATION",
    help="Sandbox kind: bubblewrap, a plain process (not isolated), or detect.",
)
@BWRAP_OPTION
@click.option(
    "--faults",
    envvar="CELESTO_LOCAL_FAULTS",
    help='Inject faults, e.g. "error_rate=0.2,rate_limit=0.05,retry_after=2,'
    'latency_ms=50-500,ws_drop=0.01"; also error_status=N (5xx or 402), lost_response=P, '
    "count=N, seed=N.",
)
@click.option(
    "--host-port",
    "host_ports",
    multiple=True,
    type=click.IntRange(1, 65535),
    help="A port on this machine's loopback that computers reach as "
    "host.celesto.internal:PORT (repeatable).",
)
@click.option(
    "--egress-allow",
    multiple=True,
    help="Only these host names (with their subdomains) or CIDRs are reachable from "
    "computers (repeatable; a listed private CIDR is reachable on purpose).",
)
@click.option(
    "--egress-deny",
    multiple=True,
    help="Host names or CIDRs computers never reach (repeatable; wins over --egress-allow).",
)
def serve_command(
    host: str,
    port: int,
    data_dir: Path | None,
    token: str | None,
    token_file: Path | None,
    isolation: str,
    bwrap: str | None,
    faults: str | None,
    host_ports: tuple[int, ...],
    egress_allow: tuple[str, ...],
    egress_deny: tuple[str, ...],
) -> None:
    """Serve the Celesto API on HOST:PORT until Ctrl-C / SIGTERM.

    When ready it prints one JSON line: base_url, api_key, isolation, sandbox (which bwrap,
    or why computers are not isolated), data_dir.
    """
    from celesto_api.config import config_path, load_config_file
    from celesto_api.exceptions import CelestoError
    from celesto_api.local import DataDirBusyError, LocalConfig, serve
    from celesto_api.local.egress import EgressPolicyError, Rules
    from celesto_api.local.egress.settings import EgressSettings, settings_from_config
    from celesto_api.local.faults import FaultSpecError, parse_fault_spec
    from celesto_api.local.sandbox import SandboxError

    if token_file is not None:
        if token is not None:
            raise click.UsageError(
                "Give the token one way: --token (or CELESTO_LOCAL_TOKEN) or --token-file, "
                "not both."
            )
        token = read_token_file(token_file)
    try:
        spec = parse_fault_spec(faults)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    for hint, entries in (("--egress-allow", egress_allow), ("--egress-deny", egress_deny)):
        try:
            Rules.parse(entries)
        except EgressPolicyError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    try:
        from_file = settings_from_config(load_config_file())
    except CelestoError as exc:
        raise click.ClickException(str(exc)) from None
    except EgressPolicyError as exc:
        raise click.ClickException(f"{config_path()}: {exc}") from None
    egress = from_file.merged(EgressSettings(egress_allow, egress_deny, host_ports))
    config = LocalConfig(
        host=host,
        port=port,
        token=token,
        isolation=isolation,  # type: ignore[arg-type]
        bwrap=bwrap,
        faults=spec,
        host_ports=list(egress.host_ports),
        egress_allow=list(egress.allow),
        egress_deny=list(egress.deny),
    )
    if data_dir is not None:
        config.data_dir = data_dir
    try:
        serve(config)
    except (DataDirBusyError, SandboxError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}"
        ) from None


def read_token_file(path: Path) -> str:
    """The first line of ``path``, stripped; an empty one is an error (never echoed)."""
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise click.BadParameter(f"{path} is not a text file", param_hint="--token-file") from None
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="--token-file"
        ) from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise click.BadParameter(f"{path} holds no token", param_hint="--token-file")
    return token


DOCTOR_EPILOG = """\b
Examples:
  celesto-tui local doctor
  celesto-tui local doctor --bwrap /usr/bin/bwrap

\b
One line per check: the server's user, the kernel's user-namespace knobs, each bwrap tried
(explicit, system, bundled) and why it was skipped, and the verdict.
"""


@local_group.command("doctor", epilog=DOCTOR_EPILOG)
@BWRAP_OPTION
def doctor_command(bwrap: str | None) -> None:
    """Check whether computers would be sandboxed here, and why (exit 1 when not)."""
    from celesto_api.local.sandbox import probe
    from celesto_api.local.sandbox.report import checks

    capability = probe(bwrap)
    for check in checks(capability):
        mark = "✓" if check.ok else "✗"
        click.echo(f"{mark} {check.name}: {check.text}")
    if not capability.isolated:
        raise SystemExit(1)
