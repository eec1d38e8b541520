"""Files added through the page: where they go, how they are named, what is accepted, when they go.

Uploads live in `index/uploads/` and belong to the index: a build of other paths keeps them
(`prune_uploads=True`, or `qa index build --prune-uploads`, drops them and deletes their files),
and removing an uploaded document deletes its file so no later build brings it back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import UserInputError

FOLDER = "uploads"
ALLOWED_SUFFIXES = (".pdf", ".txt", ".md", ".html", ".htm")
MAX_NAME_CHARS = 100
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A file name that is safe to create: basename only, plain characters, not hidden."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = _UNSAFE_NAME_CHARS.sub("_", base)
    base = re.sub(r"_+", "_", base).strip("._- ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip("._- ") or "upload"
    suffix = suffix.lower()
    keep = MAX_NAME_CHARS - len(suffix) - 1
    return f"{stem[:keep]}.{suffix}" if suffix else stem[:MAX_NAME_CHARS]


def check_upload(name: str, size: int, max_upload_mb: float) -> str | None:
    """Why a file cannot be accepted, or None when it can."""
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        return (f"unsupported file type {suffix or '(none)'}; "
                f"upload {', '.join(ALLOWED_SUFFIXES)}")
    if size > max_upload_mb * 1024 * 1024:
        return f"file too large ({size / 1024 / 1024:.1f} MB; the limit is {max_upload_mb:g} MB)"
    if size == 0:
        return "empty file"
    return None


def upload_target(uploads_dir: Path, name: str, content: bytes | None = None) -> Path:
    """Where to save an upload: inside uploads_dir, never over a different existing file
    (a second `notes.txt` becomes `notes-2.txt`; the same bytes again reuse `notes.txt`)."""
    root = Path(uploads_dir).resolve()
    safe = safe_filename(name)
    stem, suffix = Path(safe).stem, Path(safe).suffix
    for n in range(1, 1000):
        candidate = (root / (safe if n == 1 else f"{stem}-{n}{suffix}")).resolve()
        if candidate.parent != root:
            raise UserInputError(f"Refusing to save {name!r} outside the uploads folder.")
        if not candidate.exists():
            return candidate
        if content is not None and candidate.is_file() and candidate.read_bytes() == content:
            return candidate
    raise UserInputError(f"Too many uploads named {safe!r}; remove some first.")


@dataclass(frozen=True)
class Saved:
    path: Path
    original: str
    fresh: bool  # written now (deleted again if it cannot be indexed)


class Uploads:
    """The uploads folder of one index."""

    def __init__(self, index_root: Path) -> None:
        self.folder = Path(index_root) / FOLDER

    def name_for(self, path: Path) -> str | None:
        """`uploads/<file>` for a file in the folder, whichever way it was reached; else None."""
        try:
            return f"{FOLDER}/{Path(path).relative_to(self.folder.resolve()).as_posix()}"
        except ValueError:
            return None

    def save(self, files: Sequence[str | Path], max_upload_mb: float
             ) -> tuple[list[Saved], list[tuple[str, str]]]:
        """Copy accepted files into the folder; returns them and the (name, reason) of the rejected."""
        saved, rejected = [], []
        self.folder.mkdir(parents=True, exist_ok=True)
        for temp in map(Path, files):
            problem = check_upload(temp.name, temp.stat().st_size, max_upload_mb)
            if problem:
                rejected.append((temp.name, problem))
                continue
            content = temp.read_bytes()
            target = upload_target(self.folder, temp.name, content)
            fresh = not target.exists()
            if fresh:
                target.write_bytes(content)
            saved.append(Saved(target, temp.name, fresh))
        return saved, rejected

    def delete(self, paths: Iterable[str | Path]) -> None:
        """Delete the files among `paths` that are uploads (removed documents must not come back)."""
        for path in map(Path, paths):
            if self.name_for(path) is not None:
                path.unlink(missing_ok=True)
