"""Publish / list / unpublish: the store's records plus the host listeners."""

from __future__ import annotations

from typing import Any

from celesto_api import limits

from .computers import ComputerService, port_response
from .errors import ApiError
from .ports import PortBridge
from .store import Store


class PublishedPorts:
    def __init__(self, store: Store, computers: ComputerService, bridge: PortBridge) -> None:
        self.store = store
        self.computers = computers
        self.bridge = bridge
        computers.after_delete.append(bridge.close_computer)

    def list(self, id_or_name: str) -> list[dict[str, Any]]:
        row = self.computers.row(id_or_name)
        return [port_response(row["id"], p) for p in self.store.list_ports(row["id"])]

    async def publish(self, id_or_name: str, port: int) -> dict[str, Any]:
        row = self.computers.row(id_or_name)
        if row["status"] == "deleting":
            raise ApiError(409, f"Computer '{row['name']}' is being deleted.")
        existing = self.store.get_port(row["id"], port)
        if existing is None and len(self.store.list_ports(row["id"])) >= limits.MAX_PUBLISHED_PORTS:
            raise ApiError(
                400,
                f"Computer '{row['name']}' already publishes {limits.MAX_PUBLISHED_PORTS} ports, "
                "the most a computer can have. Unpublish one first.",
            )
        preferred = existing["host_port"] if existing else None
        try:
            host_port = await self.bridge.open(row["id"], port, preferred)
        except OSError as exc:
            self.store.upsert_port(row["id"], port, None, "error")
            raise ApiError(500, f"Could not open a local listener for port {port}: {exc}") from exc
        self.store.upsert_port(row["id"], port, host_port, "published")
        record = self.store.get_port(row["id"], port)
        assert record is not None
        return port_response(row["id"], record)

    async def unpublish(self, id_or_name: str, port: int) -> dict[str, Any]:
        row = self.computers.row(id_or_name)
        record = self.store.get_port(row["id"], port)
        await self.bridge.close(row["id"], port)
        self.store.delete_port(row["id"], port)
        response = (
            port_response(row["id"], record)
            if record
            else {
                "id": None,
                "computer_id": row["id"],
                "port": port,
                "url": None,
                "created_at": None,
            }
        )
        response["status"] = "unpublished"
        response["url"] = None
        return response

    async def restore(self) -> None:
        """Bring every stored route back after a server restart."""
        for record in self.store.all_ports():
            try:
                host_port = await self.bridge.open(
                    record["computer_id"], record["port"], record["host_port"]
                )
            except OSError:
                self.store.upsert_port(record["computer_id"], record["port"], None, "error")
            else:
                self.store.upsert_port(
                    record["computer_id"], record["port"], host_port, "published"
                )
