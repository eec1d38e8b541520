"""Sentence splitting and chunking with the real tokenizer, including property-based tests."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document, chunk_page, split_sentences
from qa.models import Document, Page
from qa.tokenizer import load_tokenizer

TOKENIZER = load_tokenizer()


def sentences_of(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_abbreviations_numbers_and_quotes() -> None:
    text = ("SDF spokesman Farhad Shami said Maj. Gen. John Brennan, the U.S. commander, arrived at "
            "5 p.m. on Jan. 3. He held 4,000 fighters and 3.5 tons of food. \"It is over,\" he said. "
            "John F. Kennedy spoke! Did he? Yes.")
    assert sentences_of(text) == [
        "SDF spokesman Farhad Shami said Maj. Gen. John Brennan, the U.S. commander, arrived at "
        "5 p.m. on Jan. 3.",
        "He held 4,000 fighters and 3.5 tons of food.",
        "\"It is over,\" he said.",
        "John F. Kennedy spoke!", "Did he?", "Yes."]


def test_headline_and_paragraphs_are_separate_sentences() -> None:
    text = "Big News Today\n\nThe first paragraph starts here. It ends here.\nA heading line\nBody goes on."
    assert sentences_of(text) == ["Big News Today", "The first paragraph starts here.", "It ends here.",
                                  "A heading line", "Body goes on."]


def test_chunks_fit_window_overlap_and_slice_back() -> None:
    text = " ".join(f"Sentence number {i} talks about the harbor and its {i * 7} boats." for i in range(200))
    chunks = chunk_page(4, text, TOKENIZER, target_tokens=120, overlap_tokens=30)
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.page == 4
        assert chunk.tokens <= 120 and TOKENIZER.count([chunk.text])[0] == chunk.tokens
        assert text[chunk.start:chunk.end] == chunk.text
        for s in chunk.sentences:
            assert text[s.start:s.end] == s.text
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert right.sentences[0] in left.sentences  # neighbours share sentences
        assert right.sentences[-1].end > left.sentences[-1].end  # and always move forward


def test_long_sentence_without_punctuation_respects_window() -> None:
    text = " ".join(f"word{i}" for i in range(3000))
    chunks = chunk_page(1, text, TOKENIZER)
    assert all(c.tokens <= TOKENIZER.max_tokens for c in chunks)
    assert " ".join(c.text for c in chunks).split()[-1] == "word2999"
    joined = {s.text for c in chunks for s in c.sentences}
    assert all(text[s.start:s.end] == s.text for c in chunks for s in c.sentences)
    assert len(joined) >= len(text) // 2000


def test_document_keeps_page_numbers() -> None:
    doc = Document(path="/x.pdf", name="x.pdf", kind="pdf", sha256="0",
                   pages=(Page(2, "Page two text. More."), Page(5, "Page five text.")))
    chunks = chunk_document(doc, TOKENIZER)
    assert [c.page for c in chunks] == [2, 5]


WORDS = st.sampled_from(["the", "harbor", "Mr.", "U.S.", "4,000", "3.5", "Dr.", "ship", "é", "東京",
                         "(note)", "\"quoted\"", "e.g.", "x" * 40, "antidisestablishmentarianism"])
PUNCT = st.sampled_from([".", "!", "?", ",", ";", "", "", "...", ".\n\n", "\n"])


@st.composite
def english_like(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 120))):
        parts.append(draw(WORDS) + draw(PUNCT))
    return " ".join(parts)


def check_properties(text: str) -> None:
    spans = split_sentences(text)
    covered = [False] * len(text)
    for a, b in spans:
        assert text[a:b] == text[a:b].strip() and a < b
        for i in range(a, b):
            assert not covered[i]
            covered[i] = True
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    chunks = chunk_page(1, text, TOKENIZER, target_tokens=60, overlap_tokens=15)
    in_chunks = set()
    for chunk in chunks:
        assert TOKENIZER.count([chunk.text])[0] <= TOKENIZER.max_tokens
        assert chunk.tokens <= 60 or len(chunk.sentences) == 1 or len(chunks) == 1 and chunk.tokens <= 75
        for s in chunk.sentences:
            assert text[s.start:s.end] == s.text
            in_chunks.add((s.start, s.end))
    for a, b in spans:  # every sentence (or every piece of a long one) lies in some chunk
        assert any(x <= a < y or (a <= x and y <= b) for x, y in in_chunks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_any_text(text: str) -> None:
    check_properties(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(english_like())
def test_english_like_text(text: str) -> None:
    check_properties(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " ", min_size=500, max_size=3000))
def test_no_punctuation_at_all(text: str) -> None:
    check_properties(text)


def test_page_that_fits_target_and_overlap_is_one_chunk() -> None:
    sentence = "The harbor council met on Tuesday to discuss the new ferry timetable for the winter."
    text = " ".join([sentence] * 13)  # about 220 tokens: over the 200 target, within 200 + 40
    tokens = TOKENIZER.count([text])[0]
    assert 200 < tokens <= 240
    chunks = chunk_page(1, text, TOKENIZER, target_tokens=200, overlap_tokens=40)
    assert len(chunks) == 1 and chunks[0].text == text and chunks[0].tokens == tokens
    assert len(chunks[0].sentences) == 13
    longer = " ".join([sentence] * 16)
    assert len(chunk_page(1, longer, TOKENIZER, target_tokens=200, overlap_tokens=40)) == 2
