"""Resource limits, and that ``Sandbox.limits`` says which ones are enforced."""

from __future__ import annotations

import os

import pytest

from .conftest import CAPABILITY, Harness
from .helpers import check, run

ROOT_CGROUPS = os.geteuid() == 0 and CAPABILITY.cgroups is not None
NEED_CGROUPS = "needs root and writable cgroups"


@pytest.mark.skipif(not ROOT_CGROUPS, reason=NEED_CGROUPS)
async def test_cgroups_are_created_enforced_and_removed(bwrap_harness: Harness) -> None:
    sandbox = await bwrap_harness.start(ram_mb=64, vcpus=1, nproc=40)
    assert {k: sandbox.limits[k] for k in ("memory", "cpu", "pids")} == {
        "memory": "cgroup",
        "cpu": "cgroup",
        "pids": "cgroup",
    }
    groups = sandbox.cgroups.dirs  # type: ignore[attr-defined]
    assert all(group.is_dir() for group in groups)
    # Allocating (and touching) more than ram_mb gets the process OOM-killed.
    result = await run(sandbox, "python3 -c \"x = b'x' * (200 << 20); print('survived')\"")
    assert result.exit_code == 137, result
    assert "survived" not in result.stdout
    forks = await run(sandbox, "for i in $(seq 60); do sleep 5 & done 2>&1; echo done", timeout=2)
    assert "fork" in forks.stdout + forks.stderr or "Resource" in forks.stdout + forks.stderr
    assert sandbox.is_alive()
    await sandbox.stop()
    assert not any(group.exists() for group in groups)


async def test_rlimits_without_cgroups(bwrap_rlimits_harness: Harness) -> None:
    sandbox = await bwrap_rlimits_harness.start(ram_mb=256, nproc=30)
    assert {k: sandbox.limits[k] for k in ("memory", "cpu", "pids")} == {
        "memory": "rlimit-as",
        "cpu": "none",
        "pids": "rlimit-nproc",
    }
    assert await check(sandbox, "bash -c 'ulimit -v; ulimit -u'") == f"{256 * 1024}\n30\n"
    result = await run(sandbox, 'python3 -c "x = bytearray(400 << 20)"')
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr
    forks = await run(sandbox, "for i in $(seq 60); do sleep 5 & done 2>&1; echo done", timeout=2)
    assert "fork" in forks.stdout + forks.stderr or "Resource" in forks.stdout + forks.stderr
    assert await check(sandbox, "echo still-usable") == "still-usable\n"


async def test_process_driver_reports_only_rlimits(process_harness: Harness) -> None:
    sandbox = await process_harness.start(ram_mb=300)
    assert sandbox.isolation == "process"
    # Under root the computer's uid is its own, so RLIMIT_NPROC counts only its processes.
    own_uid = os.geteuid() == 0
    assert sandbox.limits == {
        "memory": "rlimit-as",
        "cpu": "none",
        "pids": "rlimit-nproc" if own_uid else "none",
        "network": "host",
    }
    assert await check(sandbox, "ulimit -v") == f"{300 * 1024}\n"
    if own_uid:
        limits = await check(sandbox, "grep 'Max processes' /proc/self/limits")
        assert limits.split()[2:4] == [str(sandbox.spec.nproc)] * 2
