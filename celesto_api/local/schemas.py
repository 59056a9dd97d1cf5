"""Request bodies of the local server, with the contract's ranges (pydantic, so that a
bad value produces the same 422 error entries the cloud's FastAPI server produces)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from celesto_api import limits


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NetworkPolicyBody(_Body):
    mode: Literal["open", "off"] = "open"


class ComputerCreate(_Body):
    vcpus: int | None = Field(None, ge=limits.CPUS_MIN, le=limits.CPUS_MAX)
    ram_mb: int | None = Field(None, ge=limits.MEMORY_MIN_MB, le=limits.MEMORY_MAX_MB)
    disk_size_mb: int | None = Field(None, ge=limits.DISK_MIN_MB, le=limits.DISK_MAX_MB)
    image: str = Field(limits.DEFAULT_IMAGE, max_length=limits.IMAGE_MAX_CHARS)
    template_id: str | None = Field(None, max_length=limits.TEMPLATE_ID_MAX_CHARS)
    template_version: str | None = Field(None, max_length=limits.TEMPLATE_VERSION_MAX_CHARS)
    network_policy: NetworkPolicyBody | None = None
    external_volume_enabled: bool = False
    size_id: str | None = None


class ExecRequest(_Body):
    command: str = Field(
        ..., min_length=limits.COMMAND_MIN_CHARS, max_length=limits.COMMAND_MAX_CHARS
    )
    timeout: int = Field(
        limits.EXEC_TIMEOUT_DEFAULT, ge=limits.EXEC_TIMEOUT_MIN, le=limits.EXEC_TIMEOUT_MAX
    )


class PublishPortRequest(_Body):
    port: int = Field(limits.PORT_DEFAULT, ge=limits.PORT_MIN, le=limits.PORT_MAX)
    force: bool = False


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
    computer_ids: list[str] = Field(
        ..., min_length=limits.BULK_DELETE_MIN_IDS, max_length=limits.BULK_DELETE_MAX_IDS
    )


class FaultsRequest(_Body):
    spec: str | None = None
