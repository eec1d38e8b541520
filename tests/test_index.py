"""The Python API on a real index on disk: build, incremental updates, removal, PDFs, offsets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS
from pdfgen import make_pdf
from qa import Answerer, Index, Retriever
from qa.errors import IndexCorrupt, IndexNotFound, UserInputError

ZORBLAT = ("The Zorblat festival is held in the town of Quendale every March. "
           "Its lantern parade draws about 12,000 visitors, who walk the river path at dusk.")


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEEDS / "voa-al-sina-prison.txt", docs / "prison.txt")
    (docs / "notes.md").write_text("# Garden notes\n\nThe tomato beds were planted on 4 May. "
                                   "Basil grows best beside the greenhouse door.\n")
    return docs


def test_build_update_remove_counts_reembedded_chunks(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "index"
    index = Index.build([corpus], path=path)
    first = index.last_report
    assert sorted(first.added) == ["docs/notes.md", "docs/prison.txt"]
    total = index.status()["chunks"]
    assert first.chunks_embedded == total

    again = index.sync([corpus])
    assert again.chunks_embedded == 0 and sorted(again.unchanged) == sorted(first.added)
    generation = index.status()["generation"]
    assert again.changed is False
    assert index.status()["generation"] == generation  # nothing written when nothing changed

    (corpus / "zorblat.txt").write_text(ZORBLAT)
    report = index.sync([corpus])
    assert report.added == ("docs/zorblat.txt",)
    assert report.chunks_embedded == 1  # only the new document was embedded
    answer = Answerer(Retriever(index)).ask("Where is the Zorblat festival held?")
    assert "Quendale" in answer.quotes[0].text

    (corpus / "notes.md").write_text("# Garden notes\n\nThe tomato beds were planted on 9 June.\n")
    report = index.sync([corpus])
    assert report.updated == ("docs/notes.md",)
    assert report.chunks_embedded == 1

    (corpus / "zorblat.txt").unlink()
    report = index.sync([corpus])
    assert report.removed == ("docs/zorblat.txt",) and report.chunks_embedded == 0
    assert Answerer(Retriever(index)).ask("Where is the Zorblat festival held?").abstained

    report = index.remove(["docs/notes.md"])
    assert report.removed == ("docs/notes.md",)
    assert [d.name for d in index.documents()] == ["docs/prison.txt"]
    with pytest.raises(UserInputError, match="^Not in the index: nothing-here.txt; nothing was removed"):
        index.remove(["nothing-here.txt"])


def test_add_keeps_other_documents(corpus: Path, tmp_path: Path) -> None:
    index = Index.build([corpus / "prison.txt"], path=tmp_path / "index")
    extra = tmp_path / "zorblat.txt"
    extra.write_text(ZORBLAT)
    report = index.add([extra])
    assert report.added == ("zorblat.txt",) and report.chunks_embedded == 1
    assert {d.name for d in index.documents()} == {"prison.txt", "zorblat.txt"}


def test_multipage_pdf_keeps_pages_and_offsets(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    make_pdf(pdf, ["Quarterly report of the Harbor Board.",
                   "The harbor dredging cost 3.2 million dollars in total.",
                   "The new lighthouse keeper is named Odalys Brenner."])
    locked = tmp_path / "locked.pdf"
    make_pdf(locked, ["Secret text about the vault."], encrypt_password="hunter2")
    index = Index.build([pdf, locked], path=tmp_path / "index")
    assert index.last_report.added == ("report.pdf",)
    assert [(s.path, "encrypted" in s.reason) for s in index.last_report.skipped] == [("locked.pdf", True)]
    answerer = Answerer(Retriever(index))
    answer = answerer.ask("Who is the lighthouse keeper?")
    quote = answer.quotes[0]
    assert "Odalys Brenner" in quote.text and quote.page == 3
    assert index.page_text("report.pdf", 3)[quote.start:quote.end] == quote.text
    cost = answerer.ask("How much did the harbor dredging cost?").quotes[0]
    assert cost.page == 2 and "3.2 million" in cost.text


def test_every_quote_slices_back_from_its_page(seeds_index: Index, answerer: Answerer) -> None:
    for question in ["Who is the spokesman of the SDF?", "How many boys were held?",
                     "When did the assault begin?", "Who commands Operation Inherent Resolve?"]:
        answer = answerer.ask(question)
        assert answer.quotes, question
        for quote in answer.quotes:
            assert seeds_index.page_text(quote.source, quote.page)[quote.start:quote.end] == quote.text


def test_retriever_search_returns_passages(seeds_index: Index) -> None:
    passages = Retriever(seeds_index).search("Bradley fighting vehicles", k=3)
    assert len(passages) == 3
    assert "Bradley" in passages[0].text
    assert passages[0].source == "seeds/voa-al-sina-prison.txt"
    assert json.loads(json.dumps(passages[0].to_dict()))["id"] == passages[0].id
    for mode in ("dense", "bm25"):
        assert Retriever(seeds_index, mode=mode).search("Bradley fighting vehicles", k=2)
    with pytest.raises(UserInputError):
        Retriever(seeds_index, mode="magic")


def test_answer_serialises_to_the_cli_json(answerer: Answerer) -> None:
    data = answerer.ask("How many IS fighters were held in the prison?").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert "4,000" in data["quotes"][0]["text"]


def test_open_missing_and_damaged_index(tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(IndexNotFound, match="run `qa index build` first"):
        Index.open(tmp_path / "none")
    path = tmp_path / "index"
    Index.build([corpus / "notes.md"], path=path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="Rebuild it"):
        Index.open(path)


def test_killed_build_leaves_previous_generation(tmp_path: Path, corpus: Path) -> None:
    """A half-written generation (as a killed build leaves it) is ignored and cleaned up."""
    path = tmp_path / "index"
    index = Index.build([corpus / "notes.md"], path=path)
    stale = path / "gen-000009.tmp-99999"
    stale.mkdir()
    (stale / "docqa.sqlite").write_bytes(b"half written")
    reopened = Index.open(path)
    assert [d.name for d in reopened.documents()] == ["notes.md"]
    index.add([corpus / "prison.txt"])
    assert not stale.exists()
    assert len(reopened.documents()) == 2  # readers pick up the new generation
