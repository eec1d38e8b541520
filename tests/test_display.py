"""Wording for people: shortened quotes of long questions, plurals, scores from 0 to 1."""

from __future__ import annotations

import pytest

from qa.display import count, shorten, shown_score


def test_shorten_keeps_short_text_and_flattens_whitespace() -> None:
    assert shorten("How many  fighters\nwere held?", 200) == "How many fighters were held?"


def test_shorten_cuts_a_5000_word_question_at_a_word_boundary() -> None:
    question = " ".join(f"word{n}" for n in range(5000))
    short = shorten(question, 120)
    assert len(short) <= 120
    assert short.endswith("…")
    assert question.startswith(short[:-1])
    assert short[:-1].split()[-1] in question.split()  # no half word


def test_shorten_cuts_a_single_long_word_hard() -> None:
    assert shorten("x" * 50, 10) == "x" * 9 + "…"
    with pytest.raises(ValueError):
        shorten("text", 0)


@pytest.mark.parametrize(("n", "expected"), [(0, "0 chunks"), (1, "1 chunk"), (2, "2 chunks")])
def test_count(n: int, expected: str) -> None:
    assert count(n, "chunk") == expected
    assert count(1, "entry", "entries") == "1 entry" and count(3, "entry", "entries") == "3 entries"


def test_shown_score_is_between_0_and_1() -> None:
    assert [shown_score(s) for s in (-0.04, 0.0, 0.62, 1.0000001)] == [0.0, 0.0, 0.62, 1.0]
