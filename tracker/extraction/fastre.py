"""Regexes that skip quickly to the characters a match can begin with.

Python's `re` runs its fast C scan only for a pattern that opens with a plain literal or
character set. Ours mostly open with `\\b` and a choice of words under IGNORECASE, so the engine
tries every alternative at every position of a sentence. `compile()` works out the characters a
match can begin with and puts a lookahead on them in front: at most positions the engine then
fails after one set lookup. The matches do not change, as the lookahead only states what the
first character must be anyway; when the first characters cannot be worked out (a pattern that
can match the empty string, a category such as `\\w`), the pattern is compiled as it is.
"""

from __future__ import annotations

import re

try:  # the parser behind re.compile; private, so any surprise falls back to plain patterns
    from re import _parser as _p
except ImportError:  # pragma: no cover - Python < 3.11
    _p = None

_GLOBAL_FLAGS_RE = re.compile(r"\(\?[aiLmsux]+\)")
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def compile(pattern: str, flags: int = 0) -> re.Pattern:  # noqa: A001 - mirrors re.compile
    compiled = re.compile(pattern, flags)
    try:
        items = _p.parse(pattern, flags).data
        if not flags & re.IGNORECASE and _scanned_in_c(items):
            return compiled
        first = _first_chars(items)
    except Exception:  # noqa: BLE001 - an unknown construct only costs the speed-up
        return compiled
    if first is None or first[1] or not first[0]:
        return compiled
    # Case-insensitive whatever the pattern's flags: a superset of the first characters (and
    # their case folds, "ſ" for "s") never loses a match.
    gate = "".join(sorted(c if c == r"\d" else re.escape(c) for c in first[0]))
    if flags & re.VERBOSE or _GLOBAL_FLAGS_RE.match(pattern):
        return compiled  # a comment could swallow the wrapping, "(?x)" must come first
    return re.compile(f"(?=(?i:[{gate}]))(?:{pattern})", flags)


def _scanned_in_c(items) -> bool:
    """Whether `re` already scans for the pattern's start in C (a literal, a set, or a choice
    of literals), which a lookahead in front would turn off."""
    while items and str(items[0][0]) == "SUBPATTERN" and not items[0][1][1] & re.IGNORECASE:
        items = items[0][1][3].data
    if not items:
        return False
    op, av = items[0]
    if str(op) == "BRANCH":
        return all(alt.data and str(alt.data[0][0]) == "LITERAL" for alt in av[1])
    return str(op) in ("LITERAL", "IN")


def _first_chars(items) -> tuple[set[str], bool] | None:
    """(characters a match of `items` can begin with, whether it can be empty), or None."""
    out: set[str] = set()
    for op, av in items:
        name = str(op)
        if name in ("AT", "ASSERT_NOT"):  # consume nothing: the next item decides
            continue
        if name == "LITERAL":
            out.add(chr(av))
            return out, False
        if name == "IN":
            for kind, value in av:
                kind = str(kind)
                if kind == "LITERAL":
                    out.add(chr(value))
                elif kind == "RANGE" and value[1] - value[0] <= 60:
                    out.update(chr(c) for c in range(value[0], value[1] + 1))
                elif kind == "CATEGORY" and str(value) == "CATEGORY_DIGIT":
                    out.add(r"\d")  # any Unicode digit, as the pattern means
                else:
                    return None
            return out, False
        if name == "BRANCH":
            for alternative in av[1]:
                found = _first_chars(alternative.data)
                if found is None or found[1]:
                    return None
                out |= found[0]
            return out, False
        if name == "SUBPATTERN":
            found = _first_chars(av[3].data)
        elif name in _REPEATS:
            found = _first_chars(av[2].data)
            if found is not None and av[0] == 0:
                found = (found[0], True)
        else:
            return None
        if found is None:
            return None
        out |= found[0]
        if not found[1]:
            return out, False
    return out, True
