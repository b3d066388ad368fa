"""The search index's vector cache: embeddings by model and text hash, so a restart encodes nothing known.

A first start reads the shipped bank's vectors from the package (`assist/data/vectors.npz`, made by
`assist bank vectors`): texts found there are copied into the store's cache instead of being encoded, so only
texts a deployment added or changed wait for the model."""

from __future__ import annotations

import logging
import threading
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assist.bank.db import Sessions
from assist.bank.models import Embedding
from assist.bank.records import derive_texts
from assist.bank.schema import PhraseIn

logger = logging.getLogger(__name__)

SHIPPED_VECTORS = Path(__file__).resolve().parent.parent / "data" / "vectors.npz"


class ShippedVectors:
    """Vectors that ship with the package: per model key (`cache_name` of an encoder), float16 vectors by the
    SHA-256 of their text. Read on first use; a missing or unreadable file is an empty set (logged)."""

    def __init__(self, path: Path = SHIPPED_VECTORS) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_model: dict[str, tuple[dict[str, int], np.ndarray]] | None = None

    def _load(self) -> dict[str, tuple[dict[str, int], np.ndarray]]:
        with self._lock:
            if self._by_model is None:
                self._by_model = {}
                if self.path.is_file():
                    try:
                        self._by_model = _read(self.path)
                    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                        logger.warning("shipped vectors: %s unreadable (%s); texts are encoded instead", self.path, exc)
            return self._by_model

    def models(self) -> list[str]:
        return sorted(self._load())

    def hashes(self, model: str) -> set[str]:
        index, _ = self._load().get(model, ({}, None))
        return set(index)

    def lookup(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """float32 vectors of the hashes the file has for this model."""
        entry = self._load().get(model)
        if entry is None:
            return {}
        index, vectors = entry
        return {h: vectors[index[h]].astype(np.float32) for h in hashes if h in index}

    @staticmethod
    def write(path: Path, vectors: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Write {model key: {text hash: vector}} as a compressed npz (float16, hashes as 32 raw bytes,
        sorted, so the same vectors make the same file)."""
        models = sorted(m for m in vectors if vectors[m])
        hashes: list[bytes] = []
        which: list[int] = []
        rows: list[np.ndarray] = []
        for i, model in enumerate(models):
            for h in sorted(vectors[model]):
                hashes.append(bytes.fromhex(h))
                which.append(i)
                rows.append(np.asarray(vectors[model][h], dtype=np.float32))
        dim = rows[0].shape[0] if rows else 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez_compressed(
                f,
                models=np.array(models, dtype=np.str_),
                model=np.array(which, dtype=np.uint8),
                hashes=np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32),
                vectors=np.array(rows, dtype=np.float16).reshape(-1, dim),
            )


def _read(path: Path) -> dict[str, tuple[dict[str, int], np.ndarray]]:
    with np.load(path, allow_pickle=False) as data:
        models = [str(m) for m in data["models"]]
        which = data["model"]
        hashes = data["hashes"]
        vectors = data["vectors"]
    if not (len(which) == len(hashes) == len(vectors)):
        raise ValueError("arrays of different lengths")
    out: dict[str, tuple[dict[str, int], np.ndarray]] = {}
    for i, model in enumerate(models):
        rows = np.flatnonzero(which == i)
        index = {hashes[r].tobytes().hex(): j for j, r in enumerate(rows)}
        out[model] = (index, vectors[rows])
    return out


def bank_texts(entries: Iterable[PhraseIn], langs: Collection[str]) -> tuple[list[str], list[str]]:
    """What the search index embeds for these phrases, in the languages the model reads: their texts (the
    derived Chinese script too), embedded as passages, and their examples, embedded as queries; each once."""
    passages: dict[str, None] = {}
    queries: dict[str, None] = {}
    for e in entries:
        for lang, (text, _) in derive_texts(e.text).items():
            if lang in langs:
                passages[text] = None
        for lang, examples in e.examples.items():
            if lang in langs:
                queries.update(dict.fromkeys(examples))
    return list(passages), list(queries)


_DEFAULT = ShippedVectors()


class VectorCache:
    """Embeddings by model key and text hash in the store's `embeddings` table. Hashes it lacks are looked up
    in the shipped vectors (`shipped`; the package's file by default, None for none) and copied in."""

    def __init__(self, db: Sessions, shipped: ShippedVectors | None = _DEFAULT) -> None:
        self.db = db
        self.shipped = shipped

    def _stored(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        with self.db.session() as s:
            for start in range(0, len(hashes), 500):
                chunk = list(hashes[start : start + 500])
                rows = s.execute(
                    select(Embedding.text_hash, Embedding.vector).where(
                        Embedding.model == model, Embedding.text_hash.in_(chunk)
                    )
                )
                out.update((h, v) for h, v in rows)
        return out

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        """Cached embeddings of `model` for these text hashes (those present), the shipped ones included."""
        out = self._stored(model, hashes)
        if self.shipped is not None and len(out) < len(set(hashes)):
            found = self.shipped.lookup(model, [h for h in hashes if h not in out])
            if found:
                shipped = {h: v.tobytes() for h, v in found.items()}
                dim = next(iter(found.values())).shape[0]
                self.save_vectors(model, dim, shipped, checked=True)
                out.update(shipped)
                logger.info("vector cache: %d vectors of %s taken from the shipped file", len(shipped), model)
        return out

    def save_vectors(self, model: str, dim: int, vectors: dict[str, bytes], checked: bool = False) -> None:
        """Add embeddings to the cache; hashes already there (another instance wrote them) are skipped.
        `checked`: the caller has just found them missing (a writer racing it makes the insert fail, logged)."""
        if not vectors:
            return
        have = {} if checked else self._stored(model, list(vectors))
        new = [Embedding(model=model, text_hash=h, dim=dim, vector=v) for h, v in vectors.items() if h not in have]
        try:
            with self.db.session() as s:
                s.add_all(new)
        except IntegrityError:
            logger.info("embedding cache: another writer stored the same vectors first")
