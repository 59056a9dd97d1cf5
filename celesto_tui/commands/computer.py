"""``celesto-tui computer ...``: the seed's computer verbs on the SDK."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import click

from celesto_api import Computer, ExecEvent, Template, limits

from . import params
from .common import Connection, GlobalOptions, confirmed, connect, exit_with, global_options
from .history import history_command
from .output import emit, emit_json, emit_json_line, fields, note, size, table, text, timestamp
from .ports import port_group
from .resume import wait_for_status, wait_until_running, with_auto_resume
from .ssh import ssh_command

COMPUTER_EPILOG = """\b
Examples:
  celesto-tui computer create --cpus 2 --memory 2048
  celesto-tui computer list
  celesto-tui computer run einstein "uname -a"
  celesto-tui computer ssh einstein
  celesto-tui computer port publish einstein --port 8000
  celesto-tui computer delete einstein --force

Every command takes a computer's name or its id (cmp_...).
"""


@click.group("computer", epilog=COMPUTER_EPILOG)
def computer_group() -> None:
    """Create, use and manage computers."""


computer_group.add_command(port_group)
computer_group.add_command(ssh_command)
computer_group.add_command(history_command)


# --- human output --------------------------------------------------------------------------


def internet(network: dict[str, Any], local: dict[str, Any]) -> str:
    """The policy, and on the embedded backend how it is carried out."""
    egress = local.get("egress") or {}
    if egress.get("mode") == "host":
        return "on (the host's network: process isolation enforces no policy)"
    if network.get("mode") == "off":
        return "off"
    return "on (through the egress proxy)" if egress.get("mode") == "proxy" else "on"


def computer_fields(computer: Computer) -> str:
    ports = computer.get("published_ports") or []
    network: dict[str, Any] = dict(computer.get("network_policy") or {})
    wire: dict[str, Any] = dict(computer)  # keeps fields the types do not know
    local: dict[str, Any] = wire.get("local") or {}  # the embedded backend's isolation
    template = text(computer.get("template_id"))
    if computer.get("template_version"):
        template += f" ({computer.get('template_version')})"
    return fields(
        [
            ("Name", computer["name"]),
            ("ID", computer["id"]),
            ("Status", computer["status"]),
            ("CPUs", text(computer.get("vcpus"))),
            ("Memory", size(computer.get("ram_mb"))),
            ("Disk", size(computer.get("disk_size_mb"))),
            ("Template", template),
            ("Image", text(computer.get("image"))),
            ("Internet", internet(network, local)),
            ("Persistent home", "yes" if computer.get("external_volume_enabled") else ""),
            ("Ports", ", ".join(f"{p['port']} {p.get('url') or ''}".strip() for p in ports)),
            ("Isolation", str(local.get("isolation") or "")),
            ("Created", timestamp(computer.get("created_at"))),
            ("Stopped", timestamp(computer["stopped_at"]) if computer.get("stopped_at") else ""),
            ("Last error", str(computer.get("last_error") or "")),
        ]
    )


def computers_table(computers: Iterable[Computer]) -> str:
    from ..model.format import age

    headers = ("NAME", "ID", "STATUS", "CPUS", "MEMORY", "DISK", "TEMPLATE", "PORTS", "AGE")
    rows = [
        (
            computer["name"],
            computer["id"],
            computer["status"],
            text(computer.get("vcpus")),
            size(computer.get("ram_mb")),
            size(computer.get("disk_size_mb")),
            text(computer.get("template_id")),
            str(len(computer.get("published_ports") or [])),
            age(computer.get("created_at")),
        )
        for computer in computers
    ]
    return table(headers, rows)


def templates_table(templates: Iterable[Template]) -> str:
    headers = ("ID", "NAME", "CPUS", "MEMORY", "DISK", "DESCRIPTION")
    rows = [
        (
            template["id"],
            template.get("display_name", ""),
            text(template.get("default_vcpus")),
            size(template.get("default_ram_mb")),
            size(template.get("default_disk_size_mb")),
            template.get("description", ""),
        )
        for template in templates
    ]
    return table(headers, rows)


def show_computer(opts: GlobalOptions, computer: Computer, message: str) -> None:
    if opts.json:
        emit_json(computer)
    else:
        emit(message)


# --- create / list / get / templates -------------------------------------------------------


@computer_group.command(
    "create",
    epilog="""\b
Examples:
  celesto-tui computer create
  celesto-tui computer create --cpus 2 --memory 2048 --disk 10gb
  celesto-tui computer create --template coding-agent --persistent-home
  celesto-tui computer create --no-internet --wait --json
