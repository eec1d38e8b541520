"""The store on a real index on disk: odd folder names, lexical search, portability, file sizes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO
from qa import Answerer, Index, Retriever
from qa.ingest import scan

RARE = ("The quagmire of Velmora lies east of the old mill. Herons nest along its edge in spring, "
        "and the Velmora ferry runs twice a week when the water is high.")
COMMON = ("The old mill stands by the river. The river floods the fields in spring, and the mill "
          "wheel turns faster when the water is high. Visitors walk along the river to the mill.")


def test_index_folder_with_hash_question_mark_and_percent(tmp_path: Path) -> None:
    folder = tmp_path / "a#b?c%d"
    docs = folder / "docs"
    docs.mkdir(parents=True)
    (docs / "velmora.txt").write_text(RARE)
    (docs / "mill.txt").write_text(COMMON)
    index = Index.build([docs], path=folder / "index")
    assert sorted(d.name for d in index.documents()) == ["docs/mill.txt", "docs/velmora.txt"]
    assert [p.name for p in (folder / "index").iterdir() if p.suffix == ".sqlite"] == []
    assert not (tmp_path / "a").exists()  # nothing written where a mangled URI would point
    answer = Answerer(Retriever(Index.open(folder / "index"))).ask("Where do herons nest?")
    assert "Herons nest" in answer.quotes[0].text
    assert index.remove(["docs/mill.txt"]).removed == ("docs/mill.txt",)
    assert [d.name for d in Index.open(folder / "index").documents()] == ["docs/velmora.txt"]


def test_bm25_puts_the_chunk_with_a_rare_word_first(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "velmora.txt").write_text(RARE)
    (docs / "mill.txt").write_text(COMMON)
    for i in range(4):
        (docs / f"other-{i}.txt").write_text(f"Report {i}: the mill by the river was painted in spring.")
    retriever = Retriever(Index.build([docs], path=tmp_path / "index"), mode="bm25")
    assert [p.source for p in retriever.search("Velmora ferry", k=3)] == ["docs/velmora.txt"]
    assert retriever.search("When does the river flood the fields?", k=6)[0].source == "docs/mill.txt"
    assert retriever.lexical("herons velmora", 10) == [retriever.search("herons", k=1)[0].id]


def test_store_imports_without_fcntl() -> None:
    """No fcntl in qa/: the lock is filelock's, so `import qa` works beyond Linux."""
    probe = ("import sys, tempfile, warnings; sys.modules['fcntl'] = None\n"
             "warnings.simplefilter('ignore')\n"
             "from pathlib import Path\n"
             "import qa.embedding, qa.index, qa.store\n"
             "with qa.store.writer_lock(Path(tempfile.mkdtemp())): print('locked')\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "locked", result.stderr


def test_a_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(200 * 2**30)  # sparse: 200 GB that would take minutes to hash
    small = tmp_path / "small.txt"
    small.write_text(RARE)
    started = time.perf_counter()
    found = scan([(huge, "huge.txt"), (small, "small.txt")], max_bytes=20 * 2**20)
    assert time.perf_counter() - started < 5
    assert found[0].problem == "file too large (204800.0 MB > 20 MB limit; raise it with QA_MAX_FILE_MB)"
    assert found[0].sha256 == "" and found[1].sha256 and not found[1].problem
