"""Answer quality and latency on SQuAD articles that nothing was trained or tuned on.

    python benchmarks/quality.py [--limit N] [--latency N] [--batch N]

The reporting articles (training/squad.py: REPORT) are indexed one paragraph per document, with 10%
of the paragraphs left out (fixed seed). docqa with its trained reader and with today's heuristic
scorer (`--reader off`) answer the same questions in the same run:
- answerable questions (their paragraph is indexed): passage recall@5, quote@1, quote@3, short
  answer F1 (SQuAD token F1 against the gold answers; 0 when it abstains);
- left-out questions (their paragraph is not indexed and no indexed text holds the answer): how
  many it abstains on, and the share of all its abstentions that are right;
- SQuAD 2.0's adversarial unanswerable questions mixed half and half with answerable ones.
Then latency: warm answers in-process, a cold `qa ask` process, and `qa ask --json --batch`.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import statistics
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training import squad  # noqa: E402

TARGETS = {"quote@1": 0.85, "recall@5": 0.95, "left-out abstain": 0.60, "left-out precision": 0.70,
           "adversarial abstain": 0.50, "adversarial precision": 0.70, "mix quote@1": 0.80,
           "short F1": 0.60}


def normalise_answer(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return text.split()


def token_f1(prediction: str, golds: list[str]) -> float:
    """SQuAD's token F1, the best over the gold answers."""
    best = 0.0
    pred = normalise_answer(prediction)
    for gold in golds:
        ref = normalise_answer(gold)
        common = sum((collections.Counter(pred) & collections.Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


@dataclass
class Tally:
    answerable: list[dict] = field(default_factory=list)
    left_out: list[bool] = field(default_factory=list)
    adversarial: list[bool] = field(default_factory=list)

    def figures(self, mix_seed: int = 5) -> dict[str, float]:
        a = self.answerable
        n = max(1, len(a))
        wrong_abstain = sum(r["abstained"] for r in a)
        out = {"recall@5": sum(r["recall@5"] for r in a) / n,
               "quote@1": sum(r["quote@1"] for r in a) / n,
               "quote@3": sum(r["quote@3"] for r in a) / n,
               "short F1": sum(r["f1"] for r in a) / n,
               "answered": 1 - wrong_abstain / n}
        right = sum(self.left_out)
        out["left-out abstain"] = right / max(1, len(self.left_out))
        out["left-out precision"] = right / max(1, right + wrong_abstain)
        # SQuAD 2.0's adversarial questions, half and half with as many answerable ones.
        rng = random.Random(mix_seed)
        m = min(len(self.adversarial), len(a))
        mixed = rng.sample(a, m)
        adv = rng.sample(self.adversarial, m)
        right = sum(adv)
        wrong = sum(r["abstained"] for r in mixed)
        out["adversarial abstain"] = right / max(1, m)
        out["adversarial precision"] = right / max(1, right + wrong)
        out["mix quote@1"] = sum(r["quote@1"] for r in mixed) / max(1, m)
        return out


def run(answerer, items: list[tuple[str, squad.Item]]) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    for kind, item in items:
        answer = answerer.ask(item.question)
        if kind == "answerable":
            golds = [a for a, _ in item.answers]
            quotes = [q.text for q in answer.quotes]
            short = answer.short_answer.text if answer.short_answer else (quotes[0] if quotes else "")
            tally.answerable.append({
                "recall@5": any(squad.contains(p.text, golds) for p in answer.passages[:5]),
                "quote@1": bool(quotes) and squad.contains(quotes[0], golds),
                "quote@3": any(squad.contains(q, golds) for q in quotes[:3]),
                "f1": 0.0 if answer.abstained else token_f1(short, golds),
                "abstained": answer.abstained})
        elif kind == "left-out":
            tally.left_out.append(answer.abstained)
        else:
            tally.adversarial.append(answer.abstained)
    return tally, time.perf_counter() - started


def questions(paragraphs: dict[str, str], items: list[squad.Item], held: set[str],
              limit: int | None) -> list[tuple[str, squad.Item]]:
    indexed = squad.indexed_text(paragraphs, held)
    out = [(kind, item) for item in items if (kind := squad.kind_of(item, held, indexed))]
    random.Random(11).shuffle(out)
    if limit:
        by_kind: dict[str, list] = collections.defaultdict(list)
        for kind, item in out:
            by_kind[kind].append((kind, item))
        out = [x for kind in by_kind for x in by_kind[kind][:limit]]
    return out


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def latency(answerer, texts: list[str]) -> tuple[float, float]:
    answerer.ask(texts[0])
    times = []
    for text in texts:
        started = time.perf_counter()
        answerer.ask(text)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def cli_seconds(args: list[str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", *args], input=stdin, text=True, check=True,
                   capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="questions of each kind")
    parser.add_argument("--latency", type=int, default=100, help="questions timed one by one")
    parser.add_argument("--batch", type=int, default=1000, help="questions in the batch run")
    parser.add_argument("--split", default="report", choices=sorted(squad.SPLITS))
    args = parser.parse_args()

    from qa import Answerer, Index, Retriever

    paragraphs, items = squad.load(args.split)
    held = squad.hold_out(paragraphs)
    asked = questions(paragraphs, items, held, args.limit)
    counts = collections.Counter(kind for kind, _ in asked)
    print(f"{args.split} articles: {', '.join(squad.SPLITS[args.split])}")
    print(f"{len(paragraphs) - len(held)} paragraphs indexed, {len(held)} left out; questions: "
          + ", ".join(f"{counts[k]} {k}" for k in ("answerable", "left-out", "adversarial")))
    with tempfile.TemporaryDirectory() as tmp:
        docs = squad.write_documents(paragraphs, Path(tmp) / "docs", held)
        index_dir = Path(tmp) / "index"
        index = Index.build([docs], path=index_dir)
        retriever = Retriever(index)
        pipelines = {"reader": Answerer(retriever, reader="on"),
                     "heuristic (--reader off)": Answerer(retriever, reader="off")}
        results = {}
        for name, answerer in pipelines.items():
            tally, seconds = run(answerer, asked)
            results[name] = tally.figures()
            print(f"{name}: {len(asked)} questions in {seconds:.0f} s", flush=True)
        names = list(pipelines)
        print(f"\n{'measure':24s}" + "".join(f"{n:>26s}" for n in names) + f"{'target':>10s}")
        for key in results[names[0]]:
            target = f"≥ {TARGETS[key]:.2f}" if key in TARGETS else ""
            print(f"{key:24s}" + "".join(f"{results[n][key]:26.3f}" for n in names) + f"{target:>10s}")

        texts = [item.question for _, item in asked]
        print(f"\nlatency, warm, in-process, {args.latency} questions (ms):")
        for name, answerer in pipelines.items():
            p50, p95 = latency(answerer, texts[: args.latency])
            print(f"  {name:26s} p50 {p50:6.1f}  p95 {p95:6.1f}   (targets with the reader: 250 / 500)")
        question = texts[0]
        for reader in ("on", "off"):
            cold = statistics.median(cli_seconds(["ask", "--index", str(index_dir), "--reader", reader,
                                                  question]) for _ in range(3))
            print(f"cold `qa ask --reader {reader}`: {cold:.2f} s (median of 3; target ≤ 1.5 s)")
        batch = "\n".join((texts * (args.batch // max(1, len(texts)) + 1))[: args.batch]) + "\n"
        for reader in ("on", "off"):
            seconds = cli_seconds(["ask", "--index", str(index_dir), "--reader", reader, "--json",
                                   "--batch", "-"], batch)
            print(f"`qa ask --json --batch` of {args.batch} questions, reader {reader}: "
                  f"{args.batch / seconds:.1f} questions/s (target ≥ 4)")


if __name__ == "__main__":
    main()
