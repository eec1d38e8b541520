"""`Retriever.search`: dense (FAISS), lexical (SQLite FTS5 BM25) and their reciprocal-rank fusion."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

import numpy as np

from .config import Settings
from .errors import UserInputError
from .index import Index
from .models import Passage, Sentence
from .text import terms

MODES = ("dense", "bm25", "hybrid")
PRUNE_FROM = 20_000  # chunks; below this BM25 scores every query word


class Retriever:
    """Returns the passages that support an answer; safe to share between threads."""

    def __init__(self, index: Index, *, mode: str | None = None, settings: Settings | None = None) -> None:
        self.index = index
        self.settings = settings or index.settings
        self.mode = mode or self.settings.mode
        if self.mode not in MODES:
            raise UserInputError(f"Unknown mode {self.mode!r}; choose one of {', '.join(MODES)}.")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = Lock()

    def embed_query(self, text: str) -> np.ndarray:
        with self._cache_lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        vector = np.asarray(self.index.embedder.embed([text])[0], dtype=np.float32)
        with self._cache_lock:
            self._cache[text] = vector
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return vector

    def search(self, question: str, k: int | None = None, *, mode: str | None = None) -> list[Passage]:
        """The k best passages for `question`, best first; `Passage.score` is cosine similarity."""
        return self.search_with_vectors(question, k, mode=mode)[0]

    def search_with_vectors(self, question: str, k: int | None = None, *, mode: str | None = None
                            ) -> tuple[list[Passage], dict[int, np.ndarray]]:
        """Passages and their sentence vectors, read from one generation even if a build switches."""
        question = question.strip()
        if not question:
            raise UserInputError("The question is empty.")
        k = k or self.settings.k
        mode = mode or self.mode
        snapshot = self.index.snapshot
        n = max(self.settings.candidates, k)
        dense: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            qvec = self.embed_query(question)
            scores, ids = snapshot.vectors.search(qvec[None, :], min(n, max(snapshot.vectors.ntotal, 1)))
            dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        lexical: list[int] = []
        if mode in ("bm25", "hybrid"):
            lexical = self.lexical(question, n, snapshot)
        if mode == "dense":
            ranked = [i for i, _ in dense]
        elif mode == "bm25":
            ranked = lexical
        else:
            fused: dict[int, float] = {}
            for ranking, weight in (([i for i, _ in dense], 1.0), (lexical, self.settings.bm25_weight)):
                for rank, cid in enumerate(ranking):
                    fused[cid] = fused.get(cid, 0.0) + weight / (self.settings.rrf_k + rank + 1)
            ranked = sorted(fused, key=lambda cid: -fused[cid])
        ranked = ranked[:k]
        cosine = dict(dense)
        if mode != "bm25":
            missing = [cid for cid in ranked if cid not in cosine]
            if missing:
                qvec = self.embed_query(question)
                for cid in missing:
                    cosine[cid] = float(snapshot.vectors.reconstruct(cid) @ qvec)
        passages = self.passages(ranked, cosine, snapshot)
        return passages, self.sentence_vectors([p.id for p in passages], snapshot)

    def lexical(self, question: str, n: int, snapshot: Any = None) -> list[int]:
        words = list(dict.fromkeys(terms(question)))
        if not words:
            return []
        snapshot = snapshot or self.index.snapshot
        if snapshot.manifest.chunks >= PRUNE_FROM:
            words = self.rare_terms(words, snapshot)
        match = " OR ".join('"' + w.replace('"', '') + '"' for w in words)
        rows = snapshot.query(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", (match, n))
        return [row[0] for row in rows]

    @staticmethod
    def rare_terms(words: list[str], snapshot: Any) -> list[str]:
        """Drop words found in over 5% of the chunks: they barely move BM25 but cost the most to
        score (a 100k-chunk query falls from 26 to 7 ms); keep the two rarest if all are common."""
        limit = max(1, snapshot.manifest.chunks // 20)
        counts = {w: snapshot.query(
            "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
            ('"' + w.replace('"', '') + '"', limit))[0][0] for w in words}
        return [w for w in words if counts[w] < limit] or sorted(words, key=counts.__getitem__)[:2]

    def passages(self, ids: list[int], scores: dict[int, float], snapshot: Any = None) -> list[Passage]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        snapshot = snapshot or self.index.snapshot
        rows = snapshot.query(
            f'SELECT c.id, c.text, d.name, c.page, c.start, c."end" FROM chunks c '
            f"JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})", ids)
        sentences: dict[int, list[Sentence]] = {}
        for cid, page, start, end, text, heading in snapshot.query(
                f'SELECT chunk_id, page, start, "end", text, heading FROM sentences '
                f"WHERE chunk_id IN ({marks}) ORDER BY chunk_id, start", ids):
            sentences.setdefault(cid, []).append(Sentence(page, start, end, text, bool(heading)))
        by_id = {row[0]: row for row in rows}
        return [Passage(id=cid, text=by_id[cid][1], source=by_id[cid][2], page=by_id[cid][3],
                        score=scores.get(cid, 0.0), start=by_id[cid][4], end=by_id[cid][5],
                        sentences=tuple(sentences.get(cid, ())))
                for cid in ids if cid in by_id]

    def sentence_vectors(self, passage_ids: list[int], snapshot: Any = None) -> dict[int, np.ndarray]:
        """chunk id -> (n_sentences, dim) float32, in the order of `Passage.sentences`."""
        if not passage_ids:
            return {}
        marks = ",".join("?" * len(passage_ids))
        out: dict[int, list[np.ndarray]] = {}
        for cid, blob in (snapshot or self.index.snapshot).query(
                f"SELECT chunk_id, vector FROM sentences WHERE chunk_id IN ({marks}) ORDER BY chunk_id, start",
                passage_ids):
            out.setdefault(cid, []).append(np.frombuffer(blob, dtype=np.float16))
        return {cid: np.vstack(vs).astype(np.float32) for cid, vs in out.items()}
