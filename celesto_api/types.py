"""Typed shapes of the wire objects.

Responses are the API's JSON objects as plain ``dict``s (``computer["id"]`` works, unknown
fields are kept); these ``TypedDict``s only describe them for type checkers. Keys marked
``Required`` are always sent by the API; everything else may be missing or null.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypeAlias, TypedDict

__all__ = [
    "BulkDeleteResult",
    "CommandHistory",
    "CommandInvocation",
    "ComputeLocation",
    "Computer",
    "ComputerConnection",
    "ComputerList",
    "ComputerMetrics",
    "Deployment",
    "ExecEvent",
    "ExecExitEvent",
    "ExecOutputEvent",
    "ExecResult",
    "ExecStartedEvent",
    "NetworkPolicy",
    "Observability",
    "ObservabilitySample",
    "Project",
    "ProjectList",
    "PublishedPort",
    "Template",
    "TerminalConnection",
    "TerminalSessionInfo",
]


class NetworkPolicy(TypedDict):
    mode: str


class ComputeLocation(TypedDict, total=False):
    provider: str
    region: str
    country_code: str | None


class ComputerConnection(TypedDict, total=False):
    ssh: str | None
    access_url: str | None


class ComputerMetrics(TypedDict, total=False):
    observed_at: str
    stale: bool
    partial: bool
    runtime_instance_id: str
    uptime_seconds: int
    guest_metrics_status: str
    host_metrics_status: str
    cpu_used_percent: float
    ram_used_mb: int
    ram_total_mb: int
    disk_used_mb: int
    disk_total_mb: int
    network_rx_bytes: int
    network_tx_bytes: int
    disk_read_bytes: int
    disk_write_bytes: int


class PublishedPort(TypedDict, total=False):
    computer_id: Required[str]
    port: Required[int]
    status: Required[str]
    id: str | None
    url: str | None
    created_at: str | None


class Computer(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    status: Required[str]
    vcpus: Required[int]
    ram_mb: Required[int]
    disk_size_mb: int
    image: Required[str]
    created_at: Required[str]
    template_id: str
    template_version: str | None
    compute_location: ComputeLocation
    connection: ComputerConnection | None
    last_error: str | None
    stopped_at: str | None
    published_ports: list[PublishedPort]
    network_policy: NetworkPolicy | None
    external_volume_enabled: bool
    metrics: ComputerMetrics | None
    size_id: str | None
    price_version: str | None
    custom_template_id: str | None
    origin: str | None
    disk_delete_at: str | None


class ComputerList(TypedDict):
    computers: list[Computer]
    count: int


class ExecResult(TypedDict, total=False):
    exit_code: Required[int]
    stdout: Required[str]
    stderr: Required[str]
    command_id: str | None
    duration_ms: int | None
    timed_out: bool | None


class ExecStartedEvent(TypedDict, total=False):
    type: Required[Literal["started"]]
    command_id: str
    started_at_unix_ms: int
    timeout_seconds: float


class ExecOutputEvent(TypedDict):
    type: Literal["stdout", "stderr"]
    data: str


class ExecExitEvent(TypedDict, total=False):
    type: Required[Literal["exit"]]
    exit_code: Required[int]
    command_id: str
    started_at_unix_ms: int
    ended_at_unix_ms: int
    duration_ms: int
    timed_out: bool


ExecEvent: TypeAlias = ExecStartedEvent | ExecOutputEvent | ExecExitEvent


class Template(TypedDict, total=False):
    id: Required[str]
    display_name: Required[str]
    description: Required[str]
    default_vcpus: Required[int]
    default_ram_mb: Required[int]
    default_disk_size_mb: Required[int]
    aliases: list[str]
    capabilities: list[str]
    preinstalled_tools: list[str]
    recommended_for: list[str]
    default_published_ports: list[int]
    has_playwright_browsers: bool
    has_browser_system_deps: bool
    version: str | None
    experimental: bool


class CommandInvocation(TypedDict, total=False):
    command_id: Required[str]
    source: Required[str]
    status: Required[str]
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    timeout_seconds: int | None
    exit_code: int | None
    stdout_bytes: int | None
    stderr_bytes: int | None
    error_type: str | None


class CommandHistory(TypedDict):
    commands: list[CommandInvocation]
    count: int


class ObservabilitySample(TypedDict, total=False):
    observed_at: Required[str]
    partial: bool
    stale: bool
    guest_metrics_status: str | None
    host_metrics_status: str | None
    guest_cpu_used_percent: float | None
    guest_ram_used_mb: int | None
    guest_ram_total_mb: int | None
    guest_disk_used_mb: int | None
    guest_disk_total_mb: int | None
    uptime_seconds: int | None
    host_cpu_used_percent: float | None
    host_memory_rss_mb: int | None
    host_network_rx_bytes: int | None
    host_network_tx_bytes: int | None
    host_disk_read_bytes: int | None
    host_disk_write_bytes: int | None


class Observability(TypedDict):
    latest: ComputerMetrics | None
    samples: list[ObservabilitySample]


class BulkDeleteResult(TypedDict, total=False):
    deleted: Required[int]
    deleted_ids: list[str]
    failed_ids: list[str]


class TerminalSessionInfo(TypedDict):
    """Answer of ``POST …/terminals``: where and how to attach to a durable terminal."""

    terminal_id: str
    gateway_url: str
    token: str
    expires_at: str


class TerminalConnection(TypedDict):
    """Everything needed to open the legacy direct terminal WebSocket yourself."""

    url: str
    headers: dict[str, str]
    first_message: str


class Deployment(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    status: Required[str]
    organization_id: str
    user_id: str
    created_at: str
    updated_at: str
    description: str | None
    last_error: str | None
    config: dict[str, Any] | None
    deployed_at: str | None
    url: str | None
    message: str | None


class Project(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    organization_id: str
    slug: str
    is_default: bool
    created_by: str
    created_at: str
    updated_at: str
    description: str | None
    settings: dict[str, Any] | None


class ProjectList(TypedDict, total=False):
    data: Required[list[Project]]
    total: int
    limit: int
    offset: int
