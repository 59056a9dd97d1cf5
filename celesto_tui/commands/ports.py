"""``celesto-tui computer port publish|list|unpublish``: a port inside a computer as a URL."""

from __future__ import annotations

import click

from celesto_api import PublishedPort, limits

from . import params
from .common import GlobalOptions, connect, global_options
from .output import emit, emit_json, table, text, timestamp

PORT_EPILOG = """\b
Examples:
  celesto-tui computer run einstein "python3 -m http.server 8000 >/dev/null 2>&1 &"
  celesto-tui computer port publish einstein --port 8000
  celesto-tui computer port list einstein
  celesto-tui computer port unpublish einstein --port 8000

Published URLs are public: put authentication in front of anything sensitive.
"""

port_option = click.option(
    "--port",
    "-p",
    type=params.PORT,
    default=limits.PORT_DEFAULT,
    show_default=True,
    metavar="PORT",
    help="Port inside the computer.",
)


@click.group("port", epilog=PORT_EPILOG)
def port_group() -> None:
    """Publish a port of a computer as a URL, list and remove published ports."""


def _status_suffix(port: PublishedPort) -> str:
    status = port.get("status")
    return "" if status == "published" else f" (status: {status})"


@port_group.command("publish", epilog=PORT_EPILOG)
@click.argument("computer")
@port_option
@global_options
def publish_command(opts: GlobalOptions, computer: str, port: int) -> None:
    """Publish PORT of a computer and print its URL."""
    with connect(opts) as conn:
        published = conn.client.computers.publish_port(computer, port)
        if opts.json:
            emit_json(published)
            return
        url = published.get("url") or "(no URL yet)"
        emit(f"Published port {published['port']} of {computer}: {url}{_status_suffix(published)}")


@port_group.command("list", epilog=PORT_EPILOG)
@click.argument("computer")
@global_options
def list_command(opts: GlobalOptions, computer: str) -> None:
    """List the published ports of a computer."""
    with connect(opts) as conn:
        ports = conn.client.computers.list_published_ports(computer)
        if opts.json:
            emit_json(ports)
        elif not ports:
            emit(
                f"No published ports on {computer}. Publish one with: "
                + conn.line("computer", "port", "publish", computer, port=limits.PORT_DEFAULT)
            )
        else:
            rows = [
                (
                    str(p["port"]),
                    text(p.get("status")),
                    text(p.get("url")),
                    timestamp(p.get("created_at")),
                )
                for p in ports
            ]
            emit(table(("PORT", "STATUS", "URL", "CREATED"), rows))


@port_group.command("unpublish", epilog=PORT_EPILOG)
@click.argument("computer")
@port_option
@global_options
def unpublish_command(opts: GlobalOptions, computer: str, port: int) -> None:
    """Remove the URL of a published PORT (the service inside keeps running)."""
    with connect(opts) as conn:
        removed = conn.client.computers.unpublish_port(computer, port)
        if opts.json:
            emit_json(removed)
        elif "id" in removed and removed["id"] is None:  # the answer for a port never published
            emit(f"Port {port} of {computer} was not published.")
        else:
            emit(f"Unpublished port {port} of {computer}.")
