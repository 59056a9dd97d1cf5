"""The egress policy on its own: what is refused, after resolving, and why; the allow/deny
lists from flags and config.toml. Nothing here opens a connection."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from celesto_api.local.egress import EgressPolicy, EgressPolicyError, EgressRefused, Rules
from celesto_api.local.egress.settings import EgressSettings, settings_from_config


def resolve(policy: EgressPolicy, host: str, port: int = 443) -> str:
    return str(asyncio.run(policy.resolve(host, port)))


def refusal(policy: EgressPolicy, host: str, port: int = 443) -> str:
    with pytest.raises(EgressRefused) as refused:
        asyncio.run(policy.resolve(host, port))
    return str(refused.value)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "is this machine"),
        ("127.1.2.3", "is this machine"),
        ("::1", "is this machine"),
        ("::ffff:127.0.0.1", "is this machine"),  # IPv4-mapped
        ("0.0.0.0", "is this machine"),
        ("localhost", "is this machine"),  # a name resolving to loopback
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private address"),
        ("172.16.5.4", "private address"),
        ("192.168.1.1", "private address"),
        ("100.64.0.1", "private address"),
        ("fd12::1", "private address"),
        ("64:ff9b::a00:1", "private address"),  # NAT64 of 10.0.0.1
        ("224.0.0.1", "not a unicast"),
        ("255.255.255.255", "not a unicast"),
    ],
)
def test_refused_destinations(host: str, reason: str) -> None:
    assert reason in refusal(EgressPolicy(), host)


def test_public_addresses_pass_as_the_address_to_dial() -> None:
    assert resolve(EgressPolicy(), "8.8.8.8") == "8.8.8.8"
    assert resolve(EgressPolicy(), "2606:4700::1111") == "2606:4700::1111"


def test_host_alias_reaches_only_listed_ports_and_never_the_server() -> None:
    policy = EgressPolicy(host_ports=frozenset({5432, 8000}), own_ports=lambda: {8000})
    assert resolve(policy, "host.celesto.internal", 5432) == "127.0.0.1"
    assert resolve(policy, "HOST.celesto.internal.", 5432) == "127.0.0.1"
    assert "not exposed (exposed ports: 5432, 8000" in refusal(policy, "host.celesto.internal", 22)
    assert "the Celesto server itself" in refusal(policy, "host.celesto.internal", 8000)


def test_allow_list_limits_and_a_listed_cidr_opens_a_private_range() -> None:
    policy = EgressPolicy(allow=Rules.parse(["example.org", "10.1.0.0/16"]))
    assert resolve(policy, "10.1.2.3") == "10.1.2.3"
    assert "not on the allow list" in refusal(policy, "10.2.0.1")
    assert "not on the allow list" in refusal(policy, "8.8.8.8")
    # A listed name still may not be loopback or private.
    names_only = EgressPolicy(allow=Rules.parse(["localhost"]))
    assert "is this machine" in refusal(names_only, "localhost")
    assert "not on the allow list" in refusal(names_only, "other.invalid")


def test_deny_wins_and_names_match_subdomains() -> None:
    policy = EgressPolicy(
        allow=Rules.parse(["8.8.0.0/16", "*.example.org"]),
        deny=Rules.parse(["8.8.8.0/24", "bad.example.org"]),
    )
    assert "deny list" in refusal(policy, "8.8.8.8")
    assert resolve(policy, "8.8.4.4") == "8.8.4.4"
    assert "deny list" in refusal(policy, "bad.example.org")
    assert "deny list" in refusal(policy, "x.bad.example.org")
    assert Rules.parse(["Example.ORG."]).has_name("www.example.org")
    assert not Rules.parse(["example.org"]).has_name("notexample.org")


@pytest.mark.parametrize("entry", ["exa mple.org", "http://x", "10.0.0.0/33", "a..b"])
def test_bad_entries_are_refused_with_an_example(entry: str) -> None:
    with pytest.raises(EgressPolicyError, match="neither a host name nor an address or CIDR"):
        Rules.parse([entry])


def test_config_table_is_read_and_checked() -> None:
    raw = {"local": {"egress": {"allow": ["pypi.org"], "host_ports": [5432]}}}
    settings = settings_from_config(raw)
    assert settings == EgressSettings(("pypi.org",), (), (5432,))
    assert settings.merged(EgressSettings((), ("x.org",), (1,))) == EgressSettings(
        ("pypi.org",), ("x.org",), (5432, 1)
    )
    assert settings_from_config({}) == EgressSettings()
    for bad, message in (
        ({"allow": "pypi.org"}, "allow must be a list"),
        ({"host_ports": [0]}, "host_ports must be a list of ports"),
        ({"allow": ["not a name"]}, "neither a host name"),
        ({"ports": [1]}, "unknown keys: ports"),
    ):
        with pytest.raises(EgressPolicyError, match=message):
            settings_from_config({"local": {"egress": bad}})


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "celesto_tui", "local", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_serve_refuses_bad_egress_flags_and_config(tmp_path: Path) -> None:
    bad_flag = serve("--data-dir", str(tmp_path), "--egress-deny", "no such host")
    assert bad_flag.returncode == 2 and "--egress-deny" in bad_flag.stderr
    assert serve("--data-dir", str(tmp_path), "--host-port", "0").returncode == 2
    config = Path(os.environ["CELESTO_CONFIG_DIR"]) / "config.toml"
    config.write_text('[local.egress]\nallow = ["a b"]\n')
    try:
        bad_file = serve("--data-dir", str(tmp_path))
    finally:
        config.unlink()
    assert bad_file.returncode == 1
    assert "config.toml: 'a b' is neither a host name" in bad_file.stderr
    assert "Traceback" not in bad_file.stderr + bad_flag.stderr


def test_address_family_of_refused_literal_is_kept() -> None:
    # The refusal names the address that was checked (the embedded IPv4 one when mapped).
    assert refusal(EgressPolicy(), "::ffff:10.0.0.1").startswith("10.0.0.1 ")
    assert ipaddress.ip_address(resolve(EgressPolicy(), "::ffff:8.8.8.8")).version == 6
