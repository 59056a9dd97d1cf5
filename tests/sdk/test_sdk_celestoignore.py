"""The deploy bundle and `.celestoignore` (contract §5.4)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from celesto_api.deployments import (
    CelestoIgnoreWarning,
    build_bundle,
    bundle_members,
    read_ignore_patterns,
)


def make_tree(root: Path, files: list[str], ignore: str | None = None) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")
    if ignore is not None:
        (root / ".celestoignore").write_text(ignore)
    return root


def bundled(root: Path) -> set[str]:
    return {name for _, name in bundle_members(root)}


def archive_names(bundle: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as archive:
        return archive.getnames()


def test_no_ignore_file_bundles_everything_including_dotfiles(tmp_path: Path) -> None:
    make_tree(tmp_path, ["main.py", ".env", ".git/config", "pkg/mod.py"])
    assert bundled(tmp_path) == {"main.py", ".env", ".git/config", "pkg/mod.py"}


def test_ignore_file_itself_is_bundled_unless_listed(tmp_path: Path) -> None:
    make_tree(tmp_path, ["main.py", ".env"], ignore=".env\n")
    assert bundled(tmp_path) == {"main.py", ".celestoignore"}
    (tmp_path / ".celestoignore").write_text(".env\n.celestoignore\n")
    assert bundled(tmp_path) == {"main.py"}


def test_comment_rules() -> None:
    text = "# full line\n  \n*.log # trailing comment\nfile#name\nkeep\t# tab is not a comment\n"
    assert read_ignore_patterns(text) == ["*.log", "file#name", "keep\t# tab is not a comment"]


def test_comments_and_hash_in_names(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        ["app.log", "file#name", "#name", "notes.txt", "keep"],
        ignore="# a comment line\n*.log   # logs\nfile#name\n#name\nkeep\t# tab\n",
    )
    # "#name" at the start of a line is a comment, so the file "#name" stays;
    # "keep<TAB># tab" is one odd pattern that matches nothing.
    assert bundled(tmp_path) == {"#name", "notes.txt", "keep", ".celestoignore"}


def test_negation(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a.log", "keep.log", "b.txt"], ignore="*.log\n!keep.log\n")
    assert bundled(tmp_path) == {"keep.log", "b.txt", ".celestoignore"}


def test_directories_are_pruned(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        ["build/out.bin", "build/keep.txt", "src/build/x.o", "src/main.c", "venv/lib/site.py"],
        ignore="build/\n!build/keep.txt\nvenv\n",
    )
    # A pruned directory is never entered, so the negation cannot bring keep.txt back
    # (git behaves the same way).
    assert bundled(tmp_path) == {"src/main.c", ".celestoignore"}


def test_nested_and_anchored_patterns(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        [
            "docs/a.md",
            "docs/sub/b.md",
            "a/b/cache/data",
            "a/b/keep.py",
            "top.md",
            "lib/top.md",
        ],
        ignore="docs/*.md\n**/cache/\n/top.md\n",
    )
    assert bundled(tmp_path) == {
        "docs/sub/b.md",
        "a/b/keep.py",
        "lib/top.md",
        ".celestoignore",
    }


def test_unreadable_ignore_file_warns_and_does_not_filter(tmp_path: Path) -> None:
    make_tree(tmp_path, ["main.py", "app.log"])
    (tmp_path / ".celestoignore").write_bytes(b"*.log\n\xff\xfe not utf-8\n")
    with pytest.warns(CelestoIgnoreWarning):
        names = bundled(tmp_path)
    assert names == {"main.py", "app.log", ".celestoignore"}


def test_unparsable_ignore_file_warns_and_does_not_filter(tmp_path: Path) -> None:
    make_tree(tmp_path, ["main.py", "app.log"], ignore="*.log\n!\n")
    with pytest.warns(CelestoIgnoreWarning):
        names = bundled(tmp_path)
    assert names == {"main.py", "app.log", ".celestoignore"}


def test_ignore_file_that_cannot_be_read_warns(tmp_path: Path) -> None:
    """A `.celestoignore` that is a directory fails to read for every user, root included."""
    make_tree(tmp_path, ["main.py", "app.log", ".celestoignore/notes.txt"])
    with pytest.warns(CelestoIgnoreWarning):
        names = bundled(tmp_path)
    assert names == {"main.py", "app.log", ".celestoignore/notes.txt"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a 0000 file")
def test_permission_denied_ignore_file_warns(tmp_path: Path) -> None:
    make_tree(tmp_path, ["main.py", "app.log"], ignore="*.log\n")
    (tmp_path / ".celestoignore").chmod(0)
    try:
        with pytest.warns(CelestoIgnoreWarning):
            names = bundled(tmp_path)
    finally:
        (tmp_path / ".celestoignore").chmod(0o600)
    assert "app.log" in names


def test_bundle_is_gzip_tar_with_relative_names(tmp_path: Path) -> None:
    folder = make_tree(
        tmp_path / "my-agent", ["main.py", "pkg/mod.py", "junk.tmp"], ignore="*.tmp\n"
    )
    bundle = build_bundle(folder)
    assert bundle[:2] == b"\x1f\x8b"
    names = archive_names(bundle)
    assert sorted(names) == [".celestoignore", "main.py", "pkg/mod.py"]
    assert not any(name.startswith(("/", "./", "my-agent")) for name in names)
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as archive:
        member = archive.extractfile("pkg/mod.py")
        assert member is not None
        assert member.read() == b"content of pkg/mod.py\n"


def test_symlinks_are_kept_as_links(tmp_path: Path) -> None:
    make_tree(tmp_path, ["real/file.txt"])
    (tmp_path / "link").symlink_to("real", target_is_directory=True)
    names = archive_names(build_bundle(tmp_path))
    assert sorted(names) == ["link", "real/file.txt"]
