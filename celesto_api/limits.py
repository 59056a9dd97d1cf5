"""The ranges and enumerations of the Celesto wire contract, as plain constants.

Both the SDK (client-side validation) and the embedded local server (server-side
validation) import these, so a range is written down exactly once.
"""

from __future__ import annotations

from typing import Final

# --- create ------------------------------------------------------------------------------
CPUS_MIN: Final = 1
CPUS_MAX: Final = 16
MEMORY_MIN_MB: Final = 512
MEMORY_MAX_MB: Final = 32768
DISK_MIN_MB: Final = 512
DISK_MAX_MB: Final = 20480
IMAGE_MAX_CHARS: Final = 255
TEMPLATE_ID_MAX_CHARS: Final = 64
TEMPLATE_VERSION_MAX_CHARS: Final = 128
DEFAULT_IMAGE: Final = "ubuntu-desktop-24.04"
DEFAULT_TEMPLATE_ID: Final = "scratch"
KNOWN_TEMPLATE_IDS: Final = ("scratch", "coding-agent", "browser-agent")

NETWORK_POLICY_MODES: Final = ("open", "off")
DEFAULT_NETWORK_POLICY_MODE: Final = "open"

# Units accepted in disk strings such as "2gb", as multipliers to MB.
DISK_UNIT_MB: Final = {
    "": 1,
    "m": 1,
    "mb": 1,
    "mib": 1,
    "g": 1024,
    "gb": 1024,
    "gib": 1024,
    "t": 1024 * 1024,
    "tb": 1024 * 1024,
    "tib": 1024 * 1024,
}

# --- exec --------------------------------------------------------------------------------
EXEC_TIMEOUT_MIN: Final = 1
EXEC_TIMEOUT_MAX: Final = 300
EXEC_TIMEOUT_DEFAULT: Final = 30
COMMAND_MIN_CHARS: Final = 1
COMMAND_MAX_CHARS: Final = 10_000
EXEC_STREAM_MAX_EVENT_BYTES: Final = 1024 * 1024

# --- published ports ---------------------------------------------------------------------
PORT_MIN: Final = 1024
PORT_MAX: Final = 65535
PORT_DEFAULT: Final = 8000
MAX_PUBLISHED_PORTS: Final = 4
PUBLISHED_PORT_STATUSES: Final = (
    "publishing",
    "published",
    "unpublishing",
    "unpublished",
    "error",
)

# --- listing -----------------------------------------------------------------------------
LIST_LIMIT_MIN: Final = 1
LIST_LIMIT_MAX: Final = 200
LIST_LIMIT_DEFAULT: Final = 50
COMMANDS_LIMIT_MIN: Final = 1
COMMANDS_LIMIT_MAX: Final = 200
COMMANDS_LIMIT_DEFAULT: Final = 50
LIST_TEMPLATE_ID_MAX_CHARS: Final = 64
LIST_PROJECT_ID_MAX_CHARS: Final = 36

BULK_DELETE_MIN_IDS: Final = 1
BULK_DELETE_MAX_IDS: Final = 100

OBSERVABILITY_WINDOWS: Final = ("1h", "24h")
OBSERVABILITY_WINDOW_DEFAULT: Final = "1h"

# --- terminals ---------------------------------------------------------------------------
TERMINAL_ID_PATTERN: Final = r"^term_[A-Za-z0-9_-]+$"
TERMINAL_ID_MIN_CHARS: Final = 6
TERMINAL_ID_MAX_CHARS: Final = 160
TERMINAL_MAX_MESSAGE_BYTES: Final = 1024 * 1024
TERMINAL_DEFAULT_COLS: Final = 80
TERMINAL_DEFAULT_ROWS: Final = 24
TERMINAL_DETACH_CLOSE_CODE: Final = 1000
TERMINAL_DETACH_REASON: Final = "client detached"

# --- statuses ----------------------------------------------------------------------------
COMPUTER_STATUSES: Final = (
    "creating",
    "running",
    "stopping",
    "stopped",
    "starting",
    "deleting",
    "deleted",
    "error",
    "restoring",
    "restorable",
    "lost",
)
# Statuses a computer passes through on its way to "running".
COMPUTER_TRANSITIONAL_STATUSES: Final = ("creating", "starting", "restoring", "pending")

DEPLOYMENT_STATUSES: Final = ("PENDING", "ENQUEUED", "BUILDING", "READY", "FAILED", "STOPPED")

# --- deploy / projects -------------------------------------------------------------------
PROJECTS_PAGE_SIZE: Final = 100

# Inclusive numeric ranges by wire field name, used to word validation messages the same way
# whether the client or the server found the problem.
NUMERIC_RANGES: Final[dict[str, tuple[int, int]]] = {
    "vcpus": (CPUS_MIN, CPUS_MAX),
    "cpus": (CPUS_MIN, CPUS_MAX),
    "ram_mb": (MEMORY_MIN_MB, MEMORY_MAX_MB),
    "memory": (MEMORY_MIN_MB, MEMORY_MAX_MB),
    "disk_size_mb": (DISK_MIN_MB, DISK_MAX_MB),
    "disk": (DISK_MIN_MB, DISK_MAX_MB),
    "timeout": (EXEC_TIMEOUT_MIN, EXEC_TIMEOUT_MAX),
    "port": (PORT_MIN, PORT_MAX),
    "limit": (LIST_LIMIT_MIN, LIST_LIMIT_MAX),
}

# Inclusive list length ranges by wire field name.
ITEM_COUNT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "computer_ids": (BULK_DELETE_MIN_IDS, BULK_DELETE_MAX_IDS),
}

# Inclusive string length ranges by wire field name.
LENGTH_RANGES: Final[dict[str, tuple[int, int]]] = {
    "command": (COMMAND_MIN_CHARS, COMMAND_MAX_CHARS),
    "image": (0, IMAGE_MAX_CHARS),
    "template_id": (0, TEMPLATE_ID_MAX_CHARS),
    "template_version": (0, TEMPLATE_VERSION_MAX_CHARS),
    "project_id": (0, LIST_PROJECT_ID_MAX_CHARS),
    "terminal_id": (TERMINAL_ID_MIN_CHARS, TERMINAL_ID_MAX_CHARS),
}
