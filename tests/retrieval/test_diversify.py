"""Diversity (assist.retrieval.diversify): coverage of readings, near-duplicates, technique variety."""

from __future__ import annotations

import numpy as np
import pytest

from assist.retrieval.diversify import aspects, cover, near_duplicate, select
from assist.retrieval.rows import EMO, SIT


def test_near_duplicate_is_bigram_jaccard() -> None:
    assert near_duplicate("Sorry for the wait!", "sorry for the  wait")
    assert not near_duplicate("Sorry for the wait", "Your refund is on its way")
    assert near_duplicate("非常抱歉让您久等了", "非常抱歉让您久等了！")
    assert near_duplicate("a", "a") and not near_duplicate("a", "b")


def test_aspects_are_products_of_normalised_probabilities() -> None:
    got = aspects({"delay": 3.0, "billing": 1.0, "weather": 5.0}, {"anger": 1.0, "anxiety": 1.0, "calm": 2.0})
    assert got == pytest.approx(
        {
            (SIT["delay"], EMO["anger"]): 0.375,
            (SIT["delay"], EMO["anxiety"]): 0.375,
            (SIT["billing"], EMO["anger"]): 0.125,
            (SIT["billing"], EMO["anxiety"]): 0.125,
        }
    )
    assert aspects({"delay": 1.0}, {}) == {} and aspects({}, {"anger": 1.0}) == {}


def test_cover_lifts_a_row_answering_an_unanswered_reading() -> None:
    d, a, x = 1 << SIT["delay"], 1 << EMO["anger"], 1 << EMO["anxiety"]
    order = [7, 8, 9]  # rows, best first
    score = np.array([1.0, 0.95, 0.6], dtype=np.float32)
    sit = np.array([d, d, d], dtype=np.uint32)
    emo = np.array([a, a, x], dtype=np.uint32)
    readings = {(SIT["delay"], EMO["anger"]): 0.5, (SIT["delay"], EMO["anxiety"]): 0.5}
    assert cover(order, score, sit, emo, readings, k=1, weight=0.0) == [7, 8, 9]
    assert cover(order, score, sit, emo, readings, k=1, weight=1.0) == [7, 9, 8]  # 0.6 + 0.5 beats 0.95 + 0


def test_select_skips_near_duplicates_and_holds_a_third_technique() -> None:
    texts = {
        1: "Sorry for the wait",
        2: "sorry for the wait!",
        3: "We apologise again",
        4: "Truly sorry, my fault",
        5: "Here is your tracking link",
    }
    techs = {1: "apology", 2: "apology", 3: "apology", 4: "apology", 5: "redirect"}
    picked = select([1, 2, 3, 4, 5], texts.__getitem__, techs.__getitem__, k=4)
    assert picked == [1, 3, 5, 4]  # 2 near-duplicates 1; 4 is a third apology, used once room is left
    assert select([1, 2, 3], texts.__getitem__, techs.__getitem__, k=2, diverse=False) == [1, 2]
    assert select([], texts.__getitem__, techs.__getitem__, k=3) == []
