"""`Answerer.ask`: pick the sentences that answer, quote them verbatim with citations, or abstain.

Two scorers: the trained reader (default; qa/reader.py) re-reads the best sentences of the retrieved
passages, and a calibrated decision model turns its outputs and the heuristic evidence into the
probability that a sentence answers; `reader="off"` keeps the heuristic scorer alone (cosine of
sentence vectors plus rarity-weighted word overlap), for comparison and as the fallback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .display import shorten
from .errors import UserInputError
from .models import Answer, Passage, Quote, Sentence, ShortAnswer
from .reader import Decision, Reader, Reading, load_reader
from .retriever import Retriever
from .text import stem_bags, stems, terms

ANAPHORA = frozenset("he she him her his hers they them their theirs it its this that these those "
                     "there then such".split())
LEXICAL_WEIGHT = 0.4  # weight of the share of question words a sentence contains (tuned on benchmarks/quality.py)
RANK_WEIGHT = 0.03  # bonus for sentences of higher-ranked passages
MARGIN = 0.2  # heuristic scorer: further quotes must score within this of the best one
# The threshold is low because abstaining hides answers; a further quote is optional, so it must
# be more likely right than not, or the answer is padded with lookalikes ("181 people killed").
EXTRA_QUOTE_PROBABILITY = 0.5
HEURISTIC_THRESHOLD = 0.5  # heuristic scorer: abstain below this best score (benchmarks/README.md)


READER_MODES = ("on", "off")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage; `score` is the heuristic score, `probability` the
    reader's calibrated one (None with the reader off)."""

    passage: int  # index into the passages
    sentence: Sentence
    score: float
    reading: Reading | None = None
    probability: float | None = None
    order: int = 0  # rank by the heuristic score, 0 = best

    def quote_text(self, passage: Passage) -> str:
        """The quoted text: the sentence, with the one before it when it opens with a pronoun."""
        start = with_antecedent(self.sentence, passage)
        return passage.text[start - passage.start:self.sentence.end - passage.start]

    @property
    def rank_score(self) -> float:
        return self.score if self.probability is None else self.probability


def features(candidate: Candidate) -> dict[str, float]:
    """The evidence the decision weighs for one sentence read by the reader."""
    reading = candidate.reading
    assert reading is not None
    values = {"logit": reading.logit, "span": float(np.clip(reading.span_score, -20, 20)),
              "heuristic": candidate.score, "heuristic_rank": 1.0 / (1 + candidate.order),
              "passage_rank": 1.0 / (1 + candidate.passage)}
    values["logit*heuristic"] = values["logit"] * values["heuristic"]
    return values


def answer_values(values: dict[str, float], rank: float, best_other: float | None) -> dict[str, float]:
    """A sentence's evidence for the answer step: its own, its ranking score, and its margin over
    the best other sentence (5 when it is alone). training/calibrate.py fits on exactly this."""
    return {**values, "rank": rank, "margin": rank - best_other if best_other is not None else 5.0}


def decide(decision: Decision, candidates: list[Candidate]) -> list[Candidate]:
    """Order the read sentences by the decision's ranking score and give each the probability
    that quoting it is right, from its own evidence and its margin over the best other one."""
    values = [features(c) for c in candidates]
    ranks = [decision.rank(v) for v in values]
    out = []
    for n, (c, v) in enumerate(zip(candidates, values, strict=True)):
        others = ranks[:n] + ranks[n + 1:]
        v = answer_values(v, ranks[n], max(others) if others else None)
        out.append(replace(c, probability=decision.probability(v)))
    order = sorted(range(len(out)), key=lambda i: -ranks[i])
    return [out[i] for i in order]


def is_follow_up(question: str) -> bool:
    """A question that leans on the previous turn: a pronoun, or too few words of its own."""
    words = re.findall(r"\w+", question.lower())
    return bool(ANAPHORA.intersection(words)) or len(terms(question)) <= 1


def lexical_overlap(question_terms: set[str], sentence: str,
                    weights: dict[str, float] | None = None) -> float:
    """The (weighted) share of the question's words that the sentence contains."""
    if not question_terms:
        return 0.0
    words = stem_bags([sentence])[0]
    if weights is None:
        return len(question_terms & words) / len(question_terms)
    total = sum(weights.get(t, 1.0) for t in question_terms)
    return sum(weights.get(t, 1.0) for t in question_terms & words) / total


