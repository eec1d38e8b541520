"""The Python API on a real index on disk: build, incremental updates, removal, PDFs, offsets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SEEDS, run_qa
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


def test_renamed_and_moved_files_keep_their_vectors(corpus: Path, tmp_path: Path) -> None:
    index = Index.build([corpus], path=tmp_path / "index")
    chunks = index.status()["chunks"]
    (corpus / "notes.md").rename(corpus / "garden.md")
    report = index.sync([corpus])
    assert report.renamed == (("docs/notes.md", "docs/garden.md"),)
    assert report.added == report.removed == report.skipped == () and report.chunks_embedded == 0
    (corpus / "sub").mkdir()
    (corpus / "prison.txt").rename(corpus / "sub" / "prison.txt")
    report = index.sync([corpus])
    assert report.renamed == (("docs/prison.txt", "docs/sub/prison.txt"),) and report.chunks_embedded == 0
    assert sorted(d.name for d in index.documents()) == ["docs/garden.md", "docs/sub/prison.txt"]
    assert index.status()["chunks"] == chunks
    quote = Answerer(Retriever(index)).ask("When were the tomato beds planted?").quotes[0]
    assert quote.source == "docs/garden.md"
    assert index.page_text("docs/garden.md", 1)[quote.start:quote.end] == quote.text
    moved = tmp_path / "elsewhere.md"
    (corpus / "garden.md").rename(moved)
    assert index.add([moved]).renamed == (("docs/garden.md", "elsewhere.md"),)  # add sees it is gone


def test_same_file_name_in_two_folders(tmp_path: Path) -> None:
    for folder, text in (("a", ZORBLAT), ("b", "The Quendale bakery opens at six and sells rye bread.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text)
    index_path = tmp_path / "index"
    index = Index.build([tmp_path / "a" / "notes.txt"], path=index_path)
    assert [d.name for d in index.documents()] == ["notes.txt"]
    report = index.add([tmp_path / "b" / "notes.txt"])
    assert report.added == ("b/notes.txt",) and report.renamed == (("notes.txt", "a/notes.txt"),)
    answer = Answerer(Retriever(index)).ask("When does the Quendale bakery open?")
    assert answer.quotes[0].source == "b/notes.txt"
    result = run_qa("index", "remove", "notes.txt", "--index", str(index_path))
    assert result.returncode == 1
    assert result.stderr == ("Error: 'notes.txt' matches 2 documents (a/notes.txt, b/notes.txt); "
                             "name the one to remove.\n")
    assert len(index.documents()) == 2
    assert index.remove(["a/notes.txt"]).removed == ("a/notes.txt",)
    assert [d.name for d in index.documents()] == ["b/notes.txt"]


def test_remove_unknown_name_exits_non_zero_and_removes_nothing(corpus: Path, tmp_path: Path) -> None:
    index = Index.build([corpus], path=tmp_path / "index")
    result = run_qa("index", "remove", "docs/notes.md", "nothing.txt", "--index", str(index.path))
    assert result.returncode == 1
    assert result.stderr == ("Error: Not in the index: nothing.txt; nothing was removed "
                             "(`qa index status --documents` lists the documents).\n")
    assert len(index.documents()) == 2


REMOVE_PROBE = """
import sys, time
import qa.embedding
def refuse(*args, **kwargs):
    raise SystemExit("the model was loaded")
qa.embedding.load_embedder = refuse
from qa.cli import main
started = time.perf_counter()
try:
    main(["index", "remove", "docs/notes.md", "--index", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
print("CODE", code, "SECONDS %.2f" % (time.perf_counter() - started))
print("LOADED", sorted(m for m in ("onnxruntime", "torch", "sentence_transformers") if m in sys.modules))
"""


def test_remove_never_loads_the_model(corpus: Path, tmp_path: Path) -> None:
    index = Index.build([corpus], path=tmp_path / "index")
    result = subprocess.run([sys.executable, "-c", REMOVE_PROBE, str(index.path)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert lines[-2].startswith("CODE 0 "), result.stdout + result.stderr
    assert lines[-1] == "LOADED []"
    assert [d.name for d in index.documents()] == ["docs/prison.txt"]


def test_uploads_survive_a_build_of_other_paths(corpus: Path, tmp_path: Path) -> None:
    index = Index.build([corpus], path=tmp_path / "index")
    given = tmp_path / "incoming" / "zorblat.txt"
    given.parent.mkdir()
    given.write_text(ZORBLAT)
    empty = tmp_path / "incoming" / "empty.txt"
    empty.write_text("")
    report = index.upload([given, empty], max_upload_mb=1)
    assert report.added == ("uploads/zorblat.txt",)
    assert [(s.path, s.reason) for s in report.skipped] == [("empty.txt", "empty file")]
    assert sorted(p.name for p in index.uploads_dir.iterdir()) == ["zorblat.txt"]

    other = tmp_path / "other"
    other.mkdir()
    (other / "bakery.txt").write_text("The Quendale bakery opens at six and sells rye bread.")
    result = run_qa("index", "build", str(other), "--index", str(index.path))
    assert result.returncode == 0, result.stderr
    assert sorted(d.name for d in index.documents()) == ["other/bakery.txt", "uploads/zorblat.txt"]
    assert "Quendale" in Answerer(Retriever(index)).ask("Where is the Zorblat festival held?").quotes[0].text

    report = index.sync([other], prune_uploads=True)
    assert report.removed == ("uploads/zorblat.txt",)
    assert [d.name for d in index.documents()] == ["other/bakery.txt"]
    assert not (index.uploads_dir / "zorblat.txt").exists()  # else the next build brings it back
