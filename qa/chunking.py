"""Sentences with exact offsets, grouped into chunks that fit the embedding model's token window."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence

from .models import Chunk, Document, Sentence
from .tokenizer import Tokenizer

ABBREVIATIONS = frozenset("""
mr mrs ms dr prof gen maj col lt sgt capt cmdr adm gov sen rep st jr sr messrs mt ft vs etc
no nos fig figs vol pp inc ltd co corp dept univ approx est jan feb mar apr jun jul aug sep sept
oct nov dec mon tue tues wed thu thur fri sat sun al eg ie cf ca rev hon
""".split())

# A candidate end: ., !, ?, … (possibly repeated), then closing quotes/brackets, then whitespace.
END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
STARTS_SENTENCE = re.compile(r"[\"'“‘(\[]*[A-Z0-9À-ÖØ-Þ]")
PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` ends an abbreviation, an initial or a dotted acronym (U.S.)."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].strip(".")
    if not word:
        return False
    if "." in word:  # U.S, e.g, a.m
        return True
    if len(word) == 1 and word.isalpha():  # an initial: John F. Kennedy
        return True
    return word.lower() in ABBREVIATIONS


NEWLINE_RUN = re.compile(r"\n\s*")  # a line end and the blank space after it
FOLLOWS_SENTENCE_END = re.compile(r"\s*" + STARTS_SENTENCE.pattern)


def _line_breaks(text: str, start: int, end: int) -> list[int]:
    """Split points at line ends that close a heading or list line (no final punctuation).

    One pass: each run of blank space is looked at once, so a page of many lines stays linear."""
    cuts = []
    previous_end = start
    for match in NEWLINE_RUN.finditer(text, start, end):
        at, after = match.start(), match.end()
        before = at - 1
        while before >= previous_end and text[before].isspace():
            before -= 1
        previous_end = after
        if before < start or after >= end:
            continue
        if text[before] not in ".,;:!?…\"'”’-–—(" and (STARTS_SENTENCE.match(text, after, end)
                                                       or text[after] in "#*-•"):
            cuts.append(at)
    return cuts


def split_sentences(text: str, breaks: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, stripped, in order, covering all its words;
    `breaks` are extra places where a sentence must end (the edges of headings).

    Hand-written rather than a library splitter: those return sentence strings, not spans, and
    re-finding each string in the page would be slow and wrong for repeated sentences."""
    cuts: list[int] = [0, *breaks]
    for match in PARAGRAPH.finditer(text):
        cuts.append(match.start())
    for match in END.finditer(text):
        end = match.end()
        if not FOLLOWS_SENTENCE_END.match(text, end):
            continue
        if match.end() - match.start() == 1 and text[match.start()] == "." \
                and _is_abbreviation(text, match.start()):
            # "Gen. John" stays together; "in the U.S. The" is ambiguous: keep together too.
            continue
        cuts.append(end)
    cuts.append(len(text))
    cuts = sorted({c for c in cuts if 0 <= c <= len(text)})
    pieces: list[int] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        pieces.append(a)
        pieces.extend(_line_breaks(text, a, b))
    pieces.append(len(text))
    spans = []
    for a, b in zip(pieces, pieces[1:], strict=False):
        segment = text[a:b]
        stripped = segment.strip()
        if not stripped:
            continue
        s = a + (len(segment) - len(segment.lstrip()))
        spans.append((s, s + len(stripped)))
    return spans