""",
)
@click.option("--cpus", "-c", type=params.CPUS, metavar="N", help="Virtual CPUs.")
@click.option("--memory", "-m", type=params.MEMORY_MB, metavar="MB", help="Memory in MB.")
@click.option(
    "--disk",
    "--disk-size-mb",
    "disk",
    metavar="SIZE",
    callback=params.disk_size,
    help="Disk: MB or e.g. 10gb.",
)
@click.option("--template", "--template-id", "template_id", metavar="ID", help="Template id.")
@click.option("--template-version", metavar="VERSION", help="Pin a template version.")
@click.option("--image", metavar="IMAGE", help="OS image (default: the template's).")
@click.option(
    "--internet/--no-internet",
    default=None,
    help="Outbound network access, fixed for the computer's life [default: on].",
)
@click.option(
    "--persistent-home", is_flag=True, default=None, help="Keep /home on a persistent volume."
)
@click.option("--wait", is_flag=True, help="Return once the computer is running.")
@global_options
def create_command(
    opts: GlobalOptions,
    cpus: int | None,
    memory: int | None,
    disk: int | None,
    template_id: str | None,
    template_version: str | None,
    image: str | None,
    internet: bool | None,
    persistent_home: bool | None,
    wait: bool,
) -> None:
    """Create a computer and print its name and id.

    Options you leave out take the template's defaults.
    """
    if persistent_home and internet is False:
        raise click.UsageError("--persistent-home needs internet access; drop --no-internet.")
    with connect(opts) as conn:
        computer = conn.client.computers.create(
            cpus=cpus,
            memory=memory,
            disk=disk,
            image=image,
            template_id=template_id,
            template_version=template_version,
            network_policy=None if internet is None else ("open" if internet else "off"),
            persistent_home=persistent_home,
        )
        if wait:
            computer = wait_until_running(conn.client, computer["id"])
        if opts.json:
            emit_json(computer)
            return
        emit(f"Created computer {computer['name']} ({computer['id']}).")
        emit(computer_fields(computer))
        emit()
        emit("Connect with: " + conn.line("computer", "ssh", computer["name"]))


@computer_group.command(
    "list",
    epilog="""\b
Examples:
  celesto-tui computer list
  celesto-tui computer list --status running --limit 10
  celesto-tui computer list --json | jq -r '.[].name'
""",
)
@click.option("--status", type=params.COMPUTER_STATUS, help="Only computers with this status.")
@click.option(
    "--template", "--template-id", "template_id", metavar="ID", help="Only this template."
)
@click.option("--project", "--project-id", "project_id", metavar="ID", help="Only this project's.")
@click.option("--limit", type=params.LIST_LIMIT, metavar="N", help="At most N computers.")
@global_options
def list_command(
    opts: GlobalOptions,
    status: str | None,
    template_id: str | None,
    project_id: str | None,
    limit: int | None,
) -> None:
    """List computers (with --json: the array of computer objects)."""
    with connect(opts) as conn:
        result = conn.client.computers.list(
            status=status, template_id=template_id, project_id=project_id, limit=limit
        )
        computers = result.get("computers") or []
        if opts.json:
            emit_json(computers)
        elif computers:
            emit(computers_table(computers))
        else:
            emit("No computers. Create one with: " + conn.line("computer", "create"))


@computer_group.command(
    "get",
    epilog="""\b
Examples:
  celesto-tui computer get einstein
  celesto-tui computer get cmp_abc123 --json
""",
)
@click.argument("computer")
@global_options
def get_command(opts: GlobalOptions, computer: str) -> None:
    """Show one computer: status, size, template, published ports."""
    with connect(opts) as conn:
        found = conn.client.computers.get(computer)
        if opts.json:
            emit_json(found)
        else:
            emit(computer_fields(found))


@computer_group.command(
    "templates",
    epilog="""\b
Examples:
  celesto-tui computer templates
  celesto-tui computer create --template coding-agent
""",
)
@global_options
def templates_command(opts: GlobalOptions) -> None:
    """List the templates a computer can be created from."""
    with connect(opts) as conn:
        templates = conn.client.computers.list_templates()
        if opts.json:
            emit_json(templates)
        else:
            emit(templates_table(templates))


# --- run -----------------------------------------------------------------------------------


def exit_status(remote_exit_code: int) -> int:
    """The remote exit code as this process's status (signals as 128+N, like a shell)."""
    if 0 <= remote_exit_code <= 255:
        return remote_exit_code
    if -128 < remote_exit_code < 0:
        return 128 - remote_exit_code
    return 1


def _report_timeout(timed_out: object, timeout: int) -> None:
    if timed_out:
        note(f"The command timed out after {timeout} s and was stopped.")


def _run_buffered(conn: Connection, computer: str, command: str, timeout: int) -> int:
    result = with_auto_resume(
        conn.client,
        computer,
        lambda: conn.client.computers.exec(computer, command, timeout=timeout),
    )
    if conn.opts.json:
        emit_json(result)
    else:
        sys.stdout.write(result["stdout"])
        sys.stdout.flush()
        sys.stderr.write(result["stderr"])
        sys.stderr.flush()
        _report_timeout(result.get("timed_out"), timeout)
    return int(result["exit_code"])


