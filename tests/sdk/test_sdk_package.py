"""Package hygiene: import weight, public names, and secrets kept out of reprs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import celesto_api
import celesto_api.exceptions
from celesto_api import AsyncCelesto, Celesto, CelestoNetworkError
from celesto_api.config import resolve_config

from .helpers import closed_loopback_url

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("textual", "rich", "celesto_tui", "fastapi", "uvicorn", "starlette", "pygments")

PROBE = """
import json, sys
import celesto_api
{use}
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps(loaded))
"""


def _loaded_after(use: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(use=use)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "celesto_api.local" not in result.stdout
    return set(json.loads(result.stdout))


def test_import_pulls_in_no_ui_or_server_stack() -> None:
    loaded = _loaded_after("celesto_api.Celesto, celesto_api.TerminalSession")
    assert "celesto_api" in loaded and "httpx" in loaded
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)


def test_httpx_loads_with_the_first_client_not_with_the_package() -> None:
    # The exceptions, types, limits and validation are all the dashboard needs before its
    # first frame; httpx comes with the clients.
    assert "httpx" not in _loaded_after(
        "from celesto_api import CelestoError, Template, config, limits, validation"
    )
    assert "httpx" in _loaded_after("from celesto_api import AsyncCelesto")
    assert "httpx" in _loaded_after("import celesto_api.computers")


def test_httpx_cli_module_still_importable_afterwards() -> None:
    pytest.importorskip("click")
    code = (
        "import celesto_api, sys; celesto_api.Celesto; loaded = 'httpx._main' in sys.modules; "
        "import httpx._main; print(loaded, 'httpx._main' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False True"


def test_public_names() -> None:
    expected = {
        "Celesto",
        "AsyncCelesto",
        "CelestoError",
        "CelestoAuthenticationError",
        "CelestoValidationError",
        "CelestoNotFoundError",
        "CelestoRateLimitError",
        "CelestoServerError",
        "CelestoNetworkError",
        "CelestoConflictError",
        "CelestoPaymentRequiredError",
        "Computer",
        "ExecResult",
        "PublishedPort",
        "TerminalConnection",
        "__version__",
    }
    assert expected <= set(celesto_api.__all__)
    for name in celesto_api.exceptions.__all__:
        assert getattr(celesto_api, name) is getattr(celesto_api.exceptions, name)
    assert isinstance(celesto_api.__version__, str)


def test_client_attributes() -> None:
    with Celesto(api_key="k", base_url="http://127.0.0.1:1") as client:
        assert client.deployments is client.deployment
        assert client.base_url == "http://127.0.0.1:1"
        assert client.organization_id is None


def test_keys_never_in_reprs() -> None:
    secret = "sk-very-secret-key"
    with Celesto(api_key=secret, base_url="http://127.0.0.1:1", organization_id="o") as client:
        assert secret not in repr(client)
        assert "organization_id='o'" in repr(client)
    assert secret not in repr(resolve_config(api_key=secret))


async def test_async_client_repr_has_no_key() -> None:
    secret = "sk-very-secret-key"
    async with AsyncCelesto(api_key=secret, base_url="http://127.0.0.1:1") as client:
        assert secret not in repr(client)
        assert client.deployments is client.deployment


def test_network_error_has_no_key() -> None:
    secret = "sk-another-secret"
    with (
        Celesto(api_key=secret, base_url=closed_loopback_url(), max_retries=0) as client,
        pytest.raises(CelestoNetworkError) as caught,
    ):
        client.computers.list()
    error = caught.value
    assert secret not in str(error) and secret not in repr(error)
    assert "Failed to connect" in error.message
    assert error.status_code is None
