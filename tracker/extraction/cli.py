"""`python -m tracker.extraction` and `manage.py extract` share this: one line on bad input."""

from __future__ import annotations

import argparse
import datetime
import json
from typing import IO

from .extractor import ExtractionError, extract


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2 itself
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser(prog: str) -> _ArgumentParser:
    parser = _ArgumentParser(
        prog=prog,
        description="Extract troop withdrawals from a text. Each withdrawal: deploying, host, "
        "personnel, announced_on, deadline (when the whole is due), completed_on, milestones, "
        "phases (parts with their own scope, deadline, completed_on, personnel) and a "
        "confidence in [0, 1]; each date: precision, evidence, confidence, and anchored "
        "(false when read from a relative expression with no reference day). "
        "Fields: docs/extraction.md.",
    )
    parser.add_argument("--format", choices=("json", "text"), default="json")
    parser.add_argument(
        "--published",
        help="publication date, YYYY-MM-DD: relative dates count from it (without it, from a "
        "dateline or the text's own dates, else they are output with anchored: false)",
    )
    parser.add_argument("path", help="a UTF-8 text file, or - for standard input")
    return parser


def run_cli(
    argv: list[str],
    stdin: IO,
    stdout: IO,
    stderr: IO,
    prog: str = "python -m tracker.extraction",
    today: datetime.date | None = None,
) -> int:
    """Exit status 0 with the JSON (or text) on stdout; 2 with one line on stderr otherwise."""
    try:
        args = _parser(prog).parse_args(argv)
    except _UsageError as exc:
        stderr.write(f"{prog}: {exc}\n")
        return 2
    name = "standard input" if args.path == "-" else args.path
    published = None
    if args.published:
        try:
            published = datetime.date.fromisoformat(args.published)
        except ValueError:
            stderr.write(f"{prog}: --published {args.published!r} is not a date (YYYY-MM-DD)\n")
            return 2
    try:
        text = _read(args.path, stdin)
    except FileNotFoundError:
        stderr.write(f"{prog}: {name}: no such file\n")
        return 2
    except IsADirectoryError:
        stderr.write(f"{prog}: {name}: is a directory, not a text file\n")
        return 2
    except PermissionError:
        stderr.write(f"{prog}: {name}: permission denied\n")
        return 2
    except UnicodeDecodeError as exc:
        stderr.write(f"{prog}: {name}: not UTF-8 text (bad byte at offset {exc.start})\n")
        return 2
    except OSError as exc:
        stderr.write(f"{prog}: {name}: cannot read ({exc.strerror or exc})\n")
        return 2
    if "\x00" in text:
        stderr.write(f"{prog}: {name}: binary data, not text\n")
        return 2
    try:
        result = extract(text, published=published, today=today)
    except ExtractionError as exc:
        stderr.write(f"{prog}: {name}: {exc}\n")
        return 2
    if args.format == "json":
        stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(result.to_text() + "\n")
    return 0


def _read(path: str, stdin: IO) -> str:
    if path == "-":
        buffer = getattr(stdin, "buffer", None)
        data = buffer.read() if buffer is not None else stdin.read()
    else:
        with open(path, "rb") as handle:
            data = handle.read()
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return data
