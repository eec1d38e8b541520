"""Answer quality on public QA data (SQuAD v1.1 dev part): retrieval recall, quote accuracy, abstention.

    python benchmarks/quality.py [--limit N] [--data PATH] [--calibrate]

Every paragraph is one document of one corpus; 10% of the paragraphs (fixed seed) are held out,
and their questions whose gold answers appear in no indexed paragraph must be abstained on.
The same table is printed for docqa's pipeline and two reference baselines, run in this process.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev-v1.1-part.json"


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def contains(text: str, answers: list[str]) -> bool:
    text = norm(text)
    return any(norm(a) in text for a in answers)


@dataclass
class Question:
    text: str
    answers: list[str]
    answerable: bool


def load_corpus(data: Path, folder: Path, limit: int | None, seed: int = 13) -> list[Question]:
    squad = json.loads(data.read_text())["data"]
    paragraphs = []
    for article in squad:
        for n, para in enumerate(article["paragraphs"]):
            paragraphs.append((f"{article['title']}-{n:03d}.txt", para))
    rng = random.Random(seed)
    held = set(rng.sample(range(len(paragraphs)), len(paragraphs) // 10))
    indexed_text = []
    for i, (name, para) in enumerate(paragraphs):
        if i not in held:
            (folder / name).write_text(para["context"], encoding="utf-8")
            indexed_text.append(norm(para["context"]))
    corpus = "\n".join(indexed_text)
    questions = []
    for i, (_, para) in enumerate(paragraphs):
        for qa in para["qas"]:
            answers = [a["text"] for a in qa["answers"]]
            if i in held:
                if not any(norm(a) in corpus for a in answers):
                    questions.append(Question(qa["question"], answers, False))
            else:
                questions.append(Question(qa["question"], answers, True))
    rng.shuffle(questions)
    if limit:
        answerable = [q for q in questions if q.answerable][:limit]
        unanswerable = [q for q in questions if not q.answerable][: max(1, limit // 8)]
        questions = answerable + unanswerable
    return questions


def evaluate(name: str, questions: list[Question], ask) -> dict[str, float]:
    """`ask(question) -> (passage_texts, quote_texts, abstained, best_score)`."""
    r1 = r5 = q1 = q3 = 0
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    abstained_right = abstained_wrong = 0
    scores: list[tuple[float, bool]] = []
    started = time.perf_counter()
    for q in questions:
        passages, quotes, abstained, best = ask(q.text)
        scores.append((best, q.answerable))
        if q.answerable:
            r1 += bool(passages[:1]) and contains(passages[0], q.answers)
            r5 += any(contains(p, q.answers) for p in passages[:5])
            q1 += bool(quotes[:1]) and contains(quotes[0], q.answers)
            q3 += any(contains(t, q.answers) for t in quotes[:3])
            abstained_wrong += abstained
        else:
            abstained_right += abstained
    seconds = time.perf_counter() - started
    n = max(len(answerable), 1)
    precision = abstained_right / max(abstained_right + abstained_wrong, 1)
    recall = abstained_right / max(len(unanswerable), 1)
    return {"name": name, "recall@1": r1 / n, "recall@5": r5 / n, "quote@1": q1 / n, "quote@3": q3 / n,
            "abstain_p": precision, "abstain_r": recall, "q/s": len(questions) / seconds,
            "_scores": scores}


def print_table(rows: list[dict]) -> None:
    cols = ["recall@1", "recall@5", "quote@1", "quote@3", "abstain_p", "abstain_r", "q/s"]
    print(f"{'pipeline':34s}" + "".join(f"{c:>11s}" for c in cols))
    for row in rows:
        print(f"{row['name']:34s}" + "".join(f"{row[c]:11.3f}" if c != "q/s" else f"{row[c]:11.1f}"
                                             for c in cols))


def abstention_at(scores: list[tuple[float, bool]], t: float) -> tuple[float, float, float]:
    """Abstention precision, recall, and the share of answerable questions still answered, at t."""
    right = sum(1 for s, a in scores if s < t and not a)
    wrong = sum(1 for s, a in scores if s < t and a)
    total = sum(1 for _, a in scores if not a)
    answerable = sum(1 for _, a in scores if a)
    return right / max(right + wrong, 1), right / max(total, 1), 1 - wrong / max(answerable, 1)


def calibrate(scores: list[tuple[float, bool]]) -> tuple[float, float]:
    """The threshold that maximises F1 of abstention, and that F1."""
    best = (0.0, -1.0)
    for t in np.linspace(0.0, 1.2, 241):
        right = sum(1 for s, a in scores if s < t and not a)
        wrong = sum(1 for s, a in scores if s < t and a)
        total = sum(1 for _, a in scores if not a)
        if right + wrong == 0 or total == 0:
            continue
        p, r = right / (right + wrong), right / total
        f1 = 2 * p * r / (p + r) if p + r else 0
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="answerable questions to ask")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()

    from qa import Answerer, Index, Retriever
    from qa.answerer import lexical_overlap
    from qa.text import stem, terms

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "squad"
        docs.mkdir()
        questions = load_corpus(args.data, docs, args.limit)
        n_ans = sum(q.answerable for q in questions)
        print(f"{len(list(docs.iterdir()))} documents, {n_ans} answerable and "
              f"{len(questions) - n_ans} unanswerable questions")
        started = time.perf_counter()
        index = Index.build([docs], path=Path(tmp) / "index", backend=args.backend)
        print(f"indexed {index.status()['chunks']} chunks in {time.perf_counter() - started:.1f} s")

        rows = []
        answerer = Answerer(Retriever(index))

        def docqa(question: str):
            answer = answerer.ask(question)
            cands = answerer.rank_sentences(question, question, list(answer.passages))
            best = cands[0].score if cands else 0.0
            return [p.text for p in answer.passages], [q.text for q in answer.quotes], answer.abstained, best

        rows.append(evaluate("docqa (hybrid + sentence scoring)", questions, docqa))

        bm25 = Retriever(index, mode="bm25")

        def bm25_only(question: str):
            passages = bm25.search(question, 5)
            qterms = {stem(w) for w in terms(question)}
            sents = sorted((s for p in passages for s in p.sentences),
                           key=lambda s: -lexical_overlap(qterms, s.text))
            return [p.text for p in passages], [s.text for s in sents[:3]], False, 1.0

        rows.append(evaluate("BM25 alone, top sentence by overlap", questions, bm25_only))
        dense = Retriever(index, mode="dense")

        def dense_only(question: str):
            passages = dense.search(question, 5)
            vecs = dense.sentence_vectors([p.id for p in passages])
            q = dense.embed_query(question)
            sents = [(float(v @ q), s.text) for p in passages for s, v in zip(p.sentences, vecs[p.id], strict=True)]
            sents.sort(key=lambda x: -x[0])
            return [p.text for p in passages], [t for _, t in sents[:3]], False, 1.0

        rows.append(evaluate("dense alone, top sentence by cosine", questions, dense_only))
        print_table(rows)
        threshold, f1 = calibrate(rows[0]["_scores"])
        print(f"\nabstention threshold maximising F1 on these questions: {threshold:.3f} (F1 {f1:.3f}); "
              f"current setting {answerer.threshold:.3f}")
        for t in sorted({threshold, answerer.threshold}):
            p, r, kept = abstention_at(rows[0]["_scores"], t)
            print(f"  at {t:.3f}: abstention precision {p:.3f}, recall {r:.3f}; answerable questions "
                  f"still answered {kept:.3f}")


if __name__ == "__main__":
    main()
