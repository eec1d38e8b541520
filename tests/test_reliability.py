"""Crash safety, one writer at a time, readers during writes, damaged index folders."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO, run_qa
from qa import Answerer, Index, Retriever
from qa.errors import IndexCorrupt, IndexLocked
from qa.store import writer_lock

TOPICS = ["lighthouse", "orchard", "glacier", "railway", "observatory", "vineyard", "harbor", "quarry"]


def write_corpus(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        sentences = [f"Report {i} describes the {topic} of district {i}.",
                     f"The {topic} keeper of district {i} is called Keeper{i}.",
                     f"It received {rng.randint(10, 9999)} visitors last year.",
                     f"Repairs to the {topic} took {rng.randint(2, 40)} weeks."]
        (folder / f"doc-{i:04d}.txt").write_text(" ".join(sentences * 3))


def start_build(docs: Path, index: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "index", "build", str(docs), "--index", str(index)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def current(index_path: Path) -> tuple[str, int]:
    index = Index.open(index_path)
    return index.status()["generation"], len(index.documents())


def test_build_crashed_at_each_commit_point_leaves_exactly_one_whole_index(tmp_path: Path) -> None:
    """DOCQA_FAULT kills the build (os._exit) at a named point of the commit: before the manifest
    switch the old generation is the index, after it the new one; the next build cleans up."""
    docs, index_path = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 4)
    assert run_qa("index", "build", str(docs), "--index", str(index_path)).returncode == 0
    assert current(index_path) == ("gen-000001", 4)
    write_corpus(docs, 6, seed=1)  # 2 new documents and 4 changed ones

    def crash(point: str) -> None:
        result = run_qa("index", "build", str(docs), "--index", str(index_path),
                        env={"DOCQA_FAULT": point})
        assert result.returncode == 70, result.stderr

    crash("after-vectors")  # vectors written in the temporary folder, nothing published
    assert current(index_path) == ("gen-000001", 4)
    assert [p.name.split(".")[0] for p in index_path.glob("gen-*.tmp-*")] == ["gen-000002"]

    crash("before-manifest")  # generation 2 complete on disk, the manifest not yet switched
    assert current(index_path) == ("gen-000001", 4)
    assert (index_path / "gen-000002" / "vectors.faiss").exists()
    assert not list(index_path.glob("gen-*.tmp-*"))  # the first crash's leftovers were cleaned
    answer = Answerer(Retriever(Index.open(index_path))).ask("Who is the keeper of district 3?")
    assert "Keeper3" in answer.quotes[0].text

    crash("after-manifest")  # switched; the crash only skipped dropping old generations
    assert current(index_path) == ("gen-000003", 6)
    answer = Answerer(Retriever(Index.open(index_path))).ask("Who is the keeper of district 5?")
    assert "Keeper5" in answer.quotes[0].text

    write_corpus(docs, 7, seed=2)
    result = run_qa("index", "build", str(docs), "--index", str(index_path))
    assert result.returncode == 0, result.stderr
    assert current(index_path) == ("gen-000004", 7)
    assert sorted(p.name for p in index_path.iterdir() if p.name.startswith(("gen-", "manifest"))) \
        == ["gen-000003", "gen-000004", "manifest.json"]


def test_second_writer_gets_a_clear_message(tmp_path: Path) -> None:
    docs, index_path = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 2)
    Index.build([docs], path=index_path)
    with writer_lock(index_path):
        result = run_qa("index", "build", str(docs), "--index", str(index_path))
        assert result.returncode == 1
        assert f"is being written by pid {os.getpid()}" in result.stderr
        assert "Traceback" not in result.stderr
        with pytest.raises(IndexLocked):
            Index.open(index_path).add([docs])
        # readers are not blocked by the writer's lock
        assert Index.open(index_path).status()["documents"] == 2


def test_readers_keep_answering_during_a_build(tmp_path: Path) -> None:
    docs, index_path = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 10)
    index = Index.build([docs], path=index_path)
    answerer = Answerer(Retriever(index))
    errors: list[BaseException] = []
    answers: list[str] = []
    stop = threading.Event()

    def ask_repeatedly() -> None:
        while not stop.is_set():
            try:
                answer = answerer.ask("Who is the keeper of district 3?")
                answers.append(answer.quotes[0].text)
            except BaseException as exc:  # noqa: BLE001 - any failure fails the test
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for t in threads:
        t.start()
    write_corpus(docs, 120, seed=2)
    proc = start_build(docs, index_path)
    out, err = proc.communicate(timeout=300)
    stop.set()
    for t in threads:
        t.join()
    assert proc.returncode == 0, err
    assert not errors, errors
    assert answers and all("Keeper3" in a for a in answers)
    assert index.status()["documents"] == 120  # the reader switched to the new generation


def test_damaged_index_gives_a_clear_error(tmp_path: Path) -> None:
    docs, index_path = tmp_path / "docs", tmp_path / "index"
    write_corpus(docs, 2)
    index = Index.build([docs], path=index_path)
    generation = index.status()["generation"]
    (index_path / generation / "docqa.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorrupt, match="rebuild"):
        Index.open(index_path)
    result = run_qa("ask", "Who is the keeper?", "--index", str(index_path))
    assert result.returncode == 1 and "rebuild" in result.stderr and "Traceback" not in result.stderr
    (index_path / generation / "vectors.faiss").write_bytes(b"\x00" * 64)
    (index_path / "manifest.json").write_text('{"format": 1, "generation": "../../etc", "model": "x", "dim": 3}')
    with pytest.raises(IndexCorrupt):
        Index.open(index_path)
    # a rebuild into the same folder recovers
    result = run_qa("index", "build", str(docs), "--index", str(index_path))
    assert result.returncode == 0, result.stderr
    assert Index.open(index_path).status()["documents"] == 2


def test_huge_text_file_is_rejected_without_reading_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_corpus(docs, 1)
    with open(docs / "huge.txt", "wb") as handle:
        line = b"a line of text without much to say but very long " * 20 + b"\n"
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    result = run_qa("index", "build", str(docs), "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    assert "skipped docs/huge.txt: file too large (50.0 MB > 20 MB limit" in result.stdout
