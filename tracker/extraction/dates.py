"""Date expressions, read with a small regex grammar on one sentence at a time.

A mention keeps the words it was read from and its precision. A date without a year keeps
three readings (the most recent past one, the next future one, the nearest one); the extractor
picks one once it knows the date's role: a deadline looks forward, a completion looks back.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field

from . import fastre
from .numbers import NUMBER, parse_number

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("January", "Jan"), ("February", "Feb"), ("March", "Mar"), ("April", "Apr"),
            ("May",), ("June", "Jun"), ("July", "Jul"), ("August", "Aug"),
            ("September", "Sept", "Sep"), ("October", "Oct"), ("November", "Nov"),
            ("December", "Dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
# Wire copy and headlines write months in capitals: "SEPT. 15", "JAN. 3".
MONTHS.update({name.upper(): number for name, number in list(MONTHS.items())})
WEEKDAYS = {
    name: index
    for index, name in enumerate(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    )
}
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b(?:\.(?=\s*\d))?"
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:1[89]\d\d|20\d\d)\b"
_PART = (
    r"(?:the\s+)?(?:end|close|beginning|start|middle|turn|first\s+half|second\s+half)\s+of"
    r"|early|mid|late"
)
_REL = r"last|this|next"

_PATTERNS = [
    (
        "iso",
        fastre.compile(r"\b(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12]\d|3[01])\b"),
    ),
    (
        "month_day",
        fastre.compile(
            rf"\b(?:(?P<wd>{_WEEKDAY}),?\s+)?(?:(?P<part>{_PART})[\s-]+)?(?P<m>{_MONTH})"
            # "September, 11th": a comma only before an ordinal day.
            rf"(?:\s*|,\s*(?=\d{{1,2}}(?:st|nd|rd|th)\b))(?P<d>{_DAY})(?!,\d|\d)(?:,?\s+(?P<y>{_YEAR}))?"
            rf"(?:\s+(?:of\s+)?(?P<rel>{_REL})\s+year\b)?"
        ),
    ),
    (
        "day_month",
        fastre.compile(
            rf"\b(?:(?P<wd>{_WEEKDAY}),?\s+)?(?:the\s+)?(?P<d>{_DAY})\s+(?:of\s+)?(?P<m>{_MONTH})"
            rf"(?:,?\s+(?P<y>{_YEAR}))?(?:\s+(?:of\s+)?(?P<rel>{_REL})\s+year\b)?"
        ),
    ),
    (
        "month",
        fastre.compile(
            rf"\b(?:(?P<part>{_PART})[\s-]+|(?P<rel0>{_REL}|that)\s+)?(?P<m>{_MONTH})"
            rf"(?:,?\s+(?P<y>{_YEAR})|\s+(?:of\s+)?(?P<rel>{_REL}|that)\s+year\b)?"
        ),
    ),
    (
        "year",
        fastre.compile(
            rf"\b(?:(?P<part>{_PART})[\s-]+)?(?P<y>{_YEAR})(?![,.]?\d|-\d|\s*(?:%|per))"
        ),
    ),
    (
        "relative_period",
        fastre.compile(
            rf"\b(?:(?P<part>{_PART})\s+)?(?:the\s+)?(?P<rel>last|this|next|that|current|"
            r"coming|previous|following|same)\s+(?P<unit>year|month)\b"
            rf"|\b(?P<part2>{_PART})\s+the\s+(?P<unit2>year|month)\b"
        ),
    ),
    (
        "season",
        fastre.compile(
            rf"\b(?:(?P<part>early|late|mid|(?:the\s+)?(?:end|beginning|start|middle)\s+of)[\s-]+)?"
            rf"(?:(?P<rel>this|next|last|that)\s+)?(?:the\s+)?"
            r"(?P<season>[Ss]pring|[Ss]ummer|[Aa]utumn|[Ff]all|[Ww]inter|Christmas|"
            r"New\s+Year(?:['’]s(?:\s+Day)?)?|Thanksgiving)\b"
            rf"(?:\s+(?:of\s+)?(?P<y>{_YEAR})|\s+of\s+(?P<rel2>this|next|last)\s+year)?"
        ),
    ),
    (
        "weekday",
        fastre.compile(
            rf"\b(?:(?P<rel>last|next|this|early|late)\s+)?(?P<wd>{_WEEKDAY})"
            r"(?:\s+(?:morning|afternoon|evening|night))?\b"
        ),
    ),
    (
        "day_word",
        fastre.compile(
            r"\b(?P<word>today|tonight|yesterday|tomorrow|last\s+night|this\s+morning|"
            r"this\s+afternoon|this\s+evening|earlier\s+today)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "ago",
        fastre.compile(
            rf"\b(?P<n>{NUMBER})\s+(?P<unit>days?|weeks?|months?|years?)\s+ago\b", re.IGNORECASE
        ),
    ),
    (
        "duration",
        fastre.compile(
            r"\b(?:within|in|over)\s+(?:the\s+)?(?:next\s+|coming\s+)?"
            rf"(?P<n>{NUMBER})\s+"
            r"(?P<unit>hours?|days?|weeks?|months?|years?)\b"
            rf"|\b(?P<n2>{NUMBER})\s+(?P<unit2>hours?|days?|weeks?|months?|years?)"
            r"(?=\s+to\s+(?:leave|withdraw|depart|pull\s+out|quit|exit|go)\b)",
            re.IGNORECASE,
        ),
    ),
]
_LEAD_RE = fastre.compile(
    # The lead is a word of its own: "Lebanon within a year" has no "on".
    r"(?<![\w'’])(?P<lead>no\s+later\s+than|not\s+later\s+than|by|until|till|before|on|in|at|since|from|to|"
    r"after|as\s+of|of|during|through|starting|effective|around)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# Substring checks (C speed) tell which of the patterns above can match a sentence at all.
_MONTH_STEMS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_STEMS += tuple(stem.upper() for stem in _MONTH_STEMS)
_WEEKDAY_STEMS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNIT_STEMS = ("year", "month", "week", "day", "hour")
_DAY_WORD_STEMS = ("today", "tonight", "yesterday", "tomorrow", "night", "morning", "afternoon",
                   "evening")  # fmt: skip
_DIGIT_RE = re.compile(r"\d")
_SEASON_STEMS_RE = re.compile(r"spring|summer|autumn|fall|winter|christmas|new year|thanksgiving")
# Case-sensitive alternations of literals: `re` scans for them in C, faster than `in` per stem.
_MONTH_STEMS_RE, _WEEKDAY_STEMS_RE, _UNIT_STEMS_RE, _DAY_WORD_STEMS_RE = (
    re.compile("|".join(stems))
    for stems in (_MONTH_STEMS, _WEEKDAY_STEMS, _UNIT_STEMS, _DAY_WORD_STEMS)
)


def _hints(text: str) -> set[str]:
    lowered = text.lower()
    hints = set()
    if _DIGIT_RE.search(text):
        hints.add("digit")
    if _MONTH_STEMS_RE.search(text):
        hints.add("month")
    if "day" in lowered and _WEEKDAY_STEMS_RE.search(text):
        hints.add("weekday")
    if _UNIT_STEMS_RE.search(lowered):
        hints.add("unit")
    if _DAY_WORD_STEMS_RE.search(lowered):
        hints.add("day_word")
    if "ago" in lowered:
        hints.add("ago")
    if _SEASON_STEMS_RE.search(lowered):
        hints.add("season")
    return hints


_NEEDS = {
    "iso": {"digit"},
    "month_day": {"digit", "month"},
    "day_month": {"digit", "month"},
    "month": {"month"},
    "year": {"digit"},
    "relative_period": {"unit"},
    "season": {"season"},
    "weekday": {"weekday"},
    "day_word": {"day_word"},
    "ago": {"unit", "ago"},
    "duration": {"unit"},
}
_NEEDS_LEAD = {
    "month",
    "year",
    "season",
}  # a bare "May" or "2018" is a date only after a preposition
PAST_TOLERANCE = datetime.timedelta(days=1)
FUTURE_TOLERANCE = datetime.timedelta(days=45)


@dataclass
class DateMention:
    start: int
    end: int
    phrase: str  # with its preposition: "by September 15th"
    lead: str  # "by", "until", "on", ... or ""
    precision: str
    past: datetime.date | None = None
    future: datetime.date | None = None
    nearest: datetime.date | None = None
    duration: tuple[int, str] | None = None  # (1, "month") for "within one month"
    runs_from: str | None = None  # "mandate" for "within a year after the mandate ends"
    attributive: bool = False  # "the 2018 agreement": names another thing, is no event date
    year_given: bool = False
    anchored: bool = True  # False: relative, and the text gives no day to count from

    def resolve(self, direction: str) -> datetime.date | None:
        return {"past": self.past, "future": self.future}.get(direction) or self.nearest


@dataclass
class DateContext:
    """What resolving a text's dates needs; `last_year` follows the text for "that year"."""

    reference: datetime.date
    weekday_picks_year: bool = False  # no publication date: "Monday, May 20th" names the year
    today: datetime.date = field(default_factory=datetime.date.today)
    last_year: int | None = None
    anchored: bool = True  # whether `reference` is known (not merely today)


