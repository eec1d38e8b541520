"""Every SQL statement of docqa: the SQLite file of one generation, behind named operations.

`Rows` reads (what the retriever, the answerer and `Index.documents` need); `RowWriter` also
changes documents. Nothing outside this module writes SQL.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorrupt
from .models import Sentence
from .planning import Known
from .text import FTS_TOKENIZE

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    kind TEXT NOT NULL, sha256 TEXT NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL,
    indexed_at REAL NOT NULL, size INTEGER NOT NULL DEFAULT -1);
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


def connect(file: Path, *, readonly: bool) -> sqlite3.Connection:
    """Open by URI built with `as_uri()`, so `#`, `?` and `%` in a folder name stay part of the path."""
    uri = Path(file).resolve().as_uri() + ("?mode=ro" if readonly else "")
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _match(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


class Rows:
    """Named reads over one generation's SQLite file."""

    def __init__(self, db: sqlite3.Connection, where: Path) -> None:
        self.db = db
        try:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{where} is not a readable SQLite file ({exc}); rebuild the index.") from exc
        missing = REQUIRED_TABLES - names
        if missing:
            raise IndexCorrupt(f"{where} lacks tables {sorted(missing)}; rebuild the index.")

    @classmethod
    def open(cls, file: Path) -> Rows:
        return cls(connect(file, readonly=True), file)

    def close(self) -> None:
        self.db.close()

    def known(self) -> dict[str, tuple[int, Known]]:
        """path -> (document id, what the planner needs to know) for every document."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(documents)")}
        size = "size" if "size" in columns else "-1"
        return {path: (doc_id, Known(path, name, sha, size))
                for doc_id, path, name, sha, size in self.db.execute(
                    f"SELECT id, path, name, sha256, {size} FROM documents")}

    def documents(self) -> list[tuple[str, str, str, int, int]]:
        """(name, path, kind, pages, chunks) of every document, by name."""
        return self.db.execute("SELECT name, path, kind, pages, chunks FROM documents ORDER BY name").fetchall()

    def page_text(self, source: str, page: int) -> str | None:
        row = self.db.execute(
            "SELECT p.text FROM pages p JOIN documents d ON d.id = p.document_id "
            "WHERE (d.name = ? OR d.path = ?) AND p.number = ?", (source, source, page)).fetchone()
        return row[0] if row else None

    def counts(self) -> tuple[int, int, int]:
        """Documents, chunks and sentences."""
        return tuple(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("documents", "chunks", "sentences"))

    def search_text(self, words: list[str], n: int) -> list[int]:
        """Chunk ids holding any of `words`, best BM25 first."""
        if not words:
            return []
        rows = self.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                               (" OR ".join(_match(w) for w in words), n))
        return [row[0] for row in rows]

    def chunks_with(self, word: str, limit: int) -> int:
        """How many chunks hold `word`, counting no further than `limit` (cheap for common words)."""
        return self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
            (_match(word), limit)).fetchone()[0]

    def chunks_for(self, ids: list[int]) -> dict[int, tuple[str, str, int, int, int]]:
        """chunk id -> (text, document name, page, start, end)."""
        if not ids:
            return {}
        rows = self.db.execute(
            f'SELECT c.id, c.text, d.name, c.page, c.start, c."end" FROM chunks c '
            f"JOIN documents d ON d.id = c.document_id WHERE c.id IN ({_marks(ids)})", ids)
        return {row[0]: row[1:] for row in rows}

    def sentences_for(self, ids: list[int]) -> dict[int, list[Sentence]]:
        """chunk id -> its sentences in reading order."""
        out: dict[int, list[Sentence]] = {}
        if ids:
            for cid, page, start, end, text, heading in self.db.execute(
                    f'SELECT chunk_id, page, start, "end", text, heading FROM sentences '
                    f"WHERE chunk_id IN ({_marks(ids)}) ORDER BY chunk_id, start", ids):
                out.setdefault(cid, []).append(Sentence(page, start, end, text, bool(heading)))
        return out

    def sentence_vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        """chunk id -> (n_sentences, dim) float32, in the order of `sentences_for`."""
        out: dict[int, list[np.ndarray]] = {}
        if ids:
            for cid, blob in self.db.execute(
                    f"SELECT chunk_id, vector FROM sentences WHERE chunk_id IN ({_marks(ids)}) "
                    "ORDER BY chunk_id, start", ids):
                out.setdefault(cid, []).append(np.frombuffer(blob, dtype=np.float16))
        return {cid: np.vstack(vs).astype(np.float32) for cid, vs in out.items()}


class RowWriter(Rows):
    """Changes to the SQLite file of a generation being written (journal off: it is thrown away on error)."""

    def __init__(self, file: Path, *, source: Rows | None = None) -> None:
        db = connect(file, readonly=False)
        if source is not None:
            source.db.backup(db)
        else:
            db.executescript(SCHEMA)
        super().__init__(db, file)
        if "size" not in {row[1] for row in db.execute("PRAGMA table_info(documents)")}:
            db.execute("ALTER TABLE documents ADD COLUMN size INTEGER NOT NULL DEFAULT -1")
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")

    def chunk_ids(self, document_id: int) -> list[int]:
        return [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE document_id = ?",
                                                  (document_id,))]

    def remove_document(self, document_id: int) -> list[int]:
        """Deletes the document with its pages, chunks and sentences; returns its chunk ids."""
        ids = self.chunk_ids(document_id)
        self.db.executemany(
            "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', id, text FROM chunks WHERE id = ?",
            [(i,) for i in ids])
        self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        return ids

    def move_document(self, document_id: int, path: str, name: str) -> None:
        self.db.execute("UPDATE documents SET path = ?, name = ? WHERE id = ?", (path, name, document_id))

    def add_document(self, document: Any, chunks: list[Any], sentence_vectors: list[np.ndarray],
                     size: int = -1) -> list[int]:
        """Inserts the document, its pages, chunks (with their FTS rows) and sentences; returns chunk ids."""
        cur = self.db.execute(
            "INSERT INTO documents(path, name, kind, sha256, pages, chunks, indexed_at, size) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (document.path, document.name, document.kind, document.sha256,
             max((p.number for p in document.pages), default=0), len(chunks), time.time(), size))
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
        return ids

    def save(self) -> None:
        self.db.commit()
        self.db.close()
