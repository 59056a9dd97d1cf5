"""The computer's persisted home directory on the host."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from .base import SandboxError

SKEL = Path("/etc/skel")


def prepare_home(home: Path, owner: int | None) -> None:
    """Create the home (seeded from /etc/skel when new or empty) and, when ``owner`` is
    given (root server), make sure it belongs to that host uid/gid."""
    try:
        _prepare_home(home, owner)
    except OSError as exc:
        raise SandboxError(f"cannot prepare the home directory {home}: {exc}") from exc


def _prepare_home(home: Path, owner: int | None) -> None:
    fresh = not home.exists() or not any(home.iterdir())
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if fresh:
        if SKEL.is_dir():
            shutil.copytree(SKEL, home, symlinks=True, dirs_exist_ok=True)
        os.chmod(home, 0o700)
    if owner is not None and home.lstat().st_uid != owner:
        chown_tree(home, owner)


def chown_tree(root: Path, owner: int) -> None:
    os.lchown(root, owner, owner)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), owner, owner)


def remove_home(home: Path) -> None:
    """rm -rf that copes with directories the sandbox user made read-only."""
    if home.is_symlink() or (home.exists() and not home.is_dir()):
        home.unlink()
        return
    if not home.exists():
        return
    _allow_owner(str(home))
    for dirpath, dirnames, _filenames in os.walk(home):
        for name in dirnames:
            _allow_owner(os.path.join(dirpath, name))
    shutil.rmtree(home)


def _allow_owner(path: str) -> None:
    """u+rwx on a real directory (never through a symlink), so it can be listed and emptied."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and stat.S_IMODE(mode) & stat.S_IRWXU != stat.S_IRWXU:
            os.chmod(path, stat.S_IMODE(mode) | stat.S_IRWXU)
    except OSError:
        pass
