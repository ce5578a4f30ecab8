"""Parties: states and organisations, found by name, short name, demonym, adjective or metonym.

States come from pycountry plus `en/states.txt`, the ways news and official texts name them:
short names ("U.S."), demonyms and adjectives ("Nigerien" is Niger, "Nigerian" is Nigeria),
capitals and seats of government used as metonyms ("Washington", "the Kremlin"). Lookup works on
word tokens, not one giant regex alternation, so a 10 MB text costs a few dictionary probes per
word.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

from . import fastre, lexicon
from .model import PartyRef

# Names whose pycountry form reads badly in a report.
DISPLAY_NAMES = dict(lexicon.table("display_names.txt"))


# Names that are also common words or persons' names when lower-case or mixed-case.
UPPERCASE_ONLY = {"US", "UK", "UN", "EU", "AU", "CAR", "DRC", "PRC", "ROK", "UAE", "USA"}


@dataclass(frozen=True)
class Party:
    """One entry of the gazetteer: who a mention names, and how it names it."""

    ref: PartyRef
    form: str  # "name", "adjective" or "metonym"
    mission_host: str | None = None  # UN and AU missions are deployed to one country (or two)
    also_hosts: tuple[str, ...] = ()  # UNMEE: Eritrea and Ethiopia
    years: tuple[int, int] | None = None  # when a mission was deployed


@dataclass(frozen=True)
class PartyMention:
    party: Party
    start: int
    end: int

    @property
    def code(self) -> str:
        return self.party.ref.code


# Word tokens: dotted abbreviations ("U.S.", "U.S.S.R."), then words with inner apostrophes
# ("N'Djamena") but not the possessive "'s".
TOKEN_RE = fastre.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:['’](?![sS]\b)\w+)*")
MAX_NAME_TOKENS = 8


def _key(tokens: list[str]) -> str:
    return " ".join(t.replace("’", "'").lower() for t in tokens)


def _tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _build_gazetteer() -> dict[str, Party]:
    gazetteer: dict[str, Party] = {}

    def add(name: str, party: Party, *, replace: bool = False) -> None:
        name = name.strip()
        if not name:
            return
        key = _key(_tokens(name))
        if key and (replace or key not in gazetteer):
            gazetteer[key] = party

    states: dict[str, PartyRef] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        name = DISPLAY_NAMES.get(code) or getattr(country, "common_name", None) or country.name
        states[code] = PartyRef(code=code, name=name, kind="state")
    states["SU"] = PartyRef(code="SU", name=DISPLAY_NAMES["SU"], kind="state")
    states["XK"] = PartyRef(code="XK", name=DISPLAY_NAMES["XK"], kind="state")
    for country in pycountry.countries:
        party = Party(states[country.alpha_2], "name")
        for name in (
            country.name,
            getattr(country, "common_name", ""),
            states[country.alpha_2].name,
        ):
            # "Korea, Republic of" only reads as a name before the comma.
            if "," not in name and "(" not in name:
                add(name, party)
        official = getattr(country, "official_name", "")
        if official:
            add(official, party)
    for code, rest in lexicon.table("states.txt"):
        names, adjectives, capitals = (part.split(",") for part in (rest.split("/") + ["", ""])[:3])
        ref = states[code.strip()]
        for name in names:
            add(name, Party(ref, "name"), replace=True)
        for adjective in adjectives:
            add(adjective, Party(ref, "adjective"), replace=True)
        for capital in capitals:
            add(capital, Party(ref, "metonym"), replace=True)
    for code, rest in lexicon.table("organisations.txt"):
        name, aliases, hosts, years = ([p.strip() for p in rest.split("/")] + ["", ""])[:4]
        hosts = hosts.split()
        first, _, last = years.partition("-")
        party = Party(
            PartyRef(code=code, name=name, kind="organisation"),
            "name",
            hosts[0] if hosts else None,
            tuple(hosts[1:]),
            (int(first), int(last or 9999)) if first else None,
        )
        add(name, party, replace=True)
        for alias in aliases.split(","):
            add(alias, party, replace=True)
    return gazetteer


GAZETTEER = _build_gazetteer()
# The first words of every name ("the", "the united", "the united kingdom", ...): a name is
# looked up only while the words read so far can still begin one, so a common first word such
# as "the" costs one probe, not one per length of the longest name it starts.
NAME_PREFIXES: set[str] = set()
for _name in GAZETTEER:
    _words = _name.split(" ")
    NAME_PREFIXES.update(" ".join(_words[:_k]) for _k in range(1, len(_words) + 1))
_LONGEST_NAME = max(name.count(" ") + 1 for name in GAZETTEER)
# Words of one name are joined by spaces, hyphens or dashes, never by commas.
_GLUE_RE = fastre.compile(r"[\s\-–]{0,3}")
STATES = {p.ref.code: p.ref for p in GAZETTEER.values() if p.ref.kind == "state"}
ORGANISATION_PARTIES = {p.ref.code: p for p in GAZETTEER.values() if p.ref.kind == "organisation"}
# Lower-case common words that happen to be names ("coalition" is kept: it names a party).
_CASE_FREE = {"coalition", "peacekeepers", "blue helmets"}
_STOP_STARTS = {"the"}


def state(code: str) -> PartyRef:
    return STATES[code]


def find_parties(text: str, offset: int = 0) -> list[PartyMention]:
    """Every party mention in `text`, longest match first, as offsets into the full input."""
    lowered = text.replace("’", "'").lower()
    if len(lowered) != len(text):  # a rare letter whose lower case is longer: keep offsets
        lowered = "".join(c.lower()[:1] for c in text.replace("’", "'"))
    # The lower-cased text has the same tokens at the same offsets; findall runs in C, and the
    # offsets are only worked out when some word can start a name.
    keys = TOKEN_RE.findall(lowered)
    starts = [i for i, key in enumerate(keys) if key in NAME_PREFIXES]
    mentions: list[PartyMention] = []
    if not starts:
        return mentions
    # Every word character belongs to a token, so each key is found where its token is.
    tokens: list[tuple[int, int]] = []
    at = 0
    for key in keys[: starts[-1] + _LONGEST_NAME]:
        at = lowered.find(key, at)
        tokens.append((at, at + len(key)))
        at += len(key)
    taken_until = 0
    for i in starts:
        if i < taken_until:
            continue
        names: list[tuple[int, Party]] = []
        key, size = keys[i], 1
        while True:
            if key in GAZETTEER:
                names.append((size, GAZETTEER[key]))
            if i + size == len(keys):
                break
            key = f"{key} {keys[i + size]}"
            if key not in NAME_PREFIXES:
                break
            size += 1
        for size, party in reversed(names):  # the longest name first
            gaps = (text[tokens[j][1] : tokens[j + 1][0]] for j in range(i, i + size - 1))
            if not all(_GLUE_RE.fullmatch(gap) for gap in gaps):
                continue
            words = [text[start:end] for start, end in tokens[i : i + size]]
            if not _looks_like_name(words, text, tokens[i][0], tokens[i + size - 1][1]):
                continue
            mentions.append(
                PartyMention(party, offset + tokens[i][0], offset + tokens[i + size - 1][1])
            )
            taken_until = i + size
            break
    return mentions


def _looks_like_name(words: list[str], text: str, start: int, end: int) -> bool:
    phrase = " ".join(words)
    if phrase.lower() in _CASE_FREE:
        return True
    if words[0].lower() in _STOP_STARTS and len(words) > 1:
        words = words[1:]
    # Proper names start upper-case; "chad" or "us" in running text are not parties.
    if not words[0][:1].isupper():
        return False
    bare = phrase.replace(".", "").upper()
    if bare in UPPERCASE_ONLY and not words[0].replace(".", "").isupper():
        return False
    if phrase in ("US", "UN", "AU") and text[start:end].upper() != text[start:end]:
        return False
    return True


# Every code the gazetteer knows: ISO 3166-1 alpha-2 states, "SU", "XK", and organisations and
# missions by their acronym.
KNOWN_CODES = frozenset(STATES) | frozenset(ORGANISATION_PARTIES)


def party_named(name: str) -> PartyRef | None:
    """The party a whole name, short name, demonym or acronym names ("USA", "the UK",
    "French", "MINUSMA"), or None. Capitals and other metonyms are not names here: a person
    asking for "Washington" may not mean the United States."""
    key = _key(_tokens(name))
    party = GAZETTEER.get(key) or GAZETTEER.get(key.removeprefix("the "))
    if party is None or party.form == "metonym":
        return None
    return party.ref


def missions_in(host: str, year: int) -> Party | None:
    """The mission deployed to `host` in `year`: "the UN peacekeeping mission in Liberia"."""
    for party in ORGANISATION_PARTIES.values():
        if party.years and party.years[0] <= year <= party.years[1]:
            if host == party.mission_host or host in party.also_hosts:
                return party
    return None
