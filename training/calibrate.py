"""Fit the reader's decision model and abstention threshold on the calibration articles.

    python training/calibrate.py --weights qa/weights

Runs docqa's own pipeline (retriever, heuristic scorer, reader) over an index of the calibration
articles with 10% of their paragraphs left out, then fits the two steps of `qa.reader.Decision`:
a ranking score over each read sentence's evidence (listwise: the softmax over a question's
sentences should favour the ones holding a gold answer), and a logistic model of "the best
sentence is right" over its score, its margin and its raw evidence. Last it picks the threshold
that abstains most while costing at most 2 points of quote@1. Writes WEIGHTS/reader.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Answerer, Index, Retriever  # noqa: E402
from qa.answerer import answer_values, features  # noqa: E402
from qa.reader import Decision, Reader  # noqa: E402
from training import squad  # noqa: E402

FEATURES = ("logit", "span", "heuristic", "heuristic_rank", "passage_rank", "logit*heuristic")
ANSWER_FEATURES = ("rank", "margin", "logit", "span", "heuristic")
PROVISIONAL = {"rank": {"features": ["logit"], "weights": [1.0]},
               "answer": {"features": ["rank"], "weights": [1.0], "bias": 0.0}, "threshold": 0.5}


@dataclass
class Case:
    kind: str  # answerable | left-out | adversarial
    answers: list[str]
    rows: np.ndarray  # (candidates, features)
    correct: np.ndarray  # (candidates,) the sentence holds a gold answer


def gather(split: str, reader: Reader, limit: int | None = None) -> list[Case]:
    """Run the pipeline over one split's questions and keep each read sentence's evidence."""
    paragraphs, items = squad.load(split)
    held = squad.hold_out(paragraphs)
    cases = []
    indexed = squad.indexed_text(paragraphs, held)
    with tempfile.TemporaryDirectory() as tmp:
        docs = squad.write_documents(paragraphs, Path(tmp) / "docs", held)
        answerer = Answerer(Retriever(Index.build([docs], path=Path(tmp) / "index")), reader=reader)
        for n, item in enumerate(items[:limit] if limit else items):
            kind = squad.kind_of(item, held, indexed)
            if kind is None:
                continue
            _, candidates = answerer.candidates(" ".join(item.question.split()))
            golds = [a for a, _ in item.answers]
            rows = np.array([[features(c)[f] for f in FEATURES] for c in candidates]).reshape(-1, len(FEATURES))
            correct = np.array([kind == "answerable" and squad.contains(c.sentence.text, golds)
                                for c in candidates], dtype=bool)
            cases.append(Case(kind, golds, rows, correct))
            if n % 200 == 0:
                print(f"{n}/{len(items)} questions", flush=True)
    return cases


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method (a handful of features, so this is exact and fast)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def fit_rank(cases: list[Case], l2: float = 1e-3) -> np.ndarray:
    """Weights whose softmax over each answerable question's sentences favours the right ones."""
    import torch

    usable = [c for c in cases if c.kind == "answerable" and c.correct.any()]
    xs = [torch.tensor(c.rows, dtype=torch.float64) for c in usable]
    ys = [torch.tensor(c.correct) for c in usable]
    w = torch.zeros(len(FEATURES), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w], max_iter=200)

    def loss_fn():
        optimiser.zero_grad()
        loss = sum(torch.logsumexp(x @ w, 0) - torch.logsumexp((x @ w)[y], 0) for x, y in zip(xs, ys, strict=True))
        loss = loss / len(xs) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(loss_fn)
    return w.detach().numpy()


