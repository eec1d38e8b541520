"""How docqa words things for a person: the CLI, the page and the answerer share these rules."""

from __future__ import annotations


def shorten(text: str, limit: int = 200) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters with "…" at the end,
    so that a message quoting a 5,000-word question stays readable."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > 0:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 chunk', '2 chunks', '0 documents': a number with its noun in the right form."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def shown_score(score: float) -> float:
    """A similarity as a person should read it, from 0 (no match) to 1: cosine similarity goes
    below zero for unrelated text, and a negative score only confuses."""
    return min(1.0, max(0.0, float(score)))
