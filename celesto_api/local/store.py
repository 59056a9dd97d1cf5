"""SQLite state of the local backend: computers, published ports, command history,
idempotency keys, projects and deployments.

Rows are returned as plain dicts. All calls happen on the server's event loop
thread; SQLite in WAL mode keeps each write well under a millisecond (command history
writes are queued off the exec response path, see ``insert_command``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("celesto_api.local")

SCHEMA_VERSION = 1
# Command history kept per computer (the API lists at most 200).
COMMANDS_KEPT = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS computers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    vcpus INTEGER NOT NULL,
    ram_mb INTEGER NOT NULL,
    disk_size_mb INTEGER NOT NULL,
    image TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version TEXT,
    network_mode TEXT NOT NULL,
    external_volume_enabled INTEGER NOT NULL,
    project_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    stopped_at TEXT,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS published_ports (
    id TEXT PRIMARY KEY,
    computer_id TEXT NOT NULL REFERENCES computers(id) ON DELETE CASCADE,
    port INTEGER NOT NULL,
    host_port INTEGER,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (computer_id, port)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    computer_id TEXT NOT NULL REFERENCES computers(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    timeout_seconds INTEGER,
    exit_code INTEGER,
    stdout_bytes INTEGER,
    stderr_bytes INTEGER,
    error_type TEXT
);
CREATE INDEX IF NOT EXISTS commands_by_computer ON commands (computer_id);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    computer_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    description TEXT
);
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    project_id TEXT NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deployed_at TEXT,
    url TEXT,
    host_port INTEGER
);
"""

