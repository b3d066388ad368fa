"""A phrase row as the API shows it, as an import/export entry, and validated back (pure conversions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from assist.bank.models import Phrase
from assist.bank.schema import PhraseIn
from assist.errors import InvalidInput
from assist.languages import registry

TAG_KINDS = {"situations": "situation", "emotions": "emotion", "customer_types": "customer_type", "teams": "team"}


def derive_texts(given: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """Given texts plus those their language's manifest converts them to (the Chinese script that was not
    given, with OpenCC), marked derived."""
    texts = {lang: (t, False) for lang, t in given.items()}
    texts.update((lang, (t, True)) for lang, t in registry().derive(given).items())
    return texts


def entry_of(p: Phrase) -> dict[str, Any]:
    """The phrase as an import/export entry (PhraseIn shape): derived texts and store fields left out."""
    tags = _tags(p)
    entry: dict[str, Any] = {
        "key": p.key,
        "text": {t.lang: t.text for t in sorted(p.texts, key=lambda t: _lang_order(t.lang)) if not t.derived},
        "situations": tags["situations"],
        "emotions": tags["emotions"],
        "customer_types": tags["customer_types"],
        "technique": p.technique,
        "teams": tags["teams"],
        "status": p.status,
        "source": {"seed": p.source_seed, "principle": p.source_principle} if p.source_seed else None,
        "examples": examples_of(p),
    }
    return entry


def examples_of(p: Phrase) -> dict[str, list[str]]:
    """The phrase's examples per language, languages in registry order, each in its written order."""
    out: dict[str, list[str]] = {}
    for e in sorted(p.examples, key=lambda e: (_lang_order(e.lang), e.position)):
        out.setdefault(e.lang, []).append(e.text)
    return out


def _lang_order(code: str) -> int:
    return registry().order(code)


def _tags(p: Phrase) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in TAG_KINDS}
    by_kind = {kind: name for name, kind in TAG_KINDS.items()}
    for tag in p.tags:
        out[by_kind[tag.kind]].append(tag.value)
    return out


def public_of(p: Phrase) -> dict[str, Any]:
    """The phrase as the API shows it."""
    entry = entry_of(p)
    entry.update(
        id=p.id,
        text={t.lang: t.text for t in sorted(p.texts, key=lambda t: _lang_order(t.lang))},
        derived=sorted(t.lang for t in p.texts if t.derived),
        placeholders=list(p.placeholders),
        created_by=p.created_by,
        created_at=p.created_at,
        updated_by=p.updated_by,
        updated_at=p.updated_at,
        version=p.version,
    )
    return entry


def snapshot(p: Phrase) -> dict[str, Any]:
    """The phrase as its history keeps it: the entry and its version."""
    return {**entry_of(p), "version": p.version}


def same(p: Phrase, data: PhraseIn) -> bool:
    """Whether writing `data` would leave the phrase as it is."""
    return validate(entry_of(p)).model_dump() == data.model_dump()


def validate(entry: dict[str, Any]) -> PhraseIn:
    """An entry as PhraseIn; InvalidInput (with every error) when it is not one."""
    try:
        return PhraseIn.model_validate(entry)
    except ValidationError as exc:
        raise InvalidInput(_first_error(exc), errors=[_err(e) for e in exc.errors()]) from exc


def _err(e: Any) -> dict[str, Any]:
    return {"loc": list(e["loc"]), "msg": e["msg"]}


def _first_error(exc: Any) -> str:
    e = exc.errors()[0]
    where = ".".join(str(x) for x in e["loc"]) or "phrase"
    return f"{where}: {e['msg']}"


def jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO strings (for an error's details)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