def local_idf(question_terms: set[str], sentences: list[str]) -> dict[str, float]:
    """Rarer words among the candidate sentences weigh more: 'spokesman' beats 'SDF' in an SDF story."""
    bags = stem_bags(sentences)
    n = len(bags)
    return {t: math.log(1 + (n + 1) / (1 + sum(t in bag for bag in bags))) for t in question_terms}


GAP_PATTERNS = [
    (re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|amount)\b", re.I),
     re.compile(r"\b(?:about |some |more than |at least |nearly |an estimated )?\d[\d,.]*(?:\s?(?:to|-)\s?\d[\d,.]*)?(?:\s?(?:percent|%|million|billion|thousand))?", re.I)),
    (re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b", re.I),
     re.compile(r"\b(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,? )?(?:(?:January|February|March|April|May|June|July|August|September|October|November|December) ?\d{0,2},? ?\d{4}|(?:January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}|\d{4}|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)\b")),
    (re.compile(r"\bwho(m|se)?\b", re.I),
     re.compile(r"\b[A-Z][\w.'-]*(?:\s+(?:al-|de |van |von )?[A-Z][\w.'-]*)+")),
]


def gap_span(question: str, sentence: str) -> tuple[int, int] | None:
    """The span of `sentence` that fills the question's gap (the number, date or name asked for)."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    for kind, pattern in GAP_PATTERNS:
        if not kind.search(question):
            continue
        for match in pattern.finditer(sentence):
            words = {w.lower() for w in re.findall(r"\w+", match.group())}
            if words and not words <= asked:
                return match.start(), match.end()
    return None


class Answerer:
    """Extractive answers: verbatim sentences of the indexed documents, each with its source."""

    def __init__(self, retriever: Retriever, *, threshold: float | None = None,
                 max_quotes: int | None = None, reader: str | Reader | None = None) -> None:
        self.retriever = retriever
        settings = retriever.settings
        self.max_quotes = max_quotes or settings.max_quotes
        self.reader_candidates = settings.reader_candidates
        mode = reader if reader is not None else settings.reader
        if isinstance(mode, Reader):
            self.reader: Reader | None = mode
        elif mode in READER_MODES:
            self.reader = load_reader() if mode == "on" else None
        elif Path(mode).expanduser().is_dir():
            self.reader = load_reader(Path(mode).expanduser())
        else:
            raise UserInputError(f"Unknown reader setting {mode!r}: use on, off, or the folder of a "
                                 "trained reader (reader.onnx and reader.json).")
        calibrated = self.reader.threshold if self.reader else HEURISTIC_THRESHOLD
        self.threshold = next(t for t in (threshold, settings.threshold, calibrated) if t is not None)

    def ask(self, question: str, history: Sequence[str] | None = None, *, k: int | None = None) -> Answer:
        """Answer `question`; `history` holds the conversation's earlier questions, oldest first."""
        question = " ".join(question.split())
        if not question:
            raise UserInputError("The question is empty.")
        passages, candidates = self.candidates(question, history, k=k)
        if not candidates or candidates[0].rank_score < self.threshold:
            return Answer(question=question, answer=abstain_text(question), abstained=True,
                          quotes=(), passages=tuple(passages))
        quotes = self.select(question, candidates, passages)
        text = "\n".join(f"“{q.text}” [{q.citation}]" for q in quotes)
        short = short_answer(quotes[0]) if self.reader else None
        return Answer(question=question, answer=text, abstained=False, quotes=tuple(quotes),
                      passages=tuple(passages), short_answer=short)

    def candidates(self, question: str, history: Sequence[str] | None = None, *,
                   k: int | None = None) -> tuple[list[Passage], list[Candidate]]:
        """The retrieved passages and their sentences, best first (by the reader when it is on)."""
        query = question
        if history and is_follow_up(question):
            query = f"{history[-1]} {question}"
        passages, vectors = self.retriever.search_with_vectors(query, k)
        ranked = self.rank_sentences(question, query, passages, vectors)
        if self.reader is None or not ranked:
            return passages, ranked
        return passages, self.read(question, ranked, passages)

    def read(self, question: str, ranked: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """Let the reader read the heuristic's best sentences (capped, for latency) and rank them by
        the calibrated decision. A follow-up's candidates come from passages retrieved, and
        sentences scored, with the previous question; the reader reads the follow-up itself,
        which asks for something else than the question before it."""
        assert self.reader is not None
        top = ranked[: self.reader_candidates]
        # The reader reads what would be quoted: "Its mayor is …" with the sentence naming "it".
        texts = [c.quote_text(passages[c.passage]) for c in top]
        readings = self.reader.read(question, texts)
        scored = [replace(c, reading=r, order=n) for n, (c, r) in enumerate(zip(top, readings, strict=True))]
        return decide(self.reader.decision, scored)

    def rank_sentences(self, question: str, query: str, passages: list[Passage],
                       vectors: dict[int, np.ndarray] | None = None) -> list[Candidate]:
        if not passages:
            return []
        if vectors is None:
            vectors = self.retriever.sentence_vectors([p.id for p in passages])
        qvec = self.retriever.embed_query(question)
        cvec = self.retriever.embed_query(query) if query != question else None
        qterms = set(stems(terms(query)))
        weights = local_idf(qterms, [s.text for p in passages for s in p.sentences])
        best: dict[tuple[str, int, int, int], Candidate] = {}
        for rank, passage in enumerate(passages):
            svecs = vectors.get(passage.id)
            if svecs is None or len(svecs) != len(passage.sentences):
                continue
            cos = svecs @ qvec
            if cvec is not None:
                cos = (cos + svecs @ cvec) / 2
            for sentence, c in zip(passage.sentences, cos, strict=True):
                if sentence.heading:  # a title names the topic; it never answers
                    continue
                score = float(c) + LEXICAL_WEIGHT * lexical_overlap(qterms, sentence.text, weights) \
                    + RANK_WEIGHT / (rank + 1)
                key = (passage.source, sentence.page, sentence.start, sentence.end)
                if key not in best or best[key].score < score:
                    best[key] = Candidate(rank, sentence, score)
        return sorted(best.values(), key=lambda c: -c.score)

    def select(self, question: str, candidates: list[Candidate], passages: list[Passage]) -> list[Quote]:
        """The best sentence, then others that also pass: with the reader, the threshold and
        EXTRA_QUOTE_PROBABILITY; with the heuristic scorer, within MARGIN of the best."""
        top = candidates[0].rank_score
        floor = max(self.threshold, EXTRA_QUOTE_PROBABILITY) if self.reader else top - MARGIN
        chosen = [candidates[0]] + [c for c in candidates[1: self.max_quotes] if c.rank_score >= floor]
        quotes = []
        for c in chosen:
            passage = passages[c.passage]
            text = c.quote_text(passage)
            start = c.sentence.end - len(text)
            if c.reading:
                span, shift = reader_span(c, text), 0  # the reader read the quote itself
            else:
                span, shift = gap_span(question, c.sentence.text), c.sentence.start - start
            quotes.append(Quote(text=text, source=passage.source, page=c.sentence.page, start=start,
                                end=c.sentence.end, score=round(float(c.rank_score), 4),
                                citation=c.passage + 1,
                                highlight=(span[0] + shift, span[1] + shift) if span else None))
        return quotes


def reader_span(candidate: Candidate, text: str) -> tuple[int, int] | None:
    """The reader's short answer inside `text` (what it read), trimmed of surrounding punctuation."""
    if candidate.reading is None or candidate.reading.span is None:
        return None
    a, b = candidate.reading.span
    while a < b and not text[a].isalnum() and text[a] not in "$£€\"“'":
        a += 1
    while b > a and text[b - 1] in " ,;:.)]":
        b -= 1
    return (a, b) if b > a else None


def short_answer(quote: Quote) -> ShortAnswer | None:
    """The few words that answer: the first quote's highlight (the reader's span in the text it
    read, which is the quote), with exact offsets in the page."""
    if quote.highlight is None:
        return None
    a, b = quote.highlight
    return ShortAnswer(text=quote.text[a:b], source=quote.source, page=quote.page,
                       start=quote.start + a, end=quote.start + b)


PRONOUN_START = re.compile(r"[\"“']?(He|She|It|They|This|That|These|Those|His|Her|Its|Their|Such)\b")


def with_antecedent(sentence: Sentence, passage: Passage) -> int:
    """Where the quote starts: a sentence opening with a pronoun brings the one before it along,
    so "He said ..." arrives with the sentence that says who he is."""
    if not PRONOUN_START.match(sentence.text):
        return sentence.start
    before = [s for s in passage.sentences if s.page == sentence.page and s.end <= sentence.start]
    if before and before[-1].start >= passage.start and not before[-1].heading:
        return before[-1].start
    return sentence.start


def abstain_text(question: str) -> str:
    return (f"The documents don't say. None of the indexed passages answers “{shorten(question, 200)}”; "
            "the closest ones are listed below.")
