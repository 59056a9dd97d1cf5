"""``celesto-tui deploy FOLDER`` and ``celesto-tui deployments [list|status NAME]``."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from celesto_api import Celesto, Deployment

from . import params
from .common import CommandError, GlobalOptions, connect, exit_with, global_options
from .output import emit, emit_json, fields, note, table, text, timestamp

SETTLED_STATUSES = ("READY", "FAILED", "STOPPED")
DEPLOY_WAIT_TIMEOUT_S = 600.0
DEPLOY_POLL_S = 0.5
MASK = "***"


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


def wait_until_settled(client: Celesto, name: str) -> Deployment:
    deadline = time.monotonic() + DEPLOY_WAIT_TIMEOUT_S
    while True:
        deployment = client.deployment.get(name)
        if deployment["status"] in SETTLED_STATUSES:
            return deployment
        if time.monotonic() > deadline:
            raise CommandError(
                f"Deployment {name} is still {deployment['status']} after "
                f"{DEPLOY_WAIT_TIMEOUT_S:.0f} s",
                f"Follow it with: celesto-tui deployments status {name}",
            )
        time.sleep(DEPLOY_POLL_S)


@click.command(
    "deploy",
    epilog="""\b
Examples:
  celesto-tui deploy ./my-agent --name weather-agent
  celesto-tui deploy . --name weather-agent --env OPENAI_API_KEY=sk-... --wait
  celesto-tui deploy ./my-agent --name weather-agent --project research --json

Files listed in FOLDER/.celestoignore (gitignore syntax) are left out of the upload.
Env values are never printed back.
""",
)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", required=True, help="Deployment name (deploying it again updates it).")
@click.option("--description", help="What the deployment does.")
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="KEY=VALUE",
    callback=params.env_pairs,
    help="Environment variable for the app (repeatable).",
)
@click.option("--project", metavar="NAME", help="Project to deploy into [default: the first].")
@click.option("--wait", is_flag=True, help="Wait until READY or FAILED (exit 1 on FAILED).")
@global_options
def deploy_command(
    opts: GlobalOptions,
    folder: Path,
    name: str,
    description: str | None,
    envs: dict[str, str],
    project: str | None,
    wait: bool,
) -> None:
    """Deploy the agent in FOLDER."""
    with connect(opts) as conn, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deployment = conn.client.deployment.deploy(
            folder, name, description=description, envs=envs, project_name=project
        )
        for warning in caught:
            note(f"Warning: {warning.message}")
        if wait:
            deployment = wait_until_settled(conn.client, deployment["name"])
        if opts.json:
            emit_json(redacted(deployment))
        else:
            emit(f"Deployed {deployment['name']} ({deployment['id']}): {deployment['status']}.")
            if deployment.get("url"):
                emit(f"URL: {deployment['url']}")
            if not wait:
                emit("Follow it with: " + conn.line("deployments", "status", deployment["name"]))
        if deployment["status"] == "FAILED":
            note(f"Deployment failed: {deployment.get('last_error') or 'no reason given'}")
            exit_with(1)


DEPLOYMENTS_EPILOG = """\b
Examples:
  celesto-tui deployments
  celesto-tui deployments list --json
  celesto-tui deployments status weather-agent
"""


def _list(opts: GlobalOptions) -> None:
    with connect(opts) as conn:
        items = conn.client.deployment.list()
        if opts.json:
            emit_json([redacted(item) for item in items])
        elif items:
            emit(deployments_table(items))
        else:
            emit("No deployments. Deploy a folder with: celesto-tui deploy FOLDER --name NAME")


@click.group("deployments", invoke_without_command=True, epilog=DEPLOYMENTS_EPILOG)
@global_options
def deployments_group(opts: GlobalOptions) -> None:
    """List deployments or show one's status.

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
    """Show a deployment's status, URL and last error."""
    with connect(opts) as conn:
        deployment = conn.client.deployment.get(name)
        if opts.json:
            emit_json(redacted(deployment))
        else:
            emit(deployment_fields(deployment))
