"""The on-disk index: a folder of generations, each a FAISS file plus an SQLite file, and a manifest.

index/
  manifest.json      which generation is current, the model, dimension and counts (human-readable)
  gen-000007/        docqa.sqlite (documents, pages, chunks, sentences, FTS5 for BM25) + vectors.faiss
  uploads/           files added through the web page (they belong to the index)
  .lock, .writer     held (and named) by the one process that writes

A writer builds generation N+1 beside N and switches `manifest.json` with an atomic rename, so a
build killed at any moment leaves generation N loadable; readers keep the files they opened.
SQL lives in `qa.rows`, FAISS in `qa.vectors`; this module arranges them into generations.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import fault_point
from .errors import IndexCorrupt, IndexLocked, IndexNotFound, ModelMismatch
from .planning import Known
from .rows import Rows, RowWriter
from .vectors import (  # noqa: F401 - re-exported for scripts and benchmarks
    IVF_THRESHOLD,
    all_vectors,
    choose_type,
    convert,
    ivf_from,
    new_faiss,
    read_vectors,
    write_vectors,
)

FORMAT_VERSION = 2  # 2: sentences.heading
MANIFEST = "manifest.json"
SQLITE = "docqa.sqlite"
VECTORS = "vectors.faiss"
LOCK = ".lock"
HOLDER = ".writer"


def fault(point: str) -> None:
    """Crash here if DOCQA_FAULT names this point: tests check exactly which index survives."""
    if fault_point() == point:
        os._exit(70)


@dataclass(frozen=True)
class Manifest:
    generation: str
    model: str
    dim: int
    backend: str = ""
    index_type: str = "flat"
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    created: float = 0.0
    updated: float = 0.0
    format: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "generation": self.generation, "model": self.model,
                "dim": self.dim, "backend": self.backend, "index_type": self.index_type,
                "documents": self.documents, "chunks": self.chunks, "sentences": self.sentences,
                "created": self.created, "updated": self.updated}


def read_manifest(root: Path) -> Manifest:
    file = root / MANIFEST
    if not file.exists():
        raise IndexNotFound(f"No index at {root}: run `qa index build` first.")
    try:
        data = json.loads(file.read_text())
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if data.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(
                f"The index at {root} has format {data.get('format')!r}; this docqa reads format "
                f"{FORMAT_VERSION}. Rebuild it with `qa index build --index {root}`.")
        manifest = Manifest(**{k: data[k] for k in Manifest.__dataclass_fields__ if k in data})
        if not (isinstance(manifest.generation, str) and manifest.generation.startswith("gen-")
                and "/" not in manifest.generation and isinstance(manifest.dim, int)
                and isinstance(manifest.model, str)):
            raise ValueError("bad fields")
        return manifest
    except IndexCorrupt:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexCorrupt(
            f"The index manifest {file} is damaged ({exc}). Rebuild it with `qa index build --index {root}`."
        ) from exc


def switch_manifest(root: Path, manifest: Manifest) -> None:
    """Write the manifest beside the old one, then rename over it: readers see one or the other."""
    tmp = root / f"{MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    fault("before-manifest")
    os.replace(tmp, root / MANIFEST)
    fault("after-manifest")


class Snapshot:
    """A read-only view of one generation; cheap to share between threads. `rows` answers queries."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest = read_manifest(root)
        self.dir = root / self.manifest.generation
        self.sqlite = self.dir / SQLITE
        if not self.sqlite.exists() or not (self.dir / VECTORS).exists():
            raise IndexCorrupt(f"The index at {root} is missing {self.dir.name}; rebuild it.")
        self.vectors = read_vectors(self.dir / VECTORS)
        if self.vectors.d != self.manifest.dim:
            raise IndexCorrupt(f"{self.dir / VECTORS} has dimension {self.vectors.d}, the manifest says "
                               f"{self.manifest.dim}; rebuild the index.")
        self.rows = Rows.open(self.sqlite)

    def close(self) -> None:
        self.rows.close()


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time; a second one gets a clear message instead of waiting silently."""
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / LOCK, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout as exc:
        try:
            holder = (root / HOLDER).read_text().strip()
        except OSError:
            holder = ""
        raise IndexLocked(f"The index at {root} is being written by {holder or 'another process'}; "
                          "wait for it to finish and try again.") from exc
    try:
        (root / HOLDER).write_text(f"pid {os.getpid()}")
        yield
    finally:
        (root / HOLDER).unlink(missing_ok=True)
        lock.release()


class Generations:
    """The generation folders of an index: numbering, half-written ones, publishing, clean-up."""

    KEEP = 2  # the new one and the one readers may still have open

    def __init__(self, root: Path) -> None:
        self.root = root

    def clean_stale(self) -> None:
        """Remove what killed builds left half-written (we hold the lock, so none is live)."""
        for path in self.root.glob("gen-*.tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f"{MANIFEST}.tmp-*"):
            path.unlink(missing_ok=True)

    def next(self) -> tuple[str, Path]:
        """The next generation's name and the temporary folder it is written in."""
        number = 1 + max((int(p.name[4:10]) for p in self.root.glob("gen-[0-9]*")
                          if p.name[4:10].isdigit()), default=0)
        name = f"gen-{number:06d}"
        tmp = self.root / f"{name}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        return name, tmp

    def publish(self, tmp: Path, name: str) -> None:
        """Flush every file to disk, then give the folder its final name (not yet current)."""
        for file in tmp.iterdir():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, self.root / name)

    def drop_old(self, keep: set[str]) -> None:
        for path in self.root.glob("gen-[0-9]*"):
            if path.is_dir() and ".tmp-" not in path.name and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)


