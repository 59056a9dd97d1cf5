"""The deploy dialog: folder (with path completion), name, description, env vars, project."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from celesto_api import CelestoError, CelestoValidationError, Project
from celesto_api import validation as check
from celesto_api.deployments import _check_folder

from .create_computer import field_row
from .fields import FIELD_BINDINGS, focus_css


def _completions(value: str) -> list[str]:
    """Folders that complete ``value`` (hidden ones only when asked for with a dot)."""
    directory, prefix = os.path.split(os.path.expanduser(value))
    show_hidden = prefix.startswith(".")
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(directory or ".")
            if entry.is_dir()
            and entry.name.startswith(prefix)
            and (show_hidden or not entry.name.startswith("."))
        )
    except OSError:
        return []
    head = value[: len(value) - len(prefix)]
    return [f"{head}{name}/" for name in names]


class PathSuggester(Suggester):
    """Completes folder names (→ accepts); the directory is read off the UI thread."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        matches = await asyncio.to_thread(_completions, value)
        return matches[0] if matches else None


def parse_envs(text: str) -> dict[str, str]:
    """``KEY=VALUE`` per line (or comma-separated); checked like the SDK checks ``envs``."""
    envs: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise CelestoValidationError(f"env vars are KEY=VALUE (got {line!r})", field="envs")
        envs[key.strip()] = value.strip()
    return check.env_mapping(envs)


class DeployScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the arguments of ``deployment.deploy``, or None."""

    DEFAULT_CSS = """
    DeployScreen { align: center middle; }
    DeployScreen > Vertical {
        width: 88; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    DeployScreen .field-row { height: auto; margin-top: 1; }
    DeployScreen .field-label { width: 13; }
    DeployScreen .field-row Input, DeployScreen .field-row Select { width: 1fr; }
    DeployScreen TextArea { height: 5; width: 1fr; }
    DeployScreen #deploy-error { color: $error; height: auto; }
    DeployScreen #deploy-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    DeployScreen Button { margin-left: 2; }
    """
    DEFAULT_CSS += focus_css("DeployScreen")
    BINDINGS = [*FIELD_BINDINGS, Binding("escape", "cancel", "Cancel", id="deploy-cancel")]

    def __init__(self, projects: Sequence[Project] = (), folder: str = "") -> None:
        super().__init__()
        self.projects = list(projects)
        self.folder = folder

    def compose(self) -> ComposeResult:
        projects = [(p["name"], p["name"]) for p in self.projects]
        with Vertical():
            yield Label(
                Content.assemble(
                    ("Deploy an agent", "bold"), " · the folder is bundled (.celestoignore applies)"
                )
            )
            yield field_row(
                "Folder",
                Input(
                    self.folder,
                    placeholder="./my-agent (→ completes)",
                    suggester=PathSuggester(),
                    id="deploy-folder",
                    compact=True,
                ),
            )
            yield field_row(
                "Name", Input(placeholder="the folder's name", id="deploy-name", compact=True)
            )
            yield field_row("Description", Input(id="deploy-description", compact=True))
            yield field_row("Env vars", TextArea(id="deploy-envs", soft_wrap=False))
            yield field_row(
                "Project",
                Select(projects, prompt="default project", id="deploy-project", compact=True),
            )
            yield Static("", id="deploy-error", markup=False)
            with Horizontal(id="deploy-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Deploy", id="deploy", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#deploy-folder", Input).focus()
        self.query_one("#deploy-envs", TextArea).border_title = "KEY=VALUE, one per line"

    @on(Input.Changed, "#deploy-folder")
    def _folder_changed(self, event: Input.Changed) -> None:
        folder = event.value.rstrip("/")
        self.query_one("#deploy-name", Input).placeholder = Path(folder).name or "the folder's name"

    def arguments(self) -> dict[str, Any]:
        """Raises CelestoValidationError naming the first bad field."""
        folder = self.query_one("#deploy-folder", Input).value.strip()
        if not folder:
            raise CelestoValidationError("choose the folder to deploy", field="folder")
        path = _check_folder(os.path.expanduser(folder))
        name_input = self.query_one("#deploy-name", Input)
        name = check.deploy_name(name_input.value.strip() or path.resolve().name)
        envs = parse_envs(self.query_one("#deploy-envs", TextArea).text)
        project = self.query_one("#deploy-project", Select).value
        description = self.query_one("#deploy-description", Input).value.strip()
        return {
            "folder": str(path),
            "name": name,
            "description": description or None,
            "envs": envs,
            "project_name": project if isinstance(project, str) else None,
        }

    def _deploy(self) -> None:
        try:
            arguments = self.arguments()
        except CelestoError as exc:
            self.query_one("#deploy-error", Static).update(f"✖ {exc.message}")
            return
        self.dismiss(arguments)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._deploy()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "deploy":
            self._deploy()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
