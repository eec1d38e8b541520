"""`Index`: build, update and open the on-disk index; what scripts, the CLI and the page share."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .config import Settings, default_documents, load_settings, resolve_index_path, resolve_model
from .errors import DocumentError, IndexCorrupt, IndexNotFound, ModelMismatch, UserInputError
from .models import BuildReport, Chunk, Document, Skipped

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 256  # chunks embedded and written per step


@dataclass(frozen=True)
class DocumentInfo:
    name: str
    path: str
    kind: str
    pages: int
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "kind": self.kind, "pages": self.pages,
                "chunks": self.chunks}


def _noop(stage: str, done: int, total: int) -> None:
    pass


class Index:
    """A folder on disk holding the vectors, texts and manifest; see `qa.store` for the layout."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, model: str | None = None,
                 backend: str = "auto", settings: Settings | None = None) -> None:
        self.path = resolve_index_path(path)
        self.settings = settings or load_settings()
        self.backend = backend
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
              **options: Any) -> Index:
        """Make the index at `path` match `paths` (default: seeds/ and uploads); returns it opened."""
        index = cls(path, **options)
        index.last_report = index.sync(paths, progress=progress)
        return index

    @property
    def exists(self) -> bool:
        return (self.path / store.MANIFEST).exists()

    @property
    def uploads_dir(self) -> Path:
        return self.path / "uploads"

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
        """Loaded on first use: opening an index or listing documents never loads the model."""
        with self._embedder_lock:
            return self._load_embedder()

    def _load_embedder(self) -> Any:
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
        rows = self.snapshot.query("SELECT name, path, kind, pages, chunks FROM documents ORDER BY name")
        return [DocumentInfo(*row) for row in rows]

    def page_text(self, source: str, page: int) -> str:
        """The full text of one page, so a quote can be checked: text[start:end] == quote."""
        rows = self.snapshot.query(
            "SELECT p.text FROM pages p JOIN documents d ON d.id = p.document_id "
            "WHERE (d.name = ? OR d.path = ?) AND p.number = ?", (source, source, page))
        if not rows:
            raise UserInputError(f"No page {page} of {source!r} in the index.")
        return rows[0][0]

    def status(self) -> dict[str, Any]:
        snap = self.snapshot
        m = snap.manifest
        return {"path": str(self.path), "documents": m.documents, "chunks": m.chunks,
                "sentences": m.sentences, "model": m.model, "dim": m.dim, "backend": m.backend,
                "index_type": m.index_type, "generation": m.generation,
                "size_bytes": store.size_on_disk(self.path, m.generation), "updated": m.updated}

    # --- writing -------------------------------------------------------------------------
    def default_paths(self) -> list[Path]:
        paths = [default_documents()]
        if self.uploads_dir.is_dir():
            paths.append(self.uploads_dir)
        return paths

    def sync(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
             progress: Progress | None = None, remove_missing: bool = True) -> BuildReport:
        """Add new files, re-embed changed ones, and (with remove_missing) drop the ones not given."""
        from .documents import discover

        started = time.perf_counter()
        given = list(paths) if paths else self.default_paths()
        files, skipped = discover(given)
        files = [(path, self._name(path, name)) for path, name in files]
        with store.writer_lock(self.path):
            return self._apply(files, list(skipped), remove_missing, progress or _noop, started)

    def add(self, paths: Sequence[str | os.PathLike[str]], *, progress: Progress | None = None) -> BuildReport:
        """Index new or changed files; nothing else is touched."""
        if not paths:
            raise UserInputError("Name at least one file or folder to add.")
        return self.sync(paths, progress=progress, remove_missing=False)

    def remove(self, paths: Iterable[str | os.PathLike[str]]) -> BuildReport:
        """Remove documents by path (a folder removes everything under it) or by document name."""
        started = time.perf_counter()
        wanted = [str(p) for p in paths]
        if not wanted:
            raise UserInputError("Name at least one document to remove.")
        with store.writer_lock(self.path):
            if not self.exists:
                raise IndexNotFound(f"No index at {self.path}: run `qa index build` first.")
            with self._transaction() as writer:
                known = writer.document_ids()
                removed, skipped, uploaded = [], [], []
                for item in wanted:
                    target = str(Path(item).expanduser().resolve())
                    hits = [p for p, (_, _, name) in known.items()
                            if p == target or p.startswith(target.rstrip("/") + "/") or name == item]
                    if not hits:
                        skipped.append(Skipped(item, "not in the index"))
                    for hit in hits:
                        if known[hit][2] not in removed:
                            writer.remove_document(known[hit][0])
                            removed.append(known[hit][2])
                            uploaded.append(Path(hit))
            uploads = self.uploads_dir.resolve()
            for path in uploaded:  # else the next default rebuild would bring it back
                if path.parent == uploads:
                    path.unlink(missing_ok=True)
        return BuildReport(removed=tuple(removed), skipped=tuple(skipped),
                           seconds=time.perf_counter() - started)

    def _name(self, path: Path, name: str) -> str:
        """Uploads keep one name whether added alone from the page or by a rebuild of the folder."""
        try:
            return f"uploads/{path.relative_to(self.uploads_dir.resolve()).as_posix()}"
        except ValueError:
            return name

    @contextmanager
    def _transaction(self) -> Iterator[store.Writer]:
        """A new generation: switched in if anything changed, thrown away on error or no change."""
        embedder = self.embedder
        writer = store.Writer(self.path, model=self.model, dim=embedder.dim, backend=embedder.backend)
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        if writer.changed:
            writer.commit()
        else:
            writer.abort()

    def _apply(self, files: list[tuple[Path, str]], skipped: list[Skipped], remove_missing: bool,
               progress: Progress, started: float) -> BuildReport:
        from .chunking import chunk_document
        from .documents import file_sha256, load

        if self.exists:
            try:
                self.snapshot  # noqa: B018 - refuse a model mismatch before any work
            except IndexCorrupt:
                pass  # the writer starts a fresh generation
        with self._transaction() as writer:
            known = writer.document_ids()
            seen_hashes = {sha: path for path, (_, sha, _) in known.items()}
            added, updated, unchanged = [], [], []
            todo: list[tuple[Document, list[Chunk], bool]] = []
            wanted_paths = set()
            max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
            for done, (file, name) in enumerate(files, 1):
                progress("reading", done - 1, len(files))
                path = str(file)
                wanted_paths.add(path)
                try:
                    sha = file_sha256(file)
                    if path in known and known[path][1] == sha:
                        unchanged.append(known[path][2])
                        continue
                    twin = seen_hashes.get(sha)
                    if twin and twin != path and (twin in wanted_paths or twin in known):
                        twin_name = known[twin][2] if twin in known else Path(twin).name
                        skipped.append(Skipped(name, f"same content as {twin_name}; indexed once"))
                        continue
                    document = load(file, name, max_bytes=max_bytes)
                    chunks = chunk_document(document, self.embedder.tokenizer,
                                            target_tokens=self.settings.chunk_tokens,
                                            overlap_tokens=self.settings.overlap_tokens)
                    if not chunks:
                        raise DocumentError("no text to index")
                except DocumentError as exc:
                    skipped.append(Skipped(name, str(exc)))
                    continue
                except OSError as exc:
                    skipped.append(Skipped(name, f"cannot read: {exc.strerror or exc}"))
                    continue
                seen_hashes[sha] = path
                todo.append((document, chunks, path in known))
            progress("reading", len(files), len(files))

            removed = []
            for path, (doc_id, _, name) in known.items():
                replaced = any(d.path == path for d, _, _ in todo)
                if replaced or (remove_missing and path not in wanted_paths):
                    writer.remove_document(doc_id)
                    if not replaced:
                        removed.append(name)

            embedded = self._embed_into(writer, todo, progress)
            for document, _, was_known in todo:
                (updated if was_known else added).append(document.name)
        return BuildReport(added=tuple(added), updated=tuple(updated), unchanged=tuple(unchanged),
                           removed=tuple(removed), skipped=tuple(skipped), chunks_embedded=embedded,
                           seconds=time.perf_counter() - started)

    def _embed_into(self, writer: store.Writer, todo: list[tuple[Document, list[Chunk], bool]],
                    progress: Progress) -> int:
        """Embed chunks in large batches across documents (one model pass gives sentence vectors too)."""
        total = sum(len(chunks) for _, chunks, _ in todo)
        done = 0
        progress("embedding", 0, total)
        pending: list[tuple[Document, list[Chunk]]] = []
        size = 0

        def flush() -> None:
            nonlocal done, pending, size
            flat = [c for _, chunks in pending for c in chunks]
            if not flat:
                return
            spans = [[(s.start - c.start, s.end - c.start) for s in c.sentences] for c in flat]

            def step(n: int) -> None:
                nonlocal done
                done += n
                progress("embedding", done, total)

            vectors, sentence_vectors = self.embedder.embed_with_spans(
                [c.text for c in flat], spans, progress=step)
            at = 0
            for document, chunks in pending:
                n = len(chunks)
                writer.add_document(document, chunks, np.asarray(vectors[at:at + n]),
                                    sentence_vectors[at:at + n])
                at += n
            pending, size = [], 0

        for document, chunks, _ in todo:
            pending.append((document, chunks))
            size += len(chunks)
            if size >= EMBED_BATCH:
                flush()
        flush()
        return total
