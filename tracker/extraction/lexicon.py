"""Word lists read once at import from plain files, one folder per language (`en/`).

The engine's patterns are built from these lists, so a new name, demonym, mission or number
word is a line in a file, not a change to code (HeidelTime and PETRARCH keep their resources
the same way). Format: one entry a line; `#` starts a comment; a line that starts with spaces
continues the one before it; a table row is `KEY: value`.
"""

from __future__ import annotations

from pathlib import Path

LANGUAGE = "en"
_FOLDER = Path(__file__).resolve().parent / LANGUAGE


def rows(name: str) -> list[str]:
    rows: list[str] = []
    for line in (_FOLDER / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and rows:
            rows[-1] += " " + line.strip()
        else:
            rows.append(line.strip())
    return rows


def table(name: str) -> list[tuple[str, str]]:
    """`KEY: value` rows as (key, value), in file order."""
    out = []
    for row in rows(name):
        key, _, value = row.partition(":")
        out.append((key.strip(), value.strip()))
    return out


def words(name: str) -> list[str]:
    """Every word of the file, whitespace-separated."""
    return [word for row in rows(name) for word in row.split()]
