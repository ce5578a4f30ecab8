"""Sentence splitting that keeps character offsets into the input."""

from __future__ import annotations

from dataclasses import dataclass

from . import fastre, lexicon

# Abbreviations after which a full stop does not end a sentence.
ABBREVIATIONS = set(lexicon.words("abbreviations.txt"))
# A sentence never grows past this: a 10 MB text without punctuation stays cheap to analyse.
MAX_SENTENCE_CHARS = 3000

# Only the first mark of a run may start a match: "....." costs one pass, not one per dot.
# A blank line always ends a sentence; a single line break only when the next line does not
# go on with a lower-case word after a line that stops mid-clause: hard-wrapped text
# ("... in a televised statement on Wednesday evening,\nObama said ...") reads as one.
_BOUNDARY_RE = fastre.compile(
    r"(?<![.!?])[.!?]++[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])"
    r"|\n[ \t]*\n\s*|(?<![,;])\n(?![ \t]*[a-z])\s*"
)
_WORD_BEFORE_RE = fastre.compile(r"(?<!\w)([A-Za-z.]+)$")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    sentences: list[Sentence] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(text):
        if match.group().startswith((".", "!", "?")) and _is_abbreviation(text, match.start()):
            continue
        end = match.end() if not match.group().startswith("\n") else match.start()
        _add(text, start, end, sentences)
        start = match.end()
    _add(text, start, len(text), sentences)
    return sentences


def _is_abbreviation(text: str, dot: int) -> bool:
    word = _WORD_BEFORE_RE.search(text, max(0, dot - 20), dot)
    if not word:
        return False
    token = word.group(1)
    # "U.S." and "D.C." end a sentence rarely; an initial ("J. Smith") never does.
    if "." in token or len(token) == 1:
        return True
    return token.lower() in ABBREVIATIONS


def _add(text: str, start: int, end: int, sentences: list[Sentence]) -> None:
    while start < end:
        piece_end = min(end, start + MAX_SENTENCE_CHARS)
        if piece_end < end:
            space = text.rfind(" ", start, piece_end)
            if space > start:
                piece_end = space
        left, right = start, piece_end
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            sentences.append(Sentence(text[left:right], left, right))
        start = piece_end
