"""The on-disk index: a folder of generations, each a FAISS file plus an SQLite file, and a manifest.

index/
  manifest.json      which generation is current, the model, dimension and counts (human-readable)
  gen-000007/        docqa.sqlite (documents, pages, chunks, sentences, FTS5 for BM25) + vectors.faiss
  uploads/           files added through the web page
  .lock              held by the one process that writes

A writer builds generation N+1 beside N and switches `manifest.json` with an atomic rename, so a
build killed at any moment leaves generation N loadable; readers keep the files they opened.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorrupt, IndexLocked, IndexNotFound, ModelMismatch
from .text import FTS_TOKENIZE

FORMAT_VERSION = 2  # 2: sentences.heading
MANIFEST = "manifest.json"
SQLITE = "docqa.sqlite"
VECTORS = "vectors.faiss"
KEEP_GENERATIONS = 2
IVF_THRESHOLD = 50_000  # chunks; from here exact search costs more than 20 ms a query on 2 cores

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    kind TEXT NOT NULL, sha256 TEXT NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL,
    indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (document_id, number));
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    page INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL, heading INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences(chunk_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='{FTS_TOKENIZE}');
"""
REQUIRED_TABLES = {"documents", "pages", "chunks", "sentences", "chunks_fts"}


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


def connect(file: Path, *, readonly: bool) -> sqlite3.Connection:
    uri = f"file:{file}?mode=ro" if readonly else f"file:{file}"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def check_schema(db: sqlite3.Connection, where: Path) -> None:
    try:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(f"{where} is not a readable SQLite file ({exc}); rebuild the index.") from exc
    missing = REQUIRED_TABLES - names
    if missing:
        raise IndexCorrupt(f"{where} lacks tables {sorted(missing)}; rebuild the index.")


def read_vectors(file: Path) -> Any:
    import faiss

    try:
        return faiss.read_index(str(file))
    except Exception as exc:
        raise IndexCorrupt(f"{file} is not a readable FAISS index ({exc}); rebuild the index.") from exc


def new_faiss(dim: int, index_type: str) -> Any:
    import faiss

    if index_type == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    raise ValueError(f"unknown index type {index_type!r}")


def all_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every entry of a flat or IVF index."""
    import faiss

    if isinstance(index, faiss.IndexIDMap2):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, index.index.reconstruct_n(0, index.ntotal)
    ivf = faiss.extract_index_ivf(index)
    ids, vectors = [], []
    invlists = ivf.invlists
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if not size:
            continue
        list_ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy()
        ids.append(list_ids)
        vectors.append(np.vstack([index.reconstruct(int(i)) for i in list_ids]))
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    return np.concatenate(ids), np.vstack(vectors)


def ivf_from(ids: np.ndarray, vectors: np.ndarray) -> Any:
    """An inverted-file index with float16 vectors: approximate, a third of the memory, fast at scale."""
    import faiss

    n, dim = vectors.shape
    nlist = max(16, int(4 * np.sqrt(n)))
    index = faiss.index_factory(dim, f"IVF{nlist},SQfp16", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
    faiss.extract_index_ivf(index).nprobe = max(8, nlist // 16)
    return index


class Snapshot:
    """A read-only view of one generation; cheap to share between threads (SQLite opened per use)."""

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
        self._db = connect(self.sqlite, readonly=True)
        check_schema(self._db, self.sqlite)

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        self._db.close()


def lock_file(root: Path) -> Path:
    return root / ".lock"


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time; a second one gets a clear message instead of waiting silently."""
    root.mkdir(parents=True, exist_ok=True)
    handle = open(lock_file(root), "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexLocked(f"The index at {root} is being written by {holder}; "
                              "wait for it to finish and try again.") from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


