"""`python -m tracker.extraction` and `run_cli`: the contract JSON, one clear line on bad input,
bounded time on big or hostile input. No Django needed."""

import datetime
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.extraction import extract, run_cli

TEXTS = Path(__file__).parent / "extraction_texts"
ROOT = Path(__file__).parent.parent


def cli(argv, stdin_bytes=b""):
    stdin = io.TextIOWrapper(io.BytesIO(stdin_bytes), encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_cli(argv, stdin, stdout, stderr, today=datetime.date(2026, 11, 27))
    return code, stdout.getvalue(), stderr.getvalue()


def test_it_prints_the_contract_json():
    code, out, err = cli(
        ["--format", "json", "--published", "2023-11-17", str(TEXTS / "chad_handover.txt")]
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["reference_date"] == "2023-11-17"
    withdrawal = data["withdrawals"][0]
    assert (withdrawal["deploying"]["code"], withdrawal["host"]["code"]) == ("FR", "TD")
    assert withdrawal["deadline"]["date"] == "2024-01-31"


def test_it_prints_a_text_summary():
    code, out, _ = cli(
        ["--format", "text", "--published", "2023-11-17", str(TEXTS / "chad_handover.txt")]
    )
    assert code == 0
    assert "France withdrawal from Chad" in out


def test_it_reads_standard_input():
    text = "Danish troops left Mali on Monday, completing their withdrawal."
    code, out, _ = cli(["--published", "2022-08-17", "-"], text.encode())
    assert code == 0
    assert json.loads(out)["withdrawals"][0]["completed_on"]["date"] == "2022-08-15"


@pytest.mark.parametrize(
    "argv, stdin_bytes, message",
    [
        (["/nonexistent/article.txt"], b"", "/nonexistent/article.txt: no such file"),
        (["-"], b"\xff\xfe\x00bad", "standard input: not UTF-8 text"),
        (["-"], b"text\x00with a NUL", "standard input: binary data"),
        (["-"], b"  \n ", "standard input: the text is empty"),
        (["--published", "2024-13-45", "-"], b"text", "--published '2024-13-45' is not a date"),
        (["--format", "xml", "-"], b"text", "invalid choice: 'xml'"),
        ([], b"", "the following arguments are required: path"),
    ],
)
def test_it_reports_bad_input_in_one_line(argv, stdin_bytes, message):
    code, out, err = cli(argv, stdin_bytes)
    assert code != 0
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_it_names_the_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Troupes françaises".encode("latin-1"))
    code, _, err = cli([str(path)])
    assert code == 2
    assert err.startswith(f"python -m tracker.extraction: {path}: not UTF-8 text")


def test_it_runs_as_a_module_without_a_traceback(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "tracker.extraction", "--format", "json", str(empty)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert (
        proc.stderr.strip()
        == f"python -m tracker.extraction: {empty}: the text is empty: there is nothing to extract"
    )


def test_it_handles_ten_megabytes_without_a_withdrawal_in_bounded_time():
    paragraph = (
        "The council met on Monday to discuss the budget for 2025. Officials in Paris said "
        "about 1,000 people attended the fair, and the weather stayed mild.\n"
    )
    text = paragraph * (10_000_000 // len(paragraph))
    started = time.monotonic()
    result = extract(text, published=datetime.date(2024, 1, 1))
    assert result.withdrawals == []
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    "hostile",
    [
        "a " * 200_000 + "troops",
        "1," * 100_000 + "000 soldiers",
        "withdraw " * 50_000 + "from Niger",
        "French " * 50_000 + "troops left Mali",
        "May " * 50_000 + "2024",
        "." * 300_000,
        "x" * 1_000_000,
    ],
)
def test_it_does_not_backtrack_catastrophically(hostile):
    started = time.monotonic()
    extract(hostile, published=datetime.date(2024, 1, 1))
    assert time.monotonic() - started < 20
