"""`manage.py extract` prints the contract JSON and writes nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "00_niger_seed.txt"


def extract(
    *args: str, stdin: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "extract", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_prints_the_seed_withdrawals_as_contract_json():
    result = extract("--format", "json", str(SEED))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    us = next(w for w in body["withdrawals"] if w["deploying"]["code"] == "US")
    assert us["host"]["code"] == "NE"
    assert us["personnel"]["value"] == 1000
    assert us["announced_on"]["date"] == "2024-05-20"
    assert us["deadline"]["date"] == "2024-09-15"
    text = SEED.read_text(encoding="utf-8")
    evidence = us["deadline"]["evidence"]
    assert text[evidence["start"] : evidence["end"]] == evidence["text"]
    assert any(w["deploying"]["code"] == "FR" for w in body["withdrawals"])


def test_it_reads_standard_input():
    result = extract("--format", "json", "--published", "2024-05-20", "-", stdin=SEED.read_text())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference_date"] == "2024-05-20"


def test_it_refuses_a_bad_publication_date_with_one_clear_line():
    result = extract("--published", "2024-13-45", str(SEED))
    assert result.returncode != 0
    assert "2024-13-45" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_names_a_missing_file():
    result = extract(str(ROOT / "no-such-article.txt"))
    assert result.returncode != 0
    assert "no-such-article.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_runs_on_a_bare_checkout_without_settings_from_the_environment():
    # The scorer and other tools call it with no DEBUG, SECRET_KEY or database configured.
    bare = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = extract("--format", "json", str(SEED), env=bare)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["withdrawals"][0]["deploying"]["code"] == "US"
