"""``celesto-tui deployments [list|status|logs|stop|delete]``: follow and manage deployments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from celesto_api import Deployment

from .common import (
    GlobalOptions,
    confirmed,
    connect,
    exit_with,
    global_options,
)
from .output import emit, emit_json, fields, note, table, text, timestamp

MASK = "***"

DEPLOYMENTS_EPILOG = """\b
Examples:
  celesto-tui deployments
  celesto-tui deployments list --json
  celesto-tui deployments status weather-agent
  celesto-tui deployments logs weather-agent
  celesto-tui deployments stop weather-agent
  celesto-tui deployments delete weather-agent --force

logs, stop and delete are offered by the embedded local backend (celesto-tui local
serve, --local); on the cloud, manage deployments at https://celesto.ai.
"""


def redacted(deployment: Deployment) -> Deployment:
    """The deployment with its env values masked: they are usually secrets."""
    config = deployment.get("config")
    env = config.get("env") if isinstance(config, dict) else None
    if not isinstance(env, dict) or not env:
        return deployment
    assert isinstance(config, dict)
    masked_config: dict[str, Any] = {**config, "env": dict.fromkeys(env, MASK)}
    return {**deployment, "config": masked_config}


def deployment_fields(deployment: Deployment) -> str:
    config = deployment.get("config")
    env = config.get("env") if isinstance(config, dict) else None
    deployed = deployment.get("deployed_at")
    return fields(
        [
            ("Name", deployment["name"]),
            ("ID", deployment["id"]),
            ("Status", deployment["status"]),
            ("URL", str(deployment.get("url") or "")),
            ("Description", str(deployment.get("description") or "")),
            ("Env", ", ".join(sorted(env)) if isinstance(env, dict) else ""),
            ("Created", timestamp(deployment.get("created_at"))),
            ("Updated", timestamp(deployment.get("updated_at"))),
            ("Deployed", timestamp(deployed) if deployed else ""),
            ("Last error", str(deployment.get("last_error") or "")),
        ]
    )


def deployments_table(deployments: Iterable[Deployment]) -> str:
    rows = [
        (
            item["name"],
            item["status"],
            text(item.get("url")),
            timestamp(item.get("updated_at") or item.get("created_at")),
            item["id"],
        )
        for item in deployments
    ]
    return table(("NAME", "STATUS", "URL", "UPDATED", "ID"), rows)


def _list(opts: GlobalOptions) -> None:
    with connect(opts) as conn:
        items = conn.client.deployment.list()
        if opts.json:
            emit_json([redacted(item) for item in items])
        elif items:
            emit(deployments_table(items))
        else:
            deploy = conn.line("deploy", "FOLDER", name="NAME")
            emit(f"No deployments. Deploy a folder with: {deploy}")


@click.group("deployments", invoke_without_command=True, epilog=DEPLOYMENTS_EPILOG)
@global_options
def deployments_group(opts: GlobalOptions) -> None:
    """List deployments, follow one, read its logs, stop or delete it.

    Without a subcommand: list.
    """
    if click.get_current_context().invoked_subcommand is None:
        _list(opts)


@deployments_group.command("list", epilog=DEPLOYMENTS_EPILOG)
@global_options
def list_command(opts: GlobalOptions) -> None:
    """List deployments with their status and URL."""
    _list(opts)


@deployments_group.command("status", epilog=DEPLOYMENTS_EPILOG)
@click.argument("name")
@global_options
def status_command(opts: GlobalOptions, name: str) -> None:
    """Show a deployment's status, URL and last error (env values masked)."""
    with connect(opts) as conn:
        deployment = conn.client.deployment.get(name)
        if opts.json:
            emit_json(redacted(deployment))
        else:
            emit(deployment_fields(deployment))


@deployments_group.command("logs", epilog=DEPLOYMENTS_EPILOG)
@click.argument("name")
@global_options
def logs_command(opts: GlobalOptions, name: str) -> None:
    """Print the build log and the app's output (local backend).

    With --json: {"name", "logs"}.
    """
    with connect(opts) as conn:
        logs = conn.client.deployment.logs(name)
        if opts.json:
            emit_json({"name": name, "logs": logs})
        elif logs:
            click.echo(logs.rstrip("\n"))
        else:
            note(f"No logs for {name} yet.")


@deployments_group.command("stop", epilog=DEPLOYMENTS_EPILOG)
@click.argument("name")
@global_options
def stop_command(opts: GlobalOptions, name: str) -> None:
    """Stop a deployment's app (local backend); deploying again starts it.

    Its URL answers 503 while it is stopped.
    """
    with connect(opts) as conn:
        stopped = conn.client.deployment.stop(name)
        if opts.json:
            emit_json(redacted(stopped))
        else:
            emit(f"Deployment {stopped['name']} is {stopped['status']}.")


@deployments_group.command("delete", epilog=DEPLOYMENTS_EPILOG)
@click.argument("name")
@click.option("--force", "-f", is_flag=True, help="Do not ask for confirmation.")
@global_options
def delete_command(opts: GlobalOptions, name: str, force: bool) -> None:
    """Stop a deployment and remove it with its files (local backend).

    Asks first unless --force (or --json).
    """
    with connect(opts) as conn:
        found = conn.client.deployment.get(name)
        if not (force or opts.json) and not confirmed(f"Delete deployment {found['name']}?"):
            note("Not deleted.")
            exit_with(1)
        deleted = conn.client.deployment.delete(name)
        if opts.json:
            emit_json(redacted(deleted))
        else:
            emit(f"Deleted deployment {found['name']}.")