LOCAL_ORGANIZATION_ID = "00000000-0000-4000-8000-000000000001"
LOCAL_USER_ID = "00000000-0000-4000-8000-000000000002"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._pending: list[tuple[str, list[Any], str]] = []
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self._ensure_default_project()

    def close(self) -> None:
        self.flush_commands()
        self._db.close()

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._db.execute(sql, tuple(args))]

    def _row(self, sql: str, args: Iterable[Any] = ()) -> dict[str, Any] | None:
        row = self._db.execute(sql, tuple(args)).fetchone()
        return dict(row) if row is not None else None

    # computers -----------------------------------------------------------------

    def insert_computer(self, computer: dict[str, Any]) -> None:
        row = dict(computer)
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._db.execute(f"INSERT INTO computers ({columns}) VALUES ({marks})", list(row.values()))

    def update_computer(self, computer_id: str, **fields: Any) -> None:
        if not fields:
            return
        sets = ", ".join(f"{key} = ?" for key in fields)
        self._db.execute(
            f"UPDATE computers SET {sets} WHERE id = ?", [*fields.values(), computer_id]
        )

    def delete_computer(self, computer_id: str) -> None:
        self.flush_commands()
        self._db.execute("DELETE FROM idempotency WHERE computer_id = ?", (computer_id,))
        self._db.execute("DELETE FROM computers WHERE id = ?", (computer_id,))

    def get_computer(self, id_or_name: str) -> dict[str, Any] | None:
        return self._row(
            "SELECT * FROM computers WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
            (id_or_name, id_or_name, id_or_name),
        )

    def list_computers(
        self,
        status: str | None = None,
        template_id: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        clauses, args = [], []
        for column, value in (
            ("status", status),
            ("template_id", template_id),
            ("project_id", project_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit_sql = f"LIMIT {int(limit)}" if limit is not None else ""
        return self._rows(f"SELECT * FROM computers {where} ORDER BY rowid DESC {limit_sql}", args)

    def computer_names(self) -> set[str]:
        return {row["name"] for row in self._rows("SELECT name FROM computers")}

    # idempotency ---------------------------------------------------------------

    def idempotent_create(self, key: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM idempotency WHERE key = ?", (key,))

    def remember_idempotency(self, key: str, body_hash: str, computer_id: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency (key, body_hash, computer_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (key, body_hash, computer_id, utc_now()),
        )

    # published ports -----------------------------------------------------------

    def list_ports(self, computer_id: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM published_ports WHERE computer_id = ? ORDER BY port", (computer_id,)
        )

    def all_ports(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM published_ports ORDER BY computer_id, port")

    def upsert_port(self, computer_id: str, port: int, host_port: int | None, status: str) -> None:
        existing = self._row(
            "SELECT id FROM published_ports WHERE computer_id = ? AND port = ?",
            (computer_id, port),
        )
        if existing:
            self._db.execute(
                "UPDATE published_ports SET host_port = ?, status = ? WHERE id = ?",
                (host_port, status, existing["id"]),
            )
        else:
            self._db.execute(
                "INSERT INTO published_ports (id, computer_id, port, host_port, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (f"pp_{uuid.uuid4().hex[:16]}", computer_id, port, host_port, status, utc_now()),
            )

    def get_port(self, computer_id: str, port: int) -> dict[str, Any] | None:
        return self._row(
            "SELECT * FROM published_ports WHERE computer_id = ? AND port = ?",
            (computer_id, port),
        )

    def delete_port(self, computer_id: str, port: int) -> None:
        self._db.execute(
            "DELETE FROM published_ports WHERE computer_id = ? AND port = ?", (computer_id, port)
        )

    # command history -----------------------------------------------------------
    # A command's insert is queued and runs on the event loop's next turn, while the agent
    # spawns the command, instead of before the request is even sent to it. Every read of
    # the table (and the update, delete, close) runs the queue first, so a listing never
    # misses a command that has started. The update is not deferred: once exec has returned,
    # its history row is committed (even if the server is killed right after).

    def insert_command(self, command: dict[str, Any]) -> None:
        columns = ", ".join(command)
        marks = ", ".join("?" for _ in command)
        self._defer(
            f"INSERT INTO commands ({columns}) VALUES ({marks})",
            list(command.values()),
            command["computer_id"],
        )

    def finish_command(self, command_id: str, **fields: Any) -> None:
        self.flush_commands()
        sets = ", ".join(f"{key} = ?" for key in fields)
        self._db.execute(
            f"UPDATE commands SET {sets} WHERE command_id = ?", [*fields.values(), command_id]
        )

    def _defer(self, sql: str, args: list[Any], computer_id: str) -> None:
        self._pending.append((sql, args, computer_id))
        if len(self._pending) > 1:
            return  # a flush is already scheduled
        try:
            asyncio.get_running_loop().call_soon(self.flush_commands)
        except RuntimeError:  # no event loop: nothing to overlap with
            self.flush_commands()

    def flush_commands(self) -> None:
        """Run the queued history inserts, in order (a no-op when there are none)."""
        pending, self._pending = self._pending, []
        for sql, args, computer_id in pending:
            try:
                cursor = self._db.execute(sql, args)
            except sqlite3.IntegrityError:
                # Its computer was deleted meanwhile (the insert's foreign key fails).
                log.warning("command history write failed", exc_info=True)
                continue
            if cursor.lastrowid is not None and cursor.lastrowid % 100 == 0:
                self._prune_commands(computer_id)

    def _prune_commands(self, computer_id: str) -> None:
        self._db.execute(
            "DELETE FROM commands WHERE computer_id = ? AND rowid NOT IN"
            " (SELECT rowid FROM commands WHERE computer_id = ? ORDER BY rowid DESC LIMIT ?)",
            (computer_id, computer_id, COMMANDS_KEPT),
        )

    def list_commands(self, computer_id: str, limit: int) -> list[dict[str, Any]]:
        self.flush_commands()
        rows = self._rows(
            "SELECT * FROM commands WHERE computer_id = ? ORDER BY rowid DESC LIMIT ?",
            (computer_id, limit),
        )
        for row in rows:
            row.pop("computer_id", None)
        return rows

    # projects ------------------------------------------------------------------

    def _ensure_default_project(self) -> None:
        if self._row("SELECT id FROM projects WHERE is_default = 1"):
            return
        now = utc_now()
        self._db.execute(
            "INSERT INTO projects (id, name, slug, organization_id, is_default, created_by,"
            " created_at, updated_at, description) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
            (
                str(uuid.uuid4()),
                "Default",
                "default",
                LOCAL_ORGANIZATION_ID,
                LOCAL_USER_ID,
                now,
                now,
                "The local backend's project",
            ),
        )

    def list_projects(self, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        total = int(self._db.execute("SELECT COUNT(*) FROM projects").fetchone()[0])
        rows = self._rows(
            "SELECT * FROM projects ORDER BY is_default DESC, name LIMIT ? OFFSET ?",
            (limit, skip),
        )
        for row in rows:
            row["is_default"] = bool(row["is_default"])
            row["settings"] = {}
        return rows, total

    def default_project(self) -> dict[str, Any]:
        rows, _ = self.list_projects(0, 1)
        return rows[0]

    def get_project(self, project_id: str) -> dict[str, Any] | None:
        row = self._row("SELECT * FROM projects WHERE id = ?", (project_id,))
        if row is not None:
            row["is_default"] = bool(row["is_default"])
            row["settings"] = {}
        return row

    # deployments ---------------------------------------------------------------

    def upsert_deployment(self, deployment: dict[str, Any]) -> None:
        row = dict(deployment)
        row["config"] = json.dumps(row.get("config") or {})
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{key} = excluded.{key}" for key in row if key not in ("id", "name"))
        self._db.execute(
            f"INSERT INTO deployments ({columns}) VALUES ({marks})"
            f" ON CONFLICT(name) DO UPDATE SET {updates}",
            list(row.values()),
        )

    def update_deployment(self, name: str, **fields: Any) -> None:
        if "config" in fields:
            fields["config"] = json.dumps(fields["config"])
        sets = ", ".join(f"{key} = ?" for key in fields)
        self._db.execute(f"UPDATE deployments SET {sets} WHERE name = ?", [*fields.values(), name])

    def _deployment_row(self, row: dict[str, Any]) -> dict[str, Any]:
        row["config"] = json.loads(row["config"])
        return row

    def get_deployment(self, name: str) -> dict[str, Any] | None:
        row = self._row("SELECT * FROM deployments WHERE name = ?", (name,))
        return self._deployment_row(row) if row else None

    def list_deployments(self, limit: int | None = None) -> list[dict[str, Any]]:
        limit_sql = f"LIMIT {int(limit)}" if limit is not None else ""
        return [
            self._deployment_row(row)
            for row in self._rows(f"SELECT * FROM deployments ORDER BY created_at DESC {limit_sql}")
        ]

    def delete_deployment(self, name: str) -> None:
        self._db.execute("DELETE FROM deployments WHERE name = ?", (name,))
