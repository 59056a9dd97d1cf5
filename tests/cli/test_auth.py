"""``auth login|status``: the key is checked, saved 0600, never echoed or printed."""

from __future__ import annotations

import signal
import stat
import tomllib
from pathlib import Path

from .helpers import Cli, Terminal, celesto_tui


def saved_profiles(config_dir: Path) -> dict[str, dict[str, str]]:
    with (config_dir / "config.toml").open("rb") as handle:
        profiles: dict[str, dict[str, str]] = tomllib.load(handle)["profiles"]
    return profiles


def test_login_prompts_without_echo_and_saves_0600(cli: Cli, config_dir: Path) -> None:
    key = cli.served.api_key
    terminal = Terminal(celesto_tui("auth", "login", "--base-url", cli.served.base_url), cli.env)
    try:
        terminal.expect("Celesto API key: ")
        terminal.type(key.encode() + b"\r")
        terminal.expect("Saved the key as profile 'default'")
        assert terminal.wait() == 0
        assert key not in terminal.seen, "the key was echoed"
        assert "Logged in to " + cli.served.base_url in terminal.seen
    finally:
        terminal.close()

    config = config_dir / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert saved_profiles(config_dir)["default"] == {
        "api_key": key,
        "base_url": cli.served.base_url,
    }

    status = cli("auth", "status", target=False)
    assert status.returncode == 0, status.stderr
    assert key not in status.stdout
    assert f"****{key[-4:]} (from profile 'default')" in status.stdout
    assert "Works:     yes, signed in as" in status.stdout
    # The saved profile is what commands use from now on.
    assert cli("computer", "list", "--json", target=False).returncode == 0


def test_wrong_key_is_rejected_and_nothing_saved(cli: Cli, config_dir: Path) -> None:
    wrong = "sk_definitely_not_the_key"
    result = cli(
        "auth", "login", "--api-key", wrong, "--base-url", cli.served.base_url, target=False
    )
    assert result.returncode == 1
    assert len(result.error_lines) == 1 and "rejected the API key" in result.error_lines[0]
    assert wrong not in result.stdout + result.stderr
    assert not (config_dir / "config.toml").exists()


def test_login_from_stdin_into_a_named_profile_json(cli: Cli, config_dir: Path) -> None:
    key = cli.served.api_key
    result = cli(
        "auth",
        "login",
        "--profile",
        "work",
        "--base-url",
        cli.served.base_url,
        "--json",
        input=key + "\n",
        target=False,
    )
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["profile"] == "work"
    assert report["base_url"] == cli.served.base_url
    assert report["api_key"] == "****" + key[-4:]
    assert key not in result.stdout + result.stderr
    assert saved_profiles(config_dir)["work"]["api_key"] == key

    status = cli("auth", "status", "--profile", "work", "--json", target=False).json()
    assert (status["profile"], status["works"]) == ("work", True)
    assert status["api_key"] == "****" + key[-4:]


def test_status_without_a_key(cli: Cli) -> None:
    result = cli("auth", "status", target=False)
    assert result.returncode == 1
    assert "Not logged in" in result.stdout
    assert "celesto-tui auth login" in result.stdout


def test_status_with_a_rejected_key(cli: Cli) -> None:
    result = cli(
        "auth",
        "status",
        "--base-url",
        cli.served.base_url,
        "--api-key",
        "sk_nope_1234567890",
        target=False,
    )
    assert result.returncode == 1
    assert "****7890 (from --api-key)" in result.stdout
    assert "Works:     no: Authentication failed" in result.stdout
    assert "sk_nope_1234567890" not in result.stdout + result.stderr


def test_ctrl_c_at_the_prompt_saves_nothing(cli: Cli, config_dir: Path) -> None:
    terminal = Terminal(celesto_tui("auth", "login", "--base-url", cli.served.base_url), cli.env)
    try:
        terminal.expect("Celesto API key: ")
        terminal.type(b"half-typed")
        # What the tty driver does for Ctrl+C (the test's PTY is not the controlling tty).
        terminal.process.send_signal(signal.SIGINT)
        terminal.expect("Interrupted; nothing was saved.")
        assert terminal.wait() == 130
        assert "half-typed" not in terminal.seen
        assert "Traceback" not in terminal.seen
    finally:
        terminal.close()
    assert not (config_dir / "config.toml").exists()
