"""exec through the agent: output, exit codes, timeouts, background children."""

from __future__ import annotations

import asyncio
import os

from celesto_api.local.sandbox import ExecStarted, SandboxError
from tests.waiting import await_until

from .conftest import Harness
from .helpers import check, eventually, free_port, host_processes_with, run, unique_sleep


async def test_stdout_stderr_and_exit_code(harness: Harness) -> None:
    sandbox = await harness.start()
    result = await run(sandbox, "echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.timed_out
    assert result.pid > 0
    assert (await run(sandbox, "true")).exit_code == 0
    assert (await run(sandbox, "kill -TERM $$")).exit_code == 128 + 15
    assert (await run(sandbox, "no-such-command-here")).exit_code == 127


async def test_env_home_and_cwd(harness: Harness) -> None:
    sandbox = await harness.start()
    out = await check(sandbox, 'echo "$HOME|$(pwd)|$FOO|$LANG"', env={"FOO": "bar baz"})
    # A root server mounts the home at /home/user in process mode too.
    own_home = harness.kind == "bwrap" or os.geteuid() == 0
    home = "/home/user" if own_home else str(sandbox.spec.home)
    assert out == f"{home}|{home}|bar baz|C.UTF-8\n"


async def test_a_command_starts_clean(harness: Harness) -> None:
    sandbox = await harness.start()
    # Only its stdio is open (`ls` itself opens the directory as fd 3).
    assert (await check(sandbox, "ls /proc/self/fd")).split() == ["0", "1", "2", "3"]
    # It leads a session of its own, with no signal blocked and no standard one ignored
    # (`exec`: the shell's own mask changes while it waits for a child).
    pid, session = (await check(sandbox, "exec cut -d' ' -f1,6 /proc/self/stat")).split()
    assert session == pid
    masks = await check(sandbox, "exec grep -E '^Sig(Blk|Ign)' /proc/self/status")
    blocked, ignored = (line.split()[1] for line in masks.splitlines())
    assert int(blocked, 16) == 0
    # (glibc's own real-time signals 32 and 33 may stay ignored, as they come from outside.)
    assert int(ignored, 16) & 0x7FFFFFFF == 0


async def test_large_output_is_complete(harness: Harness) -> None:
    sandbox = await harness.start()
    result = await run(sandbox, "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done >&2")
    assert len(result.stdout) == 3_000_001
    assert result.stderr == "done\n"


async def test_long_command(harness: Harness) -> None:
    sandbox = await harness.start()
    script = "x=0\n" + "x=$((x+1))\n" * 10000 + "echo $x"
    assert len(script) > 100_000
    assert await check(sandbox, script) == "10000\n"


async def test_timeout_kills_the_whole_process_group(harness: Harness) -> None:
    sandbox = await harness.start()
    baseline = (await sandbox.stats()).process_count
    result = await run(sandbox, "sleep 100 & sleep 101", timeout=1)
    assert result.timed_out
    assert result.exit_code == 137
    assert (await sandbox.stats()).process_count == baseline
    if harness.kind == "bwrap":
        assert "sleep" not in await check(sandbox, "ps -eo args")


async def test_background_daemon_does_not_block_exec(harness: Harness) -> None:
    sandbox = await harness.start()
    # Had exec waited for the daemon (it holds the output pipe), the timeout would have
    # ended it: timed_out set and the daemon killed with its process group.
    result = await run(sandbox, "sleep 1000 & echo started", timeout=5)
    assert (result.exit_code, result.timed_out) == (0, False)
    assert result.stdout == "started\n"
    # It keeps running, like on a VM.
    assert (await sandbox.stats()).process_count >= 2


async def test_server_started_in_background_returns_at_once(harness: Harness) -> None:
    sandbox = await harness.start(network="off")
    port = 8000 if harness.kind == "bwrap" else free_port()
    # The server inherits the command's stdout pipe and keeps it open.
    result = await run(sandbox, f"python3 -m http.server {port} --bind 127.0.0.1 &", timeout=5)
    assert (result.exit_code, result.timed_out) == (0, False)

    async def connected() -> bool:
        try:
            (await sandbox.connect(port)).close()
        except ConnectionRefusedError:
            return False
        return True

    await await_until(connected, what="the server to come up", timeout=4)


async def test_closing_the_stream_early_kills_the_command(harness: Harness) -> None:
    sandbox = await harness.start()
    baseline = (await sandbox.stats()).process_count
    events = sandbox.exec("sleep 77 & sleep 78", 60)
    assert isinstance(await anext(events), ExecStarted)
    await events.aclose()  # type: ignore[attr-defined]

    await await_until(
        sandbox.stats,
        lambda stats: stats.process_count == baseline,
        f"the process count back to {baseline}",
        timeout=2,
    )


async def test_concurrent_commands(harness: Harness) -> None:
    sandbox = await harness.start()
    results = await asyncio.gather(*(run(sandbox, f"sleep 0.2; echo {i}") for i in range(8)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(8)]


async def test_exec_on_a_stopped_sandbox_raises(harness: Harness) -> None:
    sandbox = await harness.start()
    await sandbox.stop()
    try:
        await run(sandbox, "true")
    except SandboxError:
        pass
    else:
        raise AssertionError("exec on a stopped sandbox should fail")


async def test_stop_during_exec_ends_the_stream(harness: Harness) -> None:
    sandbox = await harness.start()
    command = unique_sleep(60)
    task = asyncio.create_task(run(sandbox, command))
    await eventually(lambda: host_processes_with(command))
    await sandbox.stop()
    try:
        await asyncio.wait_for(task, 5)
    except SandboxError:
        pass
    else:
        raise AssertionError("the stream should report the lost sandbox")
