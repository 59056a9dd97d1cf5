"""The create dialog: template, CPUs, memory, disk and network policy.

Blank fields take the template's defaults (shown as placeholders). Every value is checked as
it is typed with the SDK's own validators (`celesto_api.validation`, the ranges of
`celesto_api.limits`), so the dialog and the SDK never disagree, and nothing invalid is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from celesto_api import CelestoError, Template, limits
from celesto_api import validation as check

from .fields import FIELD_BINDINGS, focus_css

FALLBACK_TEMPLATES: list[Template] = [
    {
        "id": limits.DEFAULT_TEMPLATE_ID,
        "display_name": "Scratch",
        "description": "",
        "default_vcpus": 1,
        "default_ram_mb": 1024,
        "default_disk_size_mb": 10240,
    }
]


def _integer(field: str, text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    value: object = int(text) if text.isdigit() else text
    return check.int_in_range(field, value, low, high)


def _disk(text: str) -> int | None:
    return check.parse_disk_mb(text.strip()) if text.strip() else None


# field id -> (SDK parameter, parse-and-validate)
VALIDATORS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "cpus": ("cpus", lambda t: _integer("cpus", t, limits.CPUS_MIN, limits.CPUS_MAX)),
    "memory": (
        "memory",
        lambda t: _integer("memory", t, limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB),
    ),
    "disk": ("disk", _disk),
}


def field_row(label: str, widget: Widget) -> Horizontal:
    """A labelled input on one line."""
    return Horizontal(Label(label, classes="field-label"), widget, classes="field-row")


class CreateComputerScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the keyword arguments for ``computers.create``, or None."""

    DEFAULT_CSS = """
    CreateComputerScreen { align: center middle; }
    CreateComputerScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    CreateComputerScreen .field-row { height: auto; margin-top: 1; }
    CreateComputerScreen .field-label { width: 14; }
    CreateComputerScreen .field-row Input, CreateComputerScreen .field-row Select { width: 1fr; }
    CreateComputerScreen .field-error { color: $error; height: auto; padding: 0 0 0 14; }
    CreateComputerScreen .field-error.-empty { display: none; }
    CreateComputerScreen #create-description { color: $text-muted; }
    CreateComputerScreen #create-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    CreateComputerScreen Button { margin-left: 2; }
    """
    DEFAULT_CSS += focus_css("CreateComputerScreen")
    BINDINGS = [*FIELD_BINDINGS, Binding("escape", "cancel", "Cancel", id="create-cancel")]

    def __init__(
        self,
        templates: Sequence[Template] | None = None,
        *,
        local_backend: bool = False,
        host_network: bool = False,
    ) -> None:
        super().__init__()
        self.templates = {t["id"]: t for t in (templates or FALLBACK_TEMPLATES)}
        self.errors: dict[str, str] = {}
        # The local backend's open computers reach the internet through their egress proxy
        # (no private ranges, and the host only on the ports the server exposes); without
        # isolation they simply have the host's network.
        if host_network:
            self.open_network = "open (the host's network: not isolated)"
        elif local_backend:
            self.open_network = "open (internet via proxy)"
        else:
            self.open_network = "open (internet)"

    def compose(self) -> ComposeResult:
        default = (
            limits.DEFAULT_TEMPLATE_ID
            if limits.DEFAULT_TEMPLATE_ID in self.templates
            else next(iter(self.templates))
        )
        templates = [(f"{t['display_name']} ({t['id']})", t["id"]) for t in self.templates.values()]
        networks = [(self.open_network, "open"), ("off (no network)", "off")]
        with Vertical():
            yield Label(
                Content.assemble(("New computer", "bold"), " · blank fields use the defaults")
            )
            yield field_row(
                "Template",
                Select(templates, value=default, allow_blank=False, id="template", compact=True),
            )
            yield Static("", id="create-description", classes="field-error -empty", markup=False)
            for field, label in (("cpus", "CPUs"), ("memory", "Memory (MB)")):
                yield field_row(label, Input(id=field, restrict=r"[0-9]*", compact=True))
                yield Static("", id=f"{field}-error", classes="field-error -empty", markup=False)
            yield field_row("Disk", Input(id="disk", compact=True))
            yield Static("", id="disk-error", classes="field-error -empty", markup=False)
            yield field_row(
                "Network",
                Select(
                    networks,
                    value=limits.DEFAULT_NETWORK_POLICY_MODE,
                    allow_blank=False,
                    id="network",
                    compact=True,
                ),
            )
            with Horizontal(id="create-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def on_mount(self) -> None:
        self._show_defaults()
        self.query_one("#cpus", Input).focus()

    def _template(self) -> Template:
        value = self.query_one("#template", Select).value
        return self.templates.get(str(value)) or next(iter(self.templates.values()))

    def _show_defaults(self) -> None:
        template = self._template()
        placeholders = {
            "cpus": f"{template['default_vcpus']} (default; {limits.CPUS_MIN} to "
            f"{limits.CPUS_MAX})",
            "memory": f"{template['default_ram_mb']} (default; {limits.MEMORY_MIN_MB} to "
            f"{limits.MEMORY_MAX_MB})",
            "disk": f"{template['default_disk_size_mb']} MB (default; e.g. 4096 or 4gb, "
            f"up to {limits.DISK_MAX_MB // 1024} GB)",
        }
        for field, text in placeholders.items():
            self.query_one(f"#{field}", Input).placeholder = text
        description = self.query_one("#create-description", Static)
        description.update(template.get("description") or "")
        description.set_class(not template.get("description"), "-empty")

    @on(Select.Changed, "#template")
    def _template_changed(self) -> None:
        self._show_defaults()

    @on(Input.Changed)
    def _validate_field(self, event: Input.Changed) -> None:
        if event.input.id in VALIDATORS:
            self._check(str(event.input.id))

    def _check(self, field: str) -> Any:
        _, validate = VALIDATORS[field]
        error = self.query_one(f"#{field}-error", Static)
        try:
            value = validate(self.query_one(f"#{field}", Input).value)
        except CelestoError as exc:
            self.errors[field] = exc.message
            error.update(f"✖ {exc.message}")
            error.remove_class("-empty")
            return None
        self.errors.pop(field, None)
        error.update("")
        error.add_class("-empty")
        return value

    def arguments(self) -> dict[str, Any] | None:
        """The create arguments, or None (with the problems shown) when a value is invalid."""
        values = {field: self._check(field) for field in VALIDATORS}
        if self.errors:
            return None
        arguments: dict[str, Any] = {
            VALIDATORS[field][0]: value for field, value in values.items() if value is not None
        }
        arguments["template_id"] = self._template()["id"]
        network = str(self.query_one("#network", Select).value)
        if network != limits.DEFAULT_NETWORK_POLICY_MODE:
            arguments["network_policy"] = check.network_policy(network)["mode"]
        return arguments

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create":
            self._create()
        else:
            self.dismiss(None)

    def _create(self) -> None:
        arguments = self.arguments()
        if arguments is None:
            self.notify("Fix the highlighted values first.", severity="error")
            return
        self.dismiss(arguments)

    def action_cancel(self) -> None:
        self.dismiss(None)
