"""`manage.py ingest` over files: each file once, clear lines for bad ones, the rest still read."""

import io

import pytest
from django.core.management import CommandError, call_command

from tracker.models import IngestJob, Source, Withdrawal

ARTICLE = (
    "France completed the withdrawal of its 1,000 troops from Chad on January 30, 2025, "
    "a day before the January 31 deadline set by N'Djamena."
)


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


@pytest.mark.django_db
def test_it_stores_a_file_as_a_source_and_changes_nothing_the_second_time(tmp_path):
    article = tmp_path / "chad.txt"
    article.write_text(ARTICLE)
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
    good.write_text(ARTICLE)
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
    assert Source.objects.get().text == ARTICLE


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
    article.write_text(ARTICLE)
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
    article.write_text(ARTICLE)
    out, err, code = ingest(str(article), "--published", "2025-01-30")
    assert code == 0, err
    assert out.strip().endswith("0 ingested, 1 queued, 0 unchanged, 0 failed")
    job = IngestJob.objects.get()
    assert job.state == IngestJob.State.QUEUED
    assert queue.llen("tracker") == 1
    queue.delete("tracker")
