"""Request bodies of the local server, with the contract's ranges (pydantic, so that a
bad value produces the same 422 error entries the cloud's FastAPI server produces)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from celesto_api import limits

from .text_rules import NoControlChars, Printable


def _not_bool_or_text(value: Any) -> Any:
    # The official clients send JSON numbers; lenient coercion would take `true` or "1" as 1.
    # Text that is no number at all keeps pydantic's own int_parsing error, as the cloud's.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer, not a boolean")
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        raise PydanticCustomError("int_type", "Input should be a valid integer, not a string")
    return value


def _not_number_or_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Input should be a valid boolean, not a number")
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        raise PydanticCustomError("bool_type", "Input should be a valid boolean, not a string")
    return value


# What lenient pydantic would read as a boolean; anything else keeps its bool_parsing error.
_BOOL_WORDS = frozenset({"0", "1", "f", "t", "n", "y", "no", "yes", "on", "off", "true", "false"})
Integer = Annotated[int, BeforeValidator(_not_bool_or_text)]
Boolean = Annotated[bool, BeforeValidator(_not_number_or_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NetworkPolicyBody(_Body):
    mode: Literal["open", "off"] = "open"


class ComputerCreate(_Body):
    vcpus: Integer | None = Field(None, ge=limits.CPUS_MIN, le=limits.CPUS_MAX)
    ram_mb: Integer | None = Field(None, ge=limits.MEMORY_MIN_MB, le=limits.MEMORY_MAX_MB)
    disk_size_mb: Integer | None = Field(None, ge=limits.DISK_MIN_MB, le=limits.DISK_MAX_MB)
    image: Annotated[str, Field(max_length=limits.IMAGE_MAX_CHARS), NoControlChars] = (
        limits.DEFAULT_IMAGE
    )
    template_id: Annotated[
        str | None, Field(max_length=limits.TEMPLATE_ID_MAX_CHARS), NoControlChars
    ] = None
    template_version: Annotated[
        str | None, Field(max_length=limits.TEMPLATE_VERSION_MAX_CHARS), NoControlChars
    ] = None
    network_policy: NetworkPolicyBody | None = None
    external_volume_enabled: Boolean = False
    size_id: Printable | None = None


class ExecRequest(_Body):
    command: str = Field(
        ..., min_length=limits.COMMAND_MIN_CHARS, max_length=limits.COMMAND_MAX_CHARS
    )
    timeout: Integer = Field(
        limits.EXEC_TIMEOUT_DEFAULT, ge=limits.EXEC_TIMEOUT_MIN, le=limits.EXEC_TIMEOUT_MAX
    )


class PublishPortRequest(_Body):
    port: Integer = Field(limits.PORT_DEFAULT, ge=limits.PORT_MIN, le=limits.PORT_MAX)
    force: Boolean = False


class TerminalRequest(_Body):
    terminal_id: str | None = Field(
        None,
        min_length=limits.TERMINAL_ID_MIN_CHARS,
        max_length=limits.TERMINAL_ID_MAX_CHARS,
        pattern=limits.TERMINAL_ID_PATTERN,
    )


class DisplayRequest(_Body):
    mode: Literal["read_only", "read_write"] = "read_only"


class BulkDeleteRequest(_Body):
    computer_ids: list[Printable] = Field(
        ..., min_length=limits.BULK_DELETE_MIN_IDS, max_length=limits.BULK_DELETE_MAX_IDS
    )


class FaultsRequest(_Body):
    spec: str | None = None
