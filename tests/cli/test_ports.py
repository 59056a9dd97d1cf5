"""``computer port publish|list|unpublish`` end to end: a real HTTP service gets a URL."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.waiting import wait_until

from .helpers import Cli

SERVICE = (
    "cd /tmp && echo served-from-inside > index.html"
    " && (python3 -m http.server {port} >/dev/null 2>&1 &)"
)


def fetch(url: str, timeout: float = 15) -> str:
    """The body of ``url`` once it answers 200."""

    def answer() -> str | None:
        try:
            response = httpx.get(url, timeout=5)
        except httpx.HTTPError:
            return None
        return response.text if response.status_code == 200 else None

    text = wait_until(answer, lambda body: body is not None, f"{url} to answer", timeout)
    assert text is not None
    return text


def test_publish_list_unpublish(cli: Cli, running_computer: dict[str, Any]) -> None:
    name = running_computer["name"]
    assert cli("computer", "run", name, SERVICE.format(port=8000)).returncode == 0

    published = cli("computer", "port", "publish", name)
    assert published.returncode == 0, published.stderr
    match = re.fullmatch(rf"Published port 8000 of {name}: (http://\S+)\n", published.stdout)
    assert match, published.stdout
    assert fetch(match.group(1) + "index.html") == "served-from-inside\n"

    listed = cli("computer", "port", "list", name)
    header, row = listed.stdout.splitlines()
    assert header.split() == ["PORT", "STATUS", "URL", "CREATED"]
    assert row.split()[:3] == ["8000", "published", match.group(1)]
    ports = cli("computer", "port", "list", running_computer["id"], "--json").json()
    assert [(p["port"], p["url"]) for p in ports] == [(8000, match.group(1))]

    other = cli("computer", "port", "publish", name, "--port", "8081", "--json")
    assert other.json()["port"] == 8081

    removed = cli("computer", "port", "unpublish", name)
    assert removed.stdout == f"Unpublished port 8000 of {name}.\n"
    assert cli("computer", "port", "unpublish", name, "-p", "8081", "-j").json()["port"] == 8081
    empty = cli("computer", "port", "list", name)
    assert empty.returncode == 0
    assert empty.stdout.startswith(f"No published ports on {name}.")
    assert cli("computer", "port", "list", name, "--json").json() == []


def test_port_range_edges_and_unpublishing_twice(
    cli: Cli, running_computer: dict[str, Any]
) -> None:
    name = running_computer["name"]
    for port in ("1024", "65535"):
        published = cli("computer", "port", "publish", name, "--port", port)
        assert published.returncode == 0, published.stderr
        assert published.stdout.startswith(f"Published port {port} of {name}: http://")
        removed = cli("computer", "port", "unpublish", name, "--port", port)
        assert removed.stdout == f"Unpublished port {port} of {name}.\n"
    again = cli("computer", "port", "unpublish", name, "--port", "1024")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"Port 1024 of {name} was not published.\n"
