"""Changing an index: build, add, upload and remove, each in one new generation under the writer lock.

`qa.planning` decides what to do, `qa.ingest` reads and embeds, `qa.store` writes; this module
holds them together for one `Index`, whose public methods call it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import store
from .errors import IndexCorrupt, IndexNotFound, UserInputError
from .models import BuildReport, Skipped

if TYPE_CHECKING:
    from .index import Index, Progress


def _noop(stage: str, done: int, total: int) -> None:
    pass


class Builder:
    """The write side of one `Index`."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.path = index.path
        self.uploads = index.uploads

    def sync(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
             progress: Progress | None = None, remove_missing: bool = True,
             prune_uploads: bool = False) -> BuildReport:
        """Add new files, re-embed changed ones, move renamed ones and (with remove_missing) drop
        the ones not given. Uploads are always looked at, unless `prune_uploads` drops those not given."""
        from .documents import discover
        from .ingest import apply, scan
        from .planning import plan_sync

        started = time.perf_counter()
        given = list(paths) if paths else self.index.default_paths()
        if remove_missing and not prune_uploads and self.uploads.folder.is_dir():
            given.append(self.uploads.folder)
        files, skipped = discover(given)
        files = [(file, self.uploads.name_for(file) or name) for file, name in files]
        progress = progress or _noop
        with store.writer_lock(self.path):
            if self.index.exists:
                try:
                    self.index.snapshot  # noqa: B018 - refuse a model mismatch before any work
                except IndexCorrupt:
                    pass  # the writer starts a fresh generation
            writer = self._writer()
            try:
                known = writer.known()
                found = scan(files, max_bytes=int(self.index.settings.max_file_mb * 2**20))
                gone = [p for p in known if not remove_missing and not Path(p).exists()]
                plan = plan_sync([k for _, k in known.values()], found,
                                 remove_missing=remove_missing, gone=gone)
                report = apply(plan, writer, {p: i for p, (i, _) in known.items()},
                               embedder=lambda: self.index.embedder, settings=self.index.settings,
                               progress=progress)
                self._finish(writer)
            except BaseException:
                writer.abort()
                raise
        if prune_uploads:
            self.uploads.delete(k.path for k in plan.remove)
        return dataclasses.replace(report, skipped=(*skipped, *report.skipped),
                                   seconds=time.perf_counter() - started)

    def add(self, paths: Sequence[str | os.PathLike[str]], *, progress: Progress | None = None) -> BuildReport:
        """Index new or changed files (and moves of indexed ones); nothing else is touched."""
        if not paths:
            raise UserInputError("Name at least one file or folder to add.")
        return self.sync(paths, progress=progress, remove_missing=False)

    def upload(self, files: Sequence[str | os.PathLike[str]], *, max_upload_mb: float = 20.0,
               progress: Progress | None = None) -> BuildReport:
        """Keep files given on the page in the index's uploads folder and index them; a file
        rejected or not indexable is reported in `skipped` and not kept."""
        saved, rejected = self.uploads.save(files, max_upload_mb)
        report = BuildReport()
        if saved:
            try:
                report = self.add([s.path for s in saved], progress=progress)
            except BaseException:
                self.uploads.delete(s.path for s in saved if s.fresh)
                raise
            failed = {item.path for item in report.skipped}
            self.uploads.delete(s.path for s in saved
                                if s.fresh and self.uploads.name_for(s.path) in failed)
        return dataclasses.replace(
            report, skipped=(*report.skipped, *(Skipped(n, r) for n, r in rejected)))

    def remove(self, paths: Iterable[str | os.PathLike[str]]) -> BuildReport:
        """Remove documents by name, path (a folder removes everything under it) or the end of a
        name; an unknown or ambiguous one raises UserInputError and nothing is removed. Never loads the model."""
        from .planning import plan_remove

        started = time.perf_counter()
        wanted = [str(p) for p in paths]
        if not wanted:
            raise UserInputError("Name at least one document to remove.")
        with store.writer_lock(self.path):
            if not self.index.exists:
                raise IndexNotFound(f"No index at {self.path}: run `qa index build` first.")
            writer = self._writer()
            try:
                known = writer.known()
                targets = plan_remove([k for _, k in known.values()], wanted,
                                      lambda item: str(Path(item).expanduser().resolve()))
                for target in targets:
                    writer.remove_document(known[target.path][0])
                self._finish(writer)
            except BaseException:
                writer.abort()
                raise
        self.uploads.delete(t.path for t in targets)  # else the next build would bring it back
        return BuildReport(removed=tuple(t.name for t in targets),
                           seconds=time.perf_counter() - started)

    def _writer(self) -> store.Writer:
        """The next generation; the dimension comes from the manifest, so no model is loaded for it."""
        try:
            manifest = store.read_manifest(self.path)
            dim, backend = manifest.dim, manifest.backend
        except (IndexNotFound, IndexCorrupt):
            dim, backend = self.index.embedder.dim, self.index.embedder.backend
        return store.Writer(self.path, model=self.index.model, dim=dim, backend=backend)

    @staticmethod
    def _finish(writer: store.Writer) -> None:
        """Switch the new generation in if anything changed, else throw it away."""
        if writer.changed:
            writer.commit()
        else:
            writer.abort()
