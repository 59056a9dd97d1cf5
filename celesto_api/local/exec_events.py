"""Turns a sandbox's exec events into the wire's exec/stream events and records the
command in the history table (one path for buffered exec and SSE)."""

from __future__ import annotations

import codecs
import time
from typing import Any

from .sandbox import ExecEvent, ExecExit, ExecOutput, ExecStarted
from .stage_timing import mark
from .store import Store, utc_now


class ExecRecorder:
    def __init__(
        self, store: Store, computer_id: str, command_id: str, source: str, timeout: int
    ) -> None:
        self.store = store
        self.command_id = command_id
        self.timeout = timeout
        self._decoders = {
            "stdout": codecs.getincrementaldecoder("utf-8")("replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")("replace"),
        }
        self._bytes = {"stdout": 0, "stderr": 0}
        self._exit: ExecExit | None = None
        self._started_ms = int(time.time() * 1000)
        self._started = time.monotonic()
        store.insert_command(
            {
                "command_id": command_id,
                "computer_id": computer_id,
                "source": source,
                "status": "running",
                "started_at": utc_now(),
                "timeout_seconds": timeout,
            }
        )
        mark("history")

    def started(self) -> dict[str, Any]:
        return {
            "type": "started",
            "command_id": self.command_id,
            "started_at_unix_ms": self._started_ms,
            "timeout_seconds": self.timeout,
        }

    def observe(self, event: ExecEvent) -> dict[str, Any] | None:
        if isinstance(event, ExecOutput):
            self._bytes[event.stream] += len(event.data)
            text = self._decoders[event.stream].decode(event.data)
            return {"type": event.stream, "data": text} if text else None
        if isinstance(event, ExecStarted):
            mark("spawn")
        elif isinstance(event, ExecExit):
            mark("wait")
            self._exit = event
        return None

    def flush(self) -> list[dict[str, Any]]:
        tails = []
        for stream, decoder in self._decoders.items():
            text = decoder.decode(b"", final=True)
            if text:
                tails.append({"type": stream, "data": text})
        return tails

    def _finish(self, status: str, exit_code: int | None, error_type: str | None) -> int:
        duration_ms = int((time.monotonic() - self._started) * 1000)
        self.store.finish_command(
            self.command_id,
            status=status,
            ended_at=utc_now(),
            duration_ms=duration_ms,
            exit_code=exit_code,
            stdout_bytes=self._bytes["stdout"],
            stderr_bytes=self._bytes["stderr"],
            error_type=error_type,
        )
        mark("record")
        return duration_ms

    def exit_event(self) -> dict[str, Any]:
        if self._exit is None:
            self.failed("SandboxLost")
            raise RuntimeError("the sandbox ended before the command reported its exit")
        timed_out = self._exit.timed_out
        duration_ms = self._finish(
            "timed_out" if timed_out else "completed", self._exit.exit_code, None
        )
        return {
            "type": "exit",
            "exit_code": self._exit.exit_code,
            "command_id": self.command_id,
            "started_at_unix_ms": self._started_ms,
            "ended_at_unix_ms": self._started_ms + duration_ms,
            "duration_ms": duration_ms,
            "timed_out": timed_out,
        }

    def failed(self, error_type: str) -> None:
        self._finish("failed", None, error_type)
