"""`manage.py ingest` over files, folders and URLs: a summary, each failure's reason, the
rest of the batch still ingested, each file once, and a non-zero exit when anything failed."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from localweb import article_html

from tracker.models import IngestJob, Source, Withdrawal

CHAD = (
    "France completed the withdrawal of its 1,000 troops from Chad on January 30, 2025, "
    "a day before the January 31 deadline set by N'Djamena."
)
MALI = "Germany agreed on Monday to withdraw its 1,200 troops from Mali by December 31, 2023."
NIGER = "The United States agreed to withdraw about 1,000 troops from Niger by September 15, 2024."


def ingest(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    except SystemExit as exc:
        code = exc.code
    return out.getvalue(), err.getvalue(), code


@pytest.fixture
def allow_private(settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True


@pytest.mark.django_db
def test_it_ingests_folders_files_and_urls_and_sums_up(tmp_path, web, allow_private):
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "chad.txt").write_text(CHAD)
    (folder / "sub" / "mali.md").write_text(MALI)
    (folder / "niger.html").write_text(article_html("Niger", NIGER))
    (folder / "ignored.pdf").write_bytes(b"%PDF-1.4")
    url = web.add("/niger-again", article_html("Niger again", NIGER.replace("about", "some")))
    out, err, code = ingest(str(folder), url)
    assert code == 0, err
    assert out.strip().endswith("4 ingested, 0 unchanged, 0 failed")
    assert Source.objects.count() == 4
    assert set(IngestJob.objects.values_list("state", flat=True)) == {"merged"}

    out, err, code = ingest(str(folder), url)
    assert code == 0, err
    assert out.strip().endswith("0 ingested, 4 unchanged, 0 failed")
    assert Source.objects.count() == 4


@pytest.mark.django_db
def test_it_reports_each_failure_and_ingests_the_rest(tmp_path, web):
    good = tmp_path / "chad.txt"
    good.write_text(CHAD)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    internal = web.add("/a", article_html("x", MALI))
    out, err, code = ingest(
        str(pdf), "ftp://example.org/a.txt", "https://u:p@example.org/", internal, str(good)
    )
    assert code == 1
    assert out.strip().endswith("1 ingested, 0 unchanged, 4 failed")
    assert f"{pdf}: only .txt, .md and .html files can be ingested (not .pdf)" in err
    assert "ftp://example.org/a.txt: only http and https URLs can be fetched (ftp:)" in err
    assert "https://u:p@example.org/: URLs with a user name or password are refused" in err
    assert f"{internal}: 127.0.0.1 is an internal address: refused" in err
    assert Source.objects.get().text == CHAD


@pytest.mark.django_db
def test_it_says_when_invalid_utf8_was_replaced(tmp_path):
    article = tmp_path / "chad.txt"
    article.write_bytes(CHAD.encode() + b" \xff")
    out, err, code = ingest(str(article))
    assert code == 0, err
    assert "invalid UTF-8 bytes were replaced" in out


@pytest.mark.django_db
def test_it_stores_a_file_as_a_source_and_changes_nothing_the_second_time(tmp_path):
    article = tmp_path / "chad.txt"
    article.write_text(CHAD)
    out, err, code = ingest(str(article), "--published", "2025-01-30")
    assert code == 0, err
    assert Source.objects.count() == 1
    assert IngestJob.objects.get().state == IngestJob.State.MERGED
    counts = (Source.objects.count(), IngestJob.objects.count(), Withdrawal.objects.count())
    out, err, code = ingest(str(article), "--published", "2025-01-30")
    assert code == 0, err
    assert "unchanged" in out
    assert counts == (Source.objects.count(), IngestJob.objects.count(), Withdrawal.objects.count())


@pytest.mark.django_db
def test_it_names_each_bad_file_and_still_ingests_the_good_ones(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(CHAD)
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    missing = tmp_path / "missing.txt"
    out, err, code = ingest(str(empty), str(binary), str(missing), str(good))
    assert code != 0
    assert f"{empty}" in err and "empty" in err
    assert f"{binary}" in err and "binary" in err
    assert f"{missing}" in err and "no such file" in err
    assert Source.objects.count() == 1
    assert Source.objects.get().text == CHAD


@pytest.mark.django_db
def test_it_refuses_a_directory_without_text_files(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    out, err, code = ingest(str(tmp_path))
    assert code != 0
    assert str(tmp_path) in err and "no text files" in err
    assert Source.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_an_impossible_publication_date_before_writing_anything(tmp_path):
    article = tmp_path / "chad.txt"
    article.write_text(CHAD)
    out, err, code = ingest(str(article), "--published", "2024-13-45")
    assert code != 0
    assert "2024-13-45" in err
    assert Source.objects.count() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_queues_files_for_the_workers_when_a_broker_is_configured(tmp_path, redis_url):
    import redis

    queue = redis.Redis.from_url(redis_url)
    queue.delete("tracker")
    article = tmp_path / "chad.txt"
    article.write_text(CHAD)
    out, err, code = ingest(str(article), "--published", "2025-01-30")
    assert code == 0, err
    assert out.strip().endswith("0 ingested, 1 queued, 0 unchanged, 0 failed")
    job = IngestJob.objects.get()
    assert job.state == IngestJob.State.QUEUED
    assert queue.llen("tracker") == 1
    queue.delete("tracker")


@pytest.mark.django_db
def test_it_ends_an_in_process_url_ingest_on_time_when_the_server_drips_headers(
    web, allow_private, settings
):
    # The attack: one header line every 5 s, forever, each inside the read timeout.
    settings.TRACKER_FETCH_TOTAL_TIMEOUT = 2

    def drip(request) -> None:
        try:
            request.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for number in range(100):
                request.wfile.write(f"X-Drip-{number}: 1\r\n".encode())
                request.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    url = web.add("/drip", handler=drip)
    started = time.monotonic()
    out, err, code = ingest("--in-process", url)
    assert time.monotonic() - started < 6
    assert code == 1
    assert f"{url}: the download took too long" in err
    assert IngestJob.objects.get().state == IngestJob.State.FAILED


def test_it_exits_non_zero_with_a_clear_message_when_the_broker_is_down(tmp_path):
    # The attack: with Redis down the command used to print "queued for the workers", exit 0.
    import os
    import subprocess
    import sys
    from pathlib import Path

    article = tmp_path / "chad.txt"
    article.write_text(CHAD)
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:18201/0",  # nothing listens there (hops' port range)
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest", str(article)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "the task queue is unreachable" in result.stderr
    assert "nothing was queued" in result.stderr
    assert "queued for the workers" not in result.stdout