class Writer:
    """Builds the next generation from the current one; `commit()` switches it in atomically."""

    def __init__(self, root: Path, *, model: str, dim: int, backend: str) -> None:
        self.root = root
        self.previous: Manifest | None = None
        source, vectors = None, None
        if (root / MANIFEST).exists():
            try:
                self.previous = read_manifest(root)
                folder = root / self.previous.generation
                source = Rows.open(folder / SQLITE)
                vectors = read_vectors(folder / VECTORS)
            except IndexCorrupt:
                self.previous = None  # a damaged index is rebuilt from scratch
                if source is not None:
                    source.close()
                source = None
        if self.previous and self.previous.model != model:
            if source is not None:
                source.close()
            raise ModelMismatch(
                f"The index at {root} was built with model {self.previous.model!r}, not {model!r}: "
                f"use --model {self.previous.model} or build a new index with --index DIR.")
        self.model, self.dim, self.backend = model, dim, backend
        self.generations = Generations(root)
        self.generations.clean_stale()
        self.generation, self.tmp = self.generations.next()
        try:
            self.rows = RowWriter(self.tmp / SQLITE, source=source)
        finally:
            if source is not None:
                source.close()
        self.index_type = self.previous.index_type if self.previous else "flat"
        self.vectors = vectors if vectors is not None else new_faiss(dim, self.index_type)
        self.changed = self.previous is None  # a new index is written even when empty

    # --- changes -------------------------------------------------------------------------
    def known(self) -> dict[str, tuple[int, Known]]:
        """path -> (document id, Known) of every indexed document."""
        return self.rows.known()

    def remove_document(self, document_id: int) -> int:
        self.changed = True
        ids = self.rows.remove_document(document_id)
        if ids:
            self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
        return len(ids)

    def move_document(self, document_id: int, path: str, name: str) -> None:
        """A renamed or moved file: same chunks and vectors, new path and name."""
        self.changed = True
        self.rows.move_document(document_id, path, name)

    def add_document(self, document: Any, chunks: list[Any], chunk_vectors: np.ndarray,
                     sentence_vectors: list[np.ndarray], size: int = -1) -> None:
        self.changed = True
        ids = self.rows.add_document(document, chunks, sentence_vectors, size)
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(chunk_vectors, dtype=np.float32),
                                      np.asarray(ids, dtype=np.int64))

    # --- switching -----------------------------------------------------------------------
    def commit(self, index_type: str = "auto") -> Manifest:
        if index_type == "auto":
            index_type = choose_type(self.index_type, self.vectors.ntotal)
        if index_type != self.index_type:
            self.vectors, self.index_type = convert(self.vectors, self.dim, index_type), index_type
        documents, chunks, sentences = self.rows.counts()
        self.rows.save()
        write_vectors(self.vectors, self.tmp / VECTORS)
        fault("after-vectors")
        self.generations.publish(self.tmp, self.generation)
        now = time.time()
        manifest = Manifest(generation=self.generation, model=self.model, dim=self.dim,
                            backend=self.backend, index_type=self.index_type, documents=documents,
                            chunks=chunks, sentences=sentences,
                            created=self.previous.created if self.previous else now, updated=now)
        switch_manifest(self.root, manifest)
        keep = {self.generation} | ({self.previous.generation} if self.previous else set())
        self.generations.drop_old(keep)
        return manifest

    def abort(self) -> None:
        try:
            self.rows.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def size_on_disk(root: Path, generation: str) -> int:
    return sum(f.stat().st_size for f in (root / generation).iterdir() if f.is_file())
