"""Shape of the rewrite blind sets (issue 16). Loads the YAML only: the rewriter is never run here, so a
blind set stays unscored until the main session scores it once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rewrite.test_families import FAMILIES  # issue 16's ten negative families

EVAL = Path(__file__).resolve().parents[2] / "eval"
PREFIX = {"zh-Hans": "h", "zh-Hant": "t", "en": "e"}


def _load(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((EVAL / name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize(
    ("name", "tag"),
    [("rewrite_blind2.yml", "b2"), ("rewrite_blind3.yml", "b3"), ("rewrite_blind4.yml", "b4")],
)
def test_blind_set_shape(name: str, tag: str) -> None:
    drafts = _load(name)
    ids = [d["id"] for d in drafts]
    assert len(ids) == len(set(ids))
    for d in drafts:
        assert d["id"].startswith(f"{tag}{PREFIX[d['lang']]}."), d["id"]
        assert set(d["families"]) <= FAMILIES, d["id"]
        assert isinstance(d["text"], str) and d["text"].strip(), d["id"]
        if d["families"]:
            # exactly one of: a hand-written whole rewrite, or a flag for a person to write it
            assert ("expect" in d) != bool(d.get("flag")), d["id"]
        else:
            assert "expect" not in d and "flag" not in d, d["id"]
    assert Counter(d["lang"] for d in drafts) == {"zh-Hans": 70, "zh-Hant": 70, "en": 70}


@pytest.mark.parametrize("name", ["rewrite_blind3.yml", "rewrite_blind4.yml"])
def test_blind_mix(name: str) -> None:
    drafts = _load(name)
    negative = [d for d in drafts if d["families"]]
    assert len(drafts) == 210
    assert (len(drafts) - len(negative)) / len(drafts) >= 0.25
    assert sum(len(d["families"]) >= 2 for d in negative) / len(negative) >= 0.40
    for lang in ("zh-Hans", "zh-Hant", "en"):
        assert sum(1 for d in negative if d["lang"] == lang) == 50
