"""Rule and language models for the rewriter, loaded and validated from YAML package data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assist import datafile
from assist.datafile import DataFileInvalid
from assist.errors import InvalidInput
from assist.languages import registry

DATA_PACKAGE = "assist.rewrite"
RULES_FOLDER = "rewrite"  # in each language folder (assist.languages)
LANGUAGE_FILE = "style.yml"
FAMILIES_FILE = "families.yml"  # detection only (broad): not a rule file
SOURCES_FILE = "sources.yml"

_ID = re.compile(r"^[a-z]{2,3}\.[a-z0-9_]+\.v[0-9]+$")
_FLAGS = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}


RuleFileInvalid = DataFileInvalid  # the one data-file error (assist.datafile)


class UnknownLanguage(InvalidInput):
    code = "unknown_language"


def _check_pattern(v: str) -> str:
    try:
        re.compile(v)
    except re.error as exc:
        raise ValueError(f"pattern does not compile: {exc}") from exc
    if re.search(r"\(\?P=|\\[1-9]", v):
        raise ValueError("backreferences are not allowed in patterns")
    return v


class Example(BaseModel):
    """One example: `expect` is the whole rewritten draft, or null when the rule must not fire.

    Flag rules (no `replace`) use `fires: true|false` instead of `expect`.
    """

    model_config = ConfigDict(extra="forbid")
    text: str
    expect: str | None = None
    fires: bool | None = None

    @property
    def must_fire(self) -> bool:
        return self.fires if self.fires is not None else self.expect is not None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    pattern: str
    replace: str | None = Field(None, description="replacement; {group} inserts a captured group; null = flag only")
    principle: str
    source: str
    note: str
    priority: int = 0
    scope: Literal["phrase", "clause"] = Field(
        "phrase", description="clause: the pattern must cover whole clauses (from a clause start to a boundary)"
    )
    family: str | None = Field(None, description="the negative family a clause rule rewrites")
    codes: list[str] = Field([], description="language codes the rule rewrites in; empty = every code of its folder")
    tags: list[str] = []
    examples: list[Example] = Field(min_length=2)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"id {v!r} must look like 'zh.dont_know.v1' (lang.name.vN)")
        return v

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return _check_pattern(v)

    @model_validator(mode="after")
    def _examples_cover(self) -> Rule:
        flag = self.replace is None
        for ex in self.examples:
            if flag and (ex.fires is None or "expect" in ex.model_fields_set):
                raise ValueError("examples of a flag rule (no replace) need `fires: true|false` and no `expect`")
            if not flag and (ex.fires is not None or "expect" not in ex.model_fields_set):
                raise ValueError("examples of a rewrite rule need `expect:` (the rewritten draft, or null)")
        if not any(ex.must_fire for ex in self.examples) or all(ex.must_fire for ex in self.examples):
            raise ValueError("a rule needs examples that fire and examples that must not fire")
        return self

    @property
    def is_flag(self) -> bool:
        return self.replace is None


class FamilyExample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    fires: bool


class Family(BaseModel):
    """A family of negative phrasing, detected broadly (families.yml); detection alone never rewrites."""

    model_config = ConfigDict(extra="forbid")
    family: str = Field(pattern=r"^[a-z_]+$")
    principle: str
    note: str
    patterns: list[str] = Field(min_length=1)
    examples: list[FamilyExample] = Field(min_length=2)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, v: list[str]) -> list[str]:
        for p in v:
            _check_pattern(p)
        return v

    @model_validator(mode="after")
    def _examples_both_ways(self) -> Family:
        if len({ex.fires for ex in self.examples}) < 2:
            raise ValueError("a family needs examples that fire and examples that must not fire")
        return self

    @property
    def pattern(self) -> str:
        return "|".join(f"(?:{p})" for p in self.patterns)


class ScriptSpec(BaseModel):
    """How a script of the language is matched: converted to the rules' script and back, char for char."""

    model_config = ConfigDict(extra="forbid")
    match: str | None = None
    output: str | None = None


