"""Templates the local backend offers (``GET /v1/computers/templates``)."""

from __future__ import annotations

import shutil
from typing import Any

from celesto_api import limits

_CODING_TOOLS = ("python3", "pip3", "git", "node", "npm", "curl", "make", "gcc", "vim", "tmux")


def _installed(tools: tuple[str, ...]) -> list[str]:
    return [tool for tool in tools if shutil.which(tool)]


def list_templates() -> list[dict[str, Any]]:
    return [
        {
            "id": "scratch",
            "display_name": "Scratch",
            "description": "A clean Linux computer with the host's /usr (read-only) and a "
            "persistent home.",
            "default_vcpus": 1,
            "default_ram_mb": 1024,
            "default_disk_size_mb": 5120,
            "aliases": [limits.DEFAULT_IMAGE],
            "capabilities": ["exec", "terminal", "published_ports"],
            "preinstalled_tools": _installed(("python3", "bash", "curl")),
            "recommended_for": ["general"],
            "default_published_ports": [],
            "has_playwright_browsers": False,
            "has_browser_system_deps": False,
            "version": "local-1",
            "experimental": False,
        },
        {
            "id": "coding-agent",
            "display_name": "Coding agent",
            "description": "More CPU and memory for agents that build and test code.",
            "default_vcpus": 2,
            "default_ram_mb": 4096,
            "default_disk_size_mb": 10240,
            "aliases": [],
            "capabilities": ["exec", "terminal", "published_ports"],
            "preinstalled_tools": _installed(_CODING_TOOLS),
            "recommended_for": ["coding agents", "builds", "tests"],
            "default_published_ports": [8000],
            "has_playwright_browsers": False,
            "has_browser_system_deps": False,
            "version": "local-1",
            "experimental": False,
        },
    ]


def find_template(template_id: str) -> dict[str, Any] | None:
    for template in list_templates():
        if template["id"] == template_id or template_id in template["aliases"]:
            return template
    return None
