"""A deployment builds with pip's index through its egress proxy: here a PEP 503 index of
one wheel, served from the host on a --host-port and named by PIP_INDEX_URL in its env."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.sandbox import probe

from .egress_helpers import file_server
from .test_deploy import deploy, settle, unique

pytestmark = pytest.mark.skipif(
    probe().level != "bwrap", reason="the egress proxy lives in a bwrap network namespace"
)

PACKAGE = "celesto_probe_pkg"
PROJECT = "celesto-probe-pkg"
VALUE = "installed from the host's index"
APP = f"""\
import http.server, os, {PACKAGE}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write({PACKAGE}.VALUE.encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def write_wheel(folder: Path) -> str:
    dist = f"{PACKAGE}-1.0"
    files = {
        f"{PACKAGE}/__init__.py": f"VALUE = {VALUE!r}\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: 1.0\n",
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: celesto-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}.dist-info/RECORD"] = "\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n"
    wheel = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(folder / wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def simple_index(root: Path) -> None:
    """/simple/<project>/ lists the wheel, as PEP 503 says."""
    (root / "files").mkdir()
    wheel = write_wheel(root / "files")
    project = root / "simple" / PROJECT
    project.mkdir(parents=True)
    (root / "simple" / "index.html").write_text(f'<a href="{PROJECT}/">{PROJECT}</a>\n')
    (project / "index.html").write_text(f'<a href="../../files/{wheel}">{wheel}</a>\n')


def test_requirements_install_from_an_index_through_the_proxy(tmp_path: Path) -> None:
    root = tmp_path / "index"
    root.mkdir()
    simple_index(root)
    with (
        file_server(root) as index,
        LocalServer(
            data_dir=tmp_path / "backend", isolation="bwrap", host_ports=[index.server_address[1]]
        ) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=60,
        ) as http,
    ):
        name = unique("from-index")
        env = {
            "PIP_INDEX_URL": f"http://host.celesto.internal:{index.server_address[1]}/simple/",
            "PIP_TRUSTED_HOST": "host.celesto.internal",
        }
        files = {"main.py": APP, "requirements.txt": f"{PROJECT}==1.0\n"}
        assert deploy(http, name, files, env).status_code == 201
        status = settle(http, name, timeout=300)
        logs = http.get(f"/v1/deploy/apps/{name}/logs").text
        assert status["status"] == "READY", (status, logs)
        assert f"Successfully installed {PROJECT}-1.0" in logs
        assert httpx.get(status["url"]).text == VALUE
        assert index.hits >= 2  # the project page and the wheel, both through the proxy
        http.delete(f"/v1/deploy/apps/{name}")
