"""The `qa` command, run as a new process through its entry point, on real files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
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


def test_report_and_status_count_in_words(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.txt").write_text("The vault opens at nine. Keys are kept by Ana.\n")
    index = tmp_path / "index"
    result = run_qa("index", "build", str(tmp_path / "docs"), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (f"Documents in {index}: 1 added, 0 updated, 0 renamed, 0 unchanged, "
                                             "0 removed, 0 skipped")
    assert "\n1 chunk embedded in " in result.stdout
    status = run_qa("index", "status", "--documents", "--index", str(index))
    assert status.returncode == 0, status.stderr
    assert "note.txt  (1 page, 1 chunk)" in status.stdout


def test_ask_shows_no_negative_scores(cli_index: Path) -> None:
    result = run_qa("ask", "What is the boiling point of liquid nitrogen?", "--index", str(cli_index))
    assert result.returncode == 0, result.stderr
    shown = [float(s) for s in re.findall(r"\((?:score|similarity) (-?[\d.]+)\)", result.stdout)]
    assert len(shown) == 5, result.stdout
    assert all(0.0 <= s <= 1.0 for s in shown), shown


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("QA_K", "five", "Error: QA_K='five' is not valid: it takes a whole number from 1 to 50. "
                     "Change it or unset it."),
    ("QA_THREADS", "abc", "Error: QA_THREADS='abc' is not valid: it takes a whole number of 1 or more. "
                          "Change it or unset it."),
    ("QA_THRESHOLD", "abc", "Error: QA_THRESHOLD='abc' is not valid: it takes a number. "
                            "Change it or unset it."),
])
def test_bad_environment_variable_is_one_line(cli_index: Path, variable: str, value: str,
                                              message: str) -> None:
    result = run_qa("ask", QUESTION, "--index", str(cli_index), env={variable: value})
    assert result.returncode == 1
    assert result.stderr.strip() == message


def test_bad_max_file_mb_is_one_line_for_a_build(tmp_path: Path) -> None:
    result = run_qa("index", "build", str(SEEDS), "--index", str(tmp_path / "index"),
                    env={"QA_MAX_FILE_MB": "-1"})
    assert result.returncode == 1
    assert result.stderr.strip() == ("Error: QA_MAX_FILE_MB='-1' is not valid: it takes a number above 0. "
                                     "Change it or unset it.")


def test_abstention_does_not_repeat_a_long_question(cli_index: Path) -> None:
    question = " ".join(["Which colour is the boiling nitrogen of the moon?"] * 500)  # 5,000 words
    result = run_qa("ask", "--json", "--reader", "off", question, "--index", str(cli_index))
    answer = json.loads(result.stdout)
    assert answer["abstained"] is True
    assert len(answer["answer"]) < 400


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found += _commands(command, path)
        else:
            found.append((path, command))
    return found


def test_every_command_and_option_has_help_and_readme_documents_every_command() -> None:
    from qa.cli import cli

    readme = (SEEDS.parent / "README.md").read_text()
    commands = _commands(cli)
    assert {" ".join(p) for p, _ in commands} >= {"index build", "index add", "index remove",
                                                  "index status", "ask", "serve"}
    for path, command in commands:
        name = "qa " + " ".join(path)
        assert (command.help or "").strip(), f"{name} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"{name} {param.opts[0]} has no help text"
        assert f"`{name}" in readme, f"README lacks {name}"
        result = run_qa(*path, "--help")
        assert result.returncode == 0
        assert f"Usage: {name}" in result.stdout
