"""The trained reader shipped in qa/weights: loading, its failure modes, its short answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run_qa
from qa import Answerer, ReaderError, Retriever
from qa.reader import WEIGHTS, Reader, best_span, load_reader

QUESTION = "How many IS fighters were held in the prison?"


def test_shipped_reader_loads_and_is_small() -> None:
    reader = load_reader()
    assert (WEIGHTS / "reader.onnx").stat().st_size <= 25 * 2**20
    assert 0.0 < reader.threshold < 1.0
    assert load_reader() is reader  # loaded once per process
    card = (WEIGHTS / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "calibration" in card.lower() and "make reader" in card


def test_reader_tells_the_answer_from_lookalikes() -> None:
    reader = load_reader()
    sentences = [
        "The makeshift detention facility held an estimated 4,000 IS fighters as well as some "
        "700 to 850 boys.",
        "Overnight raids had freed 23 prison workers held as hostages.",
        "The monitor counted 181 people killed by Tuesday.",
    ]
    readings = reader.read(QUESTION, sentences)
    assert readings[0].logit > max(r.logit for r in readings[1:])
    a, b = readings[0].span
    assert "4,000" in sentences[0][a:b]


def test_best_span_stays_inside_the_sentence() -> None:
    sequence_ids = [None, 0, 0, None, 1, 1, 1, None]
    offsets = [(0, 0), (0, 3), (4, 7), (0, 0), (0, 5), (6, 9), (10, 14), (0, 0)]
    starts = np.array([0.0, 9.0, 0, 0, 1.0, 5.0, 0.5, 0])  # the question's token scores highest
    ends = np.array([0.0, 9.0, 0, 0, 0.0, 1.0, 4.0, 0])
    span, score = best_span(starts, ends, sequence_ids, offsets)
    assert span == (6, 14)
    assert score == pytest.approx(9.0)


def test_short_answer_offsets_are_exact(seeds_index) -> None:
    answer = Answerer(Retriever(seeds_index)).ask(QUESTION)
    assert not answer.abstained
    short = answer.short_answer
    assert short is not None and "4,000" in short.text
    page = seeds_index.page_text(short.source, short.page)
    assert page[short.start:short.end] == short.text
    quote = answer.quotes[0]
    assert quote.start <= short.start and short.end <= quote.end
    assert page[quote.start:quote.end] == quote.text
    assert answer.to_dict()["short_answer"] == {"text": short.text, "source": short.source,
                                                "page": short.page, "start": short.start,
                                                "end": short.end}


def test_abstains_with_a_null_short_answer(seeds_index) -> None:
    answer = Answerer(Retriever(seeds_index)).ask("What is the boiling point of liquid nitrogen?")
    assert answer.abstained and answer.short_answer is None
    assert answer.to_dict()["short_answer"] is None


def test_no_padding_quotes(seeds_index) -> None:
    """Only sentences that also pass the threshold follow the first quote."""
    answerer = Answerer(Retriever(seeds_index))
    answer = answerer.ask(QUESTION)
    assert all(q.score >= answerer.threshold for q in answer.quotes)
    assert all(q.score >= 0.5 for q in answer.quotes[1:])
    for lookalike in ("181 people killed", "250 IS attackers", "23 prison workers"):
        assert not any(lookalike in q.text for q in answer.quotes), lookalike


def test_follow_up_goes_through_the_reader(seeds_index) -> None:
    answerer = Answerer(Retriever(seeds_index))
    answer = answerer.ask("What did he say about escapes?", history=["Who is the spokesman of the SDF?"])
    assert not answer.abstained
    assert "escaped" in answer.quotes[0].text


def test_reader_off_keeps_the_heuristic_scorer(seeds_index) -> None:
    answer = Answerer(Retriever(seeds_index), reader="off").ask(QUESTION)
    assert "4,000" in answer.quotes[0].text
    assert answer.short_answer is None or "4,000" in answer.short_answer.text


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "reader"
    shutil.copytree(WEIGHTS, folder)
    return folder


def test_missing_file_names_it_and_how_to_rebuild(broken: Path) -> None:
    (broken / "reader.onnx").unlink()
    with pytest.raises(ReaderError, match=r"reader\.onnx is missing.*make reader"):
        Reader(broken)


def test_damaged_model_file(broken: Path) -> None:
    (broken / "reader.onnx").write_bytes(b"not an onnx file" * 100)
    with pytest.raises(ReaderError, match=r"reader\.onnx is damaged.*make reader"):
        Reader(broken)


def test_damaged_decision_file(broken: Path) -> None:
    meta = json.loads((broken / "reader.json").read_text())
    del meta["decision"]["threshold"]
    (broken / "reader.json").write_text(json.dumps(meta))
    with pytest.raises(ReaderError, match=r"reader\.json is damaged"):
        Reader(broken)


def test_cli_short_answer_and_reader_errors(seeds_index, broken: Path) -> None:
    index = str(seeds_index.path)
    result = run_qa("ask", "--json", "--index", index, QUESTION)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "4,000" in data["short_answer"]["text"]
    human = run_qa("ask", "--index", index, QUESTION)
    assert human.stdout.startswith("Answer: ") and "4,000" in human.stdout.splitlines()[0]
    (broken / "reader.onnx").unlink()
    failed = run_qa("ask", "--index", index, "--reader", str(broken), QUESTION)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert "reader.onnx" in failed.stderr and "make reader" in failed.stderr
    off = run_qa("ask", "--json", "--index", index, "--reader", "off", QUESTION)
    assert off.returncode == 0 and "4,000" in json.loads(off.stdout)["quotes"][0]["text"]


def test_reader_reads_a_pronoun_sentence_with_its_antecedent(tmp_path: Path) -> None:
    """"Its mayor is …" is read (and quoted) with the sentence that says what "it" is."""
    from qa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(4):
        (docs / f"town-{n}.txt").write_text(f"The town of Vellmora{n} has a clock tower built in "
                                            f"{1800 + n}. Its mayor is called Ansel{n} Quist.")
    index = Index.build([docs], path=tmp_path / "index")
    answer = Answerer(Retriever(index)).ask("Who is the mayor of Vellmora2?")
    assert not answer.abstained
    assert answer.quotes[0].text.startswith("The town of Vellmora2 ")
    assert "Ansel2" in answer.quotes[0].text
    short = answer.short_answer
    assert short is not None and "Ansel2" in short.text
    page = index.page_text(short.source, short.page)
    assert page[short.start:short.end] == short.text
