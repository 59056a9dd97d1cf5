"""Errors the local server answers with, in the contract's body shapes (§6)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answered as ``{"detail": ...}``."""

    def __init__(
        self, status_code: int, detail: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.status_code = status_code
        self.detail = detail
        self.headers = headers or {}


def not_found(id_or_name: str) -> ApiError:
    return ApiError(404, f"Computer '{id_or_name}' not found")


def not_running(name: str, status: str, action: str, reason: str | None = None) -> ApiError:
    if status in ("stopped", "stopping"):
        hint = "Start it first (celesto-tui computer start " + name + ")."
        return ApiError(409, f"Computer '{name}' is {status}. {hint} Cannot {action}.")
    why = f" ({reason.rstrip('.')})" if reason else ""
    return ApiError(409, f"Computer '{name}' is {status}{why}; cannot {action}.")


def no_display(name: str, kind: str) -> ApiError:
    return ApiError(
        409,
        f"Computer '{name}' has no {kind}: the local backend has no graphical template "
        "(browser-agent), so browser and display connections are not available.",
    )


def validation_envelope(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The computers endpoints' 422 body (``ComputerValidationErrorResponse``)."""
    return {"detail": "Validation error", "errors": errors, "status_code": 422}


def invalid_field(field: str, message: str, value: Any) -> ApiError:
    """A FastAPI-style 422 (``{"detail": [...]}``) for a form or body field."""
    return ApiError(
        422, [{"loc": ["body", field], "msg": message, "type": "value_error", "input": value}]
    )
