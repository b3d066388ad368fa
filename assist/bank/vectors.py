"""The search index's vector cache: embeddings by model and text hash, so a restart encodes nothing known."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assist.bank.db import Sessions
from assist.bank.models import Embedding

logger = logging.getLogger(__name__)


class VectorCache:
    def __init__(self, db: Sessions) -> None:
        self.db = db

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        """Cached embeddings of `model` for these text hashes (those present)."""
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

    def save_vectors(self, model: str, dim: int, vectors: dict[str, bytes]) -> None:
        """Add embeddings to the cache; hashes already there (another instance wrote them) are skipped."""
        if not vectors:
            return
        have = self.cached_vectors(model, list(vectors))
        new = [Embedding(model=model, text_hash=h, dim=dim, vector=v) for h, v in vectors.items() if h not in have]
        try:
            with self.db.session() as s:
                s.add_all(new)
        except IntegrityError:
            logger.info("embedding cache: another writer stored the same vectors first")
