"""Which encoder reads which language: the default model (`retrieval.model_name`) and the languages routed to
another one (`retrieval.lang_models`, e.g. English to MiniLM, which is cheaper than multilingual-e5 and reads
English about as well after the rerank; docs/retrieval.md, "An encoder per language").

A customer message is encoded by the encoder of the language detected in its own text (`lang_of`), and every
consumer of its vector (the search's dense space, the learned analysis, agents' feedback) derives the model
the same way, so a vector is never compared with vectors of another model. Phrase texts and examples are
encoded by the encoder of the language they are written in."""

from __future__ import annotations

from collections.abc import Mapping

from assist.languages import registry
from assist.retrieval.embedder import Encoder


class EncoderRoutes:
    """The default encoder and the languages read by another one."""

    def __init__(self, default: Encoder, by_lang: Mapping[str, Encoder] | None = None) -> None:
        self.default = default
        # A language routed to the default model is no route at all.
        self.by_lang = {lang: enc for lang, enc in (by_lang or {}).items() if enc is not default}

    @property
    def encoders(self) -> list[Encoder]:
        """Each encoder once, the default first."""
        out: dict[str, Encoder] = {self.default.name: self.default}
        for enc in self.by_lang.values():
            out.setdefault(enc.name, enc)
        return list(out.values())

    @property
    def routed(self) -> bool:
        """Whether some language is read by another encoder than the default."""
        return bool(self.by_lang)

    def for_lang(self, lang: str) -> Encoder:
        return self.by_lang.get(lang, self.default)

    @staticmethod
    def lang_of(text: str) -> str:
        """The language a customer message is routed by: the one detected in its own text (not the
        conversation's, so that whoever holds the text knows which model encoded it)."""
        return registry().detect(text).lang

    def for_text(self, text: str) -> Encoder:
        """The encoder of a customer message."""
        if not self.by_lang:
            return self.default
        return self.for_lang(self.lang_of(text))
