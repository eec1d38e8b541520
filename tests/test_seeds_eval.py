"""Answer quality on the seed article: the first quote must contain the expected phrase, and
questions the article cannot answer must be abstained on."""

from __future__ import annotations

import json
from pathlib import Path

EVAL = json.loads((Path(__file__).parent / "data" / "seeds_eval.json").read_text())["questions"]

# Floors, not targets: with the reader docqa answers 43 of 44 answerable questions, abstains on 5
# of 5 off-topic ones and on 1 of 10 on-topic ones (details the article does not give; the
# heuristic scorer alone: 43/44, 5/5, 0/10). Raise a floor when the answerer improves; never
# lower one to make a change pass.
HIT_FLOOR = 0.9
OFF_TOPIC_ABSTAIN_FLOOR = 0.8
ON_TOPIC_ABSTAIN_FLOOR = 0.1


def test_seed_questions_hit_rate(answerer, capsys) -> None:
    answerable = [item for item in EVAL if item["expect"]]
    off_topic = [item for item in EVAL if not item["expect"] and not item.get("on_topic")]
    on_topic = [item for item in EVAL if not item["expect"] and item.get("on_topic")]
    assert len(answerable) >= 40 and len(off_topic) >= 5 and len(on_topic) >= 10
    misses = []
    for item in answerable:
        answer = answerer.ask(item["q"])
        first = answer.quotes[0].text.lower() if answer.quotes else ""
        if item["expect"].lower() not in first:
            misses.append((item["q"], item["expect"], first[:100]))
    answered = {item["q"] for item in off_topic + on_topic if not answerer.ask(item["q"]).abstained}
    # counts over totals, not 1 - x: 1 - 9/10 is 0.0999… in floating point
    hit_rate = (len(answerable) - len(misses)) / len(answerable)
    off_rate = len([i for i in off_topic if i["q"] not in answered]) / len(off_topic)
    on_rate = len([i for i in on_topic if i["q"] not in answered]) / len(on_topic)
    with capsys.disabled():
        print(f"\nseed eval: first-quote hit rate {hit_rate:.0%} ({len(answerable) - len(misses)}/"
              f"{len(answerable)}); abstained on {off_rate:.0%} of {len(off_topic)} off-topic and "
              f"{on_rate:.0%} of {len(on_topic)} on-topic unanswerable questions")
        for miss in misses:
            print("  miss:", miss)
        for q in sorted(answered):
            print("  answered instead of abstaining:", q)
    assert hit_rate >= HIT_FLOOR, misses
    assert off_rate >= OFF_TOPIC_ABSTAIN_FLOOR, answered
    assert on_rate >= ON_TOPIC_ABSTAIN_FLOOR, answered
