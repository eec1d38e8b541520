"""qa.uploads: where page uploads go, how they are named, what is accepted, and that a build keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import uploads as up
from qa.errors import UserInputError

XSS_IMG = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
    ("/abs/path/Report 2024 (final).PDF", "Report_2024_final.pdf"),
    (".bashrc.md", "bashrc.md"),
    ("...", "upload"),
    ("", "upload"),
    (".txt", "txt"),
    (f"{XSS_IMG}.html", "img_src_x_onerror_alert_1.html"),
    ("café notes.md", "caf_notes.md"),
    ("a" * 300 + ".txt", "a" * 96 + ".txt"),
])
def test_safe_filename(given: str, expected: str) -> None:
    name = up.safe_filename(given)
    assert name == expected
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_upload_target_stays_inside_uploads(tmp_path: Path) -> None:
    uploads = tmp_path / "index" / "uploads"
    uploads.mkdir(parents=True)
    target = up.upload_target(uploads, "../../etc/passwd.txt")
    assert target == (uploads / "passwd.txt").resolve()
    assert target.parent == uploads.resolve()


def test_upload_target_never_overwrites_a_different_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("old")
    assert up.upload_target(tmp_path, "notes.txt", b"new").name == "notes-2.txt"
    assert up.upload_target(tmp_path, "notes.txt", b"old").name == "notes.txt"


def test_upload_target_refuses_a_symlinked_name(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "evil.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(UserInputError, match="outside the uploads folder"):
        up.upload_target(uploads, "evil.txt", b"x")


@pytest.mark.parametrize(("name", "size", "reason"), [
    ("a.txt", 10, None),
    ("A.PDF", 10, None),
    ("page.htm", 10, None),
    ("tool.exe", 10, "unsupported file type .exe"),
    ("noext", 10, "unsupported file type (none)"),
    ("big.pdf", 3 * 1024 * 1024, "file too large (3.0 MB; the limit is 2 MB)"),
    ("empty.md", 0, "empty file"),
])
def test_check_upload(name: str, size: int, reason: str | None) -> None:
    result = up.check_upload(name, size, 2)
    if reason is None:
        assert result is None
    else:
        assert result is not None and result.startswith(reason)
