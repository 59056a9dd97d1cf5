"""What a bubblewrap computer can see and touch."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .conftest import Harness, make_driver
from .helpers import check, host_uid_of, run


async def test_sees_only_its_own_world(bwrap_harness: Harness) -> None:
    sandbox = await bwrap_harness.start(hostname="einstein", network="off")
    assert await check(sandbox, "id -u; id -un; id -g") == "1000\nuser\n1000\n"
    assert await check(sandbox, "hostname") == "einstein\n"
    # PID 1 is the agent; besides it only this command's own processes exist.
    ps = (await check(sandbox, "ps -eo pid=,args=")).splitlines()
    assert ps[0].split(None, 1) == ["1", "/usr/bin/python3 -I -S /run/celesto/agent.py"] or (
        ps[0].split()[0] == "1" and "agent.py" in ps[0]
    )
    assert len(ps) <= 4, ps
    interfaces = await check(sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
    assert interfaces.split() == ["lo"]
    assert await check(sandbox, "grep -c . /proc/self/status | head -1") != ""
    assert "CapEff:\t0000000000000000" in await check(sandbox, "cat /proc/self/status")


async def test_filesystem_is_read_only_outside_home_and_tmp(bwrap_harness: Harness) -> None:
    sandbox = await bwrap_harness.start()
    for path in ("/usr/x", "/etc/x", "/x", "/bin/x"):
        result = await run(sandbox, f"touch {path}")
        assert result.exit_code != 0, path
        assert "Read-only file system" in result.stderr or "denied" in result.stderr
    await check(sandbox, "touch ~/ok /tmp/ok /var/tmp/ok /dev/shm/ok")
    assert await check(sandbox, "test -e /sys && echo yes || echo no") == "no\n"
    # No nested user namespaces (no fake root inside).
    assert (await run(sandbox, "unshare -Ur true")).exit_code != 0


async def test_scratch_filesystems_are_size_limited(bwrap_harness: Harness) -> None:
    sandbox = await bwrap_harness.start(tmp_size_mb=8)
    for scratch in ("/tmp", "/var/tmp", "/dev/shm"):
        result = await run(sandbox, f"head -c 20000000 /dev/zero > {scratch}/big")
        assert result.exit_code != 0, scratch
        assert "No space left" in result.stderr, scratch


async def test_network_open_keeps_a_loopback_only_namespace(bwrap_harness: Harness) -> None:
    # "open" reaches out through the egress proxy (tests/local/test_egress*.py), never
    # through the host's interfaces.
    sandbox = await bwrap_harness.start(network="open")
    assert sandbox.limits["network"] == "proxy"
    interfaces = await check(sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
    assert interfaces.split() == ["lo"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root server drops to another uid")
async def test_root_server_runs_sandboxes_as_an_unprivileged_host_uid(
    bwrap_harness: Harness,
) -> None:
    sandbox = await bwrap_harness.start()
    pid1 = sandbox.host_pid  # type: ignore[attr-defined]
    assert host_uid_of(pid1) != 0
    assert host_uid_of(pid1) == sandbox.host_uid  # type: ignore[attr-defined]
    await check(sandbox, "touch ~/mine")
    assert (sandbox.spec.home / "mine").stat().st_uid == sandbox.host_uid  # type: ignore[attr-defined]
    # Two computers get different host uids.
    other = await bwrap_harness.start()
    assert other.host_uid != sandbox.host_uid  # type: ignore[attr-defined]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root server drops to another uid")
async def test_two_servers_with_the_same_computer_id_share_nothing(
    harness: Harness, tmp_path: Path
) -> None:
    """Two data dirs (two servers on one host) may both hold a computer with one id: they
    get different host uids and cgroups, and stopping one leaves the other running."""
    first = await harness.start(harness.spec("same-id"))
    runtime = Path(tempfile.mkdtemp(prefix="cst-", dir="/tmp"))
    other_server = Harness(make_driver(harness.kind, runtime), tmp_path / "other", harness.kind)
    try:
        second = await other_server.start(other_server.spec("same-id"))
        assert first.host_uid != second.host_uid  # type: ignore[attr-defined]
        await first.stop()
        assert await check(second, "echo alive") == "alive\n"
    finally:
        await other_server.close()
        shutil.rmtree(runtime, ignore_errors=True)


async def test_agent_survives_kill_all_from_inside(bwrap_harness: Harness) -> None:
    sandbox = await bwrap_harness.start()
    await run(sandbox, "sleep 300 & kill -9 -1; kill -9 1")
    assert await check(sandbox, "echo alive") == "alive\n"
    assert sandbox.is_alive()
