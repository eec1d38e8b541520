"""The data that flows through docqa: plain frozen dataclasses that turn into JSON with one call."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    """One page of a document's text; text files and HTML have a single page 1.

    `headings` are the spans of text[start:end] the format marks as headings (Markdown '#', HTML
    <h1>): they become sentences of their own that are searched but never quoted as an answer."""

    number: int
    text: str
    headings: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Document:
    """A file read into pages; `sha256` of the file bytes decides whether it must be re-embedded."""

    path: str  # absolute path: the key that identifies a document in the index
    name: str  # what a person sees: the path relative to where it was indexed from, or the file name
    kind: str  # pdf | txt | md | html
    sha256: str
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class Sentence:
    """A sentence with its exact place: `page_text[start:end] == text`; a heading is never quoted."""

    page: int
    start: int
    end: int
    text: str
    heading: bool = False


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one page that fit the model's token window."""

    page: int
    start: int
    end: int
    text: str  # page_text[start:end]
    sentences: tuple[Sentence, ...]
    tokens: int = 0


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: what the answer's quotes come from."""

    id: int
    text: str
    source: str
    page: int
    score: float
    start: int = 0
    end: int = 0
    sentences: tuple[Sentence, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "source": self.source, "page": self.page,
                "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class Quote:
    """A verbatim sentence of a document that answers the question; `citation` numbers the passage it came from (1-based)."""

    text: str
    source: str
    page: int
    start: int
    end: int
    score: float
    citation: int = 0
    highlight: tuple[int, int] | None = None  # span inside `text` that best matches what was asked

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(float(self.score), 4)
        data["highlight"] = list(self.highlight) if self.highlight else None
        return data


@dataclass(frozen=True)
class ShortAnswer:
    """The few words that answer, inside the first quote: `page_text[start:end] == text`."""

    text: str
    source: str
    page: int
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    quotes: tuple[Quote, ...]
    passages: tuple[Passage, ...]
    short_answer: ShortAnswer | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "abstained": self.abstained,
                "short_answer": self.short_answer.to_dict() if self.short_answer else None,
                "quotes": [q.to_dict() for q in self.quotes],
                "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class BuildReport:
    """What a build, add or remove did: the CLI prints it, the page shows it."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    chunks_embedded: int = 0
    seconds: float = 0.0
    renamed: tuple[tuple[str, str], ...] = ()  # (old name, new name): moved files, nothing re-embedded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed)
