"""The reader: a cross-encoder trained in this repository (training/) that reads a question with one
sentence and tells whether the sentence answers it, and which words are the short answer.

It runs as int8 ONNX from `qa/weights/reader.onnx`; `reader.json` beside it holds how it was
trained and the decision weights and threshold fitted on the calibration articles.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReaderError

WEIGHTS = Path(__file__).resolve().parent / "weights"
REBUILD = "reinstall docqa, or rebuild it with `make reader` (see training/README.md)"
MAX_SPAN_TOKENS = 24


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one sentence: `logit` > 0 leans to "answers"; `span` is the short
    answer's character span inside the sentence, `span_score` how much the span beats "no answer"."""

    logit: float
    span: tuple[int, int] | None
    span_score: float


@dataclass(frozen=True)
class Decision:
    """The calibrated decision over the reader's outputs and the heuristic evidence, in two steps:
    a linear ranking score orders the sentences (fitted listwise: which one answers), then a
    logistic model of a sentence's score, its margin over the best other sentence and its raw
    evidence gives the probability that quoting it is right; below `threshold` docqa abstains."""

    rank_features: tuple[str, ...]
    rank_weights: tuple[float, ...]
    answer_features: tuple[str, ...]
    answer_weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        rank, answer = data["rank"], data["answer"]
        decision = cls(tuple(rank["features"]), tuple(float(w) for w in rank["weights"]),
                       tuple(answer["features"]), tuple(float(w) for w in answer["weights"]),
                       float(answer["bias"]), float(data["threshold"]))
        if len(decision.rank_features) != len(decision.rank_weights) or \
                len(decision.answer_features) != len(decision.answer_weights):
            raise ValueError("features and weights differ in number")
        return decision

    def rank(self, values: dict[str, float]) -> float:
        return sum(w * values[f] for f, w in zip(self.rank_features, self.rank_weights, strict=True))

    def probability(self, values: dict[str, float]) -> float:
        z = self.bias + sum(w * values[f] for f, w in zip(self.answer_features, self.answer_weights,
                                                           strict=True))
        return float(1.0 / (1.0 + np.exp(-z)))


class Reader:
    """Scores (question, sentence) pairs; thread-safe, loaded once per process by `load_reader`."""

    def __init__(self, folder: Path = WEIGHTS, *, threads: int | None = None) -> None:
        model, meta = folder / "reader.onnx", folder / "reader.json"
        for file in (model, meta):
            if not file.is_file():
                raise ReaderError(f"The reader model file {file} is missing: {REBUILD}.")
        try:
            self.meta: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8"))
            self.decision = Decision.from_dict(self.meta["decision"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ReaderError(f"The reader file {meta} is damaged ({exc}): {REBUILD}.") from exc
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from .tokenizer import resolve_model_dir

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise ReaderError(f"The reader model file {model} is damaged ({str(exc)[:120]}): {REBUILD}.") from exc
        self.tokenizer = Tokenizer.from_file(str(resolve_model_dir("all-MiniLM-L6-v2") / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(self.meta.get("max_tokens", 128)), strategy="longest_first")
        self.tokenizer.enable_padding(pad_id=0)
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        return self.decision.threshold

    def read(self, question: str, sentences: Sequence[str], *, batch_size: int = 32) -> list[Reading]:
        """One `Reading` per sentence, in order."""
        out: list[Reading] = []
        for at in range(0, len(sentences), batch_size):
            batch = list(sentences[at:at + batch_size])
            with self._lock:  # the tokenizer's padding state is shared
                encodings = self.tokenizer.encode_batch([(question, s) for s in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids,
                     "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                     "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
            logits, starts, ends = self.session.run(None, feeds)
            for row, e in enumerate(encodings):
                span, score = best_span(starts[row], ends[row], e.sequence_ids, e.offsets)
                out.append(Reading(float(logits[row]), span, score))
        return out


def best_span(starts: np.ndarray, ends: np.ndarray, sequence_ids: list[int | None],
              offsets: list[tuple[int, int]]) -> tuple[tuple[int, int] | None, float]:
    """The best start/end pair inside the sentence (at most MAX_SPAN_TOKENS long), as character
    offsets in the sentence, and its score minus the no-answer score at [CLS]."""
    inside = np.array([s == 1 for s in sequence_ids])
    if not inside.any():
        return None, float("-inf")
    s = np.where(inside, starts, -np.inf)
    e = np.where(inside, ends, -np.inf)
    n = len(s)
    pair = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    pair[(j < i) | (j - i >= MAX_SPAN_TOKENS)] = -np.inf
    flat = int(np.argmax(pair))
    a, b = divmod(flat, n)
    score = float(pair[a, b] - (starts[0] + ends[0]))
    return (offsets[a][0], offsets[b][1]), score


_READERS: dict[Path, Reader] = {}
_LOCK = threading.Lock()


def load_reader(folder: Path | None = None) -> Reader:
    """The shipped reader (or the one in `folder`), loaded once per process."""
    folder = (folder or WEIGHTS).resolve()
    with _LOCK:
        if folder not in _READERS:
            _READERS[folder] = Reader(folder)
        return _READERS[folder]
