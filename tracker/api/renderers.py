"""How API answers are written: JSON with orjson, lists as CSV.

DRF imports this module while it defines APIView (the JSON renderer is a default in settings),
so it imports nothing of tracker.api.views.
"""

import csv
from decimal import Decimal

import orjson
from django.utils.functional import Promise
from rest_framework import renderers


def orjson_default(value):
    if isinstance(value, Promise | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ORJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, several times faster on a page of 100 rows."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=orjson_default)


class CSVRenderer(renderers.BaseRenderer):
    """Rows as CSV, nested objects flattened to dotted columns (party.code).

    Lists stream their CSV themselves (CSVExportMixin); this renders what is left: a single
    object, or an error turned back to JSON by finalize_response.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = [flatten(row) for row in (data if isinstance(data, list) else [data])]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return "".join(csv_lines(columns, rows, header=True)).encode("utf-8")


def flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            flat[prefix + key] = " ".join(str(item) for item in value)
        else:
            flat[prefix + key] = "" if value is None else value
    return flat


# A cell a spreadsheet would read as a formula (or as a command, after a tab or a carriage
# return) starts with one of these: such text cells get a leading apostrophe, which every
# spreadsheet shows as text. Numbers (a negative countdown) stay numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write() hands back the line csv.writer gives it."""

    def write(self, line: str) -> str:
        return line


def csv_lines(columns: list[str], rows, *, header: bool):
    writer = csv.writer(_Line(), lineterminator="\r\n")
    if header:
        yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([neutralised(row.get(column, "")) for column in columns])