def top_evidence(case: Case, rank_w: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """The best sentence's answer features (by `qa.answerer.answer_values`, as `decide` computes
    them), and whether quoting it is right."""
    if not len(case.rows):
        return None
    ranks = case.rows @ rank_w
    order = np.argsort(-ranks)
    top = int(order[0])
    values = answer_values(dict(zip(FEATURES, case.rows[top], strict=True)), float(ranks[top]),
                           float(ranks[order[1]]) if len(order) > 1 else None)
    return np.array([values[f] for f in ANSWER_FEATURES]), bool(case.correct[top])


def outcomes(cases: list[Case], rank_w: np.ndarray, answer_w: np.ndarray, bias: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the probability that the best sentence is right, and whether it is."""
    best, right = [], []
    for case in cases:
        top = top_evidence(case, rank_w)
        if top is None:
            best.append(0.0)
            right.append(False)
            continue
        best.append(float(1 / (1 + np.exp(-(top[0] @ answer_w + bias)))))
        right.append(case.kind == "answerable" and top[1])
    return np.array(best), np.array(right)


def report(cases: list[Case], best: np.ndarray, right: np.ndarray, threshold: float) -> dict[str, float]:
    kinds = np.array([c.kind for c in cases])
    answer = best >= threshold
    out = {}
    a = kinds == "answerable"
    out["quote@1"] = float((answer & right)[a].mean())
    out["answered"] = float(answer[a].mean())
    for kind in ("left-out", "adversarial"):
        k = kinds == kind
        if k.any():
            abstained = ~answer
            out[f"{kind} abstain"] = float(abstained[k].mean())
            wrong = abstained & a
            out[f"{kind} precision"] = float(abstained[k].sum() / max(1, abstained[k].sum() + wrong.sum()))
    return out


def choose(cases: list[Case], best: np.ndarray, right: np.ndarray, cost: float = 0.02) -> float:
    """The highest threshold that costs at most `cost` of the answerable questions' quote@1.

    The reader separates answerable from unanswerable questions only moderately, so a threshold
    that abstains on most unanswerable questions also refuses many answerable ones; a wrong
    abstention hides an answer the documents hold, so right answers come first."""
    kinds = np.array([c.kind for c in cases])
    answerable = kinds == "answerable"
    grid = np.round(np.arange(0.0, 0.96, 0.01), 2)
    quote = [float(((best >= t) & right)[answerable].mean()) for t in grid]
    allowed = [t for t, q in zip(grid, quote, strict=True) if q >= max(quote) - cost]
    return float(max(allowed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=ROOT / "qa" / "weights")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="refit on the evidence gathered by the last run (same reader)")
    args = parser.parse_args()
    meta_file = args.weights / "reader.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    meta["decision"] = PROVISIONAL
    meta_file.write_text(json.dumps(meta, indent=2))
    reader = Reader(args.weights)
    cache = ROOT / "training" / "runs" / "calibration-cases.pkl"
    if args.reuse and cache.exists():
        cases = pickle.loads(cache.read_bytes())  # our own file, written just below
    else:
        cases = gather("calibrate", reader, args.limit)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(cases))
    rank_w = fit_rank(cases)
    tops = [(top_evidence(c, rank_w), c.kind) for c in cases]
    x = np.array([t[0] for t, _ in tops if t is not None])
    y = np.array([kind == "answerable" and t[1] for t, kind in tops if t is not None], dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    w, b = fit((x - mean) / scale, y)
    answer_w = w / scale
    bias = b - float((w * mean / scale).sum())
    best, right = outcomes(cases, rank_w, answer_w, bias)
    threshold = choose(cases, best, right)
    for t in sorted({0.1, 0.2, 0.3, 0.4, threshold}):
        print(f"threshold {t:.2f}: " + ", ".join(f"{k} {v:.3f}" for k, v in report(cases, best, right, t).items()))
    meta["decision"] = {
        "rank": {"features": list(FEATURES), "weights": [round(float(v), 6) for v in rank_w]},
        "answer": {"features": list(ANSWER_FEATURES), "weights": [round(float(v), 6) for v in answer_w],
                   "bias": round(bias, 6)},
        "threshold": threshold,
        "fitted_on": "calibration articles: " + ", ".join(squad.CALIBRATE),
        "questions": {k: sum(c.kind == k for c in cases) for k in ("answerable", "left-out", "adversarial")},
        "at_threshold": {k: round(v, 4) for k, v in report(cases, best, right, threshold).items()}}
    Decision.from_dict(meta["decision"])  # what docqa will load
    meta_file.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    print(json.dumps(meta["decision"], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
