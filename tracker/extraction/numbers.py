"""Force sizes: "about 1,000 troops", "roughly a thousand soldiers", "more than 12,000 troops and
police", "a force of some 5,000", each with its qualifier."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import fastre, lexicon

_NUMBER_WORDS = {word: int(value) for word, value in lexicon.table("number_words.txt")}
SCALES = {w: v for w, v in _NUMBER_WORDS.items() if w in ("hundred", "thousand", "million")}
UNITS = {w: v for w, v in _NUMBER_WORDS.items() if w not in SCALES}

_UNIT_WORDS = "|".join(sorted((re.escape(w) for w in UNITS), key=len, reverse=True))
_MORE_WORDS = "|".join(
    sorted((re.escape(w) for w in [*UNITS, *SCALES] if w not in ("a", "an")), key=len, reverse=True)
)
# "twenty-five", "a thousand", "two thousand five hundred", "one hundred and fifty".
WORD_NUMBER = rf"(?:{_UNIT_WORDS})(?:(?:\s+and\s+|[\s-])(?:{_MORE_WORDS})\b)*"
# The look-behind lets only the first digit of a run start a number (no quadratic rescans).
DIGIT_NUMBER = r"(?<![\d,.])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d++(?:\.\d+)?)"
NUMBER = rf"(?:{DIGIT_NUMBER})(?:\s+(?:thousand|million))?|{WORD_NUMBER}"

QUALIFIERS = dict(lexicon.table("qualifiers.txt"))
QUALIFIER_WORDS = "|".join(sorted((re.escape(q) for q in QUALIFIERS), key=len, reverse=True))
_QUALIFIER = QUALIFIER_WORDS

# Nouns that name soldiers; civilians, evacuees, vehicles and years are never force sizes.
FORCE_NOUNS = "|".join(
    r"\s+".join(map(re.escape, noun.split())) for noun in lexicon.rows("force_nouns.txt")
)
# Up to four modifiers between number and noun: "400 special forces soldiers",
# "1,000 American military personnel", "2,500 U.S. troops".
_NOT_MODIFIERS = (
    r"to|of|the|a|an|in|on|at|by|for|from|with|and|or|that|which|who|were|was|are|is|be|"
    r"been|have|has|had|will|would|deadline|days?|weeks?|months?|years?"
)
_MODIFIERS = rf"(?:(?!(?:{_NOT_MODIFIERS})\b)[A-Za-z][\w.'’-]*\s+){{0,4}}?"
FORCE_SIZE_RE = fastre.compile(
    rf"(?:\b(?P<qual>{_QUALIFIER})\s+)?(?:the\s+|its\s+|their\s+|all\s+)?"
    rf"\b(?P<num>{NUMBER})(?:-strong\s+(?:force|contingent|mission)\b|\s+{_MODIFIERS}(?P<noun>{FORCE_NOUNS})\b)"
    rf"|\b(?:force|contingent|deployment|presence|garrison|mission)\s+(?:that\s+)?"
    rf"(?:[a-z]+\s+){{0,4}}?(?:of|numbered|numbering|totalling|totaling)\s+"
    rf"(?:(?P<qual2>{_QUALIFIER})\s+)?(?P<num2>{NUMBER})\b",
    re.IGNORECASE,
)


_AFTER_MONTH_RE = fastre.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+$"
)
# "in 2013 troops arrived": a bare year is not a force size unless a qualifier says so.
_LOOKS_LIKE_YEAR_RE = fastre.compile(r"(?:19|20)\d\d")


# Where a force size can be: a run of digits or a scale word. The full pattern then runs on a
# short window around each, which is far cheaper than scanning the whole sentence with it.
_NUMBER_ANCHOR_RE = fastre.compile(r"(?<![\d,.])\d|(?i:thousand|hundred|million)")
_WINDOW_BEFORE = 45
_WINDOW_AFTER = 140


@dataclass(frozen=True)
class ForceSize:
    value: int
    qualifier: str
    start: int
    end: int


def parse_number(words: str) -> int | None:
    """ "1,000" -> 1000, "1.5 million" -> 1500000, "a thousand" -> 1000, "twenty-five" -> 25."""
    words = words.strip().lower().replace("-", " ")
    scale = 1
    for name, factor in SCALES.items():
        if words.endswith(" " + name) and name != "hundred":
            scale = factor
            words = words[: -len(name) - 1].strip()
    digits = words.replace(",", "")
    try:
        return round(float(digits) * scale)
    except ValueError:
        pass
    total = current = 0
    for word in re.findall(r"[a-z]+", words):
        if word in UNITS:
            current += UNITS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in SCALES:  # "two thousand five hundred": the thousands are done
            total += max(current, 1) * SCALES[word]
            current = 0
        elif word != "and":
            return None
    total += current
    return total * scale if total else None


def find_force_sizes(text: str, offset: int = 0) -> list[ForceSize]:
    sizes: list[ForceSize] = []
    taken_until = 0
    for anchor in _NUMBER_ANCHOR_RE.finditer(text):
        if anchor.start() < taken_until:
            continue
        start = max(taken_until, anchor.start() - _WINDOW_BEFORE)
        space = text.find(" ", start, anchor.start())
        if start and space != -1:  # begin on a word, so "about" is never read as "out"
            start = space + 1
        match = FORCE_SIZE_RE.search(text, start, anchor.end() + _WINDOW_AFTER)
        if match is None or match.end() <= anchor.start():
            continue
        taken_until = match.end()
        raw = match.group("num") or match.group("num2")
        if _AFTER_MONTH_RE.search(
            text,
            max(0, match.start() - 12),
            match.start("num") if match.group("num") else match.start(),
        ):
            continue  # "September 11 deadline": a day of the month
        value = parse_number(raw)
        if not value or value < 2 or _LOOKS_LIKE_YEAR_RE.fullmatch(raw) and not match.group("qual"):
            continue
        qualifier_word = (match.group("qual") or match.group("qual2") or "").lower()
        qualifier = QUALIFIERS.get(qualifier_word, "exact")
        sizes.append(ForceSize(value, qualifier, offset + match.start(), offset + match.end()))
    return sizes
