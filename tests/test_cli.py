"""The `qa` command, run as a new process through its entry point, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEEDS, run_qa

QUESTION = "How many IS fighters were held in the prison?"


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "index"
    result = run_qa("index", "build", str(SEEDS), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    assert "voa-al-sina-prison.txt" in result.stdout
    return index


def test_status_json(cli_index: Path) -> None:
    result = run_qa("index", "status", "--json", "--index", str(cli_index))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["documents"] == 1
    assert status["chunks"] >= 3
    assert status["sentences"] > status["chunks"]
    assert status["model"] == "all-MiniLM-L6-v2"
    assert status["dim"] == 384


def test_status_human(cli_index: Path) -> None:
    result = run_qa("index", "status", "--documents", "--index", str(cli_index))
    assert result.returncode == 0, result.stderr
    assert "Documents:  1" in result.stdout
    assert "seeds/voa-al-sina-prison.txt" in result.stdout


def test_ask_quotes_the_4000_sentence(cli_index: Path) -> None:
    result = run_qa("ask", QUESTION, "--index", str(cli_index))
    assert result.returncode == 0, result.stderr
    short, _, rest = result.stdout.partition("\n\n")
    assert short.startswith("Answer: ") and "4,000" in short
    first_quote = rest.split("\n—")[0]
    assert "4,000" in first_quote
    assert "seeds/voa-al-sina-prison.txt, page 1" in result.stdout
    assert first_quote.startswith("“")


def test_ask_json_shape(cli_index: Path) -> None:
    result = run_qa("ask", "--json", QUESTION, "--index", str(cli_index))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"question", "answer", "abstained", "short_answer", "quotes", "passages"}
    assert answer["abstained"] is False
    assert "4,000" in answer["quotes"][0]["text"]
    quote = answer["quotes"][0]
    assert {"text", "source", "page", "start", "end", "score"} <= set(quote)
    assert quote["source"] == "seeds/voa-al-sina-prison.txt"
    page_text = (SEEDS / "voa-al-sina-prison.txt").read_text(encoding="utf-8")
    assert page_text[quote["start"]:quote["end"]] == quote["text"]
    assert {"id", "text", "source", "page", "score"} <= set(answer["passages"][0])


def test_ask_batch_jsonl_in_order(cli_index: Path) -> None:
    questions = [QUESTION, "Who is the spokesman of the SDF?", "How many residents were displaced?"]
    result = run_qa("ask", "--json", "--batch", "-", "--index", str(cli_index),
                    input="\n".join(questions) + "\n\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["question"] for line in lines] == questions
    assert "Farhad Shami" in json.loads(lines[1])["quotes"][0]["text"]
    assert "45,000" in json.loads(lines[2])["quotes"][0]["text"]


def test_ask_abstains_on_unrelated_question(cli_index: Path) -> None:
    result = run_qa("ask", "--json", "What is the boiling point of liquid nitrogen?",
                    "--index", str(cli_index))
    answer = json.loads(result.stdout)
    assert answer["abstained"] is True
    assert answer["quotes"] == []
    assert answer["answer"].startswith("The documents don't say")


@pytest.mark.parametrize(("args", "message"), [
    (["ask", "anything", "--index", "{missing}"], "run `qa index build` first"),
    (["index", "status", "--index", "{missing}"], "run `qa index build` first"),
    (["ask", "   ", "--index", "{index}"], "The question is empty."),
    (["index", "build", "no/such/folder", "--index", "{missing}"], "No such file or folder: no/such/folder"),
    (["index", "add", "no/such/file.pdf", "--index", "{index}"], "No such file or folder"),
    (["ask", "--index", "{index}"], "Give a question"),
])
def test_user_errors_are_one_line(cli_index: Path, tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(index=cli_index, missing=tmp_path / "nothing") for a in args]
    result = run_qa(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_other_model_is_refused(cli_index: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-model"
    other.mkdir()
    result = run_qa("index", "add", str(SEEDS), "--index", str(cli_index), "--model", str(other))
    assert result.returncode == 1
    assert "was built with model 'all-MiniLM-L6-v2'" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command_and_readme_documents_them() -> None:
    readme = (SEEDS.parent / "README.md").read_text()
    for command in (["index", "build"], ["index", "add"], ["index", "remove"], ["index", "status"],
                    ["ask"], ["serve"]):
        result = run_qa(*command, "--help")
        assert result.returncode == 0
        assert "Usage: qa " + " ".join(command) in result.stdout
        assert "qa " + " ".join(command) in readme, f"README lacks qa {' '.join(command)}"