class Writer:
    """Builds the next generation from the current one; `commit()` switches it in atomically."""

    def __init__(self, root: Path, *, model: str, dim: int, backend: str) -> None:
        self.root = root
        self.previous: Manifest | None = None
        src_db, vectors = None, None
        if (root / MANIFEST).exists():
            try:
                self.previous = read_manifest(root)
                source = root / self.previous.generation
                src_db = connect(source / SQLITE, readonly=True)
                check_schema(src_db, source / SQLITE)
                vectors = read_vectors(source / VECTORS)
            except IndexCorrupt:
                self.previous = None  # a damaged index is rebuilt from scratch
                if src_db is not None:
                    src_db.close()
        if self.previous and self.previous.model != model:
            src_db.close()  # type: ignore[union-attr]
            raise ModelMismatch(
                f"The index at {root} was built with model {self.previous.model!r}, not {model!r}: "
                f"use --model {self.previous.model} or build a new index with --index DIR.")
        self.model, self.dim, self.backend = model, dim, backend
        self.clean_stale()
        number = 1 + max((int(p.name[4:10]) for p in root.glob("gen-[0-9]*") if p.name[4:10].isdigit()),
                         default=0)
        self.generation = f"gen-{number:06d}"
        self.tmp = root / f"{self.generation}.tmp-{os.getpid()}"
        self.tmp.mkdir(parents=True)
        self.db = connect(self.tmp / SQLITE, readonly=False)
        if self.previous and src_db is not None:
            src_db.backup(self.db)
            src_db.close()
            self.vectors = vectors
            self.index_type = self.previous.index_type
        else:
            self.db.executescript(SCHEMA)
            self.index_type = "flat"
            self.vectors = new_faiss(dim, self.index_type)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.changed = self.previous is None  # a new index is written even when empty

    def clean_stale(self) -> None:
        """Remove half-written generations of killed builds (we hold the lock, so none is live)."""
        for path in self.root.glob("gen-*.tmp-*"):
            shutil.rmtree(path, ignore_errors=True)

    # --- changes -------------------------------------------------------------------------
    def document_ids(self) -> dict[str, tuple[int, str, str]]:
        """path -> (id, sha256, name) of every indexed document."""
        return {row[0]: (row[1], row[2], row[3])
                for row in self.db.execute("SELECT path, id, sha256, name FROM documents")}

    def remove_document(self, document_id: int) -> int:
        self.changed = True
        ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE document_id = ?",
                                                 (document_id,))]
        if ids:
            self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            self.db.executemany(
                "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', id, text FROM chunks WHERE id = ?",
                [(i,) for i in ids])
        self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        return len(ids)

    def add_document(self, document: Any, chunks: list[Any], chunk_vectors: np.ndarray,
                     sentence_vectors: list[np.ndarray]) -> None:
        self.changed = True
        cur = self.db.execute(
            "INSERT INTO documents(path, name, kind, sha256, pages, chunks, indexed_at) VALUES (?,?,?,?,?,?,?)",
            (document.path, document.name, document.kind, document.sha256,
             max((p.number for p in document.pages), default=0), len(chunks), time.time()))
        doc_id = cur.lastrowid
        self.db.executemany("INSERT INTO pages(document_id, number, text) VALUES (?,?,?)",
                            [(doc_id, p.number, p.text) for p in document.pages])
        ids = []
        for chunk, svecs in zip(chunks, sentence_vectors, strict=True):
            cur = self.db.execute(
                'INSERT INTO chunks(document_id, page, start, "end", text, tokens) VALUES (?,?,?,?,?,?)',
                (doc_id, chunk.page, chunk.start, chunk.end, chunk.text, chunk.tokens))
            chunk_id = cur.lastrowid
            ids.append(chunk_id)
            self.db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (chunk_id, chunk.text))
            self.db.executemany(
                'INSERT INTO sentences(chunk_id, page, start, "end", text, vector, heading) '
                "VALUES (?,?,?,?,?,?,?)",
                [(chunk_id, s.page, s.start, s.end, s.text, v.astype(np.float16).tobytes(), s.heading)
                 for s, v in zip(chunk.sentences, svecs, strict=True)])
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(chunk_vectors, dtype=np.float32),
                                      np.asarray(ids, dtype=np.int64))

    # --- switching -----------------------------------------------------------------------
    def convert(self, index_type: str) -> None:
        """Switch between exact (flat) and approximate (ivf) search, keeping every vector."""
        if index_type == self.index_type:
            return
        ids, vectors = all_vectors(self.vectors)
        if index_type == "ivf":
            self.vectors = ivf_from(ids, vectors)
        else:
            self.vectors = new_faiss(self.dim, index_type)
            if len(ids):
                self.vectors.add_with_ids(vectors, ids)
        self.index_type = index_type

    def commit(self, index_type: str = "auto") -> Manifest:
        import faiss

        if index_type == "auto":
            index_type = "ivf" if self.vectors.ntotal >= IVF_THRESHOLD else self.index_type
            if self.index_type == "ivf" and self.vectors.ntotal < IVF_THRESHOLD // 2:
                index_type = "flat"
        self.convert(index_type)
        self.db.commit()
        self.db.close()
        faiss.write_index(self.vectors, str(self.tmp / VECTORS))
        documents, chunks, sentences = self._counts_after_close()
        for file in self.tmp.iterdir():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        final = self.root / self.generation
        os.replace(self.tmp, final)
        now = time.time()
        manifest = Manifest(generation=self.generation, model=self.model, dim=self.dim,
                            backend=self.backend, index_type=self.index_type, documents=documents,
                            chunks=chunks, sentences=sentences,
                            created=self.previous.created if self.previous else now, updated=now)
        tmp = self.root / f"{MANIFEST}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / MANIFEST)
        self._drop_old(keep=manifest.generation)
        return manifest

    def _counts_after_close(self) -> tuple[int, int, int]:
        db = connect(self.tmp / SQLITE, readonly=True)
        try:
            return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                         for t in ("documents", "chunks", "sentences"))
        finally:
            db.close()

    def abort(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _drop_old(self, keep: str) -> None:
        """Keep the newest generations so readers that opened the previous one can finish."""
        gens = sorted(p for p in self.root.glob("gen-[0-9]*") if p.is_dir() and ".tmp-" not in p.name)
        for path in gens[:-KEEP_GENERATIONS]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)


def size_on_disk(root: Path, generation: str) -> int:
    return sum(f.stat().st_size for f in (root / generation).iterdir() if f.is_file())
