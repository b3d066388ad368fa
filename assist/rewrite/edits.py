"""Edits of one pass and how they fold into changes against the original draft (offsets stay exact)."""

from __future__ import annotations

from dataclasses import dataclass

from assist.rewrite.result import Change


@dataclass(slots=True)
class Edit:
    start: int
    end: int
    after: str
    rules: list[str]
    whys: list[str]


def trim(text: str, start: int, end: int, after: str) -> tuple[int, int, str]:
    """Shrink an edit to the part that differs, never splitting an ASCII word."""
    before = text[start:end]
    p = 0
    limit = min(len(before), len(after))
    while p < limit and before[p] == after[p]:
        p += 1
    q = 0
    while q < limit - p and before[-1 - q] == after[-1 - q]:
        q += 1

    def word(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    while p > 0 and word(before[p - 1]) and (p < len(before) and word(before[p]) or p < len(after) and word(after[p])):
        p -= 1
    while (
        q > 0
        and word(before[-q])
        and (len(before) - q - 1 >= p and word(before[-q - 1]) or len(after) - q - 1 >= p and word(after[-q - 1]))
    ):
        q -= 1
    return start + p, end - q, after[p : len(after) - q]


def apply_changes(original: str, changes: list[Change]) -> str:
    out, pos = [], 0
    for c in changes:
        out.append(original[pos : c.start])
        out.append(c.after)
        pos = c.end
    out.append(original[pos:])
    return "".join(out)


def overlaps(s1: int, e1: int, s2: int, e2: int) -> bool:
    return (s1 < e2 and s2 < e1) or s1 == s2


def compose(
    original: str, changes: list[Change], current: str, edits: list[Edit], rules_of: dict[tuple[int, int], list[str]]
) -> tuple[list[Change], str]:
    """Fold one pass's edits (offsets into `current`) into the changes against `original`.

    `rules_of` maps each change's (start, end) to every rule that shaped it; it is updated in place.
    """
    items: list[tuple[int, int, Change | None, Edit | None]] = []
    delta = 0
    for ch in changes:  # where each earlier change sits in `current`
        cs = ch.start + delta
        items.append((cs, cs + len(ch.after), ch, None))
        delta += len(ch.after) - len(ch.before)
    items.extend((ed.start, ed.end, None, ed) for ed in edits)
    items.sort(key=lambda it: (it[0], it[1]))

    def to_original(pos: int) -> int:
        d = 0
        for ch in changes:
            cs = ch.start + d
            if cs + len(ch.after) > pos:
                break
            d += len(ch.after) - len(ch.before)
        return pos - d

    clusters: list[list[tuple[int, int, Change | None, Edit | None]]] = []
    for it in items:
        if clusters and it[0] < max(x[1] for x in clusters[-1]):
            clusters[-1].append(it)
        else:
            clusters.append([it])

    merged: list[Change] = []
    pieces: list[str] = []
    cursor = 0
    for cl in clusters:
        lo, hi = min(x[0] for x in cl), max(x[1] for x in cl)
        segment = current[lo:hi]
        for s, e, _, ed in sorted((x for x in cl if x[3] is not None), key=lambda x: -x[0]):
            assert ed is not None
            segment = segment[: s - lo] + ed.after + segment[e - lo :]
        pieces.append(current[cursor:lo])
        pieces.append(segment)
        cursor = hi
        olds = [x[2] for x in cl if x[2] is not None]
        news = [x[3] for x in cl if x[3] is not None]
        if not news:
            merged.extend(olds)
            continue
        os_, oe = to_original(lo), to_original(hi)
        if olds:
            os_, oe = min(os_, olds[0].start), max(oe, olds[-1].end)
        rules = [r for c in olds for r in rules_of.pop((c.start, c.end), [c.rule])]
        rules += [r for ed in news for r in ed.rules]
        whys = [c.why for c in olds] + [w for ed in news for w in ed.whys]
        if original[os_:oe] == segment:
            continue
        rules_of[(os_, oe)] = rules
        merged.append(Change(os_, oe, original[os_:oe], segment, rules[0], " / ".join(dict.fromkeys(whys))))
    pieces.append(current[cursor:])
    return merged, "".join(pieces)
