"""The vectors that ship with the package (assist/data/vectors.npz) and the cache that copies them in."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assist.bank.content import load_shipped
from assist.bank.db import Database
from assist.bank.vectors import SHIPPED_VECTORS, ShippedVectors, VectorCache, bank_texts
from assist.config import RetrievalSettings
from assist.retrieval.e5 import E5Encoder
from assist.retrieval.embedder import cache_name, query_cache_name, text_hash

ROOT = Path(__file__).resolve().parents[2]
MINILM = "bundled:all-MiniLM-L6-v2"


def test_shipped_vectors_cover_the_shipped_bank_exactly() -> None:
    """Every text and example of the shipped bank has a vector for the default encoder, and every English one
    for MiniLM (English's encoder with `lang_models` {"en": MiniLM}, docs/retrieval.md), and nothing else is
    shipped: after editing assist/phrasebank/, run
    `ASSIST_RETRIEVAL__LANG_MODELS='{"en": "bundled:all-MiniLM-L6-v2"}' assist bank vectors` (docs/phrasebank.md).
    Hashes only; no model."""
    settings = RetrievalSettings()
    encoder = E5Encoder(settings.model_name)  # not loaded: its cache keys are all this needs
    entries = [e for _, e in load_shipped(ROOT / "assist" / "phrasebank")]
    passages, queries = bank_texts(entries, settings.model_langs)
    english = bank_texts(entries, ["en"])
    shipped = ShippedVectors(SHIPPED_VECTORS)
    assert shipped.models() == sorted([cache_name(encoder), query_cache_name(encoder), MINILM])
    for texts, model in (
        (passages, cache_name(encoder)),
        (queries, query_cache_name(encoder)),
        (english[0] + english[1], MINILM),  # MiniLM embeds queries and passages alike: one key
    ):
        have = shipped.hashes(model)
        want = {text_hash(t) for t in texts}
        assert (len(want - have), len(have - want)) == (0, 0), f"{model}: missing or stale vectors"
    assert SHIPPED_VECTORS.stat().st_size < 8_000_000


def test_shipped_vectors_are_unit_vectors_of_the_model_size() -> None:
    shipped = ShippedVectors(SHIPPED_VECTORS)
    for model in shipped.models():
        hashes = sorted(shipped.hashes(model))[:50]
        vectors = np.stack(list(shipped.lookup(model, hashes).values()))
        assert vectors.shape == (50, 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=5e-3)


def test_cache_copies_shipped_vectors_in_and_reads_them_from_the_store_after(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    v = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    ShippedVectors.write(path, {"m|passage:": {text_hash("hello"): v}, "m|query:": {}})
    db = Database.connect(f"sqlite:///{tmp_path / 'a.db'}")
    cache = VectorCache(db, shipped=ShippedVectors(path))
    got = cache.cached_vectors("m|passage:", [text_hash("hello"), text_hash("other")])
    assert list(got) == [text_hash("hello")]
    assert np.allclose(np.frombuffer(got[text_hash("hello")], dtype=np.float32), v, atol=1e-3)
    assert cache.cached_vectors("m|query:", [text_hash("hello")]) == {}  # keyed by model, too
    # copied into the store: a cache without the file now finds it
    assert VectorCache(db, shipped=None).cached_vectors("m|passage:", [text_hash("hello")]) == got


def test_a_missing_or_broken_file_is_an_empty_set(tmp_path: Path) -> None:
    assert ShippedVectors(tmp_path / "none.npz").lookup("m", ["x"]) == {}
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    assert ShippedVectors(broken).models() == []
