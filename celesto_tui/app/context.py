"""Typed access to the running `CelestoApp` from its widgets and screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

from .bindings import Scope, mutating_actions

if TYPE_CHECKING:
    from .celesto_app import CelestoApp


def dashboard_app(node: DOMNode) -> CelestoApp:
    return cast("CelestoApp", node.app)


def allowed(node: DOMNode, scope: Scope, action: str) -> bool:
    """False for a mutating action in read-only mode: Textual then hides it everywhere."""
    read_only = getattr(node.app, "read_only", False) is True
    return not (read_only and action in mutating_actions(scope))