def _print_events(events: Iterable[ExecEvent], as_json: bool, timeout: int) -> int:
    exit_code = 1
    for event in events:
        if as_json:
            emit_json_line(event)
        if event["type"] == "exit":
            exit_code = int(event["exit_code"])
            if not as_json:
                _report_timeout(event.get("timed_out"), timeout)
        elif not as_json and event["type"] in ("stdout", "stderr"):
            stream = sys.stdout if event["type"] == "stdout" else sys.stderr
            stream.write(str(event.get("data", "")))
            stream.flush()
    return exit_code


def _run_streaming(conn: Connection, computer: str, command: str, timeout: int) -> int:
    # The API refuses a stopped computer before the first event, so a retry after
    # resuming never repeats output.
    return with_auto_resume(
        conn.client,
        computer,
        lambda: _print_events(
            conn.client.computers.exec_stream(computer, command, timeout=timeout),
            conn.opts.json,
            timeout,
        ),
    )


@computer_group.command(
    "run",
    epilog="""\b
Examples:
  celesto-tui computer run einstein "uname -a"
  celesto-tui computer run einstein "pytest -q" --timeout 300 --stream
  celesto-tui computer run einstein "cat /etc/os-release" --json

The exit status is the command's own exit code, so `&&` and `set -e` work.
A stopped computer is started first (said on stderr).
""",
)
@click.argument("computer")
@click.argument("command")
@click.option(
    "--timeout",
    "-t",
    type=params.EXEC_TIMEOUT,
    default=limits.EXEC_TIMEOUT_DEFAULT,
    show_default=True,
    metavar="SECONDS",
    help="Stop the command after this long.",
)
@click.option(
    "--stream",
    is_flag=True,
    help="Print output as it arrives (with --json: one JSON event per line).",
)
@global_options
def run_command(
    opts: GlobalOptions, computer: str, command: str, timeout: int, stream: bool
) -> None:
    """Run a shell COMMAND on a computer and print its output.

    Resumes a stopped computer first. Exits with the command's exit code.
    """
    with connect(opts) as conn:
        run = _run_streaming if stream else _run_buffered
        exit_code = run(conn, computer, command, timeout)
    exit_with(exit_status(exit_code))


# --- stop / start / delete -----------------------------------------------------------------


@computer_group.command(
    "stop",
    epilog="""\b
Examples:
  celesto-tui computer stop einstein
  celesto-tui computer stop einstein --wait
""",
)
@click.argument("computer")
@click.option("--wait", is_flag=True, help="Return once the computer is stopped.")
@global_options
def stop_command(opts: GlobalOptions, computer: str, wait: bool) -> None:
    """Stop a computer. Its files stay; `start` (or `run`/`ssh`) resumes it."""
    with connect(opts) as conn:
        stopped = conn.client.computers.stop(computer)
        if wait:
            stopped = wait_for_status(conn.client, stopped["id"], ("stopped",)) or stopped
        show_computer(opts, stopped, f"Computer {stopped['name']} is {stopped['status']}.")


@computer_group.command(
    "start",
    epilog="""\b
Examples:
  celesto-tui computer start einstein
  celesto-tui computer start einstein --wait
""",
)
@click.argument("computer")
@click.option("--wait", is_flag=True, help="Return once the computer is running.")
@global_options
def start_command(opts: GlobalOptions, computer: str, wait: bool) -> None:
    """Start a stopped computer."""
    with connect(opts) as conn:
        started = conn.client.computers.start(computer)
        if wait:
            started = wait_until_running(conn.client, started["id"])
        show_computer(opts, started, f"Computer {started['name']} is {started['status']}.")


@computer_group.command(
    "delete",
    epilog="""\b
Examples:
  celesto-tui computer delete einstein
  celesto-tui computer delete einstein --force --wait
""",
)
@click.argument("computer")
@click.option("--force", "-f", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", is_flag=True, help="Return once the computer is gone.")
@global_options
def delete_command(opts: GlobalOptions, computer: str, force: bool, wait: bool) -> None:
    """Delete a computer and its files. Asks first unless --force (or --json)."""
    with connect(opts) as conn:
        if not (force or opts.json):
            found = conn.client.computers.get(computer)  # ask about a computer that exists
            question = f"Delete computer {found['name']} ({found['id']}) and all its files?"
            if not confirmed(question):
                note("Not deleted.")
                exit_with(1)
            computer = found["id"]
        deleted = conn.client.computers.delete(computer)
        status = deleted["status"]
        if wait:
            wait_for_status(conn.client, deleted["id"], ("deleted",), gone_is_fine=True)
            status = "deleted"
        show_computer(opts, deleted, f"Computer {deleted['name']} is {status}.")