def _split_long(text: str, start: int, end: int, tokenizer: Tokenizer, limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence into pieces of at most `limit` tokens, at spaces where possible."""
    offsets = [(start + a, start + b) for a, b in tokenizer.offsets(text[start:end])]
    pieces = []
    i = 0
    while i < len(offsets):
        j = min(i + limit, len(offsets))
        if j < len(offsets):
            # prefer a cut after a comma/semicolon, else at a space between tokens
            best = None
            for k in range(j - 1, i + limit // 2, -1):
                gap = text[offsets[k - 1][1]:offsets[k][0]]
                if text[offsets[k - 1][1] - 1] in ",;:" and gap:
                    best = k
                    break
                if best is None and gap:
                    best = k
            j = best or j
        a, b = offsets[i][0], offsets[j - 1][1]
        pieces.append((a, b))
        i = j
    return pieces or [(start, end)]


def _in_spans(spans: Sequence[tuple[int, int]]) -> Callable[[int, int], bool]:
    """A test for 'a:b lies inside one of `spans`' (sorted, not overlapping), in log time."""
    starts = [a for a, _ in spans]

    def inside(a: int, b: int) -> bool:
        i = bisect.bisect_right(starts, a) - 1
        return i >= 0 and b <= spans[i][1]
    return inside


def chunk_page(page: int, text: str, tokenizer: Tokenizer, *, target_tokens: int = 200,
               overlap_tokens: int = 40, headings: Sequence[tuple[int, int]] = ()) -> list[Chunk]:
    """Greedy sentence packing up to `target_tokens`; neighbours share up to `overlap_tokens`.
    Each span of `headings` becomes sentences of its own, flagged so they are never quoted.

    A page within `target_tokens + overlap_tokens` (and the window) stays one chunk: cut in two, its
    halves would share most of their sentences, and every extra chunk costs a model pass.
    """
    limit = min(target_tokens, tokenizer.max_tokens)
    headings = sorted(headings)
    is_heading = _in_spans(headings)
    spans = split_sentences(text, [x for span in headings for x in span])
    if not spans:
        return []
    counts = tokenizer.count([text[a:b] for a, b in spans])
    whole = min(target_tokens + overlap_tokens, tokenizer.max_tokens)
    if sum(counts) <= whole:
        start, end = spans[0][0], spans[-1][1]
        tokens = tokenizer.count([text[start:end]])[0]
        if tokens <= whole:
            return [Chunk(page=page, start=start, end=end, text=text[start:end],
                          sentences=tuple(Sentence(page, a, b, text[a:b], is_heading(a, b))
                                          for a, b in spans), tokens=tokens)]
    sentences: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, counts, strict=True):
        if n <= limit:
            sentences.append((a, b, n))
        else:
            pieces = _split_long(text, a, b, tokenizer, limit)
            for (pa, pb), pn in zip(pieces, tokenizer.count([text[x:y] for x, y in pieces]), strict=True):
                sentences.append((pa, pb, pn))
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (j == i or total + sentences[j][2] + 1 <= limit):
            total += sentences[j][2] + (1 if j > i else 0)
            j += 1
        group = sentences[i:j]
        chunk_text = text[group[0][0]:group[-1][1]]
        tokens = tokenizer.count([chunk_text])[0]
        while tokens > tokenizer.max_tokens and len(group) > 1:  # counts of pieces did not add up
            group = group[:-1]
            j -= 1
            chunk_text = text[group[0][0]:group[-1][1]]
            tokens = tokenizer.count([chunk_text])[0]
        chunks.append(Chunk(page=page, start=group[0][0], end=group[-1][1], text=chunk_text,
                            sentences=tuple(Sentence(page, a, b, text[a:b], is_heading(a, b))
                                             for a, b, _ in group),
                            tokens=tokens))
        if j >= len(sentences):
            break
        # step back over trailing sentences that fit the overlap, always moving forward
        back, carried = j, 0
        while back - 1 > i and carried + sentences[back - 1][2] <= overlap_tokens:
            back -= 1
            carried += sentences[back][2]
        i = back
    return chunks


def chunk_document(document: Document, tokenizer: Tokenizer, *, target_tokens: int = 200,
                   overlap_tokens: int = 40) -> list[Chunk]:
    chunks: list[Chunk] = []
    for page in document.pages:
        chunks.extend(chunk_page(page.number, page.text, tokenizer, target_tokens=target_tokens,
                                 overlap_tokens=overlap_tokens, headings=page.headings))
    return chunks
