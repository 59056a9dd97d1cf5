"""What goes on the wire: paths, bodies and headers, captured before they leave the client.

The live tests prove the server accepts these requests; these pin the exact bytes the
contract asks for (fields only when given, aliases, URL-encoding, multipart layout, the
fresh Idempotency-Key per create). Retries are proved live, with the server's faults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api import AsyncCelesto, Celesto

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Keeps every request and answers with canned successes (or a scripted list)."""

    def __init__(self, answers: list[httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answers = answers or []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        if request.url.path.startswith("/v1/projects/"):
            return httpx.Response(200, json={"data": [{"id": "prj_1", "name": "p"}], "total": 1})
        return httpx.Response(200, json={"id": "cmp_abc", "name": "einstein"})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content) if self.requests[index].content else None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_client(recorder: Recorder, **kwargs: Any) -> Celesto:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    options: dict[str, Any] = {"api_key": "sk-test-key", "base_url": "http://api.test/v1"}
    options.update(kwargs)
    return Celesto(http_client=http, **options)


@pytest.fixture
def recorded_sdk(recorder: Recorder) -> Iterator[Celesto]:
    with make_client(recorder) as celesto:
        yield celesto


def test_auth_headers_and_no_org_by_default(recorded_sdk: Celesto, recorder: Recorder) -> None:
    recorded_sdk.computers.list()
    request = recorder.last
    assert request.url == "http://api.test/v1/computers"
    assert request.headers["authorization"] == "Bearer sk-test-key"
    assert "x-current-organization" not in request.headers


def test_organization_header(recorder: Recorder) -> None:
    with make_client(recorder, organization_id="org_42") as client:
        client.computers.get("cmp_abc")
    assert recorder.last.headers["x-current-organization"] == "org_42"


def test_create_sends_only_given_fields_under_wire_names(
    recorded_sdk: Celesto, recorder: Recorder
) -> None:
    recorded_sdk.computers.create()
    assert recorder.body() == {}
    recorded_sdk.computers.create(
        cpus=2,
        memory=2048,
        disk="2gb",
        image="ubuntu-desktop-24.04",
        template_id="coding-agent",
        template_version="v3",
        network_policy="open",
        persistent_home=True,
    )
    assert recorder.body() == {
        "vcpus": 2,
        "ram_mb": 2048,
        "disk_size_mb": 2048,
        "image": "ubuntu-desktop-24.04",
        "template_id": "coding-agent",
        "template_version": "v3",
        "network_policy": {"mode": "open"},
        "external_volume_enabled": True,
    }
    recorded_sdk.computers.create(
        vcpus=4, ram_mb=4096, disk_size_mb=1024, network_policy={"mode": "off"}
    )
    assert recorder.body() == {
        "vcpus": 4,
        "ram_mb": 4096,
        "disk_size_mb": 1024,
        "network_policy": {"mode": "off"},
    }


def test_create_idempotency_key(recorded_sdk: Celesto, recorder: Recorder) -> None:
    recorded_sdk.computers.create()
    recorded_sdk.computers.create()
    first, second = (r.headers["idempotency-key"] for r in recorder.requests)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    recorded_sdk.computers.create(idempotency_key="my-key")
    assert recorder.last.headers["idempotency-key"] == "my-key"


def test_names_are_url_encoded(recorded_sdk: Celesto, recorder: Recorder) -> None:
    recorded_sdk.computers.get("my box/../x?y")
    assert recorder.last.url.raw_path == b"/v1/computers/my%20box%2F..%2Fx%3Fy"
    recorded_sdk.computers.unpublish_port("einstein", 8080)
    assert recorder.last.method == "DELETE"
    assert recorder.last.url.raw_path == b"/v1/computers/einstein/published-ports/8080"


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (lambda c: c.computers.get("cmp_abc"), "GET", "/v1/computers/cmp_abc", None),
        (lambda c: c.computers.stop("cmp_abc"), "POST", "/v1/computers/cmp_abc/stop", None),
        (lambda c: c.computers.start("cmp_abc"), "POST", "/v1/computers/cmp_abc/start", None),
        (lambda c: c.computers.delete("cmp_abc"), "DELETE", "/v1/computers/cmp_abc", None),
        (
            lambda c: c.computers.exec("cmp_abc", "ls"),
            "POST",
            "/v1/computers/cmp_abc/exec",
            {"command": "ls", "timeout": 30},
        ),
        (lambda c: c.computers.list_templates(), "GET", "/v1/computers/templates", None),
        (
            lambda c: c.computers.bulk_delete(["a", "b"]),
            "POST",
            "/v1/computers/bulk-delete",
            {"computer_ids": ["a", "b"]},
        ),
        (
            lambda c: c.computers.publish_port("cmp_abc"),
            "POST",
            "/v1/computers/cmp_abc/published-ports",
            {"port": 8000},
        ),
        (
            lambda c: c.computers.list_published_ports("cmp_abc"),
            "GET",
            "/v1/computers/cmp_abc/published-ports",
            None,
        ),
        (
            lambda c: c.computers.unpublish_port("cmp_abc"),
            "DELETE",
            "/v1/computers/cmp_abc/published-ports/8000",
            None,
        ),
        (
            lambda c: c.computers.terminal("cmp_abc"),
            "POST",
            "/v1/computers/cmp_abc/terminals",
            None,
        ),
        (
            lambda c: c.computers.terminal("cmp_abc", "term_abc"),
            "POST",
            "/v1/computers/cmp_abc/terminals",
            {"terminal_id": "term_abc"},
        ),
        (lambda c: c.deployment.list(), "GET", "/v1/deploy/apps", None),
        (lambda c: c.deployments.get("my app"), "GET", "/v1/deploy/apps/my%20app/status", None),
        (lambda c: c.projects.list(), "GET", "/v1/projects/", None),
    ],
)
def test_paths_and_bodies(
    recorded_sdk: Celesto,
    recorder: Recorder,
    call: Callable[[Celesto], Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    call(recorded_sdk)
    assert recorder.last.method == method
    assert recorder.last.url.raw_path.decode() == path
    assert recorder.body() == body


def test_query_parameters_only_when_given(recorded_sdk: Celesto, recorder: Recorder) -> None:
    recorded_sdk.computers.list()
    assert recorder.last.url.query == b""
    recorded_sdk.computers.list(status="running", template_id="scratch", project_id="p1", limit=5)
    assert dict(recorder.last.url.params) == {
        "status": "running",
        "template_id": "scratch",
        "project_id": "p1",
        "limit": "5",
    }
    recorded_sdk.computers.list_command_history("cmp_abc", limit=7)
    assert dict(recorder.last.url.params) == {"limit": "7"}
    recorded_sdk.computers.observability("cmp_abc")
    assert dict(recorder.last.url.params) == {"window": "1h"}


def test_exec_read_timeout_covers_the_command(recorded_sdk: Celesto, recorder: Recorder) -> None:
    recorded_sdk.computers.exec("cmp_abc", "sleep 200", timeout=200)
    assert recorder.last.extensions["timeout"]["read"] == 215
    assert recorder.last.extensions["timeout"]["connect"] == 10
    recorded_sdk.computers.list()
    assert recorder.last.extensions["timeout"]["read"] == 120


def test_legacy_terminal_connection_resolves_the_name(
    recorded_sdk: Celesto, recorder: Recorder
) -> None:
    connection = recorded_sdk.computers.get_terminal_connection("einstein")
    assert recorder.last.url.path == "/v1/computers/einstein"
    assert connection == {
        "url": "ws://api.test/v1/computers/cmp_abc/terminal",
        "headers": {"Authorization": "Bearer sk-test-key"},
        "first_message": json.dumps({"token": "sk-test-key"}),
    }


def parse_multipart(request: httpx.Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + request.content)
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts[str(name)] = (part.get_filename(), part.get_content_type(), payload)
    return parts


def test_deploy_multipart_layout(
    recorded_sdk: Celesto, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CELESTO_PROJECT_NAME", raising=False)
    (tmp_path / "main.py").write_text("print('hi')\n")
    recorded_sdk.deployment.deploy(folder=tmp_path, name="agent-1", envs={"A": "1"})
    projects, upload = recorder.requests
    assert projects.url.raw_path == b"/v1/projects/?skip=0&limit=1"
    assert upload.method == "POST"
    assert upload.url.path == "/v1/deploy/agent"
    parts = parse_multipart(upload)
    assert parts["name"][2] == b"agent-1"
    assert parts["description"][2] == b""
    assert parts["project_id"][2] == b"prj_1"
    assert json.loads(parts["config"][2]) == {"env": {"A": "1"}}
    assert parts["config"][2] == b'{"env": {"A": "1"}}'
    filename, content_type, bundle = parts["code_bundle"]
    assert (filename, content_type) == ("app_bundle.tar.gz", "application/gzip")
    assert bundle[:2] == b"\x1f\x8b"


def test_project_lookup_by_name_pages_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELESTO_PROJECT_NAME", "wanted")
    first_page = [{"id": f"prj_{i}", "name": f"p{i}"} for i in range(100)]
    recorder = Recorder(
        [
            httpx.Response(200, json={"data": first_page, "total": 101}),
            httpx.Response(200, json={"data": [{"id": "prj_w", "name": "wanted"}], "total": 101}),
            httpx.Response(201, json={"id": "dep_1", "name": "a", "status": "BUILDING"}),
        ]
    )
    with make_client(recorder) as client:
        result = client.deployment.deploy(folder=tmp_path, name="a", description="d")
    assert result["status"] == "BUILDING"
    assert [r.url.params.get("skip") for r in recorder.requests[:2]] == ["0", "100"]
    assert parse_multipart(recorder.last)["project_id"][2] == b"prj_w"
    assert parse_multipart(recorder.last)["description"][2] == b"d"


def test_unknown_project_name(tmp_path: Path) -> None:
    recorder = Recorder(
        [httpx.Response(200, json={"data": [{"id": "x", "name": "x"}], "total": 1})]
    )
    with (
        make_client(recorder) as client,
        pytest.raises(Exception, match="Project 'nope' not found"),
    ):
        client.deployment.deploy(folder=tmp_path, name="a", project_name="nope")


async def test_async_client_sends_the_same_requests(tmp_path: Path) -> None:
    recorder = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    async with AsyncCelesto(api_key="k-async", base_url="http://api.test", http_client=http) as c:
        await c.computers.create(cpus=2, memory=1024)
        await c.computers.exec("einstein", "ls", timeout=10)
    create, run = recorder.requests
    assert json.loads(create.content) == {"vcpus": 2, "ram_mb": 1024}
    assert "idempotency-key" in create.headers
    assert run.url.path == "/v1/computers/einstein/exec"
    assert json.loads(run.content) == {"command": "ls", "timeout": 10}
    assert run.extensions["timeout"]["read"] == 120  # the default already covers 10 + 15 s
    await http.aclose()
