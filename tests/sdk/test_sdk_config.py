"""Resolution of api key / base URL / organization: argument > environment > profile."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from celesto_api import (
    Celesto,
    CelestoAuthenticationError,
    CelestoError,
    CelestoValidationError,
)
from celesto_api.config import (
    DEFAULT_BASE_URL,
    normalize_base_url,
    resolve_config,
    save_profile,
)

ENV_NAMES = (
    "CELESTO_API_KEY",
    "CELESTO_BASE_URL",
    "CELESTO_ORGANIZATION_ID",
    "CELESTO_PROFILE",
)


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def write_config(config_dir: Path, text: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


PROFILES = """
active_profile = "work"

[profiles.work]
api_key = "key-from-work"
base_url = "http://127.0.0.1:9001/v1"
organization_id = "org-work"

[profiles.home]
api_key = "key-from-home"
base_url = "http://127.0.0.1:9002"
"""


def test_default_base_url(config_dir: Path) -> None:
    config = resolve_config(api_key="k")
    assert config.base_url == DEFAULT_BASE_URL == "https://api.celesto.ai"
    assert config.organization_id is None


def test_argument_beats_environment_beats_profile(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(config_dir, PROFILES)
    from_profile = resolve_config()
    assert from_profile.api_key == "key-from-work"
    assert from_profile.base_url == "http://127.0.0.1:9001"
    assert from_profile.organization_id == "org-work"
    assert from_profile.profile == "work"

    monkeypatch.setenv("CELESTO_API_KEY", "key-from-env")
    monkeypatch.setenv("CELESTO_BASE_URL", "http://127.0.0.1:9003/v1/")
    monkeypatch.setenv("CELESTO_ORGANIZATION_ID", "org-env")
    from_env = resolve_config()
    assert (from_env.api_key, from_env.base_url, from_env.organization_id) == (
        "key-from-env",
        "http://127.0.0.1:9003",
        "org-env",
    )

    from_args = resolve_config(
        api_key="key-arg", base_url="http://127.0.0.1:9004", organization_id="org-arg"
    )
    assert (from_args.api_key, from_args.base_url, from_args.organization_id) == (
        "key-arg",
        "http://127.0.0.1:9004",
        "org-arg",
    )


def test_profile_selected_by_env_and_argument(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(config_dir, PROFILES)
    monkeypatch.setenv("CELESTO_PROFILE", "home")
    config = resolve_config()
    assert (config.api_key, config.profile, config.organization_id) == (
        "key-from-home",
        "home",
        None,
    )
    assert resolve_config(profile="work").api_key == "key-from-work"


def test_unknown_profile_is_named(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(config_dir, PROFILES)
    monkeypatch.setenv("CELESTO_PROFILE", "nope")
    with pytest.raises(CelestoValidationError) as caught:
        resolve_config()
    assert "nope" in caught.value.message
    assert "home, work" in caught.value.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.celesto.ai", "https://api.celesto.ai"),
        ("https://api.celesto.ai/", "https://api.celesto.ai"),
        ("https://api.celesto.ai/v1", "https://api.celesto.ai"),
        ("https://api.celesto.ai/v1/", "https://api.celesto.ai"),
        ("http://127.0.0.1:8765/v1", "http://127.0.0.1:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("https://proxy.example/celesto/v1", "https://proxy.example/celesto"),
    ],
)
def test_base_url_with_or_without_v1(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    "bad", ["ftp://api.celesto.ai", "api.celesto.ai", "https://u:p@host", "https://h/?a=1"]
)
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        normalize_base_url(bad)
    assert caught.value.field == "base_url"


def test_missing_key_names_all_three_ways(config_dir: Path) -> None:
    with pytest.raises(CelestoAuthenticationError) as caught:
        Celesto()
    message = caught.value.message
    assert "api_key=" in message
    assert "CELESTO_API_KEY" in message
    assert str(config_dir / "config.toml") in message


def test_broken_config_file_is_reported(config_dir: Path) -> None:
    write_config(config_dir, "this is = = not toml")
    with pytest.raises(Exception, match="config file"):
        resolve_config()


def test_config_file_that_is_not_utf8_is_reported(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_bytes(b'api_key = "\xff"\n')
    with pytest.raises(CelestoError, match="Could not read the Celesto config file"):
        resolve_config()


def test_save_profile_writes_0600_and_keeps_other_settings(config_dir: Path) -> None:
    write_config(config_dir, PROFILES + '\n[ui]\ntheme = "nord"\n')
    path = save_profile(
        "local", api_key="key-local", base_url="http://127.0.0.1:9005/v1", organization_id="o"
    )
    assert path == config_dir / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = tomllib.loads(path.read_text())
    assert data["active_profile"] == "local"
    assert data["profiles"]["local"] == {
        "api_key": "key-local",
        "base_url": "http://127.0.0.1:9005",
        "organization_id": "o",
    }
    assert data["profiles"]["work"]["api_key"] == "key-from-work"
    assert data["ui"] == {"theme": "nord"}
    assert resolve_config().api_key == "key-local"

    save_profile("work", api_key="rotated", activate=False)
    data = tomllib.loads(path.read_text())
    assert data["active_profile"] == "local"
    assert data["profiles"]["work"]["api_key"] == "rotated"
    assert data["profiles"]["work"]["organization_id"] == "org-work"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_profile_creates_directory(config_dir: Path) -> None:
    path = save_profile(api_key="first")
    assert path.exists()
    assert resolve_config().api_key == "first"
    assert resolve_config().profile == "default"