class LongNegative(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_chars: int
    min_markers: int
    markers: str
    note: str


class Garble(BaseModel):
    """A known garble class: a rewritten sentence that matches it (more often than the draft's sentence did) is
    not offered (never worse than the draft). Examples are whole rewritten sentences."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z_]+$")
    pattern: str
    note: str
    examples: list[FamilyExample] = Field(min_length=2)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return _check_pattern(v)

    @model_validator(mode="after")
    def _examples_both_ways(self) -> Garble:
        if len({ex.fires for ex in self.examples}) < 2:
            raise ValueError("a garble needs examples that fire and examples that must not fire")
        return self


class Language(BaseModel):
    model_config = ConfigDict(extra="forbid")
    codes: list[str] = Field(min_length=1)
    flags: list[str] = []
    scripts: dict[str, ScriptSpec] = {}
    punctuation: list[tuple[str, str]] = Field([], description="(style the rules use, style a draft may use)")
    keep_case: str | None = Field(None, description="regex: replacements starting so keep their first letter")
    match_case: bool = False
    sentence: str = r"[^\n]+"
    clause_break: str = Field(r"[,.!?;\n]+", description="regex: what ends a clause (clause rules, one rule a clause)")
    long_negative: LongNegative | None = None
    offers: str | None = Field(None, description="regex: offer phrasing; two offers in one sentence are not offered")
    promises: str | None = Field(
        None, description="regex: the agent's own promise; a rewrite adding an offer next to one is not offered"
    )
    garbles: list[Garble] = Field([], description="known garble classes a rewritten sentence must not show")
    negation: str | None = Field(
        None, description="regex: negation; a rewritten sentence with an untouched clause holding one is not offered"
    )

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in _FLAGS]
        if unknown:
            raise ValueError(f"unknown regex flags {unknown}; use {sorted(_FLAGS)}")
        return v

    @property
    def re_flags(self) -> int:
        return reduce(lambda a, b: a | b, (_FLAGS[f] for f in self.flags), 0)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one language folder, in file then document order (the order breaks ties)."""

    name: str
    language: Language
    rules: tuple[Rule, ...]
    families: tuple[Family, ...] = ()


def _read_yaml(path: Traversable, where: str) -> Any:
    return datafile.read_yaml(path)


def _data_root() -> Traversable:
    return resources.files(DATA_PACKAGE).joinpath("data")


def load_sources() -> dict[str, str]:
    """Seed files a rule may cite, by file name."""
    data = _read_yaml(_data_root().joinpath(SOURCES_FILE), f"data/{SOURCES_FILE}")
    return {str(k): str(v) for k, v in (data or {}).items()}


def available_languages() -> list[str]:
    return sorted(lg.name for lg, folder in registry().data(RULES_FOLDER) if folder.joinpath(LANGUAGE_FILE).is_file())


def _language(name: str, raw: Any) -> dict[str, Any]:
    """style.yml completed from the language's manifest: its codes, and for each code but the first (the one
    the rules are written in) the converters to match a draft in and to write the rules' words back."""
    lg = registry().by_name[name]
    first, *others = lg.codes
    scripts = {
        code: {
            "match": lg.manifest.convert.get(code, {}).get(first),
            "output": lg.manifest.convert.get(first, {}).get(code),
        }
        for code in others
    }
    return {"codes": lg.codes, "scripts": {c: s for c, s in scripts.items() if any(s.values())}, **(raw or {})}


def parse_rule_file(data: Any, where: str, prefix: str, sources: dict[str, str]) -> list[Rule]:
    """Validate one rule file's content; errors name the file and the rule id."""
    if not isinstance(data, list):
        raise RuleFileInvalid(f"{where}: expected a list of rules")
    rules: list[Rule] = []
    for i, raw in enumerate(data):
        rid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors())
            raise RuleFileInvalid(f"{where}: rule {rid}: {problems}", file=where, rule=rid) from exc
        if not rule.id.startswith(prefix + "."):
            raise RuleFileInvalid(f"{where}: rule {rid}: id must start with '{prefix}.'", file=where, rule=rid)
        if rule.source not in sources:
            raise RuleFileInvalid(
                f"{where}: rule {rid}: source {rule.source!r} is not a known seed file ({SOURCES_FILE})",
                file=where,
                rule=rid,
            )
        rules.append(rule)
    return rules


def load_rules(name: str) -> RuleSet:
    """Load and validate the rules of a language folder, `<name>/rewrite/` (e.g. "zh", "en").

    Raises:
        UnknownLanguage: no such folder.
        RuleFileInvalid: a file or a rule in it is malformed; the message names both.
    """
    lg = registry().by_name.get(name)
    folder = lg.path(RULES_FOLDER) if lg else None
    if folder is None or not folder.joinpath(LANGUAGE_FILE).is_file():
        raise UnknownLanguage(f"no rewrite rules for {name!r}; available: {', '.join(available_languages())}")
    where = f"{name}/{RULES_FOLDER}/{LANGUAGE_FILE}"
    try:
        language = Language.model_validate(_language(name, _read_yaml(folder.joinpath(LANGUAGE_FILE), where)))
    except ValidationError as exc:
        raise RuleFileInvalid(f"{where}: {exc}", file=where) from exc
    sources = load_sources()
    rules: list[Rule] = []
    families = load_families(folder, name)
    skip = (LANGUAGE_FILE, FAMILIES_FILE)
    files = sorted(
        (p for p in folder.iterdir() if p.name.endswith(".yml") and p.name not in skip), key=lambda p: p.name
    )
    for path in files:
        rel = f"{name}/{RULES_FOLDER}/{path.name}"
        rules.extend(parse_rule_file(_read_yaml(path, rel), rel, name, sources))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleFileInvalid(f"{name}/{RULES_FOLDER}: rule id {rule.id} is used twice", rule=rule.id)
        seen.add(rule.id)
        if unknown := set(rule.codes) - set(language.codes):
            raise RuleFileInvalid(
                f"{name}/{RULES_FOLDER}: rule {rule.id} names unknown codes {sorted(unknown)}", rule=rule.id
            )
    return RuleSet(name, language, tuple(rules), families)


def load_families(folder: Traversable, name: str) -> tuple[Family, ...]:
    """`<name>/rewrite/families.yml`: the negative families detected in this language (none when absent)."""
    path = folder.joinpath(FAMILIES_FILE)
    if not path.is_file():
        return ()
    where = f"{name}/{RULES_FOLDER}/{FAMILIES_FILE}"
    data = _read_yaml(path, where)
    if not isinstance(data, list):
        raise RuleFileInvalid(f"{where}: expected a list of families", file=where)
    out: list[Family] = []
    for i, raw in enumerate(data):
        try:
            out.append(Family.model_validate(raw))
        except ValidationError as exc:
            fam = raw.get("family", f"#{i}") if isinstance(raw, dict) else f"#{i}"
            raise RuleFileInvalid(f"{where}: family {fam}: {exc}", file=where, rule=str(fam)) from exc
    return tuple(out)
