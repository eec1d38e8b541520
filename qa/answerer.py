"""`Answerer.ask`: pick the sentences that answer, quote them verbatim with citations, or abstain."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import UserInputError
from .models import Answer, Passage, Quote, Sentence
from .retriever import Retriever
from .text import stem_bags, stems, terms

ANAPHORA = frozenset("he she him her his hers they them their theirs it its this that these those "
                     "there then such".split())
LEXICAL_WEIGHT = 0.4  # weight of the share of question words a sentence contains (tuned on benchmarks/quality.py)
RANK_WEIGHT = 0.03  # bonus for sentences of higher-ranked passages
MARGIN = 0.2  # further quotes must score within this of the best one


@dataclass(frozen=True)
class Candidate:
    passage: int  # index into the passages
    sentence: Sentence
    score: float


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
                 max_quotes: int | None = None) -> None:
        self.retriever = retriever
        settings = retriever.settings
        self.threshold = settings.threshold if threshold is None else threshold
        self.max_quotes = max_quotes or settings.max_quotes

    def ask(self, question: str, history: Sequence[str] | None = None, *, k: int | None = None) -> Answer:
        """Answer `question`; `history` holds the conversation's earlier questions, oldest first."""
        question = " ".join(question.split())
        if not question:
            raise UserInputError("The question is empty.")
        query = question
        if history and is_follow_up(question):
            query = f"{history[-1]} {question}"
        passages, vectors = self.retriever.search_with_vectors(query, k)
        candidates = self.rank_sentences(question, query, passages, vectors)
        if not candidates or candidates[0].score < self.threshold:
            return Answer(question=question, answer=abstain_text(question), abstained=True,
                          quotes=(), passages=tuple(passages))
        quotes = self.select(question, candidates, passages)
        text = "\n".join(f"“{q.text}” [{q.citation}]" for q in quotes)
        return Answer(question=question, answer=text, abstained=False, quotes=tuple(quotes),
                      passages=tuple(passages))

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
        top = candidates[0].score
        chosen = [c for c in candidates[: self.max_quotes] if c.score >= top - MARGIN]
        quotes = []
        for c in chosen:
            passage = passages[c.passage]
            start = with_antecedent(c.sentence, passage)
            text = passage.text[start - passage.start:c.sentence.end - passage.start]
            span = gap_span(question, c.sentence.text)
            shift = c.sentence.start - start
            quotes.append(Quote(text=text, source=passage.source, page=c.sentence.page, start=start,
                                end=c.sentence.end, score=float(np.round(c.score, 4)),
                                citation=c.passage + 1,
                                highlight=(span[0] + shift, span[1] + shift) if span else None))
        return quotes


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
    return (f"The documents don't say. None of the indexed passages answers “{question}”; "
            "the closest ones are listed below.")
