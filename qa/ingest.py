"""Doing what a plan says: look at files (size first, then hash), read and chunk them, embed in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DocumentError
from .models import BuildReport, Chunk, Document, Skipped
from .planning import Found, Plan

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 256  # chunks embedded and written per step


def too_large(size: int, max_bytes: int) -> str:
    return (f"file too large ({size / 2**20:.1f} MB > {max_bytes / 2**20:g} MB limit; "
            "raise it with QA_MAX_FILE_MB)")


def scan(files: Sequence[tuple[Path, str]], *, max_bytes: int) -> list[Found]:
    """Each file's size and content hash; a file over the limit is never read."""
    from .documents import file_sha256

    found = []
    for file, name in files:
        try:
            size = file.stat().st_size
            if size > max_bytes:
                found.append(Found(str(file), name, size=size, problem=too_large(size, max_bytes)))
                continue
            found.append(Found(str(file), name, file_sha256(file), size))
        except OSError as exc:
            found.append(Found(str(file), name, problem=f"cannot read: {exc.strerror or exc}"))
    return found


def read(file: Found, tokenizer: Any, *, max_bytes: int, chunk_tokens: int,
         overlap_tokens: int) -> tuple[Document, list[Chunk]]:
    """Load and chunk one file; raises DocumentError with the reason it cannot be indexed."""
    from .chunking import chunk_document
    from .documents import load

    try:
        document = load(Path(file.path), file.name, max_bytes=max_bytes)
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
    chunks = chunk_document(document, tokenizer, target_tokens=chunk_tokens,
                            overlap_tokens=overlap_tokens)
    if not chunks:
        raise DocumentError("no text to index")
    return document, chunks


def embed_into(writer: Any, embedder: Any, todo: Sequence[tuple[Document, list[Chunk], int]],
               progress: Progress) -> int:
    """Embed chunks in large batches across documents (one model pass gives sentence vectors too)
    and add each document to `writer`; returns the number of chunks embedded."""
    total = sum(len(chunks) for _, chunks, _ in todo)
    done = 0
    progress("embedding", 0, total)

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress("embedding", done, total)

    batch: list[tuple[Document, list[Chunk], int]] = []
    for n, item in enumerate(todo):
        batch.append(item)
        if sum(len(c) for _, c, _ in batch) >= EMBED_BATCH or n == len(todo) - 1:
            flat = [c for _, chunks, _ in batch for c in chunks]
            spans = [[(s.start - c.start, s.end - c.start) for s in c.sentences] for c in flat]
            vectors, sentence_vectors = embedder.embed_with_spans([c.text for c in flat], spans,
                                                                  progress=step)
            at = 0
            for document, chunks, size in batch:
                k = len(chunks)
                writer.add_document(document, chunks, np.asarray(vectors[at:at + k]),
                                    sentence_vectors[at:at + k], size)
                at += k
            batch = []
    return total


def apply(plan: Plan, writer: Any, ids: dict[str, int], *, embedder: Callable[[], Any],
          settings: Any, progress: Progress) -> BuildReport:
    """Carry out `plan` in `writer` (ids: path -> document id); the model loads only if something
    must be embedded. A file that cannot be read is skipped and its older version, if any, kept."""
    skipped = [Skipped(f.name, f.problem) for f in plan.skip]
    skipped += [Skipped(f.name, f"same content as {twin}; indexed once") for f, twin in plan.duplicate]
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    todo: list[tuple[Document, list[Chunk], int]] = []
    added, updated = [], []
    wanted = [*plan.add, *plan.update]
    for done, file in enumerate(wanted):
        progress("reading", done, len(wanted))
        try:
            document, chunks = read(file, embedder().tokenizer, max_bytes=max_bytes,
                                    chunk_tokens=settings.chunk_tokens,
                                    overlap_tokens=settings.overlap_tokens)
        except DocumentError as exc:
            skipped.append(Skipped(file.name, str(exc)))
            continue
        todo.append((document, chunks, file.size))
        if file.path in ids:
            writer.remove_document(ids[file.path])
            updated.append(file.name)
        else:
            added.append(file.name)
    progress("reading", len(wanted), len(wanted))
    for known in plan.remove:
        writer.remove_document(ids[known.path])
    for move in plan.rename:
        writer.move_document(ids[move.old_path], move.new_path, move.new_name)
    embedded = embed_into(writer, embedder(), todo, progress) if todo else 0
    if todo:
        writer.backend = embedder().backend
    return BuildReport(added=tuple(added), updated=tuple(updated), unchanged=plan.unchanged,
                       renamed=tuple((m.old_name, m.new_name) for m in plan.rename),
                       removed=tuple(k.name for k in plan.remove), skipped=tuple(skipped),
                       chunks_embedded=embedded)
