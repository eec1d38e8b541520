"""Soak: questions in parallel threads, in-process and against the running page, while documents
are added; bounded in time, loopback only."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conftest import SEEDS
from qa import Answerer, Index, Retriever
from server import running_server

pytestmark = pytest.mark.slow
SECONDS = 25
SEED_QUESTION = ("How many IS fighters were held in the prison?", "4,000", "voa-al-sina-prison.txt")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_parallel_questions_while_documents_are_added(tmp_path: Path) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    index_dir = tmp_path / "index"
    Index.build([SEEDS], path=index_dir)
    reader = Index.open(index_dir)
    answerer = Answerer(Retriever(reader))
    for _ in range(20):  # warm up before measuring memory
        answerer.ask(SEED_QUESTION[0])
    before = rss_mb()
    errors: list[str] = []
    counts = {"local": 0, "page": 0}
    stop = threading.Event()

    def check(answer: dict, question: str, expect: str, source: str) -> None:
        if answer["abstained"] or expect not in answer["quotes"][0]["text"] \
                or not answer["quotes"][0]["source"].endswith(source):
            errors.append(f"{question!r} -> {answer['answer'][:120]!r}")

    def local() -> None:
        while not stop.is_set():
            try:
                check(answerer.ask(SEED_QUESTION[0]).to_dict(), *SEED_QUESTION)
                counts["local"] += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    def page(url: str) -> None:
        client = gradio_client.Client(url, verbose=False)
        while not stop.is_set():
            try:
                check(client.predict(SEED_QUESTION[0], api_name="/ask"), *SEED_QUESTION)
                counts["page"] += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    with running_server(index_dir, tmp_path / "serve.log") as url:
        threads = [threading.Thread(target=local) for _ in range(3)]
        threads += [threading.Thread(target=page, args=(url,)) for _ in range(2)]
        for t in threads:
            t.start()
        writer = Index(index_dir)
        started = time.monotonic()
        added = 0
        while time.monotonic() - started < SECONDS:
            doc = tmp_path / f"town-{added}.txt"
            doc.write_text(f"The town of Vellmora{added} has a clock tower built in {1800 + added}. "
                           f"Its mayor is called Ansel{added} Quist.")
            writer.add([doc])
            added += 1
            fresh = answerer.ask(f"Who is the mayor of Vellmora{added - 1}?")
            if fresh.abstained or not any(f"Ansel{added - 1}" in q.text for q in fresh.quotes):
                errors.append(f"new document {added - 1} not answered: {fresh.answer[:100]}")
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    growth = rss_mb() - before
    print(f"\nsoak: {counts['local']} local and {counts['page']} page answers, {added} documents added, "
          f"RSS growth {growth:.1f} MB")
    assert not errors, errors[:5]
    assert counts["local"] > 20 and counts["page"] > 5 and added >= 5
    assert growth < 150
