"""The shipped retrieval evaluation sets: valid labels, unique ids, every language and label present."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.retrieval.evaluate import DEFAULT_SET, load_set
from assist.vocab import EMOTIONS, LANGS, SITUATIONS

HOLDOUT = DEFAULT_SET.with_name("retrieval_holdout.yml")


@pytest.mark.parametrize(("path", "least"), [(DEFAULT_SET, 120), (HOLDOUT, 90)])
def test_eval_set_is_complete(path: Path, least: int) -> None:
    items = load_set(path)
    assert len(items) >= least
    assert {i.lang for i in items} == set(LANGS)
    assert set(SITUATIONS) <= {s for i in items for s in i.situations}
    assert set(EMOTIONS) <= {e for i in items for e in i.emotions}


def test_eval_set_refuses_repeated_ids(tmp_path: Path) -> None:
    twice = tmp_path / "twice.yml"
    twice.write_text(
        "- {id: a, lang: en, text: hi, situations: [greeting], emotions: [neutral]}\n" * 2, encoding="utf-8"
    )
    with pytest.raises(ValueError, match="appears twice"):
        load_set(twice)
