"""Answer quality on the seed article: the first quote must contain the expected phrase."""

from __future__ import annotations

import json
from pathlib import Path

EVAL = json.loads((Path(__file__).parent / "data" / "seeds_eval.json").read_text())["questions"]


def test_seed_questions_hit_rate(answerer, capsys) -> None:
    answerable = [item for item in EVAL if item["expect"]]
    unanswerable = [item for item in EVAL if not item["expect"]]
    assert len(answerable) >= 25 and len(unanswerable) >= 3
    misses, wrong_abstentions = [], []
    for item in answerable:
        answer = answerer.ask(item["q"])
        first = answer.quotes[0].text.lower() if answer.quotes else ""
        if item["expect"].lower() not in first:
            misses.append((item["q"], item["expect"], first[:100]))
    for item in unanswerable:
        if not answerer.ask(item["q"]).abstained:
            wrong_abstentions.append(item["q"])
    hit_rate = 1 - len(misses) / len(answerable)
    abstain_rate = 1 - len(wrong_abstentions) / len(unanswerable)
    with capsys.disabled():
        print(f"\nseed eval: first-quote hit rate {hit_rate:.0%} ({len(answerable) - len(misses)}/"
              f"{len(answerable)}), abstained on {abstain_rate:.0%} of unanswerable questions")
        for miss in misses:
            print("  miss:", miss)
        for q in wrong_abstentions:
            print("  answered instead of abstaining:", q)
    assert hit_rate >= 0.85, misses
    assert abstain_rate >= 0.8, wrong_abstentions
