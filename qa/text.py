"""Small text helpers shared by lexical search and answer selection."""

from __future__ import annotations

import re

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours out over own same she should so some
such than that the their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours
many much did does say said tell told
""".split())

WORD = re.compile(r"\w+", re.UNICODE)


def terms(text: str) -> list[str]:
    """Content words, lower-cased, in order, without stop words; 'IS' (a name) survives as 'is' only
    when written in capitals."""
    out = []
    for match in WORD.finditer(text):
        word = match.group()
        low = word.lower()
        if low in STOPWORDS and not (word.isupper() and len(word) > 1):
            continue
        out.append(low)
    return out


def stem(word: str) -> str:
    """A light suffix stripper, enough to match 'escapes' with 'escaped'."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
