"""A learned file per encoder (an encoder per language): the shipped MiniLM file for English, and
`assist train emotion --langs` training one on some languages' messages only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assist.analysis import learned
from assist.analysis.analyzer import encoder_id
from assist.cli import main
from tests.analysis.test_learned import _write_tiny
from tests.fakes import HashedEncoder


def test_the_shipped_minilm_file_loads_with_its_card() -> None:
    others = learned.load_shipped_others()
    assert [encoder_id(m.encoder) for m in others] == ["bundled:all-MiniLM-L6-v2"]
    models = others[0]
    v = np.ones(models.dim, np.float32) / np.sqrt(models.dim)
    p = models.emotion_proba(v, {}, set(), text="where is my refund?")
    assert abs(sum(p.values()) - 1) < 1e-5
    card = (learned.OTHER_MODEL_FILES[0].parent / "MODEL_CARD_minilm.md").read_text(encoding="utf-8")
    assert "--langs en" in card and models.encoder in card
    assert set(models.meta["dev"]) == {"en", "all"}  # trained and scored on English messages only


def test_train_on_some_languages_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = _write_tiny(tmp_path / "customer")
    monkeypatch.setattr("assist.cli.train.make_encoder", lambda name: HashedEncoder(name=name))
    out = tmp_path / "model" / "learned_fake.npz"
    args = ["train", "emotion", "--encoder", "fake:hashed-char-ngrams", "--cache", str(tmp_path / "cache")]
    args += ["--out", str(out), "--customer-dir", str(customer), "--no-goemotions-dev", "--no-augment"]
    args += ["--no-extras", "--langs", "en"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.is_file() and (out.parent / "MODEL_CARD_fake.md").is_file()
    assert not (out.parent / "MODEL_CARD.md").exists()  # the packaged file's card is not overwritten
    models = learned.LearnedModels.load(out)
    assert set(models.meta["dev"]) == {"en", "all"}
    result = CliRunner().invoke(main, [*args[:-1], "xx"])
    assert result.exit_code == 2 and "no training or dev messages" in result.output
