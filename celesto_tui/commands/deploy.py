"""``celesto-tui deploy FOLDER --name NAME``: bundle a folder, upload it, optionally wait."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from celesto_api import Celesto, CelestoError, CelestoNotFoundError, Deployment
from celesto_api import validation as check
from celesto_api.deployments import IGNORE_FILE, bundle_members

from . import params
from .common import (
    CommandError,
    Connection,
    GlobalOptions,
    connect,
    exit_with,
    global_options,
    hint_line,
)
from .deployments import redacted
from .output import emit, emit_json, note

SETTLED_STATUSES = ("READY", "FAILED", "STOPPED")
DEPLOY_WAIT_TIMEOUT_S = 600.0
DEPLOY_POLL_S = 0.5
PAYLOAD_TOO_LARGE = 413
LARGEST_FILES_SHOWN = 3
SHOWN_ERROR_CHARS = 600

DEPLOY_EPILOG = """\b
Examples:
  celesto-tui deploy ./my-agent --name weather-agent
  celesto-tui deploy . --name weather-agent --env OPENAI_API_KEY=sk-... --wait
  celesto-tui deploy ./my-agent --name weather-agent --project research --json

\b
The app starts from a Procfile `web:` line, else main.py or app.py, and must answer
HTTP on $PORT; requirements.txt is installed first. Files listed in
FOLDER/.celestoignore (gitignore syntax) are left out of the upload. Deploying a name
again replaces that deployment once the new version answers. Env values are never
printed back. With --wait the exit status is 1 when the deployment fails.
"""


def deployment_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check.deploy_name(value).strip()
    except CelestoError as exc:
        raise click.BadParameter("must not be empty", ctx, param) from exc


def _file_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size //= 1024
    return f"{size} GB"


def _largest_files(folder: Path) -> str:
    sizes = []
    for path, name in bundle_members(folder):
        try:
            sizes.append((path.lstat().st_size, name))
        except OSError:
            continue
    sizes.sort(reverse=True)
    return ", ".join(f"{name} ({_file_size(size)})" for size, name in sizes[:LARGEST_FILES_SHOWN])


def _upload_refused(exc: CelestoError, folder: Path, conn: Connection) -> CommandError:
    """A clearer error than the API's for the two refusals a folder can cause."""
    if exc.status_code == PAYLOAD_TOO_LARGE:
        why = exc.message.split(": ", 1)[-1].rstrip(".")  # without "Unexpected response (413)"
        return CommandError(
            f"The bundle of {folder} is too large for the API ({why}); nothing was deployed. "
            f"Largest files: {_largest_files(folder)}",
            f"Leave big files out by listing them in {folder / IGNORE_FILE} (gitignore syntax).",
        )
    names = _project_names(conn.client)
    return CommandError(
        exc.message,
        "Leave out --project to use the first project"
        + (f", or pick one of: {', '.join(names)}." if names else "."),
    )


def _project_names(client: Celesto) -> list[str]:
    try:
        page = client.projects.list(limit=100)
    except CelestoError:
        return []
    return [str(project["name"]) for project in page.get("data") or []]


def _wait_until_settled(client: Celesto, name: str) -> Deployment:
    """Poll until the deployment is READY, FAILED or STOPPED, telling each status on stderr."""
    deadline = time.monotonic() + DEPLOY_WAIT_TIMEOUT_S
    told = None
    while True:
        deployment = client.deployment.get(name)
        status = deployment["status"]
        if status in SETTLED_STATUSES:
            return deployment
        if status != told:
            note(f"{name}: {status}...")
            told = status
        if time.monotonic() > deadline:
            raise CommandError(
                f"Deployment {name} is still {status} after {DEPLOY_WAIT_TIMEOUT_S:.0f} s",
                "Follow it with: " + hint_line("deployments", "status", name),
            )
        time.sleep(DEPLOY_POLL_S)


def _failure(deployment: Deployment, waited: bool) -> str | None:
    """Why the deploy the user asked for did not work, if it did not."""
    status, error = deployment["status"], deployment.get("last_error")
    if status == "FAILED":
        return str(error or "no reason given")
    if waited and status == "READY" and error:
        return str(error)  # a redeploy failed; the previous version keeps serving
    if waited and status == "STOPPED":
        return "it was stopped before it became ready"
    return None


def _shortened(reason: str) -> str:
    flat = " ".join(reason.split())
    return flat if len(flat) <= SHOWN_ERROR_CHARS else flat[: SHOWN_ERROR_CHARS - 3] + "..."


@click.command("deploy", epilog=DEPLOY_EPILOG)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--name",
    required=True,
    callback=deployment_name,
    help="Deployment name (deploying it again updates it).",
)
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
    """Deploy the agent in FOLDER and print its status (and URL once READY)."""
    with connect(opts) as conn, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not opts.json:
            note(f"Bundling {folder} and uploading it as {name}...")
        try:
            deployment = conn.client.deployment.deploy(
                folder, name, description=description, envs=envs, project_name=project
            )
        except CelestoNotFoundError as exc:
            if exc.status_code is not None:
                raise  # the API's 404, not the SDK's project lookup
            raise _upload_refused(exc, folder, conn) from None
        except CelestoError as exc:
            if exc.status_code != PAYLOAD_TOO_LARGE:
                raise
            raise _upload_refused(exc, folder, conn) from None
        for warning in caught:
            note(f"Warning: {warning.message}")
        if wait:
            deployment = _wait_until_settled(conn.client, deployment["name"])
        if opts.json:
            emit_json(redacted(deployment))
        else:
            emit(f"Deployment {deployment['name']} ({deployment['id']}) is {deployment['status']}.")
            if deployment.get("url"):
                emit(f"URL: {deployment['url']}")
            if not wait:
                emit("Follow it with: " + conn.line("deployments", "status", deployment["name"]))
        if conn.target.local and not conn.target.shared:
            note(
                "Note: the embedded backend stops with this command, and the app with it; "
                f"for a URL that stays up, keep `{conn.serve_line()}` running "
                "(--local commands with its data dir reach it)."
            )
        reason = _failure(deployment, wait)
        if reason is not None:
            line = f"Error: Deployment {deployment['name']} failed: {_shortened(reason)}"
            if conn.on_this_machine:
                logs = conn.line("deployments", "logs", deployment["name"])
                line = f"{line.rstrip('.')}. Read the whole log with: {logs}"
            note(line)
            exit_with(1)
