"""The Rewriter: applies a language's rules to an agent draft and explains every change."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assist.errors import InvalidInput
from assist.lang import CONVERTERS, aligned
from assist.languages import detect_lang
from assist.rewrite import clauses
from assist.rewrite.edits import Edit, apply_changes, compose, overlaps, trim
from assist.rewrite.learned import Flagger
from assist.rewrite.prefilter import Index, Needs, Prefilter
from assist.rewrite.result import Change, Flag, RewriteResult
from assist.rewrite.rules import Rule, RuleSet, UnknownLanguage, available_languages, load_rules

LEXICAL_TAGS = frozenset({"address", "unity", "lexical"})
MAX_PASSES = 3  # a pass's output is rewritten again until nothing fires; 3 is plenty for the shipped rules
_GROUP_REF = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    regex: re.Pattern[str]
    parts: tuple[tuple[bool, str], ...]  # (is a group reference, text)
    order: int
    needs: Needs  # prefilter: literal strings a match must contain (assist/rewrite/prefilter.py)

    @property
    def grouped(self) -> bool:
        return any(is_group for is_group, _ in self.parts)


def _aligned(text: str, name: str) -> str:
    """Convert for matching; the copy keeps every character at its offset."""
    return aligned(text, name)


@lru_cache(maxsize=4096)
def _convert_literal(name: str | None, text: str) -> str:
    return CONVERTERS[name](text) if name else text


def _compile(rule: Rule, flags: int, order: int, clause_break: str, prefilter: Prefilter) -> _Compiled:
    pattern = rule.pattern
    if rule.scope == "clause":  # a clause rule's match must end where a clause ends
        pattern = f"(?:{pattern})(?=[ \\t]*(?:{clause_break})|[ \\t]*$)"
    regex = re.compile(pattern, flags)
    parts: list[tuple[bool, str]] = []
    if rule.replace is not None:
        pos = 0
        for m in _GROUP_REF.finditer(rule.replace):
            if m.group(1) in regex.groupindex:  # other {...} stay as visible fill-in slots
                parts.append((False, rule.replace[pos : m.start()]))
                parts.append((True, m.group(1)))
                pos = m.end()
        parts.append((False, rule.replace[pos:]))
    return _Compiled(rule, regex, tuple(p for p in parts if p[1]), order, prefilter.add(rule.pattern))


class _Lang:
    """One compiled rule set."""

    def __init__(self, rule_set: RuleSet, offset: int) -> None:
        self.name = rule_set.name
        self.spec = rule_set.language
        flags = self.spec.re_flags
        brk = self.spec.clause_break
        self.prefilter = Prefilter(flags)
        compiled = [_compile(r, flags, offset + i, brk, self.prefilter) for i, r in enumerate(rule_set.rules)]
        self.rewrites = [c for c in compiled if not c.rule.is_flag and c.rule.scope == "phrase"]
        self.clauses = [c for c in compiled if not c.rule.is_flag and c.rule.scope == "clause"]
        self.rewrite_index = Index(self.rewrites, _needs)  # the prefilter: rules that may match a text
        self.clause_index = Index(self.clauses, _needs)
        self.brk = re.compile(self.spec.clause_break, flags)
        # Word swaps (你→您, 但是→同时, dropped fillers) may share a clause with one template.
        self.offers = re.compile(self.spec.offers, flags) if self.spec.offers else None
        self.lexical = frozenset(c.rule.id for c in compiled if LEXICAL_TAGS & set(c.rule.tags))
        self.detectors = clauses.compile_families(self.name, rule_set.families, flags, self.prefilter)
        self.detector_index = Index(self.detectors, lambda d: d.needs)
        self.flaggers = [c for c in compiled if c.rule.is_flag]
        self.flagger_index = Index(self.flaggers, _needs)
        self.sentence = re.compile(self.spec.sentence)
        ln = self.spec.long_negative
        self.markers = re.compile(ln.markers, flags) if ln else None
        self.keep_case = re.compile(self.spec.keep_case) if self.spec.keep_case else None
        self.garbles = [(g.id, re.compile(g.pattern, flags)) for g in self.spec.garbles]
        self.promises = re.compile(self.spec.promises, flags) if self.spec.promises else None
        self.negation = re.compile(self.spec.negation, flags) if self.spec.negation else None
        names = {f.family: f for f in rule_set.families}
        self.families = names
        self.judge = lru_cache(maxsize=2048)(self._judge)
        self.clauses_of = lru_cache(maxsize=2048)(self._clauses_of)
        self.family_of = {c.rule.id: _rule_family(c.rule, names) for c in compiled}

    def _judge(self, rewritten: str, original: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, list[str]] | None:
        """Why a rewritten sentence (matching copy; `spans`: where the rules' words sit in it) reads worse than the
        draft's sentence `original`, or None. Cached: an agent's next keystroke sends the same sentences again."""
        present = self.prefilter.present(rewritten)
        # a rule's own words were read when the rule was written: only hits reaching outside them count
        hits = [
            h
            for h in clauses.detect(rewritten, self.detector_index.allowed(present))
            if not any(s <= h.start and h.end <= e for s, e in spans)
        ]
        if hits:
            return "family", list(dict.fromkeys(h.detector.family.family for h in hits))
        for gid, g in self.garbles:
            if len(g.findall(rewritten)) > len(g.findall(original)):
                return f"garble:{gid}", []
        if self.promises is not None and self.offers is not None:  # an offer added next to the agent's own promise
            offers, promises = self.offers, self.promises
            offered = any(offers.search(rewritten, s, e) or promises.search(rewritten, s, e) for s, e in spans)
            own = [p for p in promises.finditer(rewritten) if not any(s <= p.start() < e for s, e in spans)]
            if offered and own:
                return "two_offers", []
        if self.negation is not None:
            for cs, ce in clauses.clause_spans(rewritten, self.brk):
                if any(cs < e and s < ce for s, e in spans):
                    continue
                if self.negation.search(rewritten, cs, ce):
                    return "negation_left", []
        return None

    def _clauses_of(self, sentence: str) -> tuple[tuple[int, int], ...]:
        """The clauses of one sentence, offsets into it (cached like `judge`)."""
        return tuple(clauses.clause_spans(sentence, self.brk))

    def scripts(self, code: str) -> tuple[str | None, str | None]:
        spec = self.spec.scripts.get(code)
        return (spec.match, spec.output) if spec else (None, None)


class Rewriter:
    """Negative phrasing in, positive phrasing out, with every change and its principle.

    Build once (`Rewriter.load()`) and share: it holds only compiled, read-only rules.
    """

    def __init__(
        self,
        rule_sets: Iterable[RuleSet],
        default_lang: str = "en",
        max_chars: int = 20_000,
        flagger: Flagger | None = None,
    ) -> None:
        self.flagger = flagger  # the learned safety net behind the rules (assist/rewrite/learned.py), or None
        self.langs: list[_Lang] = []
        offset = 0
        for rs in rule_sets:
            self.langs.append(_Lang(rs, offset))
            offset += len(rs.rules)
        self.by_code = {code: lang for lang in self.langs for code in lang.spec.codes}
        self.default_lang = default_lang
        self.max_chars = max_chars

    @classmethod
    def load(cls, names: Iterable[str] | None = None, learned: bool = True, **kwargs: Any) -> Rewriter:
        """Load and validate the shipped rule sets (all languages unless `names` says otherwise), and the shipped
        learned flagger unless `learned` is False."""
        if learned and "flagger" not in kwargs:
            kwargs["flagger"] = Flagger.load()
        return cls((load_rules(n) for n in (names or available_languages())), **kwargs)

    @property
    def codes(self) -> list[str]:
        return list(self.by_code)

    @property
    def rules(self) -> list[Rule]:
        return [c.rule for lang in self.langs for c in (*lang.rewrites, *lang.clauses, *lang.flaggers)]

    def detect(self, text: str, lang: str = "auto") -> list[tuple[int, int, str]]:
        """Negative phrases of `text` as (start, end, family), by the language's families.yml."""
        code = detect_lang(text, self.default_lang).lang if lang == "auto" else lang
        lg = self.by_code[code]
        match_script, _ = lg.scripts(code)
        subject = _aligned(text, match_script) if match_script else text
        return sorted((h.start, h.end, h.detector.family.family) for h in clauses.detect(subject, lg.detectors))

    def fires(self, rule_id: str, text: str, lang: str = "auto") -> bool:
        """Whether one rule's pattern matches `text` on its own (script handling included)."""
        code = detect_lang(text, self.default_lang).lang if lang == "auto" else lang
        for lg in self.langs:
            for c in (*lg.rewrites, *lg.clauses, *lg.flaggers):
                if c.rule.id == rule_id:
                    match_script, _ = lg.scripts(code)
                    subject = _aligned(text, match_script) if match_script else text
                    if c.rule.scope == "clause":
                        starts = clauses.clause_starts(subject, lg.brk)
                        return any(True for _ in _clause_matches(c, subject, starts))
                    return c.regex.search(subject) is not None
        raise KeyError(rule_id)

    def rewrite(self, text: str, lang: str = "auto") -> RewriteResult:
        """Rewrite one draft.

        Args:
            text: the agent's draft, as typed.
            lang: "auto" (detect) or a language code such as "zh-Hant".

        Returns:
            The rewritten text, the changes (spans against `text`) and the flags.
        """
        if not isinstance(text, str):
            raise InvalidInput("text must be a string")
        mixed = False
        if lang == "auto":
            guess = detect_lang(text, self.default_lang)
            code, mixed = guess.lang, guess.mixed
        else:
            code = lang
        primary = self.by_code.get(code)
        if primary is None:
            raise UnknownLanguage(f"unknown language {code!r}; use auto or one of {', '.join(self.codes)}")
        if not text.strip():
            return RewriteResult(code, text, text)
        if len(text) > self.max_chars:
            why = f"Drafts longer than {self.max_chars} characters are not rewritten; split the message."
            return RewriteResult(code, text, text, flags=[Flag(0, 0, "", "engine.too_long", why)])
        langs = [primary, *(x for x in self.langs if x is not primary)] if mixed else [primary]

        current, changes = text, list[Change]()
        rules_of: dict[tuple[int, int], list[str]] = {}
        for _ in range(MAX_PASSES):
            edits = self._pass(current, langs, code)
            if not edits:
                break
            changes, current = compose(text, changes, current, edits, rules_of)
        settled, checked = self._settle(text, langs[0], code, changes, rules_of)
        settled, unsafe = self._verify(text, langs[0], code, settled, rules_of)
        checked += unsafe
        if self.flagger is not None and self.flagger.has(langs[0].name):
            settled, learned = self._learned(text, langs[0], code, settled, rules_of, checked)
            checked += learned
        if len(settled) != len(changes):
            current, changes = apply_changes(text, settled), settled
        flags = self._flags(text, langs, code, changes)
        return RewriteResult(code, text, current, changes, sorted([*flags, *checked], key=_flag_order))

    def _settle(
        self, text: str, lang: _Lang, code: str, changes: list[Change], rules_of: dict[tuple[int, int], list[str]]
    ) -> tuple[list[Change], list[Flag]]:
        """Keep a sentence's changes only when they cover its negatives, one rule per clause; else flag."""
        match_script, _ = lang.scripts(code)
        subject = _aligned(text, match_script) if match_script else text
        hits = clauses.detect(subject, lang.detector_index.allowed(lang.prefilter.present(subject)))
        if not hits and len(changes) < 2:
            return changes, []
        scope = {c.rule.id for c in lang.clauses}
        kept: list[Change] = []
        flags: list[Flag] = []
        for m in lang.sentence.finditer(subject):
            ss, se = m.span()
            mine = [c for c in changes if clauses.overlaps(c.start, c.end, ss, se)]
            # a word swap (你→您) does not cover a negative phrase around it
            real = [c for c in mine if any(r not in lang.lexical for r in rules_of.get((c.start, c.end), [c.rule]))]
            found = [h for h in hits if ss <= h.start < se]
            spliced = bool(mine) and any(  # a sentence no change touches has nothing spliced
                len(
                    {
                        r
                        for c in mine
                        if clauses.overlaps(c.start, c.end, cs, ce)
                        for r in rules_of.get((c.start, c.end), [c.rule])
                        if r not in lang.lexical
                    }
                )
                > 1
                and not any(c.rule in scope and c.start <= cs and c.end >= ce for c in mine)
                for cs, ce in clauses.clause_spans(subject, lang.brk, ss, se)
            )
            offers = lang.offers  # two offers in one sentence ("…{solution}, About your request…{solution}")
            if offers is not None and len(mine) > 1:
                spliced = spliced or sum(1 for c in mine if offers.search(_match_copy(c.after, match_script))) > 1
            loose = [h for h in found if not any(clauses.overlaps(h.start, h.end, c.start, c.end) for c in real)]
            if not spliced and not loose:
                kept.extend(mine)
                continue
            situation = clauses.situation_of(text[ss:se], code) if (found or spliced) else None
            if spliced and not found:
                why = clauses.SPLICE_WHY.get(lang.name, clauses.SPLICE_WHY["en"])
                flags.append(Flag(ss, se, text[ss:se], clauses.SPLICE_RULE, why, None, None, situation))
            for h in found:
                f = h.detector.family
                flags.append(
                    Flag(
                        h.start, h.end, text[h.start : h.end], h.detector.rule, f.note, f.family, f.principle, situation
                    )
                )
        kept_ids = {id(c) for c in kept}
        return [c for c in changes if id(c) in kept_ids], flags

    def _verify(
        self, text: str, lang: _Lang, code: str, changes: list[Change], rules_of: dict[tuple[int, int], list[str]]
    ) -> tuple[list[Change], list[Flag]]:
        """Never worse than the draft: re-read each rewritten sentence as it would be sent. If a negative family is
        still detected in it, a known garble shows up (leftover punctuation, a lead-in with nothing after), it makes
        two offers, or an untouched clause of it still negates, the sentence comes back as written and flagged."""
        if not changes:
            return changes, []
        match_script, _ = lang.scripts(code)
        subject = _aligned(text, match_script) if match_script else text
        kept: list[Change] = []
        flags: list[Flag] = []
        for m in lang.sentence.finditer(subject):
            ss, se = m.span()
            mine = [c for c in changes if c.start < se and c.end > ss or ss <= c.start < se]
            if not mine:
                continue
            real = [c for c in mine if any(r not in lang.lexical for r in rules_of.get((c.start, c.end), [c.rule]))]
            why = self._worse(text, subject, lang, match_script, ss, se, mine) if real else None
            if why is None:
                kept.extend(mine)
                continue
            _, seen = why
            situation = clauses.situation_of(text[ss:se], code)
            for c in real:
                fam = self._change_family(lang, c, rules_of) or (seen[0] if seen else None)
                f = lang.families.get(fam or "")
                if f is None:
                    note = clauses.SPLICE_WHY.get(lang.name, clauses.SPLICE_WHY["en"])
                    flags.append(Flag(c.start, c.end, c.before, clauses.SPLICE_RULE, note, None, None, situation))
                else:
                    rid = f"{lang.name}.family.{f.family}"
                    flags.append(Flag(c.start, c.end, c.before, rid, f.note, f.family, f.principle, situation))
        kept_ids = {id(c) for c in kept}
        return [c for c in changes if id(c) in kept_ids], flags

    def _learned(
        self,
        text: str,
        lang: _Lang,
        code: str,
        changes: list[Change],
        rules_of: dict[tuple[int, int], list[str]],
        flagged: list[Flag],
    ) -> tuple[list[Change], list[Flag]]:
        """The learned flagger on what the rules left alone: every clause of a sentence no rule rewrote or flagged,
        and the untouched clauses of a rewritten one. A hit flags the clause (`<folder>.learned.<family>`) and the
        sentence comes back as written."""
        assert self.flagger is not None
        match_script, _ = lang.scripts(code)
        subject = _aligned(text, match_script) if match_script else text
        drop: set[int] = set()
        flags: list[Flag] = []
        for m in lang.sentence.finditer(subject):
            ss, se = m.span()
            if any(f.family and clauses.overlaps(f.start, f.end, ss, se) for f in flagged):
                continue
            mine = [c for c in changes if clauses.overlaps(c.start, c.end, ss, se)]
            # a rule of a negative family read the clause; a bare word swap (你→您, 但是→同时) did not
            real = [
                c
                for c in mine
                if any(r not in lang.lexical or lang.family_of.get(r) for r in rules_of.get((c.start, c.end), [c.rule]))
            ]
            hits = []
            for rs, re_ in lang.clauses_of(subject[ss:se]):
                cs, ce = ss + rs, ss + re_
                if real and any(clauses.overlaps(c.start, c.end, cs, ce) for c in real):
                    continue
                fam = self.flagger.flag(lang.name, subject[cs:ce])
                if fam is not None and fam in lang.families:
                    hits.append((cs, ce, fam))
            if not hits:
                continue
            drop.update(id(c) for c in mine)
            situation = clauses.situation_of(text[ss:se], code)
            for cs, ce, fam in hits:
                f = lang.families[fam]
                cs, ce = _strip_span(text, cs, ce, lang.brk)
                rid = f"{lang.name}.learned.{fam}"
                flags.append(Flag(cs, ce, text[cs:ce], rid, f.note, fam, f.principle, situation))
        return [c for c in changes if id(c) not in drop], flags

    def _worse(
        self,
        text: str,
        subject: str,
        lang: _Lang,
        script: str | None,
        ss: int,
        se: int,
        mine: list[Change],
    ) -> tuple[str, list[str]] | None:
        """Why the rewrite of text[ss:se] would read worse than the draft (a reason and the families seen), or None."""
        out: list[str] = []
        spans: list[tuple[int, int]] = []  # where the changes' words sit in the rewritten sentence
        pos, length = ss, 0
        for c in sorted(mine, key=lambda c: c.start):
            lo, hi = max(c.start, ss), min(c.end, se)
            if c.start < ss or c.end > se:  # a change across sentences: judge it with its whole span
                lo, hi = c.start, c.end
            if lo < pos:
                continue
            out.append(text[pos:lo])
            length += lo - pos
            out.append(c.after)
            spans.append((length, length + len(c.after)))
            length += len(c.after)
            pos = hi
        out.append(text[pos:se])
        rewritten = _match_copy("".join(out), script)
        return lang.judge(rewritten, subject[ss:se], tuple(spans))

    def _change_family(self, lang: _Lang, c: Change, rules_of: dict[tuple[int, int], list[str]]) -> str | None:
        for r in rules_of.get((c.start, c.end), [c.rule]):
            fam = lang.family_of.get(r)
            if fam:
                return fam
        return None

    def _pass(self, text: str, langs: list[_Lang], code: str) -> list[Edit]:
        candidates: list[tuple[tuple[int, int, int, int], Edit]] = []
        for lang in langs:
            match_script, output_script = lang.scripts(code)
            subject = _aligned(text, match_script) if match_script else text
            swaps = [(a, b) for a, b in lang.spec.punctuation if a not in text and b in text]
            present = lang.prefilter.present(subject)
            maybe = lang.clause_index.allowed(present)
            starts = clauses.clause_starts(subject, lang.brk) if maybe else []
            for c in maybe:  # whole clauses: no trimming, they win over phrase rules
                if c.rule.codes and code not in c.rule.codes:
                    continue
                for m in _clause_matches(c, subject, starts):
                    after = self._fill(c, m, text, output_script, swaps, lang)
                    if text[m.start() : m.end()] == after:
                        continue
                    key = (-c.rule.priority - 1000, m.start() - m.end(), m.start(), c.order)
                    candidates.append((key, Edit(m.start(), m.end(), after, [c.rule.id], [c.rule.note])))
            for c in lang.rewrite_index.allowed(present):
                if c.rule.codes and code not in c.rule.codes:
                    continue
                for m in c.regex.finditer(subject):
                    after = self._fill(c, m, text, output_script, swaps, lang)
                    # Only rules that copy context through groups are trimmed; others report the whole match.
                    s, e, a = trim(text, m.start(), m.end(), after) if c.grouped else (m.start(), m.end(), after)
                    if text[s:e] == a:
                        continue
                    key = (-c.rule.priority, m.start() - m.end(), s, c.order)
                    candidates.append((key, Edit(s, e, a, [c.rule.id], [c.rule.note])))
        candidates.sort(key=lambda kv: kv[0])
        chosen: list[Edit] = []
        for _, ed in candidates:
            if all(not overlaps(ed.start, ed.end, o.start, o.end) for o in chosen):
                chosen.append(ed)
        chosen.sort(key=lambda ed: ed.start)
        return chosen

    @staticmethod
    def _fill(
        c: _Compiled, m: re.Match[str], text: str, script: str | None, swaps: list[tuple[str, str]], lang: _Lang
    ) -> str:
        out: list[str] = []
        for is_group, value in c.parts:
            if is_group:
                s, e = m.span(value)
                out.append(text[s:e] if s >= 0 else "")
            else:
                lit = _convert_literal(script, value)
                for a, b in swaps:
                    lit = lit.replace(a, b)
                out.append(lit)
        after = "".join(out)
        if lang.spec.match_case and after:
            first = text[m.start() : m.end()][:1]
            opens = not text[: m.start()].rstrip() or text[: m.start()].rstrip()[-1] in ".!?\n"
            if first.isupper() and after[0].islower() and (opens or first != "I"):
                after = after[0].upper() + after[1:]
            elif first.islower() and after[0].isupper() and not (lang.keep_case and lang.keep_case.match(after)):
                after = after[0].lower() + after[1:]
        return after

    def _flags(self, text: str, langs: list[_Lang], code: str, changes: list[Change]) -> list[Flag]:
        flags: dict[tuple[int, int, str], Flag] = {}
        for lang in langs:
            match_script, _ = lang.scripts(code)
            subject = _aligned(text, match_script) if match_script else text
            for c in lang.flagger_index.allowed(lang.prefilter.present(subject)):
                for m in c.regex.finditer(subject):
                    s, e = m.span()
                    flags.setdefault((s, e, c.rule.id), Flag(s, e, text[s:e], c.rule.id, c.rule.note))
            ln = lang.spec.long_negative
            if ln is None or lang.markers is None:
                continue
            for m in lang.sentence.finditer(subject):
                s, e = m.span()
                if e - s < ln.min_chars or len(lang.markers.findall(m.group())) < ln.min_markers:
                    continue
                if any(overlaps(s, e, ch.start, ch.end) for ch in changes):
                    continue
                rid = f"{lang.name}.long_negative"
                flags.setdefault((s, e, rid), Flag(s, e, text[s:e], rid, ln.note))
        return sorted(flags.values(), key=lambda f: (f.start, f.end, f.rule))


# A rule's family when it names none: its tags (a dismissal is impatience, talking about the person is blame).
TAG_FAMILY = {"dismissal": "impatience", "behaviour": "blame", "time": "vague_time", "table": "dont_know"}


def _rule_family(rule: Rule, families: dict[str, Any]) -> str | None:
    if rule.family:
        return rule.family
    for t in rule.tags:
        if t in families:
            return t
    for tag, family in TAG_FAMILY.items():  # in this order: a time rule of the table is about vague time
        if tag in rule.tags:
            return family
    return None


def _strip_span(text: str, start: int, end: int, brk: re.Pattern[str]) -> tuple[int, int]:
    """A clause span without its trailing break and surrounding space."""
    while end > start and (text[end - 1].isspace() or brk.fullmatch(text[end - 1])):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _needs(c: _Compiled) -> Needs:
    return c.needs


def _clause_matches(c: _Compiled, subject: str, starts: list[int]) -> Iterable[re.Match[str]]:
    for st in starts:
        m = c.regex.match(subject, st)
        if m is not None and m.end() > st:
            yield m


def _match_copy(text: str, script: str | None) -> str:
    return _aligned(text, script) if script else text


def _flag_order(f: Flag) -> tuple[int, int, str]:
    return (f.start, f.end, f.rule)