def last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def add_duration(start: datetime.date, amount: int, unit: str) -> datetime.date:
    unit = unit.rstrip("s")
    if unit in ("hour", "day"):
        return start + datetime.timedelta(days=amount if unit == "day" else -(-amount // 24))
    if unit == "week":
        return start + datetime.timedelta(weeks=amount)
    months = amount * (12 if unit == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    return datetime.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


# The patterns open with optional words ("early", "Monday,", "the end of"), so a whole-sentence
# scan tries them at every character. Instead they run on a short window around the word every
# match must contain: a month name, a weekday, a four-digit number, "year" or "month".
# Each anchor opens with a character set, so `re` finds it with its fast C scan; a look-behind
# placed after the first character ("\d(?<!\d\d)": a digit no digit precedes) keeps it so.
_MONTH_ANCHOR = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|"
    r"OCT|NOV|DEC)"
)
_ANCHORS = {
    "iso": re.compile(r"\d(?<!\d\d)\d{3}-"),
    "month_day": _MONTH_ANCHOR,
    "day_month": _MONTH_ANCHOR,
    "month": _MONTH_ANCHOR,
    "year": re.compile(r"\d(?<!\d\d)\d{3}(?!\d)"),
    "relative_period": re.compile(r"[YyMm](?i:ear|onth)"),
    "weekday": re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"),
    "season": re.compile(
        r"[SsAaFfWwCNT](?:pring|ummer|utumn|all|inter|hristmas|ew\s+Year|hanksgiving)"
    ),
    # "within the next twelve months", "three weeks ago": the unit word is inside every match.
    "ago": re.compile(r"[Aa](?<!\w[Aa])(?i:go)\b"),
    "duration": re.compile(r"[HhDdWwMmYy](?<!\w[HhDdWwMmYy])(?i:our|ay|eek|onth|ear)s?\b"),
}
_BEFORE, _AFTER = 45, 60


def _around(pattern: re.Pattern, anchor_re: re.Pattern, text: str):
    """Matches of `pattern` that contain an anchor, each found within a window around it."""
    taken_until = 0
    for anchor in anchor_re.finditer(text):
        at = anchor.start()
        if at < taken_until:
            continue
        start = max(0, at - _BEFORE)
        space = text.find(" ", start, at)
        if start and space != -1:  # begin on a word boundary
            start = space + 1
        end = min(len(text), anchor.end() + _AFTER)
        match = pattern.search(text, start, end)
        while match and match.end() <= at:  # an earlier date in the window: step past it
            match = pattern.search(text, match.end(), end)
        if match and match.start() <= at:
            taken_until = match.end()
            yield match


def find_dates(text: str, offset: int, context: DateContext) -> list[DateMention]:
    """Date mentions in one sentence, in order, without overlaps (the longest reading wins)."""
    found: list[tuple[int, int, str, re.Match]] = []
    hints = _hints(text)
    for kind, pattern in _PATTERNS:
        if not _NEEDS[kind] <= hints:  # most sentences hold no date: skip the costly scans
            continue
        anchor_re = _ANCHORS.get(kind)
        matches = pattern.finditer(text) if anchor_re is None else _around(pattern, anchor_re, text)
        for match in matches:
            found.append((match.start(), match.end(), kind, match))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    mentions: list[DateMention] = []
    taken_until = -1
    for start, end, kind, match in found:
        if start < taken_until:
            continue
        lead_match = _LEAD_RE.search(text, max(0, start - 24), start)
        lead = re.sub(r"\s+", " ", lead_match.group("lead").lower()) if lead_match else ""
        mention = _read(kind, match, lead, context)
        if mention is None:
            continue
        phrase_start = lead_match.start() if lead_match else start
        mention.start, mention.end = offset + start, offset + end
        mention.phrase = text[phrase_start:end]
        mention.attributive = kind == "year" and _is_attributive(text, start, end)
        mention.anchored = context.anchored or mention.year_given
        if mention.duration:
            runs_from = _RUNS_FROM_RE.match(text, end)
            if runs_from:
                mention.runs_from = (runs_from.group("noun") or runs_from.group("noun2")).lower()
        # "on 18 December 2011 early Sunday morning": the weekday names the same day again.
        if (
            kind == "weekday"
            and mentions
            and mentions[-1].year_given
            and (offset + start - mentions[-1].end <= 2)
        ):
            taken_until = end
            continue
        mentions.append(mention)
        taken_until = end
    return mentions


# "within one year after the mandate ends", "six months after the end of the agreement": the
# duration counts from that event, whose date the text may give elsewhere.
_RUNS_FROM_RE = fastre.compile(
    r"\s+(?:after|from|following|of)\s+(?:the\s+|its\s+|their\s+)?(?:"
    r"(?:end|expiry|expiration|close|termination|lapse)\s+of\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:[A-Z][\w-]*\s+){0,3}(?P<noun>[a-z]+)\b"
    r"|(?:[A-Z][\w-]*['’]s\s+)?(?P<noun2>[a-z]+)\s+(?:ends|expires|lapses|runs\s+out|is\s+over)\b)"
)


_ATTRIBUTIVE_BEFORE_RE = fastre.compile(r"\b(?:the|a|an|its|their|his|her)\s+$", re.IGNORECASE)
_ATTRIBUTIVE_AFTER_RE = fastre.compile(r"\s+(?!and\b|or\b|to\b|in\b|on\b|at\b|by\b)[a-z]")


def _is_attributive(text: str, start: int, end: int) -> bool:
    """ "the 2008 security agreement": a year in front of a noun names a thing, not an event."""
    return bool(
        _ATTRIBUTIVE_BEFORE_RE.search(text, max(0, start - 8), start)
        and _ATTRIBUTIVE_AFTER_RE.match(text, end)
    )


def _read(kind: str, match: re.Match, lead: str, context: DateContext) -> DateMention | None:
    ref = context.reference
    groups = match.groupdict()
    if kind in _NEEDS_LEAD and not (
        lead or groups.get("part") or groups.get("rel") or groups.get("rel0")
    ):
        if kind in ("month", "season") and not groups.get("y"):
            return None
        if kind == "year" and not _ATTRIBUTIVE_BEFORE_RE.search(
            match.string, max(0, match.start() - 8), match.start()
        ):
            return None
    if kind == "iso":
        try:
            day = datetime.date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
        except ValueError:
            return None
        return _fixed(day, "day", lead, year_given=True, context=context)
    if kind in ("month_day", "day_month"):
        return _read_month_day(groups, lead, context)
    if kind == "month":
        return _read_month(groups, lead, context)
    if kind == "year":
        year = int(groups["y"])
        context.last_year = year
        part = _part(groups.get("part"))
        if part == "end":
            return _fixed(datetime.date(year, 12, 31), "month", lead, True, context)
        if part in ("beginning", "start"):
            return _fixed(datetime.date(year, 1, 31), "month", lead, True, context)
        if part == "first half":
            return _fixed(datetime.date(year, 6, 30), "month", lead, True, context)
        return _fixed(datetime.date(year, 12, 31), "year", lead, True, context)
    if kind == "relative_period":
        return _read_relative_period(groups, lead, context)
    if kind == "season":
        return _read_season(groups, lead, context)
    if kind == "weekday":
        return _read_weekday(groups, lead, ref)
    if kind == "day_word":
        word = re.sub(r"\s+", " ", groups["word"].lower())
        shift = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
        return _fixed(ref + datetime.timedelta(days=shift), "day", lead, False, context)
    if kind == "ago":
        amount = parse_number(groups["n"])
        if not amount:
            return None
        unit = groups["unit"].lower().rstrip("s")
        day = add_duration(ref, -amount, unit)
        if unit == "year":
            return _fixed(datetime.date(day.year, 12, 31), "year", lead, False, context)
        if unit == "month":
            return _fixed(last_day(day.year, day.month), "month", lead, False, context)
        return _fixed(day, "day", lead, False, context)
    if kind == "duration":
        amount = parse_number(groups.get("n") or groups.get("n2") or "")
        unit = (groups.get("unit") or groups.get("unit2") or "").lower()
        if not amount or amount > 120:
            return None
        return DateMention(0, 0, "", lead, "day", duration=(amount, unit.rstrip("s")))
    return None


def _part(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = re.sub(r"\s+", " ", raw.lower()).removeprefix("the ").removesuffix(" of")
    return {"close": "end", "turn": "end", "middle": "mid"}.get(raw, raw)


def _fixed(
    day: datetime.date, precision: str, lead: str, year_given: bool, context: DateContext
) -> DateMention:
    return DateMention(
        0, 0, "", lead, precision, past=day, future=day, nearest=day, year_given=year_given
    )


def _candidates(month: int, day: int | None, ref: datetime.date) -> list[tuple[datetime.date, int]]:
    out = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            out.append((datetime.date(year, month, day) if day else last_day(year, month), year))
        except ValueError:  # February 29th outside a leap year
            continue
    return out


def _year_readings(
    month: int, day: int | None, ref: datetime.date, precision: str, lead: str
) -> DateMention | None:
    candidates = [c for c, _ in _candidates(month, day, ref)]
    if not candidates:
        return None
    # A month has begun (and can be past) once its first day is reached.
    past = [
        c for c in candidates if c.replace(day=1 if day is None else c.day) <= ref + PAST_TOLERANCE
    ]
    future = [c for c in candidates if c >= ref - FUTURE_TOLERANCE]
    # A month reads against the reference month: "in January" published in January is this one.
    nearest = min(candidates, key=lambda c: (abs((c - ref).days), c))
    if day is None:
        same = [c for c in candidates if c.year == ref.year and c.month == ref.month]
        nearest = same[0] if same else nearest
    return DateMention(
        0,
        0,
        "",
        lead,
        precision,
        past=max(past) if past else None,
        future=min(future) if future else None,
        nearest=nearest,
    )


def _year_from_rel(rel: str | None, context: DateContext) -> int | None:
    if not rel:
        return None
    rel = rel.lower()
    if rel == "that":
        return context.last_year
    return context.reference.year + {"last": -1, "this": 0, "next": 1}[rel]


def _read_month_day(groups: dict, lead: str, context: DateContext) -> DateMention | None:
    month = MONTHS[groups["m"].rstrip(".")]
    day = int(re.match(r"\d+", groups["d"]).group())
    year = int(groups["y"]) if groups.get("y") else _year_from_rel(groups.get("rel"), context)
    if year is None and groups.get("wd") and context.weekday_picks_year:
        year = _year_of_weekday(month, day, WEEKDAYS[groups["wd"]], context.today)
    if year is not None:
        try:
            day_date = datetime.date(year, month, day)
        except ValueError:
            return None
        context.last_year = year
        return _fixed(day_date, "day", lead, True, context)
    try:
        datetime.date(2024, month, day)
    except ValueError:
        return None
    if groups.get("wd"):
        # "Wednesday, January 18" published in 2023: the weekday picks among the near years.
        matching = [
            c
            for c, _ in _candidates(month, day, context.reference)
            if c.weekday() == WEEKDAYS[groups["wd"]]
        ]
        if len(matching) == 1:
            context.last_year = matching[0].year
            return _fixed(matching[0], "day", lead, True, context)
    return _year_readings(month, day, context.reference, "day", lead)


def _year_of_weekday(month: int, day: int, weekday: int, today: datetime.date) -> int | None:
    """The most recent year, not after `today`, in which the date falls on that weekday."""
    for year in range(today.year, today.year - 30, -1):
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            continue
        if candidate <= today and candidate.weekday() == weekday:
            return year
    return None


def _read_month(groups: dict, lead: str, context: DateContext) -> DateMention | None:
    month = MONTHS[groups["m"].rstrip(".")]
    ref = context.reference
    year = int(groups["y"]) if groups.get("y") else _year_from_rel(groups.get("rel"), context)
    rel0 = (groups.get("rel0") or "").lower()
    if year is None and rel0 in ("last", "next"):
        # "last April" is the most recent April before this month; "next April" the one after.
        year = ref.year - 1 if (rel0 == "last") == (month >= ref.month) else ref.year
        if rel0 == "next":
            year = ref.year if month > ref.month else ref.year + 1
    if year is None and rel0 == "that":
        year = context.last_year
    if year is None and rel0 == "this":
        year = ref.year
    if year is not None:
        context.last_year = year
        return _fixed(last_day(year, month), "month", lead, True, context)
    return _year_readings(month, None, ref, "month", lead)


def _read_relative_period(groups: dict, lead: str, context: DateContext) -> DateMention | None:
    ref = context.reference
    rel = (groups.get("rel") or "the").lower()
    unit = (groups.get("unit") or groups.get("unit2")).lower()
    part = _part(groups.get("part") or groups.get("part2"))
    if rel in ("following", "coming", "same", "previous") and not part:
        return None
    shift = {"last": -1, "previous": -1, "next": 1, "following": 1, "coming": 1}.get(rel, 0)
    if unit == "year":
        year = context.last_year if rel in ("that", "same") else ref.year + shift
        if year is None:
            return None
        if rel not in ("that", "same"):
            context.last_year = year
        if part == "end":
            return _fixed(datetime.date(year, 12, 31), "month", lead, False, context)
        if part in ("beginning", "start"):
            return _fixed(datetime.date(year, 1, 31), "month", lead, False, context)
        if part == "first half":
            return _fixed(datetime.date(year, 6, 30), "month", lead, False, context)
        return _fixed(datetime.date(year, 12, 31), "year", lead, False, context)
    year, month = divmod(ref.month - 1 + shift, 12)
    year, month = ref.year + year, month + 1
    return _fixed(last_day(year, month), "month", lead, False, context)


# A season is read as the month it ends in, a holiday as its day (HeidelTime keeps seasons as
# their own granularity; our dates are days, months or years). Winter ends in February.
SEASONS = {"spring": (5, None), "summer": (8, None), "autumn": (11, None), "fall": (11, None),
           "winter": (2, None), "christmas": (12, 25), "new year": (1, 1),
           "thanksgiving": (11, None)}  # fmt: skip


def _read_season(groups: dict, lead: str, context: DateContext) -> DateMention | None:
    name = re.sub(r"['’]s(?:\s+day)?$", "", " ".join(groups["season"].lower().split()))
    month, day = SEASONS[name]
    if name == "thanksgiving":  # the fourth Thursday of November, read to the day below
        day = 0
    part = _part(groups.get("part"))
    if part in ("beginning", "start", "early") and day is None:
        month = month - 2 if month > 2 else month + 10  # the season's first month
    precision = "month" if day is None else "day"
    ref = context.reference
    rel = (groups.get("rel") or "").lower()
    year = int(groups["y"]) if groups.get("y") else None
    if groups.get("rel2"):  # "the summer of next year"
        year = ref.year + {"this": 0, "next": 1, "last": -1}[groups["rel2"].lower()]
    if year is None and rel in ("this", "next", "last"):
        year = ref.year + {"this": 0, "next": 1, "last": -1}[rel]
        if rel == "next" and (month, day or 31) > (ref.month, ref.day) and month >= ref.month:
            year = ref.year if name != "new year" else ref.year + 1
    if year is None and rel == "that":
        year = context.last_year

    def on(y: int) -> datetime.date:
        if day == 0:
            first = datetime.date(y, 11, 1)
            return first + datetime.timedelta(days=(3 - first.weekday()) % 7 + 21)
        return datetime.date(y, month, day) if day else last_day(y, month)

    if year is not None:
        return _fixed(on(year), precision, lead, True, context)
    days = [on(y) for y in (ref.year - 1, ref.year, ref.year + 1)]
    past = [d for d in days if d <= ref + PAST_TOLERANCE]
    future = [d for d in days if d >= ref - FUTURE_TOLERANCE]
    nearest = min(days, key=lambda d: (abs((d - ref).days), d))
    return DateMention(
        0,
        0,
        "",
        lead,
        precision,
        past=max(past) if past else None,
        future=min(future) if future else None,
        nearest=nearest,
    )


def _read_weekday(groups: dict, lead: str, ref: datetime.date) -> DateMention:
    weekday = WEEKDAYS[groups["wd"]]
    rel = (groups.get("rel") or "").lower()
    back = (ref.weekday() - weekday) % 7
    forward = (weekday - ref.weekday()) % 7
    past = ref - datetime.timedelta(days=back or (7 if rel == "last" else 0))
    future = ref + datetime.timedelta(days=forward or (7 if rel == "next" else 0))
    if rel == "last":
        future = past
    if rel == "next":
        past = future
    return DateMention(0, 0, "", lead, "day", past=past, future=future, nearest=past)
