"""Small text helpers shared by lexical search and answer selection."""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence

# The tokenizer of the FTS5 table behind BM25 (qa/store.py); `stem` asks SQLite to apply the same one,
# so a word matches in answer scoring exactly when it matches in BM25.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

# Presentation forms (ligatures such as U+FB01 'ﬁ', Arabic contextual shapes) are glyphs, not letters:
# PDFs are full of them and no tokenizer folds them, so 'misﬁts' would never match 'misfits'.
PRESENTATION_FORMS = re.compile("[\ufb00-\ufdff\ufe70-\ufefe]+")

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


def normalize(text: str) -> str:
    """Page text as it is stored and quoted: NFC, with presentation forms replaced by their letters.

    Not full NFKC: that would also turn '10²' into '102' and change what a quote says."""
    text = unicodedata.normalize("NFC", text)
    return PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


class _SqliteStemmer:
    """Runs SQLite's own FTS5 tokenizer over words; a library Porter stemmer differs from SQLite's
    (Snowball's 'porter' gives 'possibli', 'technologi' where SQLite gives 'possibl', 'technolog')."""

    MAX_CACHE = 200_000

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, content='', tokenize='{FTS_TOKENIZE}')")
        self.db.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
        self.cache: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, words: Sequence[str]) -> list[str]:
        with self.lock:
            missing = list(dict.fromkeys(w for w in words if w not in self.cache))
            if missing:  # one round trip for all new words: ~12 µs a word, ~300 µs a call
                if len(self.cache) + len(missing) > self.MAX_CACHE:
                    self.cache.clear()
                with self.db:
                    self.db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(missing))
                parts: dict[int, list[str]] = {}
                for doc, term in self.db.execute('SELECT doc, term FROM stems ORDER BY doc, "offset"'):
                    parts.setdefault(doc, []).append(term)
                self.db.execute("INSERT INTO words(words) VALUES ('delete-all')")
                for i, word in enumerate(missing):
                    self.cache[word] = "".join(parts.get(i, ())) or word
            return [self.cache[w] for w in words]


_stemmer: _SqliteStemmer | None = None
_stemmer_lock = threading.Lock()


def stems(words: Sequence[str]) -> list[str]:
    """The forms BM25 indexes `words` under: lower-cased, without diacritics, Porter-stemmed by
    SQLite FTS5 itself, so 'studies' and 'study' (or 'escapes' and 'escaped') meet in both places."""
    global _stemmer
    with _stemmer_lock:
        if _stemmer is None:
            _stemmer = _SqliteStemmer()
    return _stemmer(words)


def stem(word: str) -> str:
    """One word's stem; see `stems`."""
    return stems([word])[0]


def stem_bags(texts: Sequence[str]) -> list[set[str]]:
    """The stems of each text's content words, with one call to SQLite for all the texts."""
    words = [terms(text) for text in texts]
    flat = stems([w for ws in words for w in ws])
    bags, at = [], 0
    for ws in words:
        bags.append(set(flat[at:at + len(ws)]))
        at += len(ws)
    return bags
