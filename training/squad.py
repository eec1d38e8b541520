"""The shared SQuAD parts, split by article into training, calibration and reporting sets.

The split is fixed here, and nothing else decides it: the reader is trained on TRAIN, its threshold
and decision weights are fitted on CALIBRATE, and benchmarks/quality.py reports on REPORT only.
No article is in two sets, so no figure is measured on what it was tuned on.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
V11 = "squad-dev-v1.1-part.json"
V20 = "squad-dev-v2.0-part.json"
TRAIN10 = "squad-train-v2.0-first10.json"

# Articles of the SQuAD 2.0 training set's first ten and of the two development parts.
TRAIN = (
    "Beyoncé", "Frédéric_Chopin", "Sino-Tibetan_relations_during_the_Ming_dynasty", "IPod",
    "The_Legend_of_Zelda:_Twilight_Princess", "Spectre_(2015_film)", "2008_Sichuan_earthquake",
    "New_York_City", "To_Kill_a_Mockingbird", "Solar_energy",
    "Super_Bowl_50", "Teacher", "Apollo_program", "Newcastle_upon_Tyne", "Genghis_Khan",
    "Oxygen", "1973_oil_crisis", "European_Union_law", "Black_Death", "Geology", "Construction",
    "Imperialism",
)
CALIBRATE = ("Civil_disobedience", "Harvard_University", "Jacksonville,_Florida", "Prime_number", "Force")
REPORT = ("Warsaw", "Victoria_(Australia)", "Packet_switching", "Immune_system",
          "University_of_Chicago", "Islamism", "French_and_Indian_War")
SPLITS = {"train": TRAIN, "calibrate": CALIBRATE, "report": REPORT}


@dataclass(frozen=True)
class Item:
    """One question on one paragraph: `answers` are (text, start) in the paragraph; none when the
    question is SQuAD 2.0 impossible, where `plausible` may hold the lookalike span."""

    article: str
    paragraph: int
    question: str
    answers: tuple[tuple[str, int], ...]
    plausible: tuple[tuple[str, int], ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def document(self) -> str:
        return document_name(self.article, self.paragraph)


def document_name(article: str, paragraph: int) -> str:
    return f"{article}-{paragraph:03d}.txt"


def _articles(name: str, data: Path) -> dict[str, dict]:
    return {a["title"]: a for a in json.loads((data / name).read_text(encoding="utf-8"))["data"]}


def load(split: str, data: Path = DATA) -> tuple[dict[str, str], list[Item]]:
    """(document name -> paragraph text, questions) of one split. An article's SQuAD 2.0 copy is
    used where there is one (it adds the impossible questions), else its SQuAD 1.1 copy."""
    titles = SPLITS[split]
    sources = {**_articles(V11, data), **_articles(V20, data), **_articles(TRAIN10, data)}
    paragraphs: dict[str, str] = {}
    items: list[Item] = []
    for title in titles:
        for n, para in enumerate(sources[title]["paragraphs"]):
            paragraphs[document_name(title, n)] = para["context"]
            for qa in para["qas"]:
                answers = tuple((a["text"], a["answer_start"]) for a in qa.get("answers", []))
                plausible = tuple((a["text"], a["answer_start"]) for a in qa.get("plausible_answers", []))
                items.append(Item(title, n, qa["question"], answers, plausible))
    return paragraphs, items


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def contains(text: str, answers: list[str] | tuple[str, ...]) -> bool:
    """SQuAD-style check: one gold answer is inside `text`, case and white space aside."""
    text = norm(text)
    return any(norm(a) in text for a in answers if a.strip())


def hold_out(paragraphs: dict[str, str], fraction: float = 0.1, seed: int = 13) -> set[str]:
    """The documents left out of the index (fixed seed): their questions test abstention."""
    names = sorted(paragraphs)
    return set(random.Random(seed).sample(names, int(len(names) * fraction)))


def write_documents(paragraphs: dict[str, str], folder: Path, leave_out: set[str] | frozenset = frozenset()) -> Path:
    """One text file per paragraph in `folder`, except those left out; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in paragraphs.items():
        if name not in leave_out:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def indexed_text(paragraphs: dict[str, str], leave_out: set[str]) -> str:
    """All indexed paragraphs, normalised, to tell whether any of them holds an answer."""
    return norm(" \n ".join(t for n, t in paragraphs.items() if n not in leave_out))


def kind_of(item: Item, leave_out: set[str], indexed: str) -> str | None:
    """answerable (its paragraph is indexed), left-out (its paragraph is not, and no indexed text
    holds its answer), adversarial (SQuAD 2.0 impossible, paragraph indexed), or None (neither)."""
    if not item.answerable:
        return "adversarial" if item.document not in leave_out else None
    if item.document in leave_out:
        return None if contains(indexed, [a for a, _ in item.answers]) else "left-out"
    return "answerable"
