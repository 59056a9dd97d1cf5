"""Hostile deployment bundles: bombs, slips, links, odd names. Each is refused with the
limit or the reason named, leaves nothing on disk, and /health keeps answering."""

from __future__ import annotations

import io
import json
import os
import random
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.bundle import BundleLimits, unpack
from celesto_api.local.errors import ApiError

from .conftest import HealthProbe

LIMITS = BundleLimits()


def tar_gz(add: Callable[[tarfile.TarFile], None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        add(tar)
    return buffer.getvalue()


def add_file(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def add_link(tar: tarfile.TarFile, name: str, target: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tar.addfile(info)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zeros_zip(size: int) -> bytes:
    """One member of ``size`` zero bytes (deflate makes ~1000:1 of it)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("app.py", "w", force_zip64=True) as member,
    ):
        block = bytes(1 << 20)
        for _ in range(size >> 20):
            member.write(block)
    return buffer.getvalue()


def lying_tar_gz(declared: int) -> bytes:
    """A tar.gz whose first header declares ``declared`` bytes, followed by a few."""
    info = tarfile.TarInfo("app.py")
    info.size = declared
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        assert tar.fileobj is not None
        tar.fileobj.write(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(4096))
        tar.offset += 512 + 4096
    return buffer.getvalue()


def many_members(count: int) -> bytes:
    return tar_gz(lambda tar: [add_file(tar, f"d/{i}.txt") for i in range(count)])


def deep_path(depth: int) -> bytes:
    return tar_gz(lambda tar: add_file(tar, "/".join(["d"] * depth) + "/app.py"))


def nul_name() -> bytes:
    return zip_of({"app\x01.py": b"print(1)"})


BUNDLES: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "zip-bomb": (lambda: zeros_zip(512 << 20), 413, "compression ratio limit"),
    "tar-declares-2-GiB": (lambda: lying_tar_gz(2 << 30), 413, "unpacked size limit"),
    "too-many-members": (
        lambda: many_members(LIMITS.max_members + 1),
        413,
        f"more than {LIMITS.max_members} members",
    ),
    "too-deep": (lambda: deep_path(LIMITS.max_depth + 8), 422, "depth limit"),
    "control-char-name": (nul_name, 422, "control character"),
    "tar-slip": (lambda: tar_gz(lambda t: add_file(t, "../../evil.py")), 400, "unsafe member"),
    "tar-absolute": (lambda: tar_gz(lambda t: add_file(t, "/tmp/evil.py")), 400, "unsafe"),
    "zip-slip": (lambda: zip_of({"../../evil.py": b"x"}), 400, "unsafe member"),
    "symlink-out": (
        lambda: tar_gz(lambda t: add_link(t, "passwd", "/etc/passwd", tarfile.SYMTYPE)),
        400,
        "unsafe member",
    ),
    "symlink-then-write-through": (
        lambda: tar_gz(
            lambda t: (add_link(t, "up", "../..", tarfile.SYMTYPE), add_file(t, "up/evil.py"))
        ),
        400,
        "unsafe member",
    ),
    "hardlink-out": (
        lambda: tar_gz(lambda t: add_link(t, "passwd", "/etc/passwd", tarfile.LNKTYPE)),
        400,
        "unsafe member",
    ),
}


def post_bundle(http: httpx.Client, name: str, data: bytes, **form: str) -> httpx.Response:
    project = http.get("/v1/projects/").json()["data"][0]["id"]
    fields = {"name": name, "project_id": project, "config": "{}", **form}
    return http.post(
        "/v1/deploy/agent",
        files={"code_bundle": ("app_bundle.tar.gz", data, "application/gzip")},
        data=fields,
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{random.getrandbits(32):08x}"


def leftovers(local_server: LocalServer, name: str) -> list[str]:
    root = local_server.data_dir / "deployments" / name
    return [str(path) for path in root.rglob("*")] if root.exists() else []


@pytest.mark.parametrize("kind", list(BUNDLES))
def test_hostile_bundles_are_refused_and_leave_nothing(
    health_probe: HealthProbe, http: httpx.Client, local_server: LocalServer, kind: str
) -> None:
    build, status, named = BUNDLES[kind]
    data = build()
    name = unique(kind)
    response = post_bundle(http, name, data)
    assert response.status_code == status, response.text
    assert named in json.dumps(response.json()), response.json()
    assert not (local_server.data_dir / "deployments" / name).exists(), leftovers(
        local_server, name
    )
    assert not os.path.exists("/tmp/evil.py")
    assert http.get(f"/v1/deploy/apps/{name}/status").status_code == 404


def test_a_large_honest_bundle_unpacks_off_the_event_loop(
    health_probe: HealthProbe, http: httpx.Client, local_server: LocalServer
) -> None:
    """90 MiB of incompressible files: unpacked in a thread while /health keeps answering."""
    chunk = os.urandom(1 << 20)

    def add(tar: tarfile.TarFile) -> None:
        add_file(tar, "main.py", b"print('hi')\n")
        for index in range(90):
            add_file(tar, f"data/{index}.bin", chunk[index:] + chunk[:index])

    name = unique("large")
    response = post_bundle(http, name, tar_gz(add))
    assert response.status_code == 201, response.text
    app = next((local_server.data_dir / "deployments" / name).glob("*/home/app"))
    assert len(list((app / "data").iterdir())) == 90
    http.delete(f"/v1/deploy/apps/{name}")


@pytest.mark.parametrize(
    ("field", "form"),
    [
        ("name", {"name": "bad\x00name"}),
        ("name", {"name": "bad\x1bname"}),
        ("project_id", {"project_id": "proj\x00"}),
        ("config", {"config": json.dumps({"env": {"KEY\x00": "v"}})}),
        ("config", {"config": json.dumps({"env": {"KEY": "secret\x00value"}})}),
        ("config", {"config": '{"env":' * 100_000 + "{}" + "}" * 100_000}),
    ],
)
def test_control_characters_and_deep_config_are_422_naming_the_field(
    health_probe: HealthProbe, http: httpx.Client, field: str, form: dict[str, str]
) -> None:
    form = {"name": unique("ctl"), **form}
    response = post_bundle(http, form.pop("name"), tar_gz(lambda t: add_file(t, "main.py")), **form)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == field, response.json()
    assert "secret" not in response.text  # env values are never echoed


def test_a_huge_tar_header_is_stopped_at_the_limit_not_read_into_memory(tmp_path: Path) -> None:
    """tarfile reads a pax header whole, whatever size it declares: the decompressed stream
    itself is capped, so the limit holds there too."""
    limits = BundleLimits(max_unpacked_bytes=1 << 20, max_members=10)

    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("main.py")
        info.pax_headers = {"comment": "x" * (8 << 20)}
        tar.addfile(info, io.BytesIO(b""))

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        add(tar)
    target = tmp_path / "app"
    with pytest.raises(ApiError) as refused:
        unpack(buffer.getvalue(), target, limits)
    assert refused.value.status_code == 413
    assert "unpacked size limit" in str(refused.value.detail)
    assert not target.exists()
