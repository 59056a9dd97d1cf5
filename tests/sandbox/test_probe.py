"""Capability detection and driver selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from celesto_api.local import sandbox as sandbox_pkg
from celesto_api.local.sandbox import (
    BwrapDriver,
    Capability,
    ProcessDriver,
    SandboxError,
    make_driver,
    probe,
)

from .conftest import HAVE_BWRAP, NEED_BWRAP


def test_probe_is_cached_and_consistent() -> None:
    capability = probe()
    assert probe() is capability
    assert capability.level in ("bwrap", "process")
    if capability.level == "process":
        assert capability.reason
    else:
        assert capability.bwrap_path
        assert capability.details["agent_python"]
    assert capability.cgroups in (None, "v1", "v2")


def test_make_driver_choices(runtime_dir: Path) -> None:
    assert isinstance(make_driver("process", runtime_dir), ProcessDriver)
    auto = make_driver("auto", runtime_dir)
    assert isinstance(auto, BwrapDriver if HAVE_BWRAP else ProcessDriver)
    if HAVE_BWRAP:
        assert isinstance(make_driver("bwrap", runtime_dir), BwrapDriver)


def test_explicit_bwrap_fails_loudly_when_unavailable(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback = Capability("process", None, None, "bwrap is not installed")
    monkeypatch.setattr(sandbox_pkg, "probe", lambda: fallback)
    with pytest.raises(SandboxError, match="not installed"):
        make_driver("bwrap", runtime_dir)
    driver = make_driver("auto", runtime_dir)
    assert isinstance(driver, ProcessDriver)
    assert driver.capability.level == "process"
    assert driver.capability.reason == "bwrap is not installed"


@pytest.mark.skipif(not HAVE_BWRAP, reason=NEED_BWRAP)
def test_real_bwrap_probe_details() -> None:
    details = probe().details
    assert "max_user_namespaces" in details
    assert "probe_error" not in details
