"""Build the reader's (question, sentence) training pairs from the training articles.

    python training/make_pairs.py --out training/runs/pairs.jsonl

Positives are the sentence that holds the gold answer (with the answer's span in it). Negatives are
the hard ones the product meets: the best-scoring other sentences of the question's own paragraph,
the lookalike span of SQuAD 2.0's impossible questions, and the top sentences that docqa's own
retriever and scorer bring from other paragraphs (what a left-out paragraph looks like).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Answerer, Index, Retriever  # noqa: E402
from qa.answerer import lexical_overlap  # noqa: E402
from qa.chunking import split_sentences  # noqa: E402
from qa.text import stem, terms  # noqa: E402
from training import squad  # noqa: E402


def sentence_of(spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    for a, b in spans:
        if a <= start and end <= b:
            return a, b
    return None


def own_negatives(question: str, text: str, spans: list[tuple[int, int]], avoid: list[str],
                  n: int) -> list[str]:
    """The paragraph's sentences most like the question that hold no gold answer."""
    qterms = {stem(w) for w in terms(question)}
    pool = [text[a:b] for a, b in spans if not squad.contains(text[a:b], avoid)]
    pool.sort(key=lambda s: -lexical_overlap(qterms, s))
    return pool[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "training" / "runs" / "pairs.jsonl")
    parser.add_argument("--split", default="train")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--own", type=int, default=2, help="negatives from the own paragraph")
    parser.add_argument("--retrieved", type=int, default=3, help="negatives from other paragraphs")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    paragraphs, items = squad.load(args.split)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    counts = {"positive": 0, "negative": 0, "skipped": 0}
    with tempfile.TemporaryDirectory() as tmp:
        docs = squad.write_documents(paragraphs, Path(tmp) / "docs")
        index = Index.build([docs], path=Path(tmp) / "index")
        retriever = Retriever(index)
        answerer = Answerer(retriever)
        with args.out.open("w", encoding="utf-8") as out:
            for n, item in enumerate(items):
                text = paragraphs[item.document]
                spans = split_sentences(text)
                pairs: list[dict] = []
                golds = [a for a, _ in item.answers] + [a for a, _ in item.plausible]
                if item.answerable:
                    answer, start = item.answers[0]
                    sent = sentence_of(spans, start, start + len(answer))
                    if sent is None or text[start:start + len(answer)] != answer:
                        counts["skipped"] += 1
                        continue
                    a, b = sent
                    pairs.append({"q": item.question, "s": text[a:b], "label": 1,
                                  "span": [start - a, start - a + len(answer)]})
                    avoid = golds
                else:
                    for answer, start in item.plausible[:1]:
                        sent = sentence_of(spans, start, start + len(answer))
                        if sent:
                            pairs.append({"q": item.question, "s": text[sent[0]:sent[1]], "label": 0,
                                          "span": None, "kind": "plausible"})
                    avoid = []
                seen = {p["s"] for p in pairs}
                for s in own_negatives(item.question, text, spans, avoid, args.own + (not item.answerable)):
                    if s not in seen:
                        seen.add(s)
                        pairs.append({"q": item.question, "s": s, "label": 0, "span": None, "kind": "own"})
                passages, vectors = retriever.search_with_vectors(item.question, 5)
                taken = 0
                for c in answerer.rank_sentences(item.question, item.question, passages, vectors):
                    s = c.sentence.text
                    if taken >= args.retrieved or passages[c.passage].source == item.document:
                        continue
                    if s in seen or (avoid and squad.contains(s, avoid)):
                        continue
                    seen.add(s)
                    taken += 1
                    pairs.append({"q": item.question, "s": s, "label": 0, "span": None, "kind": "retrieved"})
                for p in pairs:
                    p["article"] = item.article
                    counts["positive" if p["label"] else "negative"] += 1
                    out.write(json.dumps(p, ensure_ascii=False) + "\n")
                if n % 500 == 0:
                    print(f"{n}/{len(items)} questions, {counts}", flush=True)
    print(f"done: {counts}; seed {args.seed}; shuffled at training time", flush=True)
    del rng


if __name__ == "__main__":
    main()
