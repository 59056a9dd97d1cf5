"""Unpacking a deployment's code bundle (tar.gz or zip) within limits.

Members are checked before anything is written (count, declared sizes, compression ratio,
path depth, names) and bytes are counted again while writing, so a bundle that lies in its
headers is stopped at the limit too. Any failure removes what was written. This is blocking
file work: call :func:`unpack` in a thread.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ApiError
from .middleware import MAX_UPLOAD_BODY

COPY_CHUNK = 1 << 20
# Below this unpacked size a high ratio is harmless (a small file of zeros, say).
RATIO_FLOOR_BYTES = 1 << 20


@dataclass(frozen=True)
class BundleLimits:
    """What one deployment bundle may unpack to (``LocalConfig.bundle_limits``)."""

    max_unpacked_bytes: int = 10 * MAX_UPLOAD_BODY
    max_members: int = 20_000
    # Unpacked size over packed size, per zip member and for a whole tar.gz.
    max_ratio: float = 200.0
    max_depth: int = 32


class BundleRejected(ApiError):
    pass


def _too_large(what: str) -> BundleRejected:
    return BundleRejected(413, f"The code bundle is too large: {what}.")


def _unsafe(what: str) -> BundleRejected:
    return BundleRejected(400, f"The code bundle has an unsafe member: {what}")


def _invalid(what: str) -> BundleRejected:
    return BundleRejected(422, f"The code bundle has an invalid member: {what}.")


class _Capped(io.RawIOBase):
    """A decompressed stream that refuses to go past ``cap`` bytes: tarfile reads some
    headers (pax, GNU long names) whole into memory, whatever size they declare."""

    def __init__(self, inner: io.BufferedIOBase, cap: int) -> None:
        self.inner = inner
        self.cap = cap

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.inner.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.inner.tell() + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target > self.cap:
            raise _too_large(f"it unpacks to more than {self.cap} bytes (the unpacked size limit)")
        return self.inner.seek(target)

    def read(self, size: int = -1) -> bytes:
        left = self.cap - self.inner.tell()
        if size < 0 or size > left:
            data = self.inner.read(left + 1)
            if len(data) > left:
                raise _too_large(
                    f"it unpacks to more than {self.cap} bytes (the unpacked size limit)"
                )
            return data
        return self.inner.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _decompressed(data: bytes) -> io.BufferedIOBase:
    raw = io.BytesIO(data)
    if data.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if data.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return raw


def open_archive(
    data: bytes, limits: BundleLimits | None = None
) -> tarfile.TarFile | zipfile.ZipFile:
    if not data:
        raise ApiError(400, "The code bundle is empty.")
    limits = limits or BundleLimits()
    # Tar headers and padding come on top of the members' bytes.
    cap = limits.max_unpacked_bytes + 1024 * (limits.max_members + 2) + 2 * tarfile.RECORDSIZE
    try:
        return tarfile.open(fileobj=_Capped(_decompressed(data), cap), mode="r:")
    except BundleRejected:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError):
        pass
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        pass
    raise ApiError(400, "The code bundle is not a tar.gz or zip archive.")


class _Budget:
    def __init__(self, limits: BundleLimits, packed: int) -> None:
        self.limits = limits
        self.packed = max(packed, 1)
        self.members = 0
        self.declared = 0
        self.written = 0

    def member(self, name: str, size: int) -> None:
        limits = self.limits
        self.members += 1
        if self.members > limits.max_members:
            raise _too_large(f"more than {limits.max_members} members (the member limit)")
        self.declared += max(size, 0)
        if self.declared > limits.max_unpacked_bytes:
            raise _too_large(
                f"it unpacks to more than {limits.max_unpacked_bytes} bytes "
                "(the unpacked size limit)"
            )
        _check_name(name, limits.max_depth)

    def ratio(self, unpacked: int, packed: int, what: str) -> None:
        limit = self.limits.max_ratio
        if unpacked > RATIO_FLOOR_BYTES and unpacked > limit * max(packed, 1):
            raise _too_large(
                f"{what} unpacks to {unpacked} bytes from {packed} "
                f"(more than the compression ratio limit of {limit:g})"
            )

    def wrote(self, count: int) -> None:
        self.written += count
        if self.written > self.limits.max_unpacked_bytes:
            raise _too_large(
                f"it unpacks to more than {self.limits.max_unpacked_bytes} bytes "
                "(the unpacked size limit)"
            )


def _check_name(name: str, max_depth: int) -> None:
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise _invalid(f"{name!r} has a control character in its name")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise _unsafe(name)
    if len(path.parts) > max_depth:
        raise _invalid(f"{name!r} is nested deeper than {max_depth} folders (the depth limit)")


def unpack(data: bytes, target: Path, limits: BundleLimits) -> None:
    """Unpack ``data`` into ``target`` (created here, removed again on any failure)."""
    archive = open_archive(data, limits)
    target.mkdir(parents=True)
    try:
        with archive:
            budget = _Budget(limits, len(data))
            if isinstance(archive, tarfile.TarFile):
                _unpack_tar(archive, target, budget)
            else:
                _unpack_zip(archive, target, budget)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _tar_members(archive: tarfile.TarFile, budget: _Budget) -> Iterator[tarfile.TarInfo]:
    """Members one at a time, so a huge declared size is refused before it is read."""
    while True:
        try:
            member = archive.next()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise ApiError(400, f"The code bundle is not a valid archive: {exc}") from exc
        if member is None:
            return
        budget.member(member.name, member.size if member.isfile() else 0)
        budget.ratio(budget.declared, budget.packed, "the archive")
        yield member


def _unpack_tar(archive: tarfile.TarFile, target: Path, budget: _Budget) -> None:
    members = list(_tar_members(archive, budget))
    try:
        # The "data" filter refuses links out of the folder, devices and setuid bits.
        archive.extractall(target, members=members, filter="data")
    except tarfile.FilterError as exc:
        raise _unsafe(str(exc)) from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ApiError(400, f"The code bundle could not be unpacked: {exc}") from exc


def _unpack_zip(archive: zipfile.ZipFile, target: Path, budget: _Budget) -> None:
    infos = archive.infolist()
    for info in infos:
        budget.member(info.filename, info.file_size)
        budget.ratio(info.file_size, info.compress_size, repr(info.filename))
    root = target.resolve()
    for info in infos:
        dest = (target / info.filename).resolve()
        if not dest.is_relative_to(root):
            raise _unsafe(info.filename)
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            # zipfile stops at the declared size and checks the CRC; the budget counts anyway.
            with archive.open(info) as source, dest.open("wb") as sink:
                while chunk := source.read(COPY_CHUNK):
                    budget.wrote(len(chunk))
                    sink.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ApiError(400, f"The code bundle could not be unpacked: {exc}") from exc
