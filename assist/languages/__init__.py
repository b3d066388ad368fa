"""The language registry: every language is a folder (`assist/languages/<name>/`, plus the folders named by
the `language_dirs` setting) holding a manifest, `language.yml`, beside that language's data:

    language.yml        codes, detection, normalization, converters, search tokens, stop words
    analysis/           matching.yml, emotion.yml, cues.yml, customer_type.yml
    rewrite/            style.yml and rule files
    situations.yml      situation cues
    slots.yml           placeholder values read from customer messages

Every consumer asks the registry which codes exist, how to detect, normalize and convert text, and where a
language's data is. It is read once, on first use (or by `use()` at start-up).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from assist import datafile
from assist.datafile import DataFileInvalid
from assist.errors import InvalidInput
from assist.lang import CHAR_SETS, CONVERTERS, aligned
from assist.languages.manifest import LanguageManifest

MANIFEST = "language.yml"

__all__ = [
    "MANIFEST",
    "Language",
    "LangGuess",
    "Registry",
    "UnknownLanguageCode",
    "codes",
    "detect_lang",
    "registry",
    "use",
]


class UnknownLanguageCode(InvalidInput):
    code = "unknown_language"


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: str  # a registered code
    mixed: bool  # letters of two languages in meaningful amounts (two or more units each)
    units: dict[str, int] = field(default_factory=dict)  # language folder name -> characters or words seen


@dataclass(frozen=True, slots=True)
class Language:
    """One language folder: its name (the folder's), where it is, and its manifest."""

    name: str
    folder: Traversable
    manifest: LanguageManifest

    @property
    def codes(self) -> list[str]:
        return self.manifest.codes

    def path(self, *parts: str) -> Traversable:
        """A file or folder of this language's data (which may not exist)."""
        return self.folder.joinpath(*parts)

    def normalize(self, text: str) -> str:
        """The matching form of `text`, every character at its offset."""
        return aligned(text, self.manifest.normalize) if self.manifest.normalize else text


class Registry:
    """The languages in effect, in manifest order; read-only once built."""

    def __init__(self, languages: Iterable[Language], extra: tuple[Path, ...] = ()) -> None:
        self.extra = extra  # the extra folders it was loaded with
        self.languages = tuple(sorted(languages, key=lambda lg: (lg.manifest.order, lg.name)))
        if not self.languages:
            raise DataFileInvalid("no languages: every language needs a folder with a language.yml")
        self.by_name = {lg.name: lg for lg in self.languages}
        self.by_code: dict[str, Language] = {}
        for lg in self.languages:
            for code in lg.codes:
                if code in self.by_code:
                    raise DataFileInvalid(
                        f"language code {code!r} is declared by both {self.by_code[code].name!r} and {lg.name!r}",
                        file=datafile.where(lg.path(MANIFEST)),
                    )
                self.by_code[code] = lg
        if len(self.by_name) != len(self.languages):
            raise DataFileInvalid(f"two language folders share a name: {[lg.name for lg in self.languages]}")
        self.codes: tuple[str, ...] = tuple(self.by_code)
        self._detect = [
            (
                lg,
                re.compile(lg.manifest.detect.letters + ("" if lg.manifest.detect.unit == "char" else "+")),
                {code: CHAR_SETS[name]() for code, name in lg.manifest.detect.variants.items()},
            )
            for lg in self.languages
        ]

    def of(self, code: str) -> Language:
        """The language a code belongs to."""
        try:
            return self.by_code[code]
        except KeyError:
            raise UnknownLanguageCode(f"unknown language {code!r}; known: {', '.join(self.codes)}") from None

    def converter(self, source: str, target: str) -> Callable[[str], str] | None:
        """How text in `source` is written in `target` (codes of one language), or None."""
        name = self.of(source).manifest.convert.get(source, {}).get(target)
        return CONVERTERS[name] if name else None

    def derive(self, given: dict[str, str]) -> dict[str, str]:
        """Texts for the codes not given, converted from a given code of the same language (the first given in
        code order; e.g. zh-Hant from zh-Hans)."""
        out = {}
        for lg in self.languages:
            sources = [c for c in lg.codes if c in given]
            for code in lg.codes:
                if code in given or not sources:
                    continue
                name = lg.manifest.convert.get(sources[0], {}).get(code)
                if name:
                    out[code] = CONVERTERS[name](given[sources[0]])
        return out

    def spellings(self, text: str) -> set[str]:
        """`text` and its conversions by every converter the languages name (search in every script)."""
        names = {n for lg in self.languages for targets in lg.manifest.convert.values() for n in targets.values()}
        return {text, *(CONVERTERS[n](text) for n in sorted(names))}

    def order(self, code: str) -> int:
        """A code's place in the registry (unknown codes last): for listing texts."""
        try:
            return self.codes.index(code)
        except ValueError:
            return len(self.codes)

    def normalize(self, text: str) -> str:
        """`text` in the matching form of every language (whole-text conversion: for search and cues)."""
        for lg in self.languages:
            if lg.manifest.normalize:
                text = CONVERTERS[lg.manifest.normalize](text)
        return text

    def data(self, *parts: str) -> list[tuple[Language, Traversable]]:
        """Each language's file or folder at `parts`, for the languages that have one."""
        out = []
        for lg in self.languages:
            path = lg.path(*parts)
            if path.is_file() or path.is_dir():
                out.append((lg, path))
        return out

    def detect(self, text: str, default: str = "en") -> LangGuess:
        """Guess the language and code of one message.

        Each language counts its letters in the text (characters, or words for languages written in words: a
        Chinese character carries about a word). The most wins, ties to the language listed first; its code is
        the variant whose character set the text uses most. Text with no letters of any language is `default`.
        """
        units: dict[str, int] = {}
        found: dict[str, list[str]] = {}
        for lg, letters, _ in self._detect:
            hits = letters.findall(text)
            if hits:
                units[lg.name], found[lg.name] = len(hits), hits
        if not units:
            return LangGuess(default, False, {})
        ranked = sorted(units.values(), reverse=True)
        mixed = len(ranked) > 1 and ranked[1] >= 2
        best = max(units, key=lambda name: units[name])  # max keeps the first of equals: registry order
        lg = self.by_name[best]
        code = lg.codes[0]
        variants = next(v for x, _, v in self._detect if x is lg)
        if variants:
            counts = {c: sum(map(chars.__contains__, found[best])) for c, chars in variants.items()}
            top = max(counts.values())
            if top > 0:
                code = next(c for c in lg.codes if counts.get(c) == top)
        return LangGuess(code, mixed, units)


def _folders(root: Traversable | Path) -> list[Traversable | Path]:
    """A language folder, or a folder of language folders."""
    if root.joinpath(MANIFEST).is_file():
        return [root]
    if not root.is_dir():
        raise DataFileInvalid(f"language folder not found: {root}", file=str(root))
    found = sorted((p for p in root.iterdir() if p.is_dir() and p.joinpath(MANIFEST).is_file()), key=lambda p: p.name)
    if not found:
        raise DataFileInvalid(f"no {MANIFEST} in {root} or its subfolders", file=str(root))
    return found


def load(extra: Iterable[Path] = ()) -> Registry:
    """The shipped languages plus those in `extra` (each a language folder or a folder of them)."""
    dirs = tuple(Path(p).resolve() for p in extra)
    roots: list[Traversable | Path] = [resources.files(__name__), *dirs]
    folders = [f for root in roots for f in _folders(root)]
    return Registry((Language(f.name, f, datafile.load(f.joinpath(MANIFEST), LanguageManifest)) for f in folders), dirs)


_current: Registry | None = None


def use(extra: Iterable[Path] = ()) -> Registry:
    """Make the registry of the shipped languages plus `extra` the one every consumer asks (loaded unless it
    already is). The service calls it at start-up with the `language_dirs` setting."""
    global _current
    dirs = tuple(Path(p).resolve() for p in extra)
    if _current is None or _current.extra != dirs:
        _current = load(dirs)
    return _current


def registry() -> Registry:
    """The registry in effect; on first use, the shipped languages plus the `language_dirs` setting."""
    if _current is None:
        from assist.config import get_settings

        return use(get_settings().language_dirs)
    return _current


def codes() -> tuple[str, ...]:
    """Every registered language code, in registry order."""
    return registry().codes


def detect_lang(text: str, default: str = "en") -> LangGuess:
    return registry().detect(text, default)
