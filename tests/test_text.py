"""One stemmer for BM25 and answer scoring; headings are searched but never quoted."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from qa.answerer import lexical_overlap
from qa.chunking import chunk_document, split_sentences
from qa.documents import load
from qa.text import FTS_TOKENIZE, stems
from qa.tokenizer import load_tokenizer

WORDS = """studies study studying studied escapes escaped escaping caresses ponies ties cats running
runs ran relational conditional rational valenci hesitanci digitizer conformabli radicalli
differentli vileli analogousli vietnamization predication operator feudalism decisiveness
hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize electriciti
electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible
irritant replacement adjustment dependent adoption homologou communism activate angulariti
homologous effective bowdlerize probate rate cease controlling rolling possibly technology analogy
café naïve as is yes news""".split()


def sqlite_stems(words: list[str]) -> list[str]:
    """What the FTS5 index of docqa stores for each word, read back from SQLite itself."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZE}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(words))
    found = dict(db.execute("SELECT doc, term FROM v").fetchall())
    return [found[i] for i in range(len(words))]


def test_python_stems_agree_with_sqlite() -> None:
    assert len(WORDS) >= 50
    assert stems(WORDS) == sqlite_stems(WORDS)


def test_store_uses_the_same_tokenizer() -> None:
    from qa.rows import SCHEMA

    assert f"tokenize='{FTS_TOKENIZE}'" in SCHEMA


def test_inflections_match_in_answer_scoring_and_bm25(tmp_path: Path) -> None:
    from qa import Index, Retriever

    assert lexical_overlap(set(stems(["studies"])), "One study found it.") == 1.0
    assert lexical_overlap(set(stems(["escaped"])), "The prisoner escapes at night.") == 1.0
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A careful study of the lighthouse was published in 1901.")
    (docs / "b.txt").write_text("The cat escapes from the garden every evening.")
    retriever = Retriever(Index.build([docs], path=tmp_path / "index"), mode="bm25")
    assert retriever.search("studies", k=1)[0].source == "docs/a.txt"
    assert retriever.search("escaped", k=1)[0].source == "docs/b.txt"


def test_five_megabyte_page_splits_in_linear_time() -> None:
    unit = ("Mr. Smith met Dr. Jones in the U.S. on Jan. 3. They talked!\nA heading line\n"
            "- a list item\n\n   \n\n\"Is it over?\" he asked. It was 3.5 tons.  \t \n")
    text = unit * (5_000_000 // len(unit))
    started = time.perf_counter()
    spans = split_sentences(text)
    seconds = time.perf_counter() - started
    assert seconds < 20, seconds
    first = ["Mr. Smith met Dr. Jones in the U.S. on Jan. 3.", "They talked!", "A heading line",
             "- a list item", "\"Is it over?\" he asked.", "It was 3.5 tons."]
    units = 5_000_000 // len(unit)
    assert len(spans) == 6 * units
    assert [text[a:b] for a, b in spans] == first * units  # offsets exact to the end
    last = spans[-1]
    assert last[0] == (units - 1) * len(unit) + unit.index("It was")


def test_markdown_and_html_headings_are_flagged(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# The Zorblat Festival\n\nIt is held in Quenby.\n\nHistory\n=======\n\n"
                    "```\n# not a heading\n```\n")
    doc = load(note)
    chunks = chunk_document(doc, load_tokenizer())
    flagged = [s.text for c in chunks for s in c.sentences if s.heading]
    assert flagged == ["# The Zorblat Festival", "History\n======="]
    page = tmp_path / "page.html"
    page.write_text("<title>Harbor news</title><h1> Dredging </h1><p>The harbor was dredged.</p>")
    doc = load(page)
    text = doc.pages[0].text
    assert [text[a:b] for a, b in doc.pages[0].headings] == ["Harbor news", "Dredging"]
    assert text.endswith("The harbor was dredged.")


def test_a_heading_is_never_the_quoted_answer(tmp_path: Path) -> None:
    from qa import Answerer, Index, Retriever

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festival.md").write_text(
        "# Where the Zorblat Festival is held\n\n"
        "Every spring the town of Quenby fills with music. The celebration takes place on the old "
        "harbour front, where boats are decorated with lanterns.\n")
    answer = Answerer(Retriever(Index.build([docs], path=tmp_path / "index"))).ask(
        "Where is the Zorblat Festival held?")
    assert all(not q.text.startswith("#") for q in answer.quotes)
    assert all("Zorblat" not in q.text for q in answer.quotes)
