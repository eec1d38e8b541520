"""`Index`: build, update and open the on-disk index; what scripts, the CLI and the page share.

It wires the parts together: `qa.planning` decides, `qa.ingest` reads and embeds, `qa.store`
writes generations, `qa.uploads` owns the page's files.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import store
from .builder import Builder
from .config import Settings, default_documents, load_settings, resolve_index_path, resolve_model
from .errors import IndexCorrupt, IndexNotFound, ModelMismatch, UserInputError
from .models import BuildReport
from .uploads import Uploads

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class DocumentInfo:
    name: str
    path: str
    kind: str
    pages: int
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Index:
    """A folder on disk holding the vectors, texts and manifest; see `qa.store` for the layout."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, model: str | None = None,
                 backend: str = "auto", settings: Settings | None = None) -> None:
        self.path = resolve_index_path(path)
        self.settings = settings or load_settings()
        self.backend = backend
        self.uploads = Uploads(self.path)
        self._model = model
        self._embedder: Any = None
        self._snapshot: store.Snapshot | None = None
        self._stamp: int | None = None
        self._lock = threading.Lock()
        self._embedder_lock = threading.Lock()
        self.last_report: BuildReport | None = None

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> Index:
        """Open an existing index; raises IndexNotFound when there is none."""
        index = cls(path, **options)
        index.snapshot  # noqa: B018 - validates now, with a clear error
        return index

    @classmethod
    def build(cls, paths: Sequence[str | os.PathLike[str]] | None = None, *,
              path: str | os.PathLike[str] | None = None, progress: Progress | None = None,
              prune_uploads: bool = False, **options: Any) -> Index:
        """Make the index at `path` match `paths` (default: seeds/) plus its uploads; returns it opened."""
        index = cls(path, **options)
        index.last_report = index.sync(paths, progress=progress, prune_uploads=prune_uploads)
        return index

    @property
    def exists(self) -> bool:
        return (self.path / store.MANIFEST).exists()

    @property
    def uploads_dir(self) -> Path:
        return self.uploads.folder

    @property
    def model(self) -> str:
        if self._model:
            return resolve_model(self._model)
        try:
            return store.read_manifest(self.path).model
        except (IndexNotFound, IndexCorrupt):
            return resolve_model(None)

    @property
    def snapshot(self) -> store.Snapshot:
        """The current generation; reopened when another process has switched in a newer one."""
        try:
            stamp = (self.path / store.MANIFEST).stat().st_mtime_ns
        except FileNotFoundError:
            raise IndexNotFound(f"No index at {self.path}: run `qa index build` first.") from None
        with self._lock:
            if self._snapshot is None or stamp != self._stamp:
                snapshot = store.Snapshot(self.path)
                if self._model and resolve_model(self._model) != snapshot.manifest.model:
                    raise ModelMismatch(
                        f"The index at {self.path} was built with model {snapshot.manifest.model!r}, "
                        f"not {resolve_model(self._model)!r}: drop --model or rebuild the index.")
                self._snapshot, self._stamp = snapshot, stamp
            return self._snapshot

    @property
    def embedder(self) -> Any:
        """Loaded on first use: opening, listing and removing never load the model."""
        with self._embedder_lock:
            if self._embedder is None:
                from .embedding import load_embedder

                embedder = load_embedder(self.model, backend=self.backend)
                try:
                    dim = store.read_manifest(self.path).dim
                except (IndexNotFound, IndexCorrupt):
                    dim = embedder.dim
                if embedder.dim != dim:
                    raise ModelMismatch(f"Model {self.model!r} gives vectors of dimension {embedder.dim}, "
                                        "the index holds another: rebuild the index.")
                self._embedder = embedder
            return self._embedder

    # --- reading -------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(*row) for row in self.snapshot.rows.documents()]

    def page_text(self, source: str, page: int) -> str:
        """The full text of one page, so a quote can be checked: text[start:end] == quote."""
        text = self.snapshot.rows.page_text(source, page)
        if text is None:
            raise UserInputError(f"No page {page} of {source!r} in the index.")
        return text

    def status(self) -> dict[str, Any]:
        m = self.snapshot.manifest
        return {"path": str(self.path), "documents": m.documents, "chunks": m.chunks,
                "sentences": m.sentences, "model": m.model, "dim": m.dim, "backend": m.backend,
                "index_type": m.index_type, "generation": m.generation,
                "size_bytes": store.size_on_disk(self.path, m.generation), "updated": m.updated}

    # --- writing -------------------------------------------------------------------------
    def default_paths(self) -> list[Path]:
        return [default_documents()]

    def sync(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
             progress: Progress | None = None, remove_missing: bool = True,
             prune_uploads: bool = False) -> BuildReport:
        """Add new files, re-embed changed ones, move renamed ones and (with remove_missing) drop
        the ones not given. Uploads are always looked at, unless `prune_uploads` drops those not given."""
        return Builder(self).sync(paths, progress=progress, remove_missing=remove_missing,
                                  prune_uploads=prune_uploads)

    def add(self, paths: Sequence[str | os.PathLike[str]], *, progress: Progress | None = None) -> BuildReport:
        """Index new or changed files (and moves of indexed ones); nothing else is touched."""
        return Builder(self).add(paths, progress=progress)

    def upload(self, files: Sequence[str | os.PathLike[str]], *, max_upload_mb: float = 20.0,
               progress: Progress | None = None) -> BuildReport:
        """Keep files given on the page in the index's uploads folder and index them; a file
        rejected or not indexable is reported in `skipped` and not kept."""
        return Builder(self).upload(files, max_upload_mb=max_upload_mb, progress=progress)

    def remove(self, paths: Iterable[str | os.PathLike[str]]) -> BuildReport:
        """Remove documents by name, path (a folder removes everything under it) or the end of a
        name; an unknown or ambiguous one raises UserInputError and nothing is removed. Never loads the model."""
        return Builder(self).remove(paths)
